"""The cleaning pipeline: raw exports → canonical transactions, an identity map and a :class:`CleaningReport`.

Per file, in this order (the first rule that applies to a row decides its fate):

1. **exact duplicates** (every cell equal to an earlier row) are merged;
2. rows whose required values cannot be read are **quarantined** (missing order id, unreadable date/time, amount or
   units, unknown status or channel), naming the column and the value;
3. **test orders** are quarantined by :class:`TestOrderRule` (documented, configurable);
4. **impossible values** are quarantined: units and amount with opposite signs, zero units, beyond plausible limits,
   dates after ``as_of`` or before ``min_date``, a store not in the store list;
5. **same-event duplicates** (the same order event written with different formatting, e.g. another date format) are
   merged.

Merged rows that form a run of at least ``block_min`` consecutive rows are labelled ``double_upload``. Returns are kept
as negative lines (``kind == "return"``): the marker is a negative amount/units, a refund status or 退货 in the
remark. Then identities are linked across all kept rows (:func:`link_identities`) and online rows without a store are
attributed to the member's home store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opskit import schema
from opskit.collect.identity import Identity, link_identities
from opskit.collect.parse import normalize_phones, parse_count, parse_datetimes, parse_money, parse_time_of_day
from opskit.collect.read import FIELDS, RawExport, map_headers, read_export
from opskit.collect.report import KEPT, MERGED, QUARANTINED, CleaningReport
from opskit.i18n import Text

RETURN_WORDS = ("refunded", "refund", "return", "returned", "退款", "退货", "已退款", "已退货", "售后退款")
SALE_WORDS = ("paid", "pay", "sale", "sold", "success", "completed", "支付", "已支付", "销售", "成交", "交易成功")
RETURN_REMARK = r"退货|退款"
CHANNEL_ALIASES = {
    "pos": "pos", "门店": "pos", "门店pos": "pos", "线下": "pos", "store": "pos", "offline": "pos",
    "mini_program": "mini_program", "小程序": "mini_program", "小程序商城": "mini_program", "online": "mini_program",
    "wecom_group": "wecom_group", "企微": "wecom_group", "企微社群": "wecom_group", "社群": "wecom_group",
    "wecom": "wecom_group",
}
_KEY_FIELDS = ("member_card", "phone", "unionid", "openid", "shop_uid")


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


@dataclass(frozen=True)
class TestOrderRule:
    """Which rows are test orders (测试单). Every part can be changed or switched off (empty).

    The default is the chain's documented rule: 备注 contains 测试 or test (any case), or 门店 is 测试门店, or 实收金额 is
    exactly ¥0.01.

    Parameters
    ----------
    remark_pattern : str
        Regular expression searched in the remark, case-insensitive ("" = off).
    stores : tuple of str
        Store names or ids that only exist for testing.
    amounts : tuple of float
        Paid amounts (yuan) that mark a test payment.
    order_id_pattern : str
        Regular expression for test order ids (e.g. ``"^TEST"``; "" = off).

    Examples
    --------
    >>> TestOrderRule(amounts=()).describe().en
    'remark matches 测试|test (any case), or store is one of 测试门店'
    """

    __test__ = False  # not a pytest test class

    remark_pattern: str = r"测试|test"
    stores: tuple[str, ...] = ("测试门店",)
    amounts: tuple[float, ...] = (0.01,)
    order_id_pattern: str = ""

    def describe(self) -> Text:
        zh, en = [], []
        if self.remark_pattern:
            zh.append(f"备注匹配 {self.remark_pattern} (不分大小写)")
            en.append(f"remark matches {self.remark_pattern} (any case)")
        if self.stores:
            zh.append(f"门店为 {'/'.join(self.stores)}")
            en.append(f"store is one of {', '.join(self.stores)}")
        if self.amounts:
            zh.append(f"实收金额为 {'/'.join(f'¥{a:.2f}' for a in self.amounts)}")
            en.append(f"amount is {', '.join(f'¥{a:.2f}' for a in self.amounts)}")
        if self.order_id_pattern:
            zh.append(f"订单号匹配 {self.order_id_pattern}")
            en.append(f"order id matches {self.order_id_pattern}")
        return Text(", 或 ".join(zh) or "无", ", or ".join(en) or "none")

    def flags(self, remark: pd.Series, store: pd.Series, cents: pd.Series, order_id: pd.Series) -> tuple[pd.Series,
                                                                                                         pd.Series]:
        """``(is_test, which part fired)`` for aligned Series of remark, store text, amount in cents and order id."""
        index = remark.index
        which = pd.Series("", index=index, dtype="str")
        hit = pd.Series(False, index=index)
        checks = []
        if self.remark_pattern:
            checks.append(("remark", remark.str.contains(self.remark_pattern, case=False, regex=True)))
        if self.stores:
            checks.append(("store", store.isin(self.stores)))
        if self.amounts:
            targets = [round(a * 100) for a in self.amounts]
            checks.append(("amount", cents.isin(targets).fillna(False).astype(bool)))
        if self.order_id_pattern:
            checks.append(("order_id", order_id.str.contains(self.order_id_pattern, regex=True)))
        for name, mask in checks:
            fresh = mask & ~hit
            which[fresh] = name
            hit = hit | mask
        return hit, which


@dataclass(frozen=True)
class Source:
    """One export to read and how.

    Parameters
    ----------
    path : str or Path
    channel : str, optional
        The channel code of every row (``pos``, ``mini_program``, ``wecom_group``), unless the file has a channel
        column.
    encoding : str, optional
        Force an encoding; default: detect.
    mapping : dict, optional
        Extra header aliases ``{"their header": "field"}`` (fields: :data:`opskit.collect.FIELDS`).
    sheet : str or int, optional
        For .xlsx.
    unix_timezone : str, default ``"Asia/Shanghai"``
        Local time zone for Unix timestamps (which are UTC).
    """

    path: str | Path
    channel: str | None = None
    encoding: str | None = None
    mapping: Mapping[str, str] | None = None
    sheet: str | int | None = None
    unix_timezone: str = "Asia/Shanghai"


@dataclass
class CollectResult:
    """The result of :func:`collect_exports`.

    Attributes
    ----------
    transactions : DataFrame
        The canonical transactions frame (:data:`opskit.schema.TRANSACTION_COLUMNS`), sorted by time, order, kind.
    lineage : DataFrame
        The kept rows with their ``source`` file and ``row``, ``customer_id`` and the keys used for linking (phones
        only masked, ``phone_masked``; no raw phone).
    identity : Identity
        The identity map (``.keys``), the conflicts (``.conflicts``) and each row's customer.
    report : CleaningReport
        Row accounting per file, with the quarantined and merged rows.
    """

    transactions: pd.DataFrame
    lineage: pd.DataFrame
    identity: Identity
    report: CleaningReport

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.report.quarantine


def _as_sources(sources) -> list[Source]:
    if isinstance(sources, (str, Path, Source)):
        sources = [sources]
    if isinstance(sources, Mapping):
        return [Source(path, channel) for path, channel in sources.items()]
    out = []
    for item in sources:
        out.append(item if isinstance(item, Source) else Source(item))
    if not out:
        raise _error("没有要读取的文件", "no files to read")
    return out


def _field(frame: pd.DataFrame, columns: Mapping[str, str], name: str) -> pd.Series:
    """The field's text column (stripped), or "" everywhere if the file does not have it."""
    header = columns.get(name)
    if header is None:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[header].astype("str").str.strip()


