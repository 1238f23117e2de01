"""RFM tiering (客户分层): the RFM table, quantile scores, segment schemes, summaries and value tiers.

The pipeline is a chain of pure functions on tidy DataFrames, one row per customer::

    transactions ──rfm_table──> rfm ──rfm_scores──> scores ──segment_customers──> segments ──segment_summary──> table

Conventions (every one is a parameter; the defaults follow the classic Chinese model):

- **as-of date** (截止日): a calendar date. Orders dated after it are excluded (counted in the accounting); an order on
  the as-of day itself counts and has recency 0. Default: the day of the last member purchase in the data.
- **R** (recency, 最近一次消费间隔) = whole days from the last purchase day to the as-of date.
- **F** (frequency, 消费频率) = distinct sale ``order_id`` (``frequency="orders"``, default) or distinct purchase days
  (``frequency="days"``). Returns never reduce F: a return does not un-happen a shopping trip.
- **M** (monetary, 消费金额) = net spend, sales plus (negative) returns (``monetary="total"``, default), or net spend per
  order (``monetary="mean"``). ``returns="ignore"`` leaves returns out of M.

Examples
--------
>>> import pandas as pd
>>> from opskit.rfm import rfm_table, segment_customers, segment_summary
>>> tx = pd.DataFrame({
...     "order_id": ["A", "B", "C", "C"],
...     "order_time": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-30", "2024-04-02"]),
...     "customer_id": ["c1", "c1", "c2", "c2"],
...     "kind": ["sale", "sale", "sale", "return"],
...     "amount": [100.0, 300.0, 500.0, -200.0],
... })
>>> rfm = rfm_table(tx, as_of="2024-04-02")
>>> rfm[["recency", "frequency", "monetary"]]  # doctest: +NORMALIZE_WHITESPACE
             recency  frequency  monetary
customer_id
c1                32          2     400.0
c2                 3          1     300.0
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text

__all__ = [
    "BinsCollapsedWarning",
    "RFMAccounting",
    "Scheme",
    "SCHEMES",
    "EXCLUSION_REASONS",
    "VALUE_TIERS",
    "rfm_table",
    "rfm_scores",
    "cn8_thresholds",
    "describe_thresholds",
    "get_scheme",
    "custom_scheme",
    "scheme_table",
    "segment_customers",
    "segment_strategy",
    "segment_summary",
    "pareto_curve",
    "revenue_share_of_top",
    "value_tiers",
]

DIMENSIONS = ("recency", "frequency", "monetary")
SCORE_COLUMNS = {"recency": "r_score", "frequency": "f_score", "monetary": "m_score"}
HIGH_COLUMNS = {"recency": "r_high", "frequency": "f_high", "monetary": "m_high"}
DIMENSION_LABELS = {
    "recency": Text("R 最近一次消费间隔(天)", "R recency (days)"),
    "frequency": Text("F 消费频率", "F frequency"),
    "monetary": Text("M 消费金额", "M monetary"),
}


def _error(zh: str, en: str) -> ValueError:
    # Errors always show both languages: a trainer may read an English learner's traceback, and vice versa.
    return ValueError(Text(zh, en).render("both"))


def _check_choice(value: object, choices: Sequence[str], argument: str) -> str:
    if value not in choices:
        raise _error(
            f"参数 {argument}={value!r} 无效，可选: {', '.join(choices)}",
            f"invalid {argument}={value!r}; choose one of: {', '.join(choices)}",
        )
    return str(value)


def _row_list(index: pd.Index, limit: int = 5) -> str:
    shown = ", ".join(repr(label) for label in list(index[:limit]))
    more = f" … (+{len(index) - limit})" if len(index) > limit else ""
    return f"[{shown}{more}]"


class BinsCollapsedWarning(UserWarning):
    """Scores or 高/低 splits took fewer distinct values than intended (usually because of ties, e.g. most F = 1)."""


# --------------------------------------------------------------------------------------------------------------------
# 1. The RFM table
# --------------------------------------------------------------------------------------------------------------------

EXCLUSION_REASONS: dict[str, Text] = {
    "missing_customer_id": Text("无会员号(散客)", "no customer id (walk-in)"),
    "after_as_of": Text("晚于截止日", "dated after the as-of date"),
    "return_ignored": Text("退货(按 returns='ignore' 不计)", "return (left out: returns='ignore')"),
    "no_sale_by_as_of": Text("截止日前无购买记录(仅有退货)", "customer has no purchase by the as-of date (returns only)"),
}


@dataclass(frozen=True)
class RFMAccounting:
    """Where every input row went. ``rows_in == rows_used + sum(excluded.values())`` always holds.

    Attributes
    ----------
    rows_in, rows_used : int
        Rows given, rows that entered R, F or M.
    excluded : dict
        Rows left out, by reason (keys of :data:`EXCLUSION_REASONS`; zero counts included).
    as_of : Timestamp
        The as-of date used.
    orders_after_as_of : int
        Distinct member orders dated after the as-of date (their rows are in ``excluded["after_as_of"]``).
    customers : int
        Customers in the table.
    """

    rows_in: int
    rows_used: int
    excluded: dict[str, int]
    as_of: pd.Timestamp
    orders_after_as_of: int
    customers: int

    def to_frame(self) -> pd.DataFrame:
        """One row per reason plus the rows used, with bilingual labels; ``rows`` adds up to ``rows_in``."""
        keys = ["used", *self.excluded]
        labels = [str(Text("计入 RFM", "used in RFM")), *(str(EXCLUSION_REASONS[k]) for k in self.excluded)]
        rows = [self.rows_used, *self.excluded.values()]
        return pd.DataFrame({"label": labels, "rows": rows}, index=pd.Index(keys, name="reason"))

    def report(self) -> Text:
        """A one-line bilingual account, e.g. for a notebook or the explorer widget."""
        zh_parts = [f"{EXCLUSION_REASONS[k].zh} {n}" for k, n in self.excluded.items() if n]
        en_parts = [f"{EXCLUSION_REASONS[k].en} {n}" for k, n in self.excluded.items() if n]
        return Text(
            f"截止日 {self.as_of:%Y-%m-%d}: 输入 {self.rows_in} 行，计入 {self.rows_used} 行，{self.customers} 位客户"
            + (f"；排除: {'，'.join(zh_parts)}" if zh_parts else "；无排除")
            + (f"(截止日后订单 {self.orders_after_as_of} 单)" if self.orders_after_as_of else ""),
            f"as of {self.as_of:%Y-%m-%d}: {self.rows_in} rows in, {self.rows_used} used, {self.customers} customers"
            + (f"; excluded: {', '.join(en_parts)}" if en_parts else "; nothing excluded")
            + (f" ({self.orders_after_as_of} orders after the as-of date)" if self.orders_after_as_of else ""),
        )


def _as_of_date(as_of: object, tz: object) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise _error(f"无法识别截止日 as_of={as_of!r}", f"cannot read the as-of date as_of={as_of!r}") from exc
    if pd.isna(stamp):
        raise _error("截止日 as_of 不能为空", "the as-of date as_of is missing")
    if tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    elif tz is None and stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()  # a date: any time of day is dropped, so the whole as-of day counts


def _validated_frame(tx: pd.DataFrame, cols: dict[str, str]) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Check columns and values; return (missing_customer mask, purchase day, is_sale, amount)."""
    if not isinstance(tx, pd.DataFrame):
        raise _error(f"需要 DataFrame，得到 {type(tx).__name__}", f"expected a DataFrame, got {type(tx).__name__}")
    missing_cols = [c for c in cols.values() if c not in tx.columns]
    if missing_cols:
        raise _error(
            f"交易表缺少列 {missing_cols}; 现有列: {list(tx.columns)}",
            f"the transactions frame lacks column(s) {missing_cols}; it has {list(tx.columns)}",
        )
    kind = tx[cols["kind"]]
    bad_kind = ~kind.isin([schema.SALE, schema.RETURN])
    if bad_kind.any():
        raise _error(
            f"列 {cols['kind']!r} 只能是 'sale' 或 'return'; 行 {_row_list(tx.index[bad_kind])} 的值为 "
            f"{sorted(map(str, kind[bad_kind].unique()))[:5]}",
            f"column {cols['kind']!r} must be 'sale' or 'return'; row(s) {_row_list(tx.index[bad_kind])} have "
            f"{sorted(map(str, kind[bad_kind].unique()))[:5]}",
        )
    times = tx[cols["time"]]
    if not pd.api.types.is_datetime64_any_dtype(times):
        converted = pd.to_datetime(times, errors="coerce")
        unreadable = converted.isna() & times.notna()
        if unreadable.any():
            raise _error(
                f"列 {cols['time']!r} 的行 {_row_list(tx.index[unreadable])} 无法解析为时间",
                f"column {cols['time']!r}: row(s) {_row_list(tx.index[unreadable])} are not readable as times",
            )
        times = converted
    if times.isna().any():
        raise _error(
            f"列 {cols['time']!r} 的行 {_row_list(tx.index[times.isna()])} 缺少时间",
            f"column {cols['time']!r}: row(s) {_row_list(tx.index[times.isna()])} have no time",
        )
    amount = tx[cols["amount"]]
    if not pd.api.types.is_numeric_dtype(amount) or pd.api.types.is_bool_dtype(amount):
        raise _error(
            f"列 {cols['amount']!r} 必须是数值，现为 {amount.dtype}",
            f"column {cols['amount']!r} must be numeric, it is {amount.dtype}",
        )
    amount = amount.astype("float64")
    if amount.isna().any():
        raise _error(
            f"列 {cols['amount']!r} 的行 {_row_list(tx.index[amount.isna()])} 缺少金额",
            f"column {cols['amount']!r}: row(s) {_row_list(tx.index[amount.isna()])} have no amount",
        )
    is_sale = kind.eq(schema.SALE)
    wrong_sign = (is_sale & amount.lt(0)) | (~is_sale & amount.gt(0))
    if wrong_sign.any():
        raise _error(
            f"金额符号错误: 销售应 ≥ 0、退货应 ≤ 0; 见行 {_row_list(tx.index[wrong_sign])}",
            f"wrong sign of amount: sales must be ≥ 0 and returns ≤ 0; see row(s) {_row_list(tx.index[wrong_sign])}",
        )
    customer = tx[cols["customer"]]
    missing_customer = customer.isna()
    if not pd.api.types.is_numeric_dtype(customer):
        missing_customer = missing_customer | customer.astype("str").str.strip().eq("")
    no_order = is_sale & ~missing_customer & tx[cols["order"]].isna()
    if no_order.any():
        raise _error(
            f"列 {cols['order']!r}: 销售行 {_row_list(tx.index[no_order])} 缺少订单号(F 按订单计数)",
            f"column {cols['order']!r}: sale row(s) {_row_list(tx.index[no_order])} have no order id (F counts orders)",
        )
    return missing_customer, times.dt.normalize(), is_sale, amount


