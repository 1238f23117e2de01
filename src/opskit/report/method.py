"""The method layer of ``opskit report``: read a store's exports, run the whole method, collect plain findings.

Steps (each a pure function; :func:`run_method` chains them):

1. **Read and clean** (:func:`load_exports`). A file already in the opskit *standard layout* (exactly the eight
   columns of :mod:`opskit.schema`, UTF-8) is read with explicit dtypes and validated vectorised
   (:func:`read_standard_export`): this is the path that scales to 10M rows. Any other export (a POS, online-shop or
   WeChat export with its own headers, encodings, formats) goes through :func:`opskit.collect.collect_exports`. Both
   give a :class:`~opskit.collect.CleaningReport` in which every input row is kept, merged or quarantined.
2. **Tier** (RFM, the Chinese 8-class model), **predict** (BG/NBD + Gamma-Gamma CLV, weekly periods, weighted fit),
   **stage** (lifecycle rules), the two **work lists** (90-day follow-up, activation), and the **compass** when
   footfall is given.
3. **Findings**: a handful of plain sentences (zh/en) a store manager can act on.

The A/B sample size for a campaign (:func:`sample_size_per_group`) lives with the A/B measurement of lesson 4, in
:mod:`opskit.lifecycle`; it is re-exported here for the capstone.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text
from opskit.lifecycle import minimum_detectable_uplift, sample_size_per_group

__all__ = [
    "Analysis",
    "ExportSpec",
    "Inputs",
    "is_standard_export",
    "load_exports",
    "load_footfall_file",
    "load_targets_file",
    "minimum_detectable_uplift",
    "read_standard_export",
    "run_method",
    "sample_size_per_group",
    "validate_transactions",
]

Progress = Callable[[str], None]
STANDARD_COLUMNS: tuple[str, ...] = schema.TRANSACTION_COLUMNS
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
GAMMA_GAMMA_SAMPLE = 200_000


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def _quiet(_: str) -> None:
    return None


# --------------------------------------------------------------------------------------------------------------------
# Reading: the standard layout (fast) and everything else (opskit.collect)
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportSpec:
    """One export to read: its path and, for exports without a channel column, the channel of every row."""

    path: Path
    channel: str | None = None

    @classmethod
    def parse(cls, text: str | Path) -> "ExportSpec":
        """``"pos_export.csv:pos"`` → path and channel; a plain path has no channel.

        >>> ExportSpec.parse("exports/pos.csv:pos").channel
        'pos'
        """
        text = str(text)
        head, sep, tail = text.rpartition(":")
        if sep and tail in schema.CHANNELS:
            return cls(Path(head), tail)
        return cls(Path(text), None)


def _header(path: Path) -> list[str] | None:
    """The header of a UTF-8 CSV, or None when the file is not UTF-8 text."""
    try:
        with path.open("rb") as handle:
            first = handle.readline(65_536)
        text = first.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text = text.lstrip("\ufeff").strip()
    return [h.strip() for h in text.split(",")]


def is_standard_export(path: str | Path) -> bool:
    """True when ``path`` is a UTF-8 CSV whose header is exactly the eight standard columns (in any order)."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        return False
    header = _header(path)
    return header is not None and sorted(header) == sorted(STANDARD_COLUMNS)