def _store_lookup(stores: pd.DataFrame | None) -> tuple[dict[str, str], set[str]]:
    if stores is None:
        return {}, set()
    ids = stores["store_id"].astype(str)
    by_name = dict(zip(stores["store_name"].astype(str), ids)) if "store_name" in stores else {}
    return by_name, set(ids)


def _mark(fate: pd.Series, reason: pd.Series, column: pd.Series, value: pd.Series, mask: pd.Series, code: str,
          col: str | pd.Series, val: pd.Series | str, outcome: str = QUARANTINED) -> None:
    """Give rows still kept and matching ``mask`` this outcome and reason (in place: first rule wins)."""
    hit = mask & (fate == KEPT)
    if not hit.any():
        return
    fate[hit] = outcome
    reason[hit] = code
    column[hit] = col[hit] if isinstance(col, pd.Series) else col
    value[hit] = val[hit] if isinstance(val, pd.Series) else val


def clean_export(
    source: Source,
    *,
    stores: pd.DataFrame | None = None,
    test_rule: TestOrderRule = TestOrderRule(),
    as_of: pd.Timestamp | None = None,
    min_date: str = "2000-01-01",
    max_amount: float = 1_000_000.0,
    max_units: int = 1_000,
    block_min: int = 5,
) -> tuple[pd.DataFrame, dict]:
    """Read and clean one export. Returns every input row with its parsed values and outcome, and notes.

    The frame has one row per input row (nothing dropped): ``source``, ``row``, ``fate`` (kept / merged /
    quarantined), ``reason``, ``column``, ``value``, ``duplicate_of``, the parsed ``order_id``, ``order_time``,
    ``kind``, ``units``, ``cents``, ``channel``, store fields and identity keys. Use :func:`collect_exports` for the
    whole job; this is its per-file step.
    """
    raw: RawExport = read_export(source.path, encoding=source.encoding, sheet=source.sheet)
    name = raw.source
    frame = raw.frame
    columns = {canonical: header for header, canonical in map_headers(list(frame.columns), source.mapping,
                                                                        source=name).items()}
    if "channel" not in columns:
        if source.channel is None:
            raise _error(
                f"{name}: 文件没有渠道列, 请用 channel= 指定 ({', '.join(schema.CHANNELS)})",
                f"{name}: the file has no channel column; pass channel= ({', '.join(schema.CHANNELS)})",
            )
        if source.channel not in schema.CHANNELS:
            raise _error(f"{name}: 未知渠道 {source.channel!r}; 可选: {', '.join(schema.CHANNELS)}",
                         f"{name}: unknown channel {source.channel!r}; choose one of: {', '.join(schema.CHANNELS)}")
    index = frame.index
    n = len(frame)
    rows = raw.row_numbers()
    fate = pd.Series(KEPT, index=index, dtype="str")
    reason = pd.Series("", index=index, dtype="str")
    column = pd.Series("", index=index, dtype="str")
    value = pd.Series("", index=index, dtype="str")
    duplicate_of = pd.Series(pd.NA, index=index, dtype="Int64")

    # 1. Exact duplicates: every cell equal to an earlier row.
    if n:
        row_hash = pd.util.hash_pandas_object(frame, index=False)
        first_row = rows.groupby(row_hash.to_numpy()).transform("first")
        exact = row_hash.duplicated()
        _mark(fate, reason, column, value, exact, "duplicate", "", "", outcome=MERGED)
        duplicate_of[exact] = first_row[exact]

    # 2. Parse; unreadable required values are quarantined with the column and value.
    def header(field_name: str) -> str:
        return columns.get(field_name, field_name)

    order_id = _field(frame, columns, "order_id")
    _mark(fate, reason, column, value, order_id == "", "missing_order_id", header("order_id"), "")
    notes: dict = {"file": name, "encoding": raw.encoding,
                   "columns": ", ".join(f"{h}→{c}" for c, h in columns.items())}
    if "order_time" in columns:
        when_text = _field(frame, columns, "order_time")
        when, fmt, bad_when = parse_datetimes(when_text, unix_timezone=source.unix_timezone)
        when_header = header("order_time")
    else:
        when_text = _field(frame, columns, "order_date")
        when, fmt, bad_when = parse_datetimes(when_text, unix_timezone=source.unix_timezone)
        when_header = header("order_date")
    _mark(fate, reason, column, value, when_text == "", "missing_date", when_header, when_text)
    _mark(fate, reason, column, value, bad_when, "bad_date", when_header, when_text)
    if "order_time" not in columns and "time_of_day" in columns:
        time_text = _field(frame, columns, "time_of_day")
        delta, bad_time = parse_time_of_day(time_text)
        _mark(fate, reason, column, value, bad_time, "bad_time", header("time_of_day"), time_text)
        when = when.dt.normalize() + delta.fillna(pd.Timedelta(0))
    notes["date_formats"] = ", ".join(f"{k} {v}" for k, v in fmt.value_counts().sort_index().items())

    money_field = "amount" if "amount" in columns else "amount_fen"
    money_text = _field(frame, columns, money_field)
    cents, bad_money = parse_money(money_text, unit="yuan" if money_field == "amount" else "fen")
    _mark(fate, reason, column, value, money_text == "", "missing_amount", header(money_field), "")
    _mark(fate, reason, column, value, bad_money, "bad_amount", header(money_field), money_text)
    if "units" in columns:
        units_text = _field(frame, columns, "units")
        units, bad_units = parse_count(units_text)
        _mark(fate, reason, column, value, bad_units | (units_text == ""), "bad_units", header("units"), units_text)
    else:
        units = pd.Series(1, index=index, dtype="Int64")
        notes["units"] = "no units column: 1 per row / 无件数列: 每行按 1 件"

    status_text = _field(frame, columns, "status")
    status = status_text.str.lower()
    said_return = status.isin(RETURN_WORDS)
    said_sale = status.isin(SALE_WORDS)
    _mark(fate, reason, column, value, (status != "") & ~said_return & ~said_sale, "unknown_status",
          header("status"), status_text)
    remark = _field(frame, columns, "remark")

    if "channel" in columns:
        channel_text = _field(frame, columns, "channel")
        channel = channel_text.str.lower().map(CHANNEL_ALIASES)
        if source.channel is not None:
            channel = channel.where(channel_text != "", source.channel)
        _mark(fate, reason, column, value, channel.isna(), "unknown_channel", header("channel"), channel_text)
    else:
        channel = pd.Series(source.channel, index=index, dtype="str")

    # 3. Test orders (documented rule).
    store_id_text = _field(frame, columns, "store_id")
    store_name_text = _field(frame, columns, "store_name")
    store_text = store_id_text.where(store_id_text != "", store_name_text)
    is_test, which = test_rule.flags(remark, store_text, cents, order_id)
    rule_column = which.map({"remark": header("remark"), "store": header("store_id") if "store_id" in columns
                             else header("store_name"), "amount": header(money_field), "order_id": header("order_id")})
    rule_value = pd.Series(np.select([which == "remark", which == "store", which == "amount"],
                                     [remark, store_text, money_text], order_id), index=index, dtype="str")
    _mark(fate, reason, column, value, is_test, "test_order", rule_column.fillna(""), rule_value)

    # 4. Impossible values. Returns: a return marker makes both units and amount negative.
    negative_amount = cents.lt(0).fillna(False).astype(bool)
    negative_units = units.lt(0).fillna(False).astype(bool)
    marked_return = said_return | remark.str.contains(RETURN_REMARK, regex=True)
    is_return = marked_return | (negative_amount & negative_units) | (negative_amount & ~said_sale & units.isna())
    mixed = ~marked_return & (negative_amount != negative_units) & cents.ne(0).fillna(True).astype(bool)
    mixed = mixed | (said_sale & (negative_amount | negative_units))
    _mark(fate, reason, column, value, mixed, "sign_mismatch", header(money_field),
          money_text + " / " + _field(frame, columns, "units"))
    _mark(fate, reason, column, value, units.eq(0).fillna(False).astype(bool), "zero_units", header("units"), "0")
    too_large = cents.abs().gt(round(max_amount * 100)).fillna(False) | units.abs().gt(max_units).fillna(False)
    _mark(fate, reason, column, value, too_large.astype(bool), "too_large", header(money_field), money_text)
    horizon = (pd.Timestamp.now() if as_of is None else pd.Timestamp(as_of))
    if horizon == horizon.normalize():  # a date: the whole day counts
        horizon = horizon + pd.Timedelta(days=1)
    when_shown = when.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    _mark(fate, reason, column, value, when.ge(horizon).fillna(False).astype(bool), "future_date", when_header,
          when_shown)
    _mark(fate, reason, column, value, when.lt(pd.Timestamp(min_date)).fillna(False).astype(bool), "too_old",
          when_header, when_shown)
    by_name, known_ids = _store_lookup(stores)
    store_id = store_id_text.where(store_id_text != "")
    if stores is not None:
        from_name = store_name_text.map(by_name)
        unknown = ((store_id_text != "") & ~store_id_text.isin(known_ids)) | (
            (store_id_text == "") & (store_name_text != "") & from_name.isna())
        _mark(fate, reason, column, value, unknown, "unknown_store",
              header("store_id") if "store_id" in columns else header("store_name"), store_text)
        store_id = store_id.fillna(from_name)
    else:
        store_id = store_id.fillna(store_name_text.where(store_name_text != ""))

    abs_units = units.abs()
    abs_cents = cents.abs()
    signed_units = abs_units.where(~is_return, -abs_units)
    signed_cents = abs_cents.where(~is_return, -abs_cents)
    phones = normalize_phones(_field(frame, columns, "phone"))
    if "phone_masked" in columns:
        masked_only = normalize_phones(_field(frame, columns, "phone_masked"))
        phones["phone_masked"] = phones["phone_masked"].fillna(masked_only["phone_masked"])
        phones["phone_status"] = phones["phone_status"].where(phones["phone_status"] != "missing",
                                                              masked_only["phone_status"])
    notes["phones"] = ", ".join(f"{k} {v}" for k, v in phones["phone_status"].value_counts().sort_index().items())

    parsed = pd.DataFrame({
        "source": name,
        "row": rows,
        "order_id": order_id,
        "order_time": when.astype("datetime64[s]"),
        "kind": pd.Series(np.where(is_return, schema.RETURN, schema.SALE), index=index, dtype="str"),
        "units": signed_units.astype("Int64"),
        "cents": signed_cents.astype("Int64"),
        "channel": channel.astype("str"),
        "store_id": store_id.astype("str"),
        "member_card": _field(frame, columns, "member_card").str.upper().replace("", pd.NA),
        "phone": phones["phone"],
        "phone_masked": phones["phone_masked"],
        "phone_status": phones["phone_status"],
        "unionid": _field(frame, columns, "unionid").replace("", pd.NA),
        "openid": _field(frame, columns, "openid").replace("", pd.NA),
        "shop_uid": _field(frame, columns, "shop_uid").replace("", pd.NA),
    })

    # 5. Same-event duplicates: the same event written twice with different formatting.
    event = ["order_id", "order_time", "kind", "units", "cents", "channel", "store_id", *_KEY_FIELDS]
    candidates = fate == KEPT
    if candidates.any():
        keyed = parsed.loc[candidates, event].astype(str)
        event_hash = pd.util.hash_pandas_object(keyed, index=False)
        same = event_hash.duplicated()
        first_of = parsed.loc[candidates, "row"].groupby(event_hash.to_numpy()).transform("first")
        hit = pd.Series(False, index=index)
        hit[same.index[same.to_numpy()]] = True
        _mark(fate, reason, column, value, hit, "duplicate", "", "", outcome=MERGED)
        duplicate_of[hit] = first_of[hit[candidates].to_numpy()].to_numpy()

    # Runs of at least block_min consecutive merged rows are a double upload.
    merged_rows = rows[fate == MERGED]
    if len(merged_rows):
        run_id = (merged_rows.diff() != 1).cumsum()
        run_length = merged_rows.groupby(run_id.to_numpy()).transform("size")
        block = run_length >= block_min
        reason[block.index[block.to_numpy()]] = "double_upload"

    # Raw text of the rows not kept (for inspection; phones masked by the report).
    raw_text = pd.Series("", index=index, dtype="str")
    not_kept = fate != KEPT
    if not_kept.any():
        from opskit.privacy import mask_phone

        shown = frame.loc[not_kept].copy()
        if "phone" in columns:
            shown[columns["phone"]] = mask_phone(shown[columns["phone"]]).fillna("")
        raw_text[not_kept] = shown.astype(str).apply(lambda r: " | ".join(f"{c}={v}" for c, v in r.items()), axis=1)
    parsed["fate"] = fate
    parsed["reason"] = reason
    parsed["column"] = column
    parsed["value"] = value
    parsed["duplicate_of"] = duplicate_of
    parsed["raw"] = raw_text
    return parsed, notes