def rfm_table(
    transactions: pd.DataFrame,
    as_of: object = None,
    *,
    frequency: str = "orders",
    monetary: str = "total",
    returns: str = "net",
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    amount_col: str = schema.AMOUNT,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer at an as-of date.

    Parameters
    ----------
    transactions : DataFrame
        The canonical transactions frame (:mod:`opskit.schema`): one row per sale, returns as separate negative rows.
    as_of : date-like, optional
        The as-of date (截止日), taken as a calendar date (a time of day is ignored). Rows dated after it are left out
        and counted; an order on the as-of day has recency 0. Default: the last day with a member purchase.
    frequency : {"orders", "days"}
        F as distinct sale ``order_id`` (default) or as distinct purchase days (same-day orders merge).
    monetary : {"total", "mean"}
        M as net spend (default) or as net spend per order (net spend / distinct sale orders).
    returns : {"net", "ignore"}
        ``"net"`` (default): returns dated on or before the as-of date reduce M. ``"ignore"``: return rows are left
        out (and counted). Either way returns never reduce F.
    customer_col, order_col, time_col, kind_col, amount_col : str
        Column names, by default those of :mod:`opskit.schema`.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted) with ``recency`` (int days), ``frequency`` (int), ``monetary``
    (float), ``orders``, ``purchase_days``, ``net_spend``, ``first_purchase``, ``last_purchase`` (dates).
    ``frame.attrs["accounting"]`` is an :class:`RFMAccounting`: rows in, rows used, rows excluded by reason
    (walk-ins without customer id, rows after the as-of date, ignored returns, returns of customers with no purchase
    by the as-of date). ``frame.attrs["conventions"]`` records the parameters.

    Raises
    ------
    ValueError
        Empty input, or no member purchase left (the result would be empty: opskit raises rather than return an
        empty table, so a wrong filter upstream is noticed); an as-of date before every member purchase; missing
        columns; unreadable times, missing amounts, unknown ``kind`` values, wrong signs, sales without order id
        (the message names the rows).

    Examples
    --------
    >>> tx = pd.DataFrame({"order_id": ["A", "B"], "customer_id": ["c1", pd.NA], "kind": ["sale", "sale"],
    ...                    "order_time": pd.to_datetime(["2024-05-01", "2024-05-02"]), "amount": [99.0, 50.0]})
    >>> rfm = rfm_table(tx, as_of="2024-05-03")
    >>> int(rfm.loc["c1", "recency"]), rfm.attrs["accounting"].excluded["missing_customer_id"]
    (2, 1)
    """
    _check_choice(frequency, ("orders", "days"), "frequency")
    _check_choice(monetary, ("total", "mean"), "monetary")
    _check_choice(returns, ("net", "ignore"), "returns")
    cols = {"customer": customer_col, "order": order_col, "time": time_col, "kind": kind_col, "amount": amount_col}
    if isinstance(transactions, pd.DataFrame) and len(transactions) == 0:
        raise _error("交易表为空: 没有可计算 RFM 的记录", "the transactions frame is empty: nothing to compute RFM from")
    missing_customer, day, is_sale, amount = _validated_frame(transactions, cols)
    tx = transactions

    member_sale_days = day[is_sale & ~missing_customer]
    if member_sale_days.empty:
        raise _error(
            f"{len(tx)} 行中没有会员(有 {customer_col!r})的购买记录，无法计算 RFM",
            f"none of the {len(tx)} rows is a purchase by an identified customer ({customer_col!r}); no RFM possible",
        )
    tz = getattr(day.dt, "tz", None)
    as_of_day = member_sale_days.max() if as_of is None else _as_of_date(as_of, tz)
    first_day = member_sale_days.min()
    if as_of_day < first_day:
        raise _error(
            f"截止日 {as_of_day:%Y-%m-%d} 早于第一笔会员购买 ({first_day:%Y-%m-%d})，没有可计算的客户",
            f"the as-of date {as_of_day:%Y-%m-%d} is before the first member purchase ({first_day:%Y-%m-%d}); "
            "no customer to compute",
        )

    after = ~missing_customer & day.gt(as_of_day)
    ignored = ~missing_customer & ~after & ~is_sale & (returns == "ignore")
    candidate = ~missing_customer & ~after & ~ignored
    customer = tx[customer_col]
    buyers = pd.Index(customer[candidate & is_sale].unique())
    no_sale = candidate & ~customer.isin(buyers)
    used = candidate & ~no_sale

    sales = pd.DataFrame({"customer": customer[used & is_sale], "order": tx[order_col][used & is_sale],
                          "day": day[used & is_sale]})
    by_customer = sales.groupby("customer", sort=True)
    table = pd.DataFrame(
        {
            "orders": by_customer["order"].nunique(),
            "purchase_days": by_customer["day"].nunique(),
            "first_purchase": by_customer["day"].min(),
            "last_purchase": by_customer["day"].max(),
        }
    )
    table["net_spend"] = amount[used].groupby(customer[used]).sum().reindex(table.index)
    table["recency"] = (as_of_day - table["last_purchase"]).dt.days.astype("int64")
    table["frequency"] = table["orders" if frequency == "orders" else "purchase_days"].astype("int64")
    table["monetary"] = table["net_spend"] if monetary == "total" else table["net_spend"] / table["orders"]
    table.index.name = customer_col
    table = table[["recency", "frequency", "monetary", "orders", "purchase_days", "net_spend", "first_purchase",
                   "last_purchase"]]

    excluded = {
        "missing_customer_id": int(missing_customer.sum()),
        "after_as_of": int(after.sum()),
        "return_ignored": int(ignored.sum()),
        "no_sale_by_as_of": int(no_sale.sum()),
    }
    table.attrs["accounting"] = RFMAccounting(
        rows_in=len(tx),
        rows_used=int(used.sum()),
        excluded=excluded,
        as_of=as_of_day,
        orders_after_as_of=int(tx[order_col][after & is_sale].nunique()),
        customers=len(table),
    )
    table.attrs["conventions"] = {"as_of": as_of_day, "frequency": frequency, "monetary": monetary,
                                  "returns": returns}
    return table


# --------------------------------------------------------------------------------------------------------------------
# 2. Quantile scores
# --------------------------------------------------------------------------------------------------------------------


def _check_rfm_columns(rfm: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(rfm, pd.DataFrame):
        raise _error(f"需要 DataFrame，得到 {type(rfm).__name__}", f"expected a DataFrame, got {type(rfm).__name__}")
    missing = [c for c in columns if c not in rfm.columns]
    if missing:
        raise _error(
            f"RFM 表缺少列 {missing}(先用 rfm_table 计算)",
            f"the RFM frame lacks column(s) {missing} (compute it with rfm_table first)",
        )
    if len(rfm) == 0:
        raise _error("RFM 表为空", "the RFM frame is empty")
    for col in columns:
        if rfm[col].isna().any():
            raise _error(
                f"列 {col!r} 的行 {_row_list(rfm.index[rfm[col].isna()])} 为空值",
                f"column {col!r}: row(s) {_row_list(rfm.index[rfm[col].isna()])} are missing",
            )


def _rank_scores(values: pd.Series, bins: int, ties: str, higher_is_better: bool) -> pd.Series:
    # Score = 1 + floor(bins × (rank − 1) / n). With ties="min", rank − 1 is the number of customers with a strictly
    # worse value, so the score says "better than k/bins of customers" and tied customers share one score.
    ordered = values if higher_is_better else -values
    rank = ordered.rank(method=ties)
    scores = 1 + np.floor(bins * (rank - 1) / len(values))
    return scores.astype("int64")


def _checked_edges(edges: Sequence[float], bins: int, dimension: str) -> np.ndarray:
    try:
        cuts = np.asarray(edges, dtype="float64")
    except (TypeError, ValueError):
        cuts = np.array([np.nan])
    if cuts.ndim != 1 or len(cuts) != bins - 1 or np.any(np.diff(cuts) <= 0) or np.isnan(cuts).any():
        raise _error(
            f"{dimension} 的切分点必须是 {bins - 1} 个严格递增的数，得到 {list(edges)}",
            f"cut points for {dimension} must be {bins - 1} strictly increasing numbers, got {list(edges)}",
        )
    return cuts


def _edge_scores(values: pd.Series, edges: Sequence[float], bins: int, dimension: str) -> pd.Series:
    cuts = _checked_edges(edges, bins, dimension)
    array = values.to_numpy(dtype="float64")
    if dimension == "recency":
        # R: at most cuts[0] days → best score; reaching a cut point counts as the better side.
        scores = bins - np.searchsorted(cuts, array, side="left")
    else:
        scores = 1 + np.searchsorted(cuts, array, side="right")
    return pd.Series(scores.astype("int64"), index=values.index)


def rfm_scores(
    rfm: pd.DataFrame,
    bins: int = 5,
    *,
    ties: str = "min",
    edges: Mapping[str, Sequence[float]] | None = None,
) -> pd.DataFrame:
    """Quantile scores 1…``bins`` for R, F and M (R reversed: ``bins`` = most recent).

    Each score is ``1 + floor(bins × (rank − 1) / n)`` with ``rank`` from ``Series.rank(method=ties)`` over the n
    customers. Without ties this cuts customers into equal-sized bins. With ``ties="min"`` (default) every customer
    gets the score of the *lowest* rank in their tie group: the score then reads "better than (score − 1)/bins of
    customers", and equal values always share a score. So when 80 % of customers have F = 1, they all get F-score 1
    and every repeat buyer (beats 80 %) gets 5: scores 2–4 stay empty, and a :class:`BinsCollapsedWarning` says so.
    ``ties="max"`` or ``"average"`` move the tie groups up instead. For explicit business cuts use ``edges``.

    Parameters
    ----------
    rfm : DataFrame
        Output of :func:`rfm_table` (columns ``recency``, ``frequency``, ``monetary``).
    bins : int, 2–9
        Number of score levels (single digits so the ``rfm_code`` reads "534").
    ties : {"min", "average", "max"}
        The ``rank`` method for tied values (see above).
    edges : dict, optional
        Explicit cut points, ``bins − 1`` increasing numbers per dimension, e.g. ``{"frequency": [2, 3, 4, 6]}``.
        F and M: score = 1 + number of cut points ≤ value (F = 2 reaches the cut 2). R: a recency ≤ ``edges[0]`` days
        scores ``bins``, ≤ ``edges[1]`` scores ``bins − 1``, …, above the last cut 1. Other dimensions use ranks.

    Returns
    -------
    A copy of ``rfm`` with int columns ``r_score``, ``f_score``, ``m_score`` and the string ``rfm_code`` (e.g. "534").

    Warns
    -----
    BinsCollapsedWarning
        When a dimension gets fewer distinct scores than ``bins`` (ties, or fewer customers than bins).

    Examples
    --------
    >>> rfm = pd.DataFrame({"recency": [1, 10, 100, 200, 300], "frequency": [5, 4, 3, 2, 1],
    ...                     "monetary": [500.0, 400.0, 300.0, 200.0, 100.0]})
    >>> rfm_scores(rfm)["rfm_code"].tolist()
    ['555', '444', '333', '222', '111']
    """
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or not 2 <= bins <= 9:
        raise _error(f"bins 必须是 2 到 9 的整数，得到 {bins!r}", f"bins must be an integer from 2 to 9, got {bins!r}")
    _check_choice(ties, ("min", "average", "max"), "ties")
    edges = dict(edges or {})
    unknown = sorted(set(edges) - set(DIMENSIONS))
    if unknown:
        raise _error(f"edges 中的未知维度 {unknown}; 可选 {list(DIMENSIONS)}",
                     f"unknown dimension(s) {unknown} in edges; choose from {list(DIMENSIONS)}")
    for dimension, cuts in edges.items():
        _checked_edges(cuts, bins, dimension)
    _check_rfm_columns(rfm, DIMENSIONS)
    out = rfm.copy()
    for dimension in DIMENSIONS:
        values = rfm[dimension].astype("float64")
        if dimension in edges:
            scores = _edge_scores(values, edges[dimension], bins, dimension)
        else:
            scores = _rank_scores(values, bins, ties, higher_is_better=dimension != "recency")
        out[SCORE_COLUMNS[dimension]] = scores
        present = sorted(int(s) for s in scores.unique())
        if len(present) < bins:
            letter = dimension[0].upper()
            warnings.warn(
                Text(
                    f"{letter} 分数只有 {len(present)} 个不同值 {present}，少于 {bins} 档: 并列的客户得同一分数"
                    f"(例如大多数客户 F = 1)，或客户数少于档数。",
                    f"{letter} scores take only {len(present)} distinct value(s) {present} of {bins} bins: tied "
                    "customers share a score (e.g. most customers have F = 1), or there are fewer customers than "
                    "bins.",
                ).render("both"),
                BinsCollapsedWarning,
                stacklevel=2,
            )
    out["rfm_code"] = (
        out["r_score"].astype("str") + out["f_score"].astype("str") + out["m_score"].astype("str")
    ).astype("str")
    return out


# --------------------------------------------------------------------------------------------------------------------
# 3. Segment schemes
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """A segment scheme: cells (score or 高/低 tuples) → segment keys, with bilingual labels and strategies.

    ``kind`` is ``"high_low"`` (cells are (R高?, F高?, M高?) booleans, split by thresholds) or ``"scores"`` (cells are
    score tuples over ``dims``, e.g. ("recency", "frequency")). ``cells`` maps every cell to exactly one key.
    """

    name: str
    kind: str
    dims: tuple[str, ...]
    cells: dict[tuple, str]
    labels: dict[str, Text]
    strategies: dict[str, Text]
    bins: int | None = None
    order: tuple[str, ...] = field(default=())

    @property
    def keys(self) -> tuple[str, ...]:
        """Segment keys in display order."""
        return self.order or tuple(dict.fromkeys(self.cells.values()))


_CN8_LABELS = {
    "important_value": Text("重要价值客户", "important value"),
    "important_develop": Text("重要发展客户", "important to develop"),
    "important_keep": Text("重要保持客户", "important to keep"),
    "important_retain": Text("重要挽留客户", "important to win back"),
    "general_value": Text("一般价值客户", "general value"),
    "general_develop": Text("一般发展客户", "general to develop"),
    "general_keep": Text("一般保持客户", "general to keep"),
    "general_retain": Text("一般挽留客户", "general to win back"),
}

# Exactly the reference table (domain.md): (R 高, F 高, M 高) → segment. R 高 = recent = few days since last purchase.
_CN8_CELLS = {
    (True, True, True): "important_value",
    (True, False, True): "important_develop",
    (False, True, True): "important_keep",
    (False, False, True): "important_retain",
    (True, True, False): "general_value",
    (True, False, False): "general_develop",
    (False, True, False): "general_keep",
    (False, False, False): "general_retain",
}

_CN8_STRATEGIES = {
    "important_value": Text("VIP 关怀与一对一专属服务: 新品优先、专属导购、生日礼遇，维持现状不打扰",
                            "VIP care and 1:1 service: first look at new arrivals, a personal stylist, birthday "
                            "treats; keep them as they are"),
    "important_develop": Text("提升购买频次: 会员权益与积分、搭配推荐、第二件优惠，促成复购",
                              "raise purchase frequency: member benefits and points, outfit suggestions, a "
                              "second-item offer to bring them back sooner"),
    "important_retain": Text("重点挽回: 一对一回访了解原因，专属券召回，流失前尽快联系",
                             "win back: a 1:1 call to learn why they left, a personal comeback coupon; act before "
                             "they are lost"),
    "important_keep": Text("保持联系与忠诚计划: 定期关怀、会员日与积分提醒，唤起再次到店",
                           "keep in touch, loyalty programme: regular care messages, member days and points "
                           "reminders to bring them back"),
    "general_value": Text("交叉销售: 推荐配饰与搭配单品，提升客单价",
                          "cross-sell: accessories and matching pieces to lift the average ticket"),
    "general_develop": Text("培育: 新客关怀(48 小时/3 天/7 天)、穿搭与洗护内容、二次购买券",
                            "nurture: new-customer care (48 h / 3 d / 7 d), styling and care content, a "
                            "second-purchase coupon"),
    "general_keep": Text("低成本提醒: 社群与公众号推送、节日与上新提醒",
                         "low-cost reminders: community-group and account posts, holiday and new-arrival notices"),
    "general_retain": Text("低成本批量触达或放弃: 季节性活动批量推送，并与对照组比较效果",
                           "low-cost batch contact or let go: seasonal batch messages, measured against a holdout "
                           "group"),
}

_RF10_LABELS = {
    "champions": Text("冠军客户", "champions"),
    "loyal_customers": Text("忠诚客户", "loyal customers"),
    "potential_loyalists": Text("潜力忠诚客户", "potential loyalists"),
    "new_customers": Text("新客户", "new customers"),
    "promising": Text("有潜力客户", "promising"),
    "need_attention": Text("需要关注客户", "need attention"),
    "about_to_sleep": Text("即将沉睡客户", "about to sleep"),
    "at_risk": Text("流失风险客户", "at risk"),
    "cant_lose_them": Text("不能失去的客户", "can't lose them"),
    "hibernating": Text("休眠客户", "hibernating"),
}

# Keys are R then F, exactly as in domain.md; together they cover the 25 cells once.
_RF10_PATTERNS = {
    "[1-2][1-2]": "hibernating",
    "[1-2][3-4]": "at_risk",
    "[1-2]5": "cant_lose_them",
    "3[1-2]": "about_to_sleep",
    "33": "need_attention",
    "[3-4][4-5]": "loyal_customers",
    "41": "promising",
    "51": "new_customers",
    "[4-5][2-3]": "potential_loyalists",
    "5[4-5]": "champions",
}

_RF10_STRATEGIES = {
    "champions": Text("奖励与尊享: 新品抢先、专属活动，邀请推荐与评价",
                      "reward them: early access and exclusive events; ask for referrals and reviews"),
    "loyal_customers": Text("升级会员等级，推荐更高价值的系列，保持忠诚计划",
                            "move them up a membership tier, suggest higher-value ranges, keep the loyalty programme"),
    "potential_loyalists": Text("邀请加入会员计划，个性化搭配推荐，培养成忠诚客户",
                                "invite them into the membership programme, personal outfit suggestions"),
    "new_customers": Text("新客关怀: 48 小时/3 天/7 天回访(尺码、洗护、搭配)，二次购买券",
                          "onboarding care at 48 h / 3 d / 7 d (fit, washing, styling) and a second-purchase coupon"),
    "promising": Text("建立品牌印象: 穿搭内容与小额复购激励",
                      "build the relationship: styling content and a small repeat-purchase incentive"),
    "need_attention": Text("限时优惠与基于历史购买的推荐，防止沉睡",
                           "limited-time offers and recommendations from past purchases, before they fall asleep"),
    "about_to_sleep": Text("唤醒: 热销单品与优惠券，重新建立联系",
                           "reactivate: best-sellers and a coupon to reconnect"),
    "at_risk": Text("个性化一对一沟通与专属召回优惠",
                    "personal 1:1 messages and a tailored comeback offer"),
    "cant_lose_them": Text("重点挽回: 店长一对一联系，了解原因，推荐新品",
                           "win them back: a 1:1 call from the store manager, learn why, show new arrivals"),
    "hibernating": Text("低成本批量触达或放弃: 季节性活动，用对照组衡量效果",
                        "low-cost batch contact or let go: seasonal hooks, measured against a holdout group"),
}

_TOKEN = re.compile(r"\[[^\]]*\]|\*|.")


def _parse_pattern(pattern: str, alphabet: dict[str, object]) -> list[list[object]] | None:
    """Split a cell pattern like "[1-2]5" or "高低高" into per-position value lists; None when malformed."""
    positions: list[list[object]] = []
    for token in _TOKEN.findall(str(pattern).strip()):
        if token == "*":
            positions.append(list(dict.fromkeys(alphabet.values())))
        elif token.startswith("["):
            body, values = token[1:-1].replace(",", ""), []
            for start, end in re.findall(r"(.)(?:-(.))?", body):
                if start not in alphabet or (end and end not in alphabet):
                    return None
                if end:
                    low, high = alphabet[start], alphabet[end]
                    if not isinstance(low, int) or not isinstance(high, int) or low > high:
                        return None
                    values.extend(range(low, high + 1))
                else:
                    values.append(alphabet[start])
            if not values:
                return None
            positions.append(values)
        elif token in alphabet:
            positions.append([alphabet[token]])
        else:
            return None
    return positions


def _expand_map(mapping: Mapping[object, str], kind: str, bins: int) -> tuple[dict[tuple, str], tuple[str, ...]]:
    """Validate a cell map: every key parses, every cell is covered exactly once; return cells and dims."""
    if kind == "high_low":
        alphabet: dict[str, object] = {"H": True, "L": False, "h": True, "l": False, "高": True, "低": False}
    else:
        alphabet = {str(s): s for s in range(1, bins + 1)}
    malformed, parsed = [], {}
    for key, segment in mapping.items():
        if isinstance(key, tuple):
            positions = [[alphabet.get(str(v), v) if kind == "scores" else bool(v)] for v in key]
            if kind == "scores" and any(p[0] not in alphabet.values() for p in positions):
                positions = None
        else:
            positions = _parse_pattern(str(key), alphabet)
        if positions is None or len(positions) not in ((3,) if kind == "high_low" else (2, 3)):
            malformed.append(key)
        else:
            parsed[key] = (positions, segment)
    if malformed:
        hint = "'HHL'/'高低高' (R, F, M)" if kind == "high_low" else f"'54', '[4-5][2-3]' or '534' (1–{bins})"
        raise _error(f"无法识别的单元格键 {malformed}; 格式如 {hint}",
                     f"unreadable cell key(s) {malformed}; write them like {hint}")
    lengths = {len(p) for p, _ in parsed.values()}
    if len(lengths) > 1:
        raise _error(f"单元格键长度不一致 {sorted(lengths)}: 全部用 RF(2 位)或全部用 RFM(3 位)",
                     f"cell keys mix lengths {sorted(lengths)}: use RF (2 positions) or RFM (3) throughout")
    width = lengths.pop() if lengths else 2
    cells: dict[tuple, str] = {}
    overlaps: dict[tuple, list[str]] = {}
    for key, (positions, segment) in parsed.items():
        for cell in product(*positions):
            if cell in cells:
                overlaps.setdefault(cell, [cells[cell]]).append(segment)
            cells[cell] = segment
    values = [True, False] if kind == "high_low" else list(range(1, bins + 1))
    uncovered = [cell for cell in product(values, repeat=width) if cell not in cells]
    if overlaps or uncovered:
        show = lambda cells_: [_cell_code(c) for c in cells_][:12]  # noqa: E731
        raise _error(
            (f"有单元格未被覆盖 {show(uncovered)}(共 {len(uncovered)} 个)" if uncovered else "")
            + ("；" if uncovered and overlaps else "")
            + (f"有单元格被重复映射 {show(overlaps)}" if overlaps else ""),
            (f"cells not covered: {show(uncovered)} ({len(uncovered)} in all)" if uncovered else "")
            + ("; " if uncovered and overlaps else "")
            + (f"cells mapped more than once: {show(overlaps)}" if overlaps else ""),
        )
    dims = ("recency", "frequency", "monetary")[:width]
    return cells, dims


def _cell_code(cell: tuple) -> str:
    return "".join(("H" if v else "L") if isinstance(v, (bool, np.bool_)) else str(v) for v in cell)


def _builtin_label(name: object) -> tuple[str, Text] | None:
    """Resolve a string naming a built-in segment (key, zh or en label) to (key, label)."""
    for key, text in {**_CN8_LABELS, **_RF10_LABELS}.items():
        if name in (key, text.zh, text.en):
            return key, text
    return None


def custom_scheme(
    mapping: Mapping[object, str | Text],
    *,
    bins: int = 5,
    strategies: Mapping[str, str | Text] | None = None,
    name: str = "custom",
) -> Scheme:
    """Build and validate a user's own segment map.

    Parameters
    ----------
    mapping : dict
        Cell pattern → segment. Score patterns over R, F (2 positions) or R, F, M (3 positions): a digit, a class like
        ``[4-5]`` or ``*`` per position, e.g. ``{"[4-5][4-5]": "stars", "[1-3]*": "others", ...}``. Or 高/低
        patterns over R, F, M: ``"HHL"`` / ``"高高低"`` (split by thresholds as in ``cn8``). Tuples such as
        ``(5, 4)`` work too. A segment is a string or a :class:`~opskit.i18n.Text`; a string naming a built-in
        segment (``"champions"``, ``"重要价值客户"``) takes its bilingual label and strategy.
    bins : int
        Score levels for score patterns.
    strategies : dict, optional
        Segment → strategy text for your own segments.
    name : str
        Shown in summaries.

    Raises
    ------
    ValueError
        Unreadable keys, cells left uncovered or mapped twice (all listed), strategies for labels not in the map.

    Examples
    --------
    >>> scheme = custom_scheme({"[4-5]*": "recent", "[1-3]*": "not recent"})
    >>> len(scheme.cells), scheme.keys
    (25, ('recent', 'not recent'))
    """
    if not isinstance(mapping, Mapping) or not mapping:
        raise _error("自定义映射必须是非空字典", "a custom map must be a non-empty dict")
    keys_are_high_low = all(
        (isinstance(k, tuple) and all(isinstance(v, (bool, np.bool_)) for v in k))
        or (isinstance(k, str) and re.fullmatch(r"[HLhl高低\[\]*]+", k) is not None
            and re.search(r"[HLhl高低]", k) is not None)
        for k in mapping
    )
    kind = "high_low" if keys_are_high_low else "scores"
    labels: dict[str, Text] = {}
    builtin_strategies: dict[str, Text] = {}
    segment_keys: dict[object, str] = {}
    for key, segment in mapping.items():
        resolved = _builtin_label(segment) if isinstance(segment, str) else None
        if resolved:
            seg_key, text = resolved
            builtin_strategies[seg_key] = {**_CN8_STRATEGIES, **_RF10_STRATEGIES}[seg_key]
        elif isinstance(segment, Text):
            seg_key, text = segment.en, segment
        elif isinstance(segment, str) and segment.strip():
            seg_key, text = segment, Text(segment, segment)
        else:
            raise _error(f"单元格 {key!r} 的分群名无效: {segment!r}", f"cell {key!r} has an invalid segment {segment!r}")
        labels.setdefault(seg_key, text)
        segment_keys[key] = seg_key
    cells, dims = _expand_map({k: segment_keys[k] for k in mapping}, kind, bins)
    strategy_texts: dict[str, Text] = dict(builtin_strategies)
    if strategies:
        lookup = {k: k for k in labels} | {t.zh: k for k, t in labels.items()} | {t.en: k for k, t in labels.items()}
        unknown = [s for s in strategies if s not in lookup]
        if unknown:
            raise _error(f"strategies 中有映射里没有的分群 {unknown}; 映射中的分群: {list(labels)}",
                         f"strategies name segment(s) not in the map: {unknown}; the map has {list(labels)}")
        for seg, text in strategies.items():
            strategy_texts[lookup[seg]] = text if isinstance(text, Text) else Text(str(text), str(text))
    for seg_key in labels:
        strategy_texts.setdefault(seg_key, Text("(未设定策略)", "(no strategy given)"))
    return Scheme(name=name, kind=kind, dims=dims if kind == "scores" else DIMENSIONS, cells=cells, labels=labels,
                  strategies=strategy_texts, bins=bins if kind == "scores" else None)


_RF10_CELLS, _ = _expand_map(_RF10_PATTERNS, "scores", 5)

SCHEMES: dict[str, Scheme] = {
    "cn8": Scheme("cn8", "high_low", DIMENSIONS, dict(_CN8_CELLS), _CN8_LABELS, _CN8_STRATEGIES,
                  order=tuple(_CN8_LABELS)),
    "rf10": Scheme("rf10", "scores", ("recency", "frequency"), _RF10_CELLS, _RF10_LABELS, _RF10_STRATEGIES, bins=5,
                   order=tuple(_RF10_LABELS)),
}


def get_scheme(scheme: str | Scheme | Mapping) -> Scheme:
    """A built-in scheme by name (``"cn8"``, ``"rf10"``), a :class:`Scheme`, or a custom map (:func:`custom_scheme`)."""
    if isinstance(scheme, Scheme):
        return scheme
    if isinstance(scheme, Mapping):
        return custom_scheme(scheme)
    if isinstance(scheme, str) and scheme in SCHEMES:
        return SCHEMES[scheme]
    raise _error(
        f"未知分群方案 {scheme!r}; 可选: {', '.join(SCHEMES)}，或传入自定义映射(dict)",
        f"unknown segment scheme {scheme!r}; valid schemes: {', '.join(SCHEMES)}, or pass your own map (a dict)",
    )


def scheme_table(scheme: str | Scheme | Mapping = "cn8") -> pd.DataFrame:
    """The cells of a scheme with their segment, label and strategy: the map as a table, for teaching.

    Examples
    --------
    >>> scheme_table("cn8").loc["HHH", "segment"]
    'important_value'
    """
    resolved = get_scheme(scheme)
    rows = [
        {"cell": _cell_code(cell), "segment": key, "label": str(resolved.labels[key]),
         "strategy": str(resolved.strategies[key])}
        for cell, key in resolved.cells.items()
    ]
    return pd.DataFrame(rows).set_index("cell")


def segment_strategy(segment: str, scheme: str | Scheme | Mapping = "cn8") -> Text:
    """The recommended strategy (bilingual) for a segment key or label of a scheme.

    Examples
    --------
    >>> segment_strategy("important_retain").zh[:4]
    '重点挽回'
    """
    resolved = get_scheme(scheme)
    for key, text in resolved.labels.items():
        if segment in (key, text.zh, text.en):
            return resolved.strategies[key]
    raise _error(f"方案 {resolved.name!r} 中没有分群 {segment!r}; 可选: {list(resolved.labels)}",
                 f"scheme {resolved.name!r} has no segment {segment!r}; choose from {list(resolved.labels)}")


def cn8_thresholds(rfm: pd.DataFrame, thresholds: str | Mapping[str, object] = "mean") -> dict[str, dict]:
    """Resolve the 高/低 thresholds of the 8-class model to numbers and comparison rules.

    Parameters
    ----------
    rfm : DataFrame
        Output of :func:`rfm_table`.
    thresholds : {"mean", "median"} or dict
        ``"mean"`` (default) or ``"median"`` for all three, or a dict with all of ``recency``, ``frequency``,
        ``monetary``, each ``"mean"``, ``"median"`` or a number (a business cut-off).

    Returns
    -------
    dict: dimension → ``{"method", "value", "rule"}`` where ``rule`` is the comparison that makes a customer 高.

    Notes
    -----
    The two kinds of threshold compare differently, on purpose:

    ========================  ====================  ============================
    threshold                 R 高 (recent) when     F 高 / M 高 when
    ========================  ====================  ============================
    ``"mean"``/``"median"``    recency **<** value    frequency/monetary **>** value
    a number (business rule)   recency **≤** value    frequency/monetary **≥** value
    ========================  ====================  ============================

    A statistical centre is a *dividing line*: 高 means strictly better than it, and ties at the centre are 低. This
    is what keeps the median usable: when most customers have F = 1 the median is 1, and only customers with F > 1
    (the repeat buyers) are F 高. A business rule is a *target* ("bought within 90 days", "at least 3 orders", "spent
    at least 2,000"), and reaching it counts.
    """
    _check_rfm_columns(rfm, DIMENSIONS)
    if isinstance(thresholds, str):
        _check_choice(thresholds, ("mean", "median"), "thresholds")
        spec: dict[str, object] = dict.fromkeys(DIMENSIONS, thresholds)
    elif isinstance(thresholds, Mapping):
        aliases = {"r": "recency", "f": "frequency", "m": "monetary"}
        spec = {aliases.get(str(k).lower(), str(k)): v for k, v in thresholds.items()}
        unknown = sorted(set(spec) - set(DIMENSIONS))
        missing = [d for d in DIMENSIONS if d not in spec]
        if unknown or missing:
            raise _error(
                f"thresholds 字典需要且只能有 {list(DIMENSIONS)}; 缺少 {missing}，未知 {unknown}",
                f"the thresholds dict needs exactly {list(DIMENSIONS)}; missing {missing}, unknown {unknown}",
            )
    else:
        raise _error(f"thresholds 必须是 'mean'、'median' 或字典，得到 {thresholds!r}",
                     f"thresholds must be 'mean', 'median' or a dict, got {thresholds!r}")
    resolved = {}
    for dimension in DIMENSIONS:
        method = spec[dimension]
        values = rfm[dimension].astype("float64")
        if isinstance(method, str):
            _check_choice(method, ("mean", "median"), f"thresholds[{dimension!r}]")
            value = float(values.mean() if method == "mean" else values.median())
            rule = "<" if dimension == "recency" else ">"
        elif isinstance(method, (int, float, np.integer, np.floating)) and not isinstance(method, bool) \
                and math.isfinite(float(method)):
            value, rule, method = float(method), ("<=" if dimension == "recency" else ">="), "business"
        else:
            raise _error(f"thresholds[{dimension!r}] = {method!r} 无效: 用 'mean'、'median' 或数字",
                         f"thresholds[{dimension!r}] = {method!r} is invalid: use 'mean', 'median' or a number")
        resolved[dimension] = {"method": method, "value": value, "rule": rule}
    return resolved


def describe_thresholds(resolved: Mapping[str, Mapping]) -> Text:
    """A bilingual sentence for thresholds from :func:`cn8_thresholds`, e.g. "R 高: recency < 43.2 days"."""
    names = {"mean": ("均值", "mean"), "median": ("中位数", "median"), "business": ("业务标准", "business rule")}
    symbols = {"<": "<", ">": ">", "<=": "≤", ">=": "≥"}
    zh_names = {"recency": "距上次购买天数", "frequency": "消费次数", "monetary": "消费金额"}
    zh, en = [], []
    for dimension, item in resolved.items():
        letter, sym, value = dimension[0].upper(), symbols[item["rule"]], f"{item['value']:,.4g}"
        zh.append(f"{letter} 高: {zh_names[dimension]} {sym} {value}({names[item['method']][0]})")
        en.append(f"{letter} high: {dimension} {sym} {value} ({names[item['method']][1]})")
    return Text("；".join(zh), "; ".join(en))


_COMPARE = {"<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal}


def segment_customers(
    rfm: pd.DataFrame,
    scheme: str | Scheme | Mapping = "cn8",
    *,
    thresholds: str | Mapping[str, object] = "mean",
    bins: int = 5,
    ties: str = "min",
    edges: Mapping[str, Sequence[float]] | None = None,
) -> pd.DataFrame:
    """Assign every customer to a segment of a scheme.

    Parameters
    ----------
    rfm : DataFrame
        Output of :func:`rfm_table` (or of :func:`rfm_scores`: existing score columns are used as they are).
    scheme : {"cn8", "rf10"}, Scheme or dict
        ``"cn8"``: the Chinese 8-class model, R/F/M each 高 or 低 against ``thresholds`` (see
        :func:`cn8_thresholds` for ≤ versus <). ``"rf10"``: the English R-F map on 1–5 scores (``bins`` must be 5).
        A dict is a custom map (:func:`custom_scheme`).
    thresholds : {"mean", "median"} or dict
        For 高/低 schemes only.
    bins, ties, edges
        For score schemes, passed to :func:`rfm_scores` when the frame has no scores yet.

    Returns
    -------
    A copy with ``r_high``/``f_high``/``m_high`` (高/低 schemes) or the score columns (score schemes), plus
    ``segment`` (the stable key, e.g. ``"important_value"``) and ``segment_label`` (rendered in the current language).
    ``attrs["scheme"]`` holds the :class:`Scheme`, ``attrs["thresholds"]`` the resolved thresholds (高/低 schemes).

    Examples
    --------
    >>> rfm = pd.DataFrame({"recency": [5, 200], "frequency": [4, 1], "monetary": [3000.0, 80.0]})
    >>> segment_customers(rfm, "cn8")["segment"].tolist()
    ['important_value', 'general_retain']
    """
    resolved = get_scheme(scheme)
    out = rfm.copy()
    if resolved.kind == "high_low":
        limits = cn8_thresholds(rfm, thresholds)
        for dimension in DIMENSIONS:
            item = limits[dimension]
            high = _COMPARE[item["rule"]](rfm[dimension].astype("float64").to_numpy(), item["value"])
            out[HIGH_COLUMNS[dimension]] = high
            if high.all() or not high.any():
                side = "高" if high.all() else "低"
                warnings.warn(
                    Text(f"{dimension[0].upper()} 的阈值 {item['value']:,.4g} 把所有客户都分为{side}，这一维没有区分作用",
                         f"the {dimension} threshold {item['value']:,.4g} puts every customer on the "
                         f"{'high' if high.all() else 'low'} side: it separates nobody").render("both"),
                    BinsCollapsedWarning,
                    stacklevel=2,
                )
        cell_columns = [HIGH_COLUMNS[d] for d in DIMENSIONS]
        out.attrs["thresholds"] = limits
    else:
        score_cols = [SCORE_COLUMNS[d] for d in resolved.dims]
        if resolved.bins is not None and bins != resolved.bins and resolved.name in SCHEMES:
            raise _error(f"方案 {resolved.name!r} 基于 1–{resolved.bins} 分，bins 必须为 {resolved.bins}",
                         f"scheme {resolved.name!r} works on 1–{resolved.bins} scores: bins must be {resolved.bins}")
        if not all(c in out.columns for c in score_cols):
            out = rfm_scores(rfm, resolved.bins or bins, ties=ties, edges=edges)
        top = resolved.bins or bins
        for col in score_cols:
            outside = ~out[col].between(1, top)
            if outside.any():
                raise _error(f"列 {col!r} 的行 {_row_list(out.index[outside])} 超出 1–{top}",
                             f"column {col!r}: row(s) {_row_list(out.index[outside])} are outside 1–{top}")
        cell_columns = score_cols
    out["segment"] = pd.Series(_lookup_cells(resolved, [out[c] for c in cell_columns]), index=out.index,
                               dtype="str")
    out["segment_label"] = out["segment"].map({k: str(t) for k, t in resolved.labels.items()}).astype("str")
    out.attrs["scheme"] = resolved
    return out


def _lookup_cells(scheme: Scheme, columns: list[pd.Series]) -> np.ndarray:
    """Segment key per row from its cell values (booleans or scores): each cell is encoded as one integer, so a
    million customers cost one array lookup instead of a million tuple lookups."""
    keys = list(scheme.cells)
    base = 1 + max(int(v) for cell in keys for v in cell)
    encode = np.array([base**i for i in range(len(columns))], dtype="int64")
    table = np.full(base ** len(columns), None, dtype=object)
    for cell, segment in scheme.cells.items():
        table[int(np.dot(np.asarray(cell, dtype="int64"), encode))] = segment
    values = np.column_stack([c.to_numpy().astype("int64") for c in columns]) if len(columns[0]) else \
        np.empty((0, len(columns)), dtype="int64")
    codes = values @ encode
    return table[codes]


# --------------------------------------------------------------------------------------------------------------------
# 4. Summaries
# --------------------------------------------------------------------------------------------------------------------


def segment_summary(
    segmented: pd.DataFrame,
    scheme: str | Scheme | Mapping | None = None,
    *,
    revenue_col: str = "net_spend",
) -> pd.DataFrame:
    """Per segment: customers, share, revenue share, average spend, average recency and frequency, strategy.

    Every segment of the scheme gets a row, in the scheme's order, even with no customers (averages then NaN), so
    tables and charts keep the same shape from one as-of date to the next.

    Parameters
    ----------
    segmented : DataFrame
        Output of :func:`segment_customers`.
    scheme : optional
        Defaults to ``segmented.attrs["scheme"]``.
    revenue_col : str
        Column summed as revenue (default ``net_spend``, so it is right whatever the M convention).

    Returns
    -------
    DataFrame indexed by segment key: ``label``, ``customers``, ``customer_share``, ``revenue``,
    ``revenue_share``, ``avg_spend`` (revenue per customer), ``avg_recency``, ``avg_frequency``, ``strategy``.

    Examples
    --------
    >>> rfm = pd.DataFrame({"recency": [5, 200], "frequency": [4, 1], "monetary": [3000.0, 80.0],
    ...                     "net_spend": [3000.0, 80.0]})
    >>> segment_summary(segment_customers(rfm)).loc["important_value", "revenue_share"].round(3)
    np.float64(0.974)
    """
    if scheme is None:
        scheme = segmented.attrs.get("scheme")
        if scheme is None:
            raise _error("请传入 scheme，或使用 segment_customers 的结果",
                         "pass scheme=, or use the output of segment_customers")
    resolved = get_scheme(scheme)
    _check_rfm_columns(segmented, ["segment", "recency", "frequency", revenue_col])
    unknown = sorted(set(segmented["segment"]) - set(resolved.keys))
    if unknown:
        raise _error(f"分群 {unknown} 不属于方案 {resolved.name!r}",
                     f"segment(s) {unknown} are not in scheme {resolved.name!r}")
    grouped = segmented.groupby("segment", sort=False)
    table = pd.DataFrame(index=pd.Index(list(resolved.keys), name="segment"))
    table["label"] = [str(resolved.labels[k]) for k in resolved.keys]
    table["customers"] = grouped.size().reindex(table.index, fill_value=0).astype("int64")
    table["customer_share"] = table["customers"] / len(segmented)
    table["revenue"] = grouped[revenue_col].sum().reindex(table.index, fill_value=0.0).astype("float64")
    total = table["revenue"].sum()
    table["revenue_share"] = table["revenue"] / total if total != 0 else np.nan
    table["avg_spend"] = table["revenue"].div(table["customers"].where(table["customers"] > 0))
    table["avg_recency"] = grouped["recency"].mean().reindex(table.index)
    table["avg_frequency"] = grouped["frequency"].mean().reindex(table.index)
    table["strategy"] = [str(resolved.strategies[k]) for k in resolved.keys]
    return table


def pareto_curve(rfm: pd.DataFrame, value_col: str = "net_spend") -> pd.DataFrame:
    """The Pareto (concentration) curve: share of revenue from the top x % of customers.

    Customers are sorted by ``value_col`` descending; row k says the top ``customer_share = k/n`` of customers bring
    ``revenue_share`` of the total. The first row is (0, 0) and the last (1, 1).

    Examples
    --------
    >>> curve = pareto_curve(pd.DataFrame({"net_spend": [70.0, 20.0, 5.0, 5.0]}))
    >>> curve.loc[1, ["customer_share", "revenue_share"]].tolist()
    [0.25, 0.7]
    """
    _check_rfm_columns(rfm, [value_col])
    values = np.sort(rfm[value_col].to_numpy(dtype="float64"))[::-1]
    total = values.sum()
    if total <= 0:
        raise _error(f"列 {value_col!r} 的总和为 {total:g}，无法计算帕累托曲线",
                     f"column {value_col!r} sums to {total:g}: no Pareto curve possible")
    n = len(values)
    return pd.DataFrame(
        {
            "customers": np.arange(n + 1),
            "customer_share": np.arange(n + 1) / n,
            "revenue_share": np.concatenate([[0.0], np.cumsum(values) / total]),
        }
    )


def revenue_share_of_top(rfm: pd.DataFrame, top: float = 0.2, value_col: str = "net_spend") -> float:
    """Share of revenue from the top ``top`` share of customers (linear between customers on the Pareto curve).

    Examples
    --------
    >>> revenue_share_of_top(pd.DataFrame({"net_spend": [70.0, 20.0, 5.0, 5.0]}), top=0.25)
    0.7
    """
    if not 0 <= top <= 1:
        raise _error(f"top 必须在 0 到 1 之间，得到 {top!r}", f"top must be between 0 and 1, got {top!r}")
    curve = pareto_curve(rfm, value_col)
    return float(np.interp(top, curve["customer_share"], curve["revenue_share"]))


VALUE_TIERS: dict[str, Text] = {
    "high": Text("高价值", "high value"),
    "mid": Text("中价值", "mid value"),
    "low": Text("低价值", "low value"),
}


def value_tiers(
    rfm: pd.DataFrame,
    cumulative_shares: Sequence[float] = (0.2, 0.5),
    *,
    value_col: str = "monetary",
) -> pd.DataFrame:
    """The 高/中/低价值 tiers: top 20 % of customers by M, the next 30 %, the rest (configurable).

    A customer is 高价值 when fewer than ``cumulative_shares[0]`` of customers have a strictly higher value, 中价值 when
    fewer than ``cumulative_shares[1]`` do, else 低价值. So tied customers always share a tier, and a tie at a
    boundary goes to the higher tier (the tier can then hold a little more than its share).

    Returns
    -------
    A copy with ``value_tier`` (``"high"``/``"mid"``/``"low"``) and ``value_tier_label``.

    Examples
    --------
    >>> rfm = pd.DataFrame({"monetary": [float(v) for v in range(10, 0, -1)]})
    >>> value_tiers(rfm)["value_tier"].value_counts()[["high", "mid", "low"]].tolist()
    [2, 3, 5]
    """
    shares = [float(s) for s in cumulative_shares]
    if len(shares) != 2 or not 0 < shares[0] < shares[1] < 1:
        raise _error(f"cumulative_shares 需两个递增的比例 (0 < a < b < 1)，得到 {list(cumulative_shares)}",
                     f"cumulative_shares needs two increasing shares (0 < a < b < 1), got {list(cumulative_shares)}")
    _check_rfm_columns(rfm, [value_col])
    above = rfm[value_col].rank(method="min", ascending=False) - 1  # customers with a strictly higher value
    share_above = above / len(rfm)
    tiers = np.where(share_above < shares[0], "high", np.where(share_above < shares[1], "mid", "low"))
    out = rfm.copy()
    out["value_tier"] = pd.Series(tiers, index=rfm.index, dtype="str")
    out["value_tier_label"] = out["value_tier"].map({k: str(t) for k, t in VALUE_TIERS.items()}).astype("str")
    return out