def factorize_strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)`` (codes in order of first appearance, −1 for missing) for an object array of ids.

    Twice as fast on millions of ids: the strings are hashed to 64 bits in one vectorised pass and the integers
    factorized, instead of filling a hash table of Python strings. Exact, not probabilistic: every value is compared
    with the representative of its code, and on a hash collision the plain ``pd.factorize`` runs instead.

    >>> factorize_strings(np.array(["b", "a", None, "b"], dtype=object))
    (array([ 0,  1, -1,  0]), array(['b', 'a'], dtype=object))
    """
    values = np.asarray(values, dtype=object)
    missing = pd.isna(values)
    present = values[~missing] if missing.any() else values
    if len(present) < 100_000 or pd.api.types.infer_dtype(present, skipna=False) != "string":
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes.astype("int64"), np.asarray(uniques, dtype=object)
    codes, _ = pd.factorize(pd.util.hash_array(present, categorize=False))
    seen = np.maximum.accumulate(codes)  # codes come in order of first appearance: a new code raises the maximum
    uniques = present[np.flatnonzero(np.concatenate([[True], seen[1:] > seen[:-1]]))]
    if not (uniques[codes] == present).all():  # a 64-bit collision between two different ids
        codes, uniques = pd.factorize(present)
        uniques = np.asarray(uniques, dtype=object)
    codes = codes.astype("int64")
    if missing.any():
        full = np.full(len(values), -1, dtype="int64")
        full[~missing] = codes
        codes = full
    return codes, uniques


def _factorized(values: pd.Series, *, strip: bool = True, lower: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes (−1 = missing) and cleaned unique texts of a text or categorical column.

    Cleaning (strip, lower case, "" → missing) runs on the unique values only, so it costs nothing at 10M rows.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype("int64")
        uniques = np.asarray(values.cat.categories.astype("object"), dtype=object)
    else:
        codes, uniques = factorize_strings(values.to_numpy(dtype=object))
    text = pd.Series(uniques, dtype=object).astype("str")
    if strip:
        text = text.str.strip()
    if lower:
        text = text.str.lower()
    text = text.where(text != "")
    if strip or lower or (text.isna().any()):
        new_codes, new_uniques = pd.factorize(text.to_numpy(dtype=object), use_na_sentinel=True)
        codes = np.where(codes >= 0, new_codes.astype("int64")[np.maximum(codes, 0)], -1)
        uniques = np.asarray(new_uniques, dtype=object)
    small = np.int8 if len(uniques) < 127 else np.int32 if len(uniques) < 2**31 - 1 else np.int64
    return codes.astype(small), uniques


def _parse_times(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DD`` text → datetime64 (NaT when unreadable)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    when = pd.to_datetime(values, format=TIME_FORMAT, errors="coerce")
    if when.isna().any():  # a date without a time of day is fine too
        dates = pd.to_datetime(values.where(when.isna()), format="%Y-%m-%d", errors="coerce")
        when = when.fillna(dates)
    return when


def validate_transactions(frame: pd.DataFrame, source: str, *, as_of: object = None, first_row: int = 2,
                          keys: bool = False, raw_times: pd.Series | None = None) -> tuple[pd.DataFrame, "object"]:
    """Validate a frame in the standard layout (raw text or typed) → canonical transactions and a CleaningReport.

    Every row is kept, merged (an exact duplicate of an earlier row) or quarantined with a reason, the column and the
    value: missing order id, unreadable time/units/amount, unknown kind or channel, a date after ``as_of``, zero
    units, units and amount with opposite signs (a sale must be positive, a return negative). Text is stripped, kind
    and channel compared in lower case. Vectorised: no per-row Python except for the rows not kept.

    Parameters
    ----------
    frame : DataFrame
        The eight columns of :mod:`opskit.schema` (text, categorical or typed).
    source : str
        The file name, for the report.
    as_of : date, optional
        Rows after this day are quarantined as ``future_date``.
    first_row : int
        Spreadsheet row number of the frame's first row (2: the header is row 1).
    keys : bool
        Return ``customer_id`` as a categorical (its codes are the report's integer customer keys, −1 for walk-ins)
        and ``order_id`` as plain Python strings (``object``): no column of millions of strings is built.
    raw_times : Series, optional
        The original text of ``order_time`` where the frame holds NaT (for the quarantine's ``value``).

    Examples
    --------
    >>> import opskit.datasets as ds
    >>> tx, report = validate_transactions(ds.load_transactions().head(100), "demo")
    >>> len(tx), report.is_balanced()
    (100, True)
    """
    from opskit.collect.report import KEPT, MERGED, QUARANTINED, CleaningReport

    missing = [c for c in STANDARD_COLUMNS if c not in frame.columns]
    if missing:
        raise _error(f"{source}: 缺少列 {', '.join(missing)}", f"{source}: missing column(s) {', '.join(missing)}")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    column = np.full(n, "", dtype=object)

    def mark(mask: np.ndarray, code: str, col: str) -> None:
        hit = mask & (reason == "")
        reason[hit] = code
        column[hit] = col

    order_values = frame[schema.ORDER_ID].to_numpy(dtype=object)
    blank = pd.isna(order_values)
    blank[~blank] = pd.Series(order_values[~blank], dtype=object).astype("str").str.strip().to_numpy() == "" \
        if n <= 1_000_000 else order_values[~blank] == ""  # stripping 10M ids costs seconds: exact "" only there
    mark(blank, "missing_order_id", schema.ORDER_ID)
    when = _parse_times(frame[schema.ORDER_TIME])
    mark(when.isna().to_numpy(), "bad_date", schema.ORDER_TIME)
    units = pd.to_numeric(frame[schema.UNITS], errors="coerce").astype("float64")
    mark((units.isna() | (units.round() != units)).to_numpy(), "bad_units", schema.UNITS)
    amount = pd.to_numeric(frame[schema.AMOUNT], errors="coerce").astype("float64")
    mark((amount.isna() | ~np.isfinite(amount)).to_numpy(), "bad_amount", schema.AMOUNT)
    kind_codes, kinds = _factorized(frame[schema.KIND], lower=True)
    kind_code = np.array([{schema.SALE: 0, schema.RETURN: 1}.get(k, -1) for k in kinds], dtype="int64")
    kind = np.where(kind_codes >= 0, kind_code[np.maximum(kind_codes, 0)] if len(kinds) else -1, -1).astype("int8")
    del kind_codes
    mark(kind < 0, "unknown_status", schema.KIND)
    channel_codes, channels = _factorized(frame[schema.CHANNEL], lower=True)
    channel_code = np.array([list(schema.CHANNELS).index(c) if c in schema.CHANNELS else -1 for c in channels],
                            dtype="int64")
    channel = np.where(channel_codes >= 0, channel_code[np.maximum(channel_codes, 0)] if len(channels) else -1,
                       -1).astype("int8")
    del channel_codes
    mark(channel < 0, "unknown_channel", schema.CHANNEL)
    if as_of is not None:
        horizon = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        mark(when.ge(horizon).fillna(False).to_numpy(), "future_date", schema.ORDER_TIME)
    units_v, amount_v = units.to_numpy(), amount.to_numpy()
    mark(units_v == 0, "zero_units", schema.UNITS)
    bad_sign = np.where(kind == 0, (units_v < 0) | (amount_v < 0), (units_v > 0) | (amount_v > 0))
    mark(bad_sign, "sign_mismatch", schema.AMOUNT)
    store_codes, stores = _factorized(frame[schema.STORE_ID])
    customer_codes, customers = _factorized(frame[schema.CUSTOMER_ID])
    ok = reason == ""

    # Exact duplicates among the readable rows (same values in all eight columns): merged into the first. Only rows
    # sharing an order id and kind can be duplicates, so the full comparison runs on those candidates alone.
    merged = np.zeros(n, dtype=bool)
    duplicate_of = np.full(n, -1, dtype="int64")
    readable = np.flatnonzero(ok)
    time_ns = when.to_numpy().view("int64") if when.dtype == "datetime64[ns]" else \
        when.to_numpy().astype("datetime64[ns]").view("int64")
    # One 64-bit hash of the numeric fields per row: rows with equal hashes are the only possible duplicates.
    combined = np.zeros(len(readable), dtype="uint64")
    for part in (time_ns[readable], kind[readable], units_v[readable], amount_v[readable], customer_codes[readable],
                 store_codes[readable], channel[readable]):
        combined = combined * np.uint64(1_000_003) ^ pd.util.hash_array(part)
    rows = readable[pd.Series(combined).duplicated(keep=False).to_numpy()]
    if len(rows):
        candidates = pd.DataFrame({"o": pd.Series(order_values[rows], dtype=object).astype("str").to_numpy(),
                                   "t": time_ns[rows], "c": customer_codes[rows], "s": store_codes[rows],
                                   "ch": channel[rows], "k": kind[rows], "u": units_v[rows], "a": amount_v[rows]})
        dup = candidates.duplicated().to_numpy()
        if dup.any():
            group = candidates.groupby(list(candidates.columns), sort=False).ngroup().to_numpy()
            first = pd.Series(rows).groupby(group).transform("first").to_numpy()
            merged[rows[dup]] = True
            duplicate_of[rows[dup]] = first[dup] + first_row
    kept = ok & ~merged
    take = np.flatnonzero(kept)
    # in time order (stable: file order within a second), sorted here so no sorted copy of the frame is needed
    kept_times = time_ns[take]
    if len(take) and not (kept_times[1:] >= kept_times[:-1]).all():
        take = take[np.argsort(kept_times, kind="stable")]

    def texts(codes: np.ndarray, uniques: np.ndarray) -> pd.Series:
        picked = codes[take]
        values = uniques[np.maximum(picked, 0)] if len(uniques) else np.full(len(picked), None, dtype=object)
        return pd.Series(np.where(picked >= 0, values, None), dtype=object).astype("str")

    order = np.argsort(stores.astype("str")) if len(stores) else np.array([], dtype="int64")
    rank = np.empty(len(stores), dtype="int64")
    rank[order] = np.arange(len(stores))
    picked_store = store_codes[take]
    if keys:  # no 10M-string columns: order ids stay the parser's objects, customer ids a categorical of the keys
        order_column = pd.Series(order_values[take], dtype=object)
        customer_column = pd.Categorical.from_codes(customer_codes[take],
                                                    categories=pd.Index(customers, dtype=object))
    else:
        order_column = pd.Series(order_values[take], dtype=object).astype("str")
        customer_column = texts(customer_codes, customers)
    transactions = pd.DataFrame({
        schema.ORDER_ID: order_column,
        schema.ORDER_TIME: when.to_numpy()[take].astype("datetime64[us]"),
        schema.CUSTOMER_ID: customer_column,
        schema.STORE_ID: pd.Categorical.from_codes(np.where(picked_store >= 0, rank[np.maximum(picked_store, 0)]
                                                            if len(stores) else -1, -1),
                                                   categories=pd.Index(stores[order].astype("str"), dtype="str")),
        schema.CHANNEL: pd.Categorical.from_codes(channel[take], categories=list(schema.CHANNELS)),
        schema.KIND: pd.Categorical.from_codes(kind[take], categories=[schema.SALE, schema.RETURN]),
        schema.UNITS: units_v[take].astype("int64"),
        schema.AMOUNT: amount_v[take],
    }, copy=False)

    not_kept = np.flatnonzero(~kept)
    fate = np.where(merged[not_kept], MERGED, QUARANTINED)  # only for the rows not kept: a 10M text array is 0.4 GB
    raw = frame.iloc[not_kept]
    if raw_times is not None and len(not_kept):
        raw = raw.assign(**{schema.ORDER_TIME: raw_times.reindex(raw.index).fillna(
            raw[schema.ORDER_TIME].astype("str"))})
    shown = {c: raw[c].astype("object").astype("str").to_numpy() for c in STANDARD_COLUMNS}
    outcome_rows = pd.DataFrame({
        "file": source,
        "row": not_kept + first_row,
        "outcome": fate,
        "reason": np.where(merged[not_kept], "duplicate", reason[not_kept]),
        "column": column[not_kept],
        "value": [shown[c][i] if c else "" for i, c in enumerate(column[not_kept])],
        "order_id": shown[schema.ORDER_ID],
        "duplicate_of": pd.array(np.where(merged[not_kept], duplicate_of[not_kept], 0), dtype="Int64"),
        "raw": [" | ".join(f"{c}={shown[c][i]}" for c in STANDARD_COLUMNS) for i in range(len(not_kept))],
    })
    if len(outcome_rows):
        outcome_rows.loc[~merged[not_kept], "duplicate_of"] = pd.NA
    summary = pd.DataFrame([{"file": source, "encoding": "utf-8", "rows_in": n, "kept": int(kept.sum()),
                             "merged": int(merged.sum()), "quarantined": int((~ok).sum())}])
    notes = pd.DataFrame([{"file": source, "layout": "opskit standard (8 columns)"}])
    return transactions, CleaningReport(summary, outcome_rows, notes)


def read_standard_export(path: str | Path, *, as_of: object = None, chunksize: int = 1_000_000,
                         on_chunk: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, "object"]:
    """Read a standard-layout CSV in chunks with explicit dtypes, then :func:`validate_transactions` (with keys).

    Text columns are read as plain Python strings (``object``: far faster to build than the ``str`` dtype) and the
    time of each chunk is parsed at once, so its text is freed early. Units and amount are read as numbers; if a
    value does not parse (a stray ``"abc"``), the file is re-read with them as text so the bad rows are quarantined
    by name, never dropped. ``on_chunk(rows)`` is called after each chunk (for a progress bar).
    """
    path = Path(path)
    text_cols = {schema.ORDER_ID: object, schema.ORDER_TIME: object, schema.CUSTOMER_ID: object,
                 schema.STORE_ID: "category", schema.CHANNEL: "category", schema.KIND: "category"}
    options = dict(encoding="utf-8-sig", keep_default_na=False, na_values=[""], engine="c", chunksize=chunksize)

    def read(numbers) -> tuple[pd.DataFrame, pd.Series]:
        frames, bad_times = [], []
        offset = 0
        with pd.read_csv(path, dtype={**text_cols, schema.UNITS: numbers, schema.AMOUNT: numbers},
                         **options) as reader:
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                chunk.index = pd.RangeIndex(offset, offset + len(chunk))
                text = chunk[schema.ORDER_TIME]
                when = _parse_times(text)
                if when.isna().any():
                    bad_times.append(text[when.isna()].astype("str"))
                chunk[schema.ORDER_TIME] = when
                frames.append(chunk)
                offset += len(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
        if not frames:
            raise _error(f"{path.name}: 文件没有数据行", f"{path.name}: the file has no data rows")
        from pandas.api.types import union_categoricals

        whole = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for c in (schema.STORE_ID, schema.CHANNEL, schema.KIND):
            if not isinstance(whole[c].dtype, pd.CategoricalDtype):  # categories differed between chunks
                whole[c] = pd.Series(union_categoricals([f[c] for f in frames]), index=whole.index)
        frames.clear()  # the chunks' arrays are copied into ``whole``: free them before validation
        raw_times = pd.concat(bad_times) if bad_times else pd.Series(dtype="str")
        return whole, raw_times

    try:
        try:
            frame, raw_times = read("float64")
        except ValueError:
            frame, raw_times = read(object)
    except pd.errors.EmptyDataError:
        raise _error(f"{path.name}: 文件是空的", f"{path.name}: the file is empty") from None
    return validate_transactions(frame, path.name, as_of=as_of, keys=True, raw_times=raw_times)


def _merge_reports(reports: Sequence) -> object:
    from opskit.collect.report import CleaningReport

    if len(reports) == 1:
        return reports[0]
    summary = pd.concat([r._files for r in reports], ignore_index=True)
    outcomes = pd.concat([_outcomes(r) for r in reports], ignore_index=True)
    notes = pd.concat([r.notes for r in reports], ignore_index=True).fillna("")
    conflicts = pd.concat([r.conflicts for r in reports if not r.conflicts.empty], ignore_index=True) \
        if any(not r.conflicts.empty for r in reports) else None
    return CleaningReport(summary, outcomes, notes, conflicts)


def _outcomes(report) -> pd.DataFrame:
    q = report.quarantine.drop(columns=["label"]).assign(outcome="quarantined", duplicate_of=pd.NA)
    m = report.merged.assign(outcome="merged", column="", value="", raw="")
    columns = ["file", "row", "outcome", "reason", "column", "value", "order_id", "duplicate_of", "raw"]
    return pd.concat([q[columns], m[columns]], ignore_index=True)


@dataclass
class Inputs:
    """What :func:`load_exports` read: canonical transactions, the cleaning report, and the optional tables."""

    transactions: pd.DataFrame
    report: object
    members: pd.DataFrame | None = None
    stores: pd.DataFrame | None = None
    footfall: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    source: str = "demo"
    notes: list[Text] = field(default_factory=list)


def load_exports(exports: Iterable[str | Path | ExportSpec], *, as_of: object = None,
                 progress: Progress = _quiet) -> Inputs:
    """Read and clean a store's exports: standard-layout files fast, the rest through :mod:`opskit.collect`.

    Raises ``ValueError`` (bilingual, naming the file) when no row is usable or no sale is left.
    """
    specs = [e if isinstance(e, ExportSpec) else ExportSpec.parse(e) for e in exports]
    if not specs:
        raise _error("没有要读取的导出文件", "no export files to read")
    for spec in specs:
        if not spec.path.is_file():
            raise FileNotFoundError(str(Text(f"找不到文件 {spec.path}", f"file not found: {spec.path}")))
    frames, reports = [], []
    standard = [s for s in specs if is_standard_export(s.path)]
    other = [s for s in specs if s not in standard]
    for spec in standard:
        progress(str(Text(f"读取 {spec.path.name} (标准格式)", f"reading {spec.path.name} (standard layout)")))
        done = [0]

        def counted(rows: int, name: str = spec.path.name) -> None:
            done[0] += rows
            progress(str(Text(f"读取 {name}: {done[0]:,} 行", f"reading {name}: {done[0]:,} rows")))

        tx, report = read_standard_export(spec.path, as_of=as_of, on_chunk=counted)
        frames.append(tx)
        reports.append(report)
    if other:
        from opskit.collect import Source, collect_exports

        progress(str(Text(f"清洗 {len(other)} 个原始导出", f"cleaning {len(other)} raw export(s)")))
        result = collect_exports([Source(s.path, s.channel) for s in other], as_of=as_of)
        frames.append(result.transactions)
        reports.append(result.report)
    report = _merge_reports(reports)
    if len(frames) == 1:
        transactions = frames[0]
    else:
        stores = sorted({str(s) for f in frames for s in f[schema.STORE_ID].dropna().unique()})
        frames = [f.assign(**{
            schema.STORE_ID: pd.Categorical(f[schema.STORE_ID].astype("str"), categories=stores),
            schema.ORDER_ID: _as_text(f[schema.ORDER_ID]), schema.CUSTOMER_ID: _as_text(f[schema.CUSTOMER_ID])})
            for f in frames]
        transactions = pd.concat(frames, ignore_index=True).sort_values(
            [schema.ORDER_TIME, schema.ORDER_ID, schema.KIND], kind="stable", ignore_index=True)
    names = ", ".join(s.path.name for s in specs)
    check_usable(transactions, names)
    return Inputs(transactions, report, source=names)


def _as_text(values: pd.Series) -> pd.Series:
    """Ids as text (``str``, missing stays missing), also from the categorical or object ids of a standard export."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        return pd.Series(np.asarray(values, dtype=object), index=values.index, dtype="str")
    return values


def check_usable(transactions: pd.DataFrame, source: str) -> None:
    """Raise ``ValueError`` when there is nothing to analyse: no usable row, only returns, or no member purchase."""
    if transactions.empty:
        raise _error(f"{source}: 没有可用的行 (全部被隔离或文件为空); 请查看清洗报告",
                     f"{source}: no usable rows (every row was quarantined or the file is empty); see the cleaning "
                     "report")
    sales = transactions[schema.KIND] == schema.SALE
    if not sales.any():
        raise _error(f"{source}: 只有退货, 没有销售; 无法分析顾客",
                     f"{source}: only returns, no sales: there are no purchases to analyse")
    member = transactions[schema.CUSTOMER_ID].notna()
    if not (sales & member).any():
        raise _error(f"{source}: 没有会员的销售 (所有销售都没有会员号); 无法分层",
                     f"{source}: no member sales (no sale has a customer id): nobody to tier")


def load_footfall_file(path: str | Path) -> pd.DataFrame:
    """Daily footfall: ``date``, ``store_id``, ``visitors`` (required), ``passers_by``, ``staff_hours`` (optional)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype={"store_id": "str"}, encoding="utf-8-sig")
    missing = [c for c in ("date", "store_id", "visitors") if c not in frame.columns]
    if missing:
        raise _error(f"{path.name}: 客流文件缺少列 {', '.join(missing)} (需要 date, store_id, visitors)",
                     f"{path.name}: footfall file is missing column(s) {', '.join(missing)} (needs date, store_id, "
                     "visitors)")
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    bad = frame["date"].isna() | pd.to_numeric(frame["visitors"], errors="coerce").isna()
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
        raise _error(f"{path.name}: 第 {rows} 行的日期或进店人数无法读取", f"{path.name}: unreadable date or visitors "
                                                                         f"in row(s) {rows}")
    for optional in ("passers_by", "staff_hours"):
        if optional not in frame.columns:
            frame[optional] = np.nan
    return frame


def load_targets_file(path: str | Path) -> pd.DataFrame:
    """Monthly targets: ``store_id``, ``month`` (any day of the month), ``sales_target`` (yuan)."""
    path = Path(path)
    frame = pd.read_csv(path, dtype={"store_id": "str"}, encoding="utf-8-sig")
    missing = [c for c in ("store_id", "month", "sales_target") if c not in frame.columns]
    if missing:
        raise _error(f"{path.name}: 目标文件缺少列 {', '.join(missing)}", f"{path.name}: targets file is missing "
                                                                       f"column(s) {', '.join(missing)}")
    frame["month"] = pd.to_datetime(frame["month"], errors="coerce").dt.to_period("M").dt.start_time
    if frame["month"].isna().any():
        raise _error(f"{path.name}: 有无法读取的月份", f"{path.name}: some months cannot be read")
    return frame


# --------------------------------------------------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class Analysis:
    """Everything the report shows. Frames are indexed or keyed by customer id (never a phone)."""

    as_of: pd.Timestamp
    transactions: pd.DataFrame
    overview: dict
    segments: pd.DataFrame
    segment_summary: pd.DataFrame
    predictions: pd.DataFrame
    clv_params: dict
    stages: pd.DataFrame
    stage_summary: pd.DataFrame
    follow_up: pd.DataFrame
    activation: pd.DataFrame
    compass: dict | None
    findings: list[Text]
    notes: list[Text]


@dataclass
class _Keys:
    """Integer keys for the methods: member rows with ``customer_key``/``order_key``, and the ids behind them."""

    members_tx: pd.DataFrame
    customer_ids: np.ndarray
    order_ids: np.ndarray
    members: pd.DataFrame | None
    row_customer_key: np.ndarray  # per row of the transactions, walk-ins −1
    notes: list = field(default_factory=list)


_PHONE_ID = r"\s*(?:\+?86)?[\s-]*1[3-9](?:[\s-]*\d){9}\s*"


def _pseudonymise_phone_ids(ids: np.ndarray) -> tuple[np.ndarray, Text | None]:
    """Customer ids that are mobile numbers (some POS systems use the phone as the card number) → keyed pseudonyms
    (:class:`opskit.privacy.Pseudonymizer`, key from ``$OPSKIT_PSEUDONYM_KEY``); other ids stay as they are."""
    text = pd.Series(ids, dtype=object).astype("str")
    looks = text.str.fullmatch(_PHONE_ID).fillna(False).to_numpy(dtype=bool)
    if not looks.any():
        return ids, None
    from opskit.privacy import Pseudonymizer

    out = ids.copy()
    out[looks] = np.asarray(Pseudonymizer()(pd.Series(ids[looks], dtype=object).astype("str")), dtype=object)
    return out, Text(f"{int(looks.sum()):,} 个会员号是手机号, 已替换为假名 (P-…)",
                     f"{int(looks.sum()):,} customer ids were phone numbers and were replaced by pseudonyms (P-…)")


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (−1: missing) and the distinct values behind them; a categorical's own codes cost nothing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype("int64"), np.asarray(values.cat.categories, dtype=object)
    return factorize_strings(values.to_numpy(dtype=object))


def _keyed(transactions: pd.DataFrame, members: pd.DataFrame | None) -> _Keys:
    """Member rows only, with customer and order ids as integer codes: the methods group and count on them, and
    integers hash far faster than 10M strings. Prospects from the member table get keys after the buyers'."""
    tx = transactions
    customer_key, customer_ids = _codes(tx[schema.CUSTOMER_ID])
    is_member = customer_key >= 0
    columns = [schema.ORDER_TIME, schema.KIND, schema.AMOUNT, schema.STORE_ID]
    order_key, order_ids = _codes(tx[schema.ORDER_ID][is_member])
    members_tx = tx.loc[is_member, columns].reset_index(drop=True)
    members_tx.insert(0, "order_key", order_key)
    members_tx.insert(0, "customer_key", customer_key[is_member])
    # A return whose sale is not in the data (sold before the export starts) cannot be netted against a purchase.
    is_return = (members_tx[schema.KIND] == schema.RETURN).to_numpy()
    sold = members_tx["order_key"].to_numpy()[~is_return]
    orphan = is_return & ~np.isin(members_tx["order_key"].to_numpy(), sold)
    note_orphans = None
    if orphan.any():
        members_tx = members_tx[~orphan].reset_index(drop=True)
        note_orphans = Text(f"{int(orphan.sum()):,} 条会员退货的原销售不在数据中 (早于导出期), 未计入顾客分析",
                            f"{int(orphan.sum()):,} member return(s) refer to sales outside the data (before the "
                            "export starts) and are left out of the customer analysis")
    customer_ids, note = _pseudonymise_phone_ids(customer_ids)
    keyed_members = None
    if members is not None:
        position = pd.Series(np.arange(len(customer_ids)), index=pd.Index(customer_ids, dtype=object))
        position = position[~position.index.duplicated()]  # two spellings of one phone share a pseudonym
        key = position.reindex(members[schema.CUSTOMER_ID].astype("str").to_numpy(dtype=object)).fillna(-1) \
            .to_numpy().astype("int64")
        new = key < 0
        key[new] = np.arange(len(customer_ids), len(customer_ids) + int(new.sum()))
        customer_ids = np.concatenate([customer_ids, members[schema.CUSTOMER_ID].astype("str").to_numpy(
            dtype=object)[new]])
        keyed_members = members.assign(customer_key=key)
    return _Keys(members_tx, customer_ids, order_ids, keyed_members, customer_key,
                 [n for n in (note, note_orphans) if n])


def _by_id(frame: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """Re-index a customer_key-indexed frame by customer id."""
    out = frame.copy()
    out.index = pd.Index(ids[frame.index.to_numpy()], dtype="str", name=schema.CUSTOMER_ID)
    return out


def run_method(inputs: Inputs, *, as_of: object = None, progress: Progress = _quiet, cac: float | None = None
               ) -> Analysis:
    """Run RFM, CLV, lifecycle, the work lists and (with footfall) the compass on clean transactions.

    Examples
    --------
    >>> import opskit.datasets as ds  # doctest: +SKIP
    >>> analysis = run_method(demo_inputs())  # doctest: +SKIP
    >>> [str(f) for f in analysis.findings][:1]  # doctest: +SKIP
    """
    import warnings

    from opskit import clv, lifecycle, rfm

    tx = inputs.transactions
    notes = list(inputs.notes)
    keys = _keyed(tx, inputs.members)
    notes.extend(keys.notes)
    member_tx = keys.members_tx
    sales = member_tx[member_tx[schema.KIND] == schema.SALE]
    day = pd.Timestamp(as_of).normalize() if as_of is not None else sales[schema.ORDER_TIME].max().normalize()
    first_member_day = sales[schema.ORDER_TIME].min().normalize()
    if day < first_member_day:
        raise _error(f"截止日 {day:%Y-%m-%d} 早于第一笔会员销售 ({first_member_day:%Y-%m-%d})",
                     f"as-of date {day:%Y-%m-%d} is before the first member sale ({first_member_day:%Y-%m-%d})")
    end = day + pd.Timedelta(days=1)
    in_scope = tx[schema.ORDER_TIME] < end
    everything = bool(in_scope.all())
    scoped = tx if everything else tx[in_scope]
    overview = _overview(scoped, keys.row_customer_key if everything else keys.row_customer_key[in_scope.to_numpy()],
                         day)
    ids = {"customer_col": "customer_key", "order_col": "order_key"}

    progress(str(Text("RFM 分层", "RFM tiering")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfm.BinsCollapsedWarning)
        table = rfm.rfm_table(member_tx, as_of=day, **ids)
        segments = rfm.segment_customers(table, "cn8")
    seg_summary = rfm.segment_summary(segments)

    progress(str(Text("CLV 预测 (BG/NBD + Gamma-Gamma)", "CLV prediction (BG/NBD + Gamma-Gamma)")))
    upto = member_tx[member_tx[schema.ORDER_TIME] < end]
    summary = clv.summary_from_transactions(upto, "customer_key", freq="W", observation_end=day,
                                            order_col="order_key")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repeat = summary[summary["frequency"] > 0]
        if len(repeat) > GAMMA_GAMMA_SAMPLE:  # the spend model's 3 parameters are pinned down long before 1M rows
            repeat = repeat.sample(GAMMA_GAMMA_SAMPLE, random_state=2025)
            notes.append(Text(f"Gamma-Gamma 模型在 {GAMMA_GAMMA_SAMPLE:,} 位复购顾客的随机样本上拟合 (共 "
                              f"{int((summary['frequency'] > 0).sum()):,} 位), 预测覆盖全部顾客",
                              f"the Gamma-Gamma model was fitted on a random sample of {GAMMA_GAMMA_SAMPLE:,} repeat "
                              f"buyers (of {int((summary['frequency'] > 0).sum()):,}); predictions cover everyone"))
        try:
            gamma = clv.fit_gamma_gamma(repeat)
        except ValueError as exc:  # too few repeat buyers: CLV without spend model
            gamma = None
            notes.append(Text(f"未能拟合 Gamma-Gamma 模型 ({exc}); 没有 CLV 金额",
                              f"the Gamma-Gamma model could not be fitted ({exc}); no CLV in yuan"))
        bgnbd, predictions = None, pd.DataFrame(index=summary.index)
        for penalizer in (0.0, 0.001, 0.01, 0.1):  # short histories may need a little shrinkage
            try:
                model = clv.fit_bgnbd(summary, penalizer=penalizer)
                predicted = clv.predict_customers(summary, model, gamma, months=12)
            except ValueError:
                continue
            if np.isfinite(predicted.to_numpy(dtype="float64")).all():
                bgnbd, predictions = model, predicted
                if penalizer:
                    notes.append(Text(f"BG/NBD 在 penalizer={penalizer} 时才得到可用的拟合 (历史较短)",
                                      f"BG/NBD needed penalizer={penalizer} for a usable fit (a short history)"))
                break
        if bgnbd is None:
            gamma = None
            notes.append(Text("BG/NBD 模型无法稳定拟合 (历史太短或顾客太少): 本报告没有 CLV 预测; 激活清单按历史净消费排序",
                              "the BG/NBD model cannot be fitted reliably (history too short or too few customers): "
                              "no CLV in this report; the activation list is ranked by historical net spend"))
    clv_params = {"bgnbd": {k: float(v) for k, v in bgnbd.params_.items()} if bgnbd is not None else {},
                  "gamma_gamma": {k: float(v) for k, v in gamma.params_.items()} if gamma is not None else {}}

    progress(str(Text("生命周期阶段与工作清单", "lifecycle stages and work lists")))
    member_sales = member_tx[member_tx[schema.KIND] == schema.SALE]  # returns never change a stage
    stages = lifecycle.assign_stages(member_sales, keys.members, as_of=day, amount_col=None, **ids)
    stage_table = lifecycle.stage_summary(stages)
    value = (predictions["clv"] if "clv" in predictions else table["net_spend"]).reindex(stages.index).fillna(0.0)
    activation = lifecycle.activation_list(stages, value)
    recent = member_tx[(member_tx[schema.ORDER_TIME] >= day - pd.Timedelta(days=90))
                       & (member_tx[schema.ORDER_TIME] < end)]
    follow_up = lifecycle.follow_up_list(recent[recent[schema.KIND] == schema.SALE], as_of=day, **ids)
    follow_up = follow_up[follow_up["status"] != "done_window"].reset_index(drop=True)
    follow_up.insert(0, schema.CUSTOMER_ID, keys.customer_ids[follow_up.pop("customer_key").to_numpy()].astype(str))
    follow_up.insert(1, schema.ORDER_ID, keys.order_ids[follow_up.pop("order_key").to_numpy()].astype(str))
    segments = _by_id(segments, keys.customer_ids)
    predictions = _by_id(predictions, keys.customer_ids)
    stages = _by_id(stages, keys.customer_ids)
    activation = _by_id(activation, keys.customer_ids)

    compass = None
    if inputs.footfall is not None:
        progress(str(Text("店铺罗盘", "store compass")))
        compass, compass_notes = _compass(inputs, scoped, day)
        notes.extend(compass_notes)

    analysis = Analysis(day, tx, overview, segments, seg_summary, predictions, clv_params, stages, stage_table,
                        follow_up, activation, compass, [], notes)
    analysis.findings = findings(analysis)
    return analysis


def _overview(tx: pd.DataFrame, customer: np.ndarray, day: pd.Timestamp) -> dict:
    """Totals of the whole export; ``customer`` holds each row's customer key (−1: walk-in)."""
    # Column by column with masks: a filtered copy of a 10M-row frame costs seconds.
    is_sale = (tx[schema.KIND] == schema.SALE).to_numpy()
    is_return = (tx[schema.KIND] == schema.RETURN).to_numpy()
    amount = tx[schema.AMOUNT].to_numpy()
    member = customer >= 0
    sale_times = tx[schema.ORDER_TIME].to_numpy()[is_sale]
    gross = float(amount[is_sale].sum())
    return {
        "first_day": pd.Timestamp(sale_times.min()).normalize(),
        "last_day": pd.Timestamp(sale_times.max()).normalize(),
        "as_of": day,
        "stores": int(tx[schema.STORE_ID].nunique()),
        "rows": int(len(tx)),
        "sale_rows": int(is_sale.sum()),
        "return_rows": int(is_return.sum()),
        "sales": gross,
        "returns": float(-amount[is_return].sum()),
        "member_share": float(amount[is_sale & member].sum() / gross) if gross else math.nan,
        "customers": int(pd.unique(customer[is_sale & member]).size),
    }


def _compass(inputs: Inputs, tx: pd.DataFrame, day: pd.Timestamp) -> tuple[dict | None, list[Text]]:
    """The compass for the latest complete month with footfall, one row per store, with each store's weak point."""
    from opskit import compass as cp

    notes: list[Text] = []
    footfall = inputs.footfall.copy()
    footfall["store_id"] = footfall["store_id"].astype("str")
    known = {str(s) for s in tx[schema.STORE_ID].dropna().unique()}
    unknown = sorted(set(footfall["store_id"]) - known)
    if unknown:
        shown = ", ".join(unknown[:10])
        notes.append(Text(f"客流文件中有 {len(unknown)} 家门店不在订单中, 已从罗盘中略去: {shown}",
                          f"the footfall file has {len(unknown)} store(s) that are not in the orders, left out of "
                          f"the compass: {shown}"))
        footfall = footfall[~footfall["store_id"].isin(unknown)]
    if footfall.empty:
        notes.append(Text("客流文件中没有与订单匹配的门店: 不计算罗盘", "no footfall store matches the orders: no compass"))
        return None, notes
    footfall = footfall[footfall["date"] <= day]
    months = pd.period_range(footfall["date"].min(), footfall["date"].max(), freq="M")
    complete = [m for m in months if m.end_time.normalize() <= day]
    if not complete:
        notes.append(Text("客流数据不足一个完整月: 不计算罗盘", "footfall covers no complete month: no compass"))
        return None, notes
    period = str(complete[-1])
    store_ids = sorted(set(footfall["store_id"]))
    stores = inputs.stores
    if stores is None:  # bring-your-own data: no store master; opening day = first footfall day
        first = footfall.groupby("store_id")["date"].min()
        stores = pd.DataFrame({"store_id": store_ids, "area_m2": np.nan, "staff": np.nan,
                               "opened": first.reindex(store_ids).to_numpy()})
    else:
        stores = stores[stores["store_id"].astype("str").isin(store_ids)].copy()
    members = inputs.members
    if members is None:  # no member master: a member "joins" at the first purchase, at that store
        first = (tx[tx[schema.CUSTOMER_ID].notna() & (tx[schema.KIND] == schema.SALE)]
                 .drop_duplicates(schema.CUSTOMER_ID))
        members = pd.DataFrame({"customer_id": first[schema.CUSTOMER_ID].to_numpy(),
                                "join_date": first[schema.ORDER_TIME].dt.normalize().to_numpy(),
                                "join_store_id": first[schema.STORE_ID].astype("str").to_numpy()})
    targets = inputs.targets
    has_targets = targets is not None
    if targets is None:
        targets = pd.DataFrame({"store_id": pd.Series(dtype="str"), "month": pd.Series(dtype="datetime64[us]"),
                                "sales_target": pd.Series(dtype="float64")})
    tx_c = tx[tx[schema.STORE_ID].astype("str").isin(store_ids)].copy()
    tx_c[schema.STORE_ID] = tx_c[schema.STORE_ID].astype("str")
    cube = cp.compass_cube(tx_c, footfall, members, stores, targets, [period])
    rows = []
    for store in store_ids:
        row = cube.row(store, period)
        best = {"store_id": store, "sales": float(row["sales"]), "visitors": float(row["visitors"]),
                "conversion": float(row.get("conversion", np.nan)), "atv": float(row.get("atv", np.nan)),
                "upt": float(row.get("upt", np.nan)), "attainment": float(row.get("attainment", np.nan)),
                "weak_point": "", "weak_text": None, "benchmark": ""}
        for kind in (("target", "peers") if has_targets else ("peers",)):
            try:
                point = cube.weak_point(store, period, kind)
            except ValueError:
                continue
            best["weak_point"] = point.key or ""
            best["weak_text"] = point.text
            best["benchmark"] = kind
            break
        rows.append(best)
    return {"period": period, "table": pd.DataFrame(rows), "cube": cube}, notes


# --------------------------------------------------------------------------------------------------------------------
# Findings in plain language
# --------------------------------------------------------------------------------------------------------------------
def findings(analysis: Analysis) -> list[Text]:
    """A few sentences a store manager can act on, each computed from the analysis (zh/en)."""
    from opskit.lifecycle import STAGES

    out: list[Text] = []
    o = analysis.overview
    out.append(Text(
        f"截至 {o['as_of']:%Y-%m-%d}: {o['customers']:,} 位会员有购买, 会员消费占销售额 {o['member_share']:.0%}。",
        f"As of {o['as_of']:%Y-%m-%d}: {o['customers']:,} members have bought; members bring "
        f"{o['member_share']:.0%} of sales."))
    seg = analysis.segment_summary
    if "revenue_share" in seg.columns and "customers" in seg.columns:
        top = seg.sort_values("revenue_share", ascending=False).iloc[0]
        name = str(top.get("label", top.name))
        out.append(Text(
            f"贡献最大的分层是「{name}」: {int(top['customers']):,} 人 ({top['customer_share']:.0%}) 贡献 "
            f"{top['revenue_share']:.0%} 的会员销售额。",
            f"The segment that brings most revenue is '{name}': {int(top['customers']):,} members "
            f"({top['customer_share']:.0%}) bring {top['revenue_share']:.0%} of member sales."))
    stages = analysis.stage_summary
    at_risk = int(stages.loc[["sleeping", "lost"], "members"].sum())
    total = int(stages["members"].sum())
    out.append(Text(
        f"{at_risk:,} 位会员 ({at_risk / total:.0%}) 已超过 90 天未购买 ({STAGES['sleeping'].zh} "
        f"{int(stages.loc['sleeping', 'members']):,}, {STAGES['lost'].zh} {int(stages.loc['lost', 'members']):,}): "
        f"激活清单按价值排序, 先联系高价值的。",
        f"{at_risk:,} members ({at_risk / total:.0%}) have not bought for more than 90 days (sleeping "
        f"{int(stages.loc['sleeping', 'members']):,}, lost {int(stages.loc['lost', 'members']):,}): the activation "
        "list is ranked by value; contact the high-value ones first."))
    fu = analysis.follow_up
    today = int((fu["status"] == "today").sum()) if not fu.empty else 0
    buyers = int(fu["customer_id"].nunique()) if not fu.empty else 0
    out.append(Text(
        f"回访清单: {buyers:,} 位近 90 天的顾客还有待做的关怀, 其中今天到期 {today:,} 条。",
        f"Follow-up list: {buyers:,} buyers of the last 90 days still have care contacts due; {today:,} are due "
        "today."))
    pred = analysis.predictions
    if "clv" in pred.columns and len(pred):
        clv_sorted = np.sort(pred["clv"].to_numpy())[::-1]
        top_n = max(1, len(clv_sorted) // 5)
        share = clv_sorted[:top_n].sum() / clv_sorted.sum() if clv_sorted.sum() > 0 else math.nan
        out.append(Text(
            f"预测未来 12 个月: 会员合计 CLV 约 ¥{clv_sorted.sum():,.0f}, 其中前 20% 的会员占 {share:.0%}。",
            f"Next 12 months: predicted member CLV totals about ¥{clv_sorted.sum():,.0f}; the top 20% of members "
            f"hold {share:.0%} of it."))
    if analysis.compass is not None:
        table = analysis.compass["table"]
        weak = table[table["weak_point"] != ""]
        if not weak.empty:
            counts = weak["weak_point"].value_counts()
            from opskit.compass import KPIS

            k = KPIS[counts.index[0]]
            out.append(Text(
                f"罗盘 ({analysis.compass['period']}): {int(counts.iloc[0])} / {len(table)} 家门店的短板是{k.zh}。",
                f"Compass ({analysis.compass['period']}): for {int(counts.iloc[0])} of {len(table)} stores the weak "
                f"point is {k.en}."))
    return out