def _canonical(kept: pd.DataFrame, stores: pd.DataFrame | None) -> pd.DataFrame:
    store_categories = (list(stores["store_id"].astype(str)) if stores is not None
                        else sorted(kept["store_id"].dropna().unique().tolist()))
    tx = pd.DataFrame({
        schema.ORDER_ID: kept["order_id"].astype("str"),
        schema.ORDER_TIME: kept["order_time"].astype("datetime64[us]"),
        schema.CUSTOMER_ID: kept["customer_id"].astype("str"),
        schema.STORE_ID: pd.Categorical(kept["store_id"], categories=store_categories),
        schema.CHANNEL: pd.Categorical(kept["channel"], categories=list(schema.CHANNELS)),
        schema.KIND: pd.Categorical(kept["kind"], categories=[schema.SALE, schema.RETURN]),
        schema.UNITS: kept["units"].astype("int64"),
        schema.AMOUNT: kept["cents"].astype("int64") / 100.0,
    })
    return tx.sort_values([schema.ORDER_TIME, schema.ORDER_ID, schema.KIND], ignore_index=True)


def collect_exports(
    sources,
    *,
    members: pd.DataFrame | None = None,
    stores: pd.DataFrame | None = None,
    test_rule: TestOrderRule = TestOrderRule(),
    as_of: str | pd.Timestamp | None = None,
    min_date: str = "2000-01-01",
    max_amount: float = 1_000_000.0,
    max_units: int = 1_000,
    block_min: int = 5,
    pseudonymizer=None,
) -> CollectResult:
    """Read, clean and link several exports into one canonical transactions frame.

    Parameters
    ----------
    sources : dict, list or Source
        ``{path: channel}``, or a list of :class:`Source` (for an encoding, a header mapping or a sheet).
    members : DataFrame, optional
        Member master data (``customer_id``, ``phone``, ``join_store_id``): links phones to cards and gives online
        orders without a store their member's home store.
    stores : DataFrame, optional
        ``store_id`` and ``store_name``: store names are mapped to ids; an unknown store is quarantined.
    test_rule : TestOrderRule
        Which rows are test orders.
    as_of : date or timestamp, optional
        Rows after it are quarantined as ``future_date`` (a date includes the whole day). Default: now.
    min_date : date, default ``"2000-01-01"``
        Rows before it are quarantined as ``too_old`` (a mis-read date, e.g. a tiny Excel serial).
    max_amount, max_units : number
        Plausible limits per row; beyond them a row is quarantined as ``too_large``.
    block_min : int, default 5
        A run of at least this many consecutive duplicate rows is labelled ``double_upload``.
    pseudonymizer : opskit.privacy.Pseudonymizer, optional
        Adds phone pseudonyms to the identity map (phones are otherwise shown masked only).

    Returns
    -------
    CollectResult
        ``.transactions`` (canonical), ``.lineage``, ``.identity``, ``.report`` (and ``.quarantine``).

    Examples
    --------
    >>> from opskit.datasets import messy_path, load_members, load_stores
    >>> result = collect_exports({messy_path("pos_export.csv"): "pos"}, members=load_members(),
    ...                          stores=load_stores(), as_of="2025-06-30")
    >>> result.report.is_balanced()
    True
    """
    cleaned, notes = [], []
    for source in _as_sources(sources):
        frame, note = clean_export(source, stores=stores, test_rule=test_rule, as_of=as_of, min_date=min_date,
                                   max_amount=max_amount, max_units=max_units, block_min=block_min)
        cleaned.append(frame)
        notes.append(note)
    names = [n["file"] for n in notes]
    if len(set(names)) != len(names):
        raise _error(f"文件名重复: {names}; 报告按文件名区分, 请改名", f"duplicate file names {names}; the report "
                                                                      "tells files apart by name: rename one")
    rows = pd.concat(cleaned, ignore_index=True)
    kept = rows[rows["fate"] == KEPT].reset_index(drop=True)

    identity = link_identities(kept, _KEY_FIELDS, members=members, pseudonymizer=pseudonymizer)
    kept["customer_id"] = identity.customer_id.to_numpy()
    if members is not None and "join_store_id" in members.columns:
        home = dict(zip(members["customer_id"].astype(str), members["join_store_id"].astype(str)))
        kept["store_id"] = kept["store_id"].fillna(kept["customer_id"].map(home))

    transactions = _canonical(kept, stores)
    lineage = kept[["source", "row", "order_id", "order_time", "customer_id", "store_id", "channel", "kind", "units",
                    "cents", "member_card", "phone_masked", "phone_status", "unionid", "openid", "shop_uid"]].copy()
    lineage["amount"] = lineage.pop("cents").astype("int64") / 100.0

    summary = rows.groupby("source", sort=False).agg(
        rows_in=("fate", "size"), kept=("fate", lambda f: int((f == KEPT).sum())),
        merged=("fate", lambda f: int((f == MERGED).sum())), quarantined=("fate", lambda f: int((f == QUARANTINED).sum())),
    ).reset_index().rename(columns={"source": "file"})
    summary.insert(1, "encoding", summary["file"].map({n["file"]: n["encoding"] for n in notes}))
    outcomes = rows[rows["fate"] != KEPT].rename(columns={"source": "file", "fate": "outcome"})
    outcomes = outcomes[["file", "row", "outcome", "reason", "column", "value", "order_id", "duplicate_of", "raw"]]
    notes_frame = pd.DataFrame(notes).fillna("")
    report = CleaningReport(summary, outcomes, notes_frame, identity.conflicts)
    return CollectResult(transactions=transactions, lineage=lineage.reset_index(drop=True), identity=identity,
                         report=report)


def reconcile(cleaned: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Compare two transactions frames row by row, column by column (amounts to the cent, missing ids equal).

    Both are sorted by ``order_time``, ``order_id`` and ``kind`` first. Returns one row per column with ``compared``,
    ``matched`` and ``ok`` (✓/✗), after a ``rows`` line comparing the lengths.

    >>> import opskit.datasets as ds
    >>> tx = ds.load_transactions().head(50)
    >>> bool(reconcile(tx, tx)["ok"].eq("✓").all())
    True
    """
    order = [schema.ORDER_TIME, schema.ORDER_ID, schema.KIND]

    def prepared(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[list(schema.TRANSACTION_COLUMNS)].copy()
        for c in (schema.ORDER_ID, schema.CUSTOMER_ID, schema.STORE_ID, schema.CHANNEL, schema.KIND):
            out[c] = out[c].astype(object).where(out[c].notna(), "<NA>").astype(str)
        out[schema.ORDER_TIME] = pd.to_datetime(out[schema.ORDER_TIME]).astype("datetime64[s]")
        out[schema.AMOUNT] = np.round(out[schema.AMOUNT].to_numpy(dtype="float64") * 100).astype("int64")
        return out.sort_values(order, ignore_index=True)

    got, want = prepared(cleaned), prepared(reference)
    lines = [{"column": "rows", "compared": len(want), "matched": min(len(got), len(want)) if len(got) == len(want)
              else 0, "ok": "✓" if len(got) == len(want) else "✗"}]
    n = min(len(got), len(want))
    for c in schema.TRANSACTION_COLUMNS:
        matched = int((got[c].iloc[:n].to_numpy() == want[c].iloc[:n].to_numpy()).sum())
        lines.append({"column": c, "compared": len(want), "matched": matched,
                      "ok": "✓" if matched == len(want) == len(got) else "✗"})
    return pd.DataFrame(lines).astype({"compared": "int64", "matched": "int64"})
