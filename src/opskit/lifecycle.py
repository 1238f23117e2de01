"""Member lifecycle (会员生命周期): stages, movement between stages, the 90-day work lists, campaign measurement, KPIs.

Every function is pure and works on tidy DataFrames (the transactions frame of :mod:`opskit.schema`, the members
table of :mod:`opskit.datasets`). The pieces:

1. **Stages** (:func:`assign_stages`): 潜客 prospect, 新客 new, 活跃 active, 沉睡 sleeping, 流失 lost at an as-of date,
   by rules on d (days since the last purchase) and n (orders). :func:`compare_snapshots` adds 回流 returned.
2. **Movement**: :func:`transition_matrix`, :func:`stage_counts_over_time` (vectorised over month ends) and the
   cohort :func:`reactivation_rate`.
3. **Work lists**: :func:`follow_up_list` (care timeline after a purchase) and :func:`activation_list` (members with
   more than 90 days without a purchase, ranked by value).
4. **Rules against the model**: :func:`rules_vs_model` cross-tabulates the rule stages with BG/NBD P(alive).
5. **Campaign measurement**: :func:`campaign_outcomes` and :func:`campaign_uplift` (difference of proportions with a
   Wald or Newcombe interval, incremental revenue, net of coupon cost).
6. **KPIs**: :func:`lifecycle_kpis` with a bilingual definition for each.

The stage rules (defaults; every threshold is a parameter)
-----------------------------------------------------------
With d = whole days from the last purchase day to the as-of date and n = distinct sale orders up to the as-of date
(returns never remove a purchase), the rules are applied **in this order**:

====================  =============================================================================================
stage                 rule
====================  =============================================================================================
潜客 prospect          a member who joined by the as-of date and has no purchase by then (n = 0)
流失 lost              d > ``lost_after`` (180)
沉睡 sleeping          ``sleeping_after`` < d ≤ ``lost_after`` (90 < d ≤ 180), whatever n is
活跃 active            d ≤ ``sleeping_after`` and n ≥ 2
新客 new               d ≤ ``sleeping_after``, n = 1 and the first purchase ≤ ``new_within`` (90) days ago
沉睡 sleeping          d ≤ ``sleeping_after``, n = 1 and the first purchase > ``new_within`` days ago
====================  =============================================================================================

Recency decides first, so a one-off buyer with 90 < d is sleeping (not "new"). For n = 1 the first purchase *is*
the last one, so "n = 1, first purchase > 90 days ago, d ≤ 90" cannot happen with the defaults; it can only happen
when ``new_within < sleeping_after``, and then that one-off buyer has missed the window for a second purchase and
counts as sleeping (the last row). Exactly 90 days is still active/new; exactly 180 days is still sleeping.

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({"order_id": ["a", "b", "c"], "customer_id": ["m1", "m1", "m2"], "kind": "sale",
...                    "order_time": pd.to_datetime(["2024-01-05", "2024-05-20", "2024-02-01"]),
...                    "amount": [300.0, 200.0, 99.0]})
>>> assign_stages(tx, as_of="2024-06-30")["stage"].tolist()
['active', 'sleeping']
"""

from __future__ import annotations

import math
from statistics import NormalDist
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text

__all__ = [
    "STAGES",
    "STAGE_ORDER",
    "StageRules",
    "TOUCHPOINTS",
    "KPI_DEFINITIONS",
    "assign_stages",
    "compare_snapshots",
    "transition_matrix",
    "stage_counts_over_time",
    "reactivation_rate",
    "follow_up_list",
    "activation_list",
    "rules_vs_model",
    "campaign_outcomes",
    "campaign_uplift",
    "difference_ci",
    "sample_size_per_group",
    "minimum_detectable_uplift",
    "lifecycle_kpis",
    "stage_label",
]

STAGES: dict[str, Text] = {
    "prospect": Text("潜客", "prospect"),
    "new": Text("新客", "new"),
    "active": Text("活跃", "active"),
    "returned": Text("回流", "returned"),
    "sleeping": Text("沉睡", "sleeping"),
    "lost": Text("流失", "lost"),
}
"""Stage codes and their bilingual names, in lifecycle order."""
STAGE_ORDER: tuple[str, ...] = tuple(STAGES)
NOT_MEMBER = "not_member"
_NOT_MEMBER_TEXT = Text("未入会", "not yet a member")


def stage_label(code: str) -> str:
    """The display name of a stage code in the current language, e.g. ``stage_label("sleeping")``."""
    if code == NOT_MEMBER:
        return str(_NOT_MEMBER_TEXT)
    if code not in STAGES:
        raise _error(f"未知阶段 {code!r}; 可选: {', '.join(STAGES)}", f"unknown stage {code!r}; choose from "
                     f"{', '.join(STAGES)}")
    return str(STAGES[code])


def _error(zh: str, en: str) -> ValueError:
    # Both languages always: a trainer may read an English learner's traceback, and vice versa.
    return ValueError(Text(zh, en).render("both"))


def _rows(index: pd.Index, limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in list(index[:limit]))
    return f"[{shown}{' …' if len(index) > limit else ''}]"


def _date(value: object, name: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise _error(f"无法识别日期 {name}={value!r}", f"cannot read the date {name}={value!r}") from exc
    if pd.isna(stamp):
        raise _error(f"日期 {name} 不能为空", f"the date {name} is missing")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()  # a calendar date: the whole as-of day counts


# --------------------------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StageRules:
    """The stage thresholds (days). See the module docstring for the rule table.

    Parameters
    ----------
    sleeping_after : int, default 90
        d above this is 沉睡 sleeping (d equal to it is still active/new).
    lost_after : int, default 180
        d above this is 流失 lost. Must be greater than ``sleeping_after``.
    new_within : int, default 90
        A one-off buyer is 新客 new while the first purchase is at most this many days ago.
    rule : {"fixed", "personal"}
        ``"personal"``: customers with at least ``min_orders`` distinct purchase days get their own thresholds from
        their typical gap g (median days between consecutive purchase days): sleeping when
        d > max(``floor_days``, ``gap_multiplier`` × g), lost when d > that + (``lost_after`` − ``sleeping_after``).
        A weekly shopper then sleeps after a month, a twice-a-year shopper only after a year. Everyone else keeps the
        fixed thresholds.
    gap_multiplier, floor_days, min_orders : float, int, int
        Parameters of the personal rule (defaults 2, 30 and 3).

    Examples
    --------
    >>> StageRules(sleeping_after=60, lost_after=120).lost_after
    120
    """

    sleeping_after: int = 90
    lost_after: int = 180
    new_within: int = 90
    rule: str = "fixed"
    gap_multiplier: float = 2.0
    floor_days: int = 30
    min_orders: int = 3

    def __post_init__(self) -> None:
        for name in ("sleeping_after", "lost_after", "new_within", "floor_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise _error(f"{name} 必须是 ≥ 0 的整数天数, 得到 {value!r}",
                             f"{name} must be a whole number of days ≥ 0, got {value!r}")
        if self.sleeping_after >= self.lost_after:
            raise _error(
                f"阈值顺序错误: 沉睡阈值 sleeping_after={self.sleeping_after} 必须小于流失阈值 "
                f"lost_after={self.lost_after}",
                f"thresholds out of order: sleeping_after={self.sleeping_after} must be less than "
                f"lost_after={self.lost_after}",
            )
        if self.rule not in ("fixed", "personal"):
            raise _error(f"rule={self.rule!r} 无效, 可选 'fixed' 或 'personal'",
                         f"invalid rule={self.rule!r}; choose 'fixed' or 'personal'")
        if not (isinstance(self.gap_multiplier, (int, float)) and self.gap_multiplier > 0):
            raise _error(f"gap_multiplier 必须 > 0, 得到 {self.gap_multiplier!r}",
                         f"gap_multiplier must be > 0, got {self.gap_multiplier!r}")
        if isinstance(self.min_orders, bool) or not isinstance(self.min_orders, (int, np.integer)) \
                or self.min_orders < 2:
            raise _error(f"min_orders 必须是 ≥ 2 的整数, 得到 {self.min_orders!r}",
                         f"min_orders must be an integer ≥ 2, got {self.min_orders!r}")

    @classmethod
    def of(cls, rules: "StageRules | Mapping | None" = None, **overrides) -> "StageRules":
        """Rules from a StageRules, a dict, or keyword overrides of the defaults."""
        base = {} if rules is None else (asdict(rules) if isinstance(rules, StageRules) else dict(rules))
        base.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(base) - set(cls.__dataclass_fields__)
        if unknown:
            raise _error(f"未知阈值参数 {sorted(unknown)}", f"unknown threshold argument(s) {sorted(unknown)}")
        return cls(**base)

    def describe(self) -> Text:
        """The rules in one bilingual sentence (for a notebook or the widget)."""
        s, lost, new = self.sleeping_after, self.lost_after, self.new_within
        zh = (f"新客: 仅 1 单且首购 ≤ {new} 天; 活跃: d ≤ {s} 且 ≥ 2 单; 沉睡: {s} < d ≤ {lost}; 流失: d > {lost}; "
              "潜客: 入会未购买")
        en = (f"new: 1 order, first purchase ≤ {new} days ago; active: d ≤ {s} and ≥ 2 orders; sleeping: "
              f"{s} < d ≤ {lost}; lost: d > {lost}; prospect: joined, no purchase")
        if self.rule == "personal":
            zh += (f" (个人规则: ≥ {self.min_orders} 个购买日的会员, 沉睡阈值 = max({self.floor_days}, "
                   f"{self.gap_multiplier:g} × 个人购买间隔中位数))")
            en += (f" (personal rule: members with ≥ {self.min_orders} purchase days sleep after "
                   f"max({self.floor_days}, {self.gap_multiplier:g} × their median gap))")
        return Text(zh, en)


def _classify(d: np.ndarray, n: np.ndarray, sleep_after: np.ndarray | int, lost_after: np.ndarray | int,
              new_within: int) -> np.ndarray:
    """Stage codes from days since last purchase ``d`` (NaN when n = 0) and order counts ``n``; vectorised."""
    with np.errstate(invalid="ignore"):
        conditions = [
            n == 0,
            d > lost_after,
            d > sleep_after,
            n >= 2,
            d <= new_within,  # n == 1 here, so d is also the age of the first purchase
        ]
    choices = ["prospect", "lost", "sleeping", "active", "new"]
    return np.select(conditions, choices, default="sleeping")


# --------------------------------------------------------------------------------------------------------------------
# Input checks: purchases (one row per sale order) and members
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Purchases:
    orders: pd.DataFrame  # customer, order, day (normalised), amount; one row per member sale order; sorted
    rows_in: int
    walk_in: int
    returns: int
    first_day: pd.Timestamp


def _pair_key(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, int] | None:
    """``first * base + second`` as one exact int64 key when both are non-negative integers (else None)."""
    if not (np.issubdtype(first.dtype, np.integer) and np.issubdtype(second.dtype, np.integer)) or not len(first):
        return None
    if first.min() < 0 or second.min() < 0:
        return None
    base = int(second.max()) + 1
    if (int(first.max()) + 1) * base >= 2**62:
        return None
    return first.astype("int64") * base + second.astype("int64"), base


def _purchases(transactions: pd.DataFrame, customer_col: str, order_col: str, time_col: str,
               kind_col: str, amount_col: str | None) -> _Purchases:
    if not isinstance(transactions, pd.DataFrame):
        raise _error(f"需要交易表 DataFrame, 得到 {type(transactions).__name__}",
                     f"expected a transactions DataFrame, got {type(transactions).__name__}")
    needed = [customer_col, order_col, time_col] + ([amount_col] if amount_col else [])
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise _error(f"交易表缺少列 {missing}; 现有列: {list(transactions.columns)}",
                     f"the transactions frame lacks column(s) {missing}; it has {list(transactions.columns)}")
    tx = transactions
    if kind_col in tx.columns:
        kind = tx[kind_col].astype("object")
        bad = ~kind.isin([schema.SALE, schema.RETURN])
        if bad.any():
            raise _error(f"列 {kind_col!r} 只能是 'sale' 或 'return'; 见行 {_rows(tx.index[bad])}",
                         f"column {kind_col!r} must be 'sale' or 'return'; see row(s) {_rows(tx.index[bad])}")
        is_sale = kind.eq(schema.SALE).to_numpy().copy()
    else:  # e.g. CDNOW: every row is a purchase
        is_sale = np.ones(len(tx), dtype=bool)
    times = tx[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        converted = pd.to_datetime(times, errors="coerce")
        bad = converted.isna() & times.notna()
        if bad.any():
            raise _error(f"列 {time_col!r} 的行 {_rows(tx.index[bad])} 无法解析为时间",
                         f"column {time_col!r}: row(s) {_rows(tx.index[bad])} are not readable as times")
        times = converted
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)
    customer = tx[customer_col]
    walk_in = customer.isna().to_numpy().copy()
    if not pd.api.types.is_numeric_dtype(customer):
        walk_in |= customer.astype("str").str.strip().eq("").to_numpy()
    no_time = times.isna().to_numpy() & ~walk_in
    if no_time.any():
        raise _error(f"列 {time_col!r} 的行 {_rows(tx.index[no_time])} 缺少时间",
                     f"column {time_col!r}: row(s) {_rows(tx.index[no_time])} have no time")
    sale = is_sale & ~walk_in
    no_order = sale & tx[order_col].isna().to_numpy()
    if no_order.any():
        raise _error(f"列 {order_col!r}: 销售行 {_rows(tx.index[no_order])} 缺少订单号",
                     f"column {order_col!r}: sale row(s) {_rows(tx.index[no_order])} have no order id")
    frame = pd.DataFrame({
        "customer": customer.to_numpy()[sale],
        "order": tx[order_col].to_numpy()[sale],
        "day": times.dt.normalize().to_numpy()[sale],
        "amount": (tx[amount_col].astype("float64").to_numpy()[sale] if amount_col else np.zeros(int(sale.sum()))),
    })
    # One row per order (a checkout is one purchase even if it were split over rows).
    pair = _pair_key(frame["customer"].to_numpy(), frame["order"].to_numpy())
    if pair is not None:  # integer keys (the report's): one int64 key groups far faster than two columns
        key, base = pair
        grouped = frame[["day", "amount"]].groupby(key, sort=False).agg(day=("day", "min"), amount=("amount", "sum"))
        index = grouped.index.to_numpy()
        frame = pd.DataFrame({"customer": (index // base).astype(frame["customer"].dtype), "order": index % base,
                              "day": grouped["day"].to_numpy(), "amount": grouped["amount"].to_numpy()})
    else:
        frame = frame.groupby(["customer", "order"], sort=False, as_index=False).agg(day=("day", "min"),
                                                                                   amount=("amount", "sum"))
    frame = frame.sort_values(["customer", "day", "order"], ignore_index=True)
    if frame.empty:
        raise _error(f"{len(tx)} 行中没有会员的购买记录", f"none of the {len(tx)} rows is a purchase by a member")
    return _Purchases(frame, len(tx), int(walk_in.sum()), int((~is_sale & ~walk_in).sum()), frame["day"].min())


def _members(members: pd.DataFrame | None, customer_col: str, join_col: str) -> pd.DataFrame | None:
    if members is None:
        return None
    if not isinstance(members, pd.DataFrame):
        raise _error(f"members 需要 DataFrame, 得到 {type(members).__name__}",
                     f"members must be a DataFrame, got {type(members).__name__}")
    missing = [c for c in (customer_col, join_col) if c not in members.columns]
    if missing:
        raise _error(f"会员表缺少列 {missing}", f"the members table lacks column(s) {missing}")
    ids = members[customer_col]
    if ids.isna().any() or ids.duplicated().any():
        bad = members.index[ids.isna() | ids.duplicated()]
        raise _error(f"会员表的 {customer_col!r} 有空值或重复, 见行 {_rows(bad)}",
                     f"the members table has missing or duplicated {customer_col!r}: row(s) {_rows(bad)}")
    joins = pd.to_datetime(members[join_col], errors="coerce")
    bad = joins.isna()
    if bad.any():
        raise _error(f"会员表列 {join_col!r} 的行 {_rows(members.index[bad])} 缺少或无法解析日期",
                     f"members column {join_col!r}: row(s) {_rows(members.index[bad])} have no readable date")
    return pd.DataFrame({"customer": ids.to_numpy(), "join": joins.dt.normalize().to_numpy()})


def _check_as_of(as_of: pd.Timestamp, first_day: pd.Timestamp, name: str = "as_of") -> None:
    if as_of < first_day:
        raise _error(
            f"快照日期 {name}={as_of:%Y-%m-%d} 早于第一笔会员购买 ({first_day:%Y-%m-%d}): 此时还没有数据",
            f"the snapshot date {name}={as_of:%Y-%m-%d} is before the first member purchase "
            f"({first_day:%Y-%m-%d}): there is no data yet",
        )


def _personal_thresholds(orders: pd.DataFrame, rules: StageRules) -> pd.DataFrame:
    """Per-customer sleeping/lost thresholds from the median gap between distinct purchase days."""
    days = orders[["customer", "day"]].drop_duplicates()
    gaps = days.groupby("customer", sort=True)["day"].diff().dt.days
    per = pd.DataFrame({"customer": days["customer"], "gap": gaps}).groupby("customer", sort=True)
    table = pd.DataFrame({"purchase_days": per.size(), "median_gap": per["gap"].median()})
    eligible = table["purchase_days"] >= rules.min_orders
    sleep = np.maximum(rules.floor_days, rules.gap_multiplier * table["median_gap"])
    table["sleeping_after"] = np.where(eligible, sleep, rules.sleeping_after).astype("float64")
    table["lost_after"] = table["sleeping_after"] + (rules.lost_after - rules.sleeping_after)
    table["personal"] = eligible
    return table


# --------------------------------------------------------------------------------------------------------------------
# 1. Stages at one date
# --------------------------------------------------------------------------------------------------------------------
def assign_stages(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    as_of: object = None,
    rules: StageRules | Mapping | None = None,
    *,
    sleeping_after: int | None = None,
    lost_after: int | None = None,
    new_within: int | None = None,
    rule: str | None = None,
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    amount_col: str | None = schema.AMOUNT,
    join_col: str = "join_date",
) -> pd.DataFrame:
    """The lifecycle stage of every member at an as-of date.

    Parameters
    ----------
    transactions : DataFrame
        The transactions frame (:mod:`opskit.schema`). Only sale rows count as purchases; returns never remove one.
    members : DataFrame, optional
        The members table (``customer_id``, ``join_date``). Needed for 潜客 prospects: members who joined by the
        as-of date without buying. Without it only buyers are staged.
    as_of : date-like, optional
        The snapshot date (a calendar date; purchases on that day count, d = 0). Default: the last member purchase.
    rules : StageRules or dict, optional
        The thresholds; ``sleeping_after=``, ``lost_after=``, ``new_within=``, ``rule=`` override single values.
    customer_col, order_col, time_col, kind_col, amount_col, join_col : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by customer id (sorted): ``stage`` (code), ``stage_label``, ``orders`` (n), ``days_since_last``
        (d; ``<NA>`` for prospects), ``first_purchase``, ``last_purchase``, ``net_sales`` (paid amount of the sale
        orders), ``sleeping_after`` / ``lost_after`` (the thresholds applied to this customer). ``attrs`` holds
        ``as_of``, ``rules`` and ``accounting`` (where every input row went).

    Raises
    ------
    ValueError
        An as-of date before the first member purchase; thresholds out of order (sleeping_after ≥ lost_after);
        missing columns or unreadable values (the message names them).

    Examples
    --------
    >>> tx = pd.DataFrame({"order_id": ["a", "b"], "customer_id": ["m1", "m2"], "kind": "sale",
    ...                    "order_time": pd.to_datetime(["2024-04-01", "2024-01-01"]), "amount": [100.0, 50.0]})
    >>> members = pd.DataFrame({"customer_id": ["m1", "m2", "m3"],
    ...                         "join_date": pd.to_datetime(["2024-04-01", "2024-01-01", "2024-02-01"])})
    >>> assign_stages(tx, members, as_of="2024-06-30")["stage"].to_dict()
    {'m1': 'new', 'm2': 'lost', 'm3': 'prospect'}
    """
    rules = StageRules.of(rules, sleeping_after=sleeping_after, lost_after=lost_after, new_within=new_within,
                          rule=rule)
    purchases = _purchases(transactions, customer_col, order_col, time_col, kind_col, amount_col)
    member_table = _members(members, customer_col, join_col)
    orders = purchases.orders
    as_of_day = orders["day"].max() if as_of is None else _date(as_of, "as_of")
    _check_as_of(as_of_day, purchases.first_day)

    after = orders["day"] > as_of_day
    used = orders[~after]
    by = used.groupby("customer", sort=True)
    table = pd.DataFrame({
        "orders": by.size().astype("int64"),
        "first_purchase": by["day"].min(),
        "last_purchase": by["day"].max(),
        "net_sales": by["amount"].sum(),
    })
    not_yet_joined = 0
    not_in_members = 0
    if member_table is not None:
        joined = member_table[member_table["join"] <= as_of_day]
        # Members who join later and have not bought yet are not members at the snapshot (counted, not staged).
        not_yet_joined = int(((member_table["join"] > as_of_day) & ~member_table["customer"].isin(table.index)).sum())
        not_in_members = int((~table.index.isin(member_table["customer"])).sum())
        universe = pd.Index(joined["customer"]).union(table.index)
        table = table.reindex(universe.sort_values())
        table["orders"] = table["orders"].fillna(0).astype("int64")
        table["net_sales"] = table["net_sales"].fillna(0.0)
    table.index.name = customer_col
    d = (as_of_day - table["last_purchase"]).dt.days
    table["days_since_last"] = d.astype("Int64")
    if rules.rule == "personal":
        personal = _personal_thresholds(used, rules).reindex(table.index)
        sleep = personal["sleeping_after"].fillna(rules.sleeping_after).to_numpy()
        lost = personal["lost_after"].fillna(rules.lost_after).to_numpy()
    else:
        sleep = np.full(len(table), float(rules.sleeping_after))
        lost = np.full(len(table), float(rules.lost_after))
    stage = _classify(d.to_numpy(dtype="float64", na_value=np.nan), table["orders"].to_numpy(), sleep, lost,
                      rules.new_within)
    table["stage"] = pd.Series(stage, index=table.index, dtype="str")
    table["stage_label"] = table["stage"].map({code: str(text) for code, text in STAGES.items()}).astype("str")
    table["sleeping_after"] = sleep
    table["lost_after"] = lost
    table = table[["stage", "stage_label", "orders", "days_since_last", "first_purchase", "last_purchase",
                   "net_sales", "sleeping_after", "lost_after"]]
    table.attrs.update(
        as_of=as_of_day,
        rules=rules,
        accounting={
            "rows_in": purchases.rows_in,
            "walk_in_rows": purchases.walk_in,
            "return_rows": purchases.returns,
            "sale_rows": purchases.rows_in - purchases.walk_in - purchases.returns,
            "orders_used": int(len(used)),
            "orders_after_as_of": int(after.sum()),
            "members_not_yet_joined": not_yet_joined,
            "buyers_not_in_members": not_in_members,
            "customers": int(len(table)),
        },
    )
    return table


def stage_summary(stages: pd.DataFrame) -> pd.DataFrame:
    """Members per stage (all stages, in lifecycle order, zeros included) with their share.

    >>> s = pd.DataFrame({"stage": ["new", "lost", "lost"]})
    >>> stage_summary(s)["members"].tolist()
    [0, 1, 0, 0, 0, 2]
    """
    counts = stages["stage"].value_counts().reindex(STAGE_ORDER, fill_value=0).astype("int64")
    out = pd.DataFrame({"label": [str(STAGES[c]) for c in STAGE_ORDER], "members": counts.to_numpy()},
                       index=pd.Index(STAGE_ORDER, name="stage"))
    total = out["members"].sum()
    out["share"] = out["members"] / total if total else 0.0
    return out


__all__.append("stage_summary")


# --------------------------------------------------------------------------------------------------------------------
# 2. Movement
# --------------------------------------------------------------------------------------------------------------------
def compare_snapshots(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """Each member's stage at two snapshots, with 回流 returned at the later one.

    A member is **returned** (回流) at the later snapshot when they were sleeping or lost at the earlier one and have
    bought since (last purchase after the earlier as-of date). Their rule stage at the later date stays in
    ``rule_stage`` (with snapshots ≤ ``sleeping_after`` days apart it is always active).

    Parameters
    ----------
    earlier, later : DataFrame
        Two outputs of :func:`assign_stages` (same rules), the earlier first.

    Returns
    -------
    DataFrame indexed by customer id: ``stage_from`` (``"not_member"`` for members who joined in between),
    ``stage_to`` (with ``"returned"``), ``rule_stage``, ``bought_between``.

    Examples
    --------
    >>> e = pd.DataFrame({"stage": ["sleeping", "active"], "last_purchase": pd.to_datetime(["2024-01-01"] * 2)},
    ...                  index=["m1", "m2"]); e.attrs["as_of"] = pd.Timestamp("2024-05-01")
    >>> l = pd.DataFrame({"stage": ["active", "sleeping"], "last_purchase": pd.to_datetime(["2024-05-20",
    ...                  "2024-01-01"])}, index=["m1", "m2"]); l.attrs["as_of"] = pd.Timestamp("2024-06-01")
    >>> compare_snapshots(e, l)["stage_to"].tolist()
    ['returned', 'sleeping']
    """
    for name, frame in (("earlier", earlier), ("later", later)):
        if not isinstance(frame, pd.DataFrame) or "stage" not in frame.columns or "as_of" not in frame.attrs:
            raise _error(f"{name} 应为 assign_stages 的结果", f"{name} must be an output of assign_stages")
    t0, t1 = earlier.attrs["as_of"], later.attrs["as_of"]
    if t0 >= t1:
        raise _error(f"earlier 的日期 ({t0:%Y-%m-%d}) 必须早于 later ({t1:%Y-%m-%d})",
                     f"the earlier snapshot ({t0:%Y-%m-%d}) must be before the later one ({t1:%Y-%m-%d})")
    gone = earlier.index.difference(later.index)
    if len(gone):
        raise _error(f"{len(gone)} 位会员只在较早快照中出现 (如 {_rows(gone)}): 两个快照应来自同一份数据",
                     f"{len(gone)} member(s) appear only in the earlier snapshot (e.g. {_rows(gone)}): both "
                     "snapshots must come from the same data")
    out = pd.DataFrame(index=later.index)
    out["stage_from"] = earlier["stage"].reindex(later.index).fillna(NOT_MEMBER).astype("str")
    out["rule_stage"] = later["stage"].astype("str")
    bought = (later["last_purchase"] > t0).fillna(False).astype(bool)
    out["bought_between"] = bought
    returned = out["stage_from"].isin(["sleeping", "lost"]) & bought
    out["stage_to"] = out["rule_stage"].where(~returned, "returned").astype("str")
    out = out[["stage_from", "stage_to", "rule_stage", "bought_between"]]
    out.attrs.update(earlier=t0, later=t1)
    return out


def transition_matrix(earlier: pd.DataFrame, later: pd.DataFrame | None = None, *,
                      normalize: bool = False, labels: bool = True) -> pd.DataFrame:
    """The stage-transition matrix: rows = stage at the earlier snapshot, columns = stage at the later one.

    Parameters
    ----------
    earlier, later : DataFrame
        Two outputs of :func:`assign_stages`; or pass the output of :func:`compare_snapshots` as ``earlier`` alone.
    normalize : bool
        Row shares (each row sums to 1; rows with no member stay 0) instead of counts.
    labels : bool
        Bilingual stage names as row/column labels (default) instead of codes.

    Returns
    -------
    DataFrame with every stage (and 未入会 "not yet a member" as a row) in lifecycle order; counts add up to the
    members of the later snapshot.
    """
    moves = earlier if later is None else compare_snapshots(earlier, later)
    if not {"stage_from", "stage_to"} <= set(moves.columns):
        raise _error("需要两个 assign_stages 结果, 或 compare_snapshots 的结果",
                     "pass two assign_stages outputs, or one compare_snapshots output")
    rows = [NOT_MEMBER, *STAGE_ORDER]
    matrix = pd.crosstab(moves["stage_from"], moves["stage_to"]).reindex(index=rows, columns=list(STAGE_ORDER),
                                                                         fill_value=0).astype("int64")
    if normalize:
        totals = matrix.sum(axis=1)
        matrix = matrix.div(totals.where(totals > 0, 1), axis=0)
    if labels:
        matrix.index = [stage_label(c) for c in matrix.index]
        matrix.columns = [stage_label(c) for c in matrix.columns]
    matrix.index.name = str(Text("期初阶段", "stage before"))
    matrix.columns.name = str(Text("期末阶段", "stage after"))
    return matrix


def _snapshot_arrays(orders: pd.DataFrame, dates: pd.DatetimeIndex, customers: np.ndarray):
    """Orders up to each date and the last purchase day, for every (date, customer) pair; numpy, no Python loop.

    Each order gets the key customer code × span + day, so a customer's orders form one sorted block;
    ``searchsorted`` of (customer, date) keys then counts, for every date at once, the orders on or before it.
    Returns (n, last, t, base): arrays of shape (dates, customers), dates as day numbers, all relative to ``base``.
    """
    codes = pd.Index(customers).get_indexer(orders["customer"]).astype(np.int64)
    day = orders["day"].to_numpy().astype("datetime64[D]").astype(np.int64)
    t_abs = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    base = int(min(day.min(), t_abs.min()))
    span = int(max(day.max(), t_abs.max())) - base + 1
    key = codes * span + (day - base)
    order = np.argsort(key, kind="stable")
    key, day = key[order], day[order] - base
    customer_codes = np.arange(len(customers), dtype=np.int64)
    starts = np.searchsorted(key, customer_codes * span, side="left")
    t = (t_abs - base)[:, None]
    ends = np.searchsorted(key, customer_codes[None, :] * span + t, side="right")
    n = ends - starts[None, :]
    last = np.where(n > 0, day[np.maximum(ends - 1, 0)], 0)
    return n, last, t, base


def stage_counts_over_time(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    start: object = None,
    end: object = None,
    rules: StageRules | Mapping | None = None,
    *,
    freq: str = "ME",
    returned: bool = True,
    sleeping_after: int | None = None,
    lost_after: int | None = None,
    new_within: int | None = None,
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    join_col: str = "join_date",
) -> pd.DataFrame:
    """Members per stage at every month end (or other period end) from ``start`` to ``end``; vectorised.

    Parameters
    ----------
    transactions, members : DataFrame
        As in :func:`assign_stages` (fixed rules only: the personal rule needs each customer's history per date).
    start, end : date-like, optional
        The first and last snapshot dates; default the month end after the first purchase and the last purchase day.
        Snapshots are the period ends in between, plus ``end`` itself when it is not a period end.
    freq : str, default "ME"
        A pandas period-end frequency (``"ME"`` month ends, ``"QE"`` quarter ends, ``"W-SUN"`` weeks).
    returned : bool, default True
        Count 回流 returned members: sleeping or lost at the previous snapshot and bought since (their rule stage is
        not counted again).

    Returns
    -------
    DataFrame indexed by snapshot date, one column per stage (lifecycle order), plus ``members``; each row adds up
    to the members at that date. Identical to calling :func:`assign_stages` (and :func:`compare_snapshots`) at each
    date.
    """
    rules = StageRules.of(rules, sleeping_after=sleeping_after, lost_after=lost_after, new_within=new_within)
    if rules.rule != "fixed":
        raise _error("stage_counts_over_time 只支持固定阈值 (rule='fixed')",
                     "stage_counts_over_time supports the fixed rule only (rule='fixed')")
    purchases = _purchases(transactions, customer_col, order_col, time_col, kind_col, None)
    member_table = _members(members, customer_col, join_col)
    orders = purchases.orders
    first, last_day = purchases.first_day, orders["day"].max()
    start_day = (first + pd.offsets.MonthEnd(0)) if start is None else _date(start, "start")
    end_day = last_day if end is None else _date(end, "end")
    _check_as_of(start_day, first, "start")
    if end_day < start_day:
        raise _error(f"end ({end_day:%Y-%m-%d}) 早于 start ({start_day:%Y-%m-%d})",
                     f"end ({end_day:%Y-%m-%d}) is before start ({start_day:%Y-%m-%d})")
    try:
        dates = pd.date_range(start_day, end_day, freq=freq)
    except ValueError as exc:
        raise _error(f"无效的频率 freq={freq!r}", f"invalid frequency freq={freq!r}") from exc
    if len(dates) == 0 or dates[-1] != end_day:
        dates = dates.append(pd.DatetimeIndex([end_day]))
    if dates[0] != start_day:
        dates = pd.DatetimeIndex([start_day]).append(dates)
    customers = pd.Index(orders["customer"].unique())
    if member_table is not None:
        customers = customers.union(pd.Index(member_table["customer"]))
    customers = customers.sort_values()
    n, last, t, base = _snapshot_arrays(orders, dates, customers.to_numpy())
    d = np.where(n > 0, t - last, np.nan)
    stage = _classify(d, n, rules.sleeping_after, rules.lost_after, rules.new_within)
    if member_table is not None:
        join = pd.Series(member_table["join"].to_numpy(), index=member_table["customer"]).reindex(customers)
        join_day = join.to_numpy().astype("datetime64[D]").astype(np.int64) - base
        join_day = np.where(join.isna().to_numpy(), np.iinfo(np.int64).max, join_day)
        present = (n > 0) | (join_day[None, :] <= t)
    else:
        present = n > 0
    stage = np.where(present, stage, NOT_MEMBER)
    if returned and len(dates) > 1:
        previous = np.vstack([np.full((1, stage.shape[1]), NOT_MEMBER), stage[:-1]])
        t_prev = np.vstack([np.full((1, 1), -np.iinfo(np.int64).max), t[:-1]])
        came_back = np.isin(previous, ["sleeping", "lost"]) & (n > 0) & (last > t_prev)
        stage = np.where(came_back, "returned", stage)
    counts = {code: (stage == code).sum(axis=1) for code in STAGE_ORDER}
    out = pd.DataFrame(counts, index=pd.DatetimeIndex(dates, name="as_of")).astype("int64")
    out["members"] = out[list(STAGE_ORDER)].sum(axis=1)
    out.attrs.update(rules=rules, freq=freq)
    return out


def reactivation_rate(
    transactions: pd.DataFrame,
    cohort_date: object,
    window_days: int = 90,
    members: pd.DataFrame | None = None,
    rules: StageRules | Mapping | None = None,
    *,
    cohort_stages: Sequence[str] = ("sleeping", "lost"),
    data_end: object = None,
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    **rule_overrides,
) -> pd.DataFrame:
    """沉睡唤醒率: of the members in a stage at ``cohort_date`` (t0), the share who bought within the window.

    The rate must be **cohort-based**: fix the cohort at t0, then look forward. The tempting shortcut — "members
    sleeping today who bought in the last 90 days" — is always 0, because anyone who bought in the last 90 days is
    by definition not sleeping today.

    Parameters
    ----------
    transactions, members, rules
        As in :func:`assign_stages`.
    cohort_date : date-like
        t0, the date the cohort is fixed.
    window_days : int, default 90
        A purchase on days t0 + 1 … t0 + window_days reactivates. The window must end by the last data day.
    cohort_stages : sequence of stage codes
        One row per stage, plus an ``all`` row for their union when there are several.
    data_end : date-like, optional
        The last day the data covers (default: the last purchase day). A window ending later is an error: the
        rate would be too low.

    Returns
    -------
    DataFrame indexed by cohort stage: ``label``, ``cohort`` (members in it at t0), ``reactivated`` (bought in the
    window), ``rate``; ``attrs`` holds ``cohort_date`` and ``window_end``.

    Examples
    --------
    >>> tx = pd.DataFrame({"order_id": ["a", "b", "c"], "customer_id": ["m1", "m2", "m1"], "kind": "sale",
    ...                    "order_time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-06-01"]),
    ...                    "amount": 1.0})
    >>> reactivation_rate(tx, "2024-05-01", 31, cohort_stages=["sleeping"])["rate"].tolist()
    [0.5]
    """
    window_days = int(window_days)
    if window_days < 1:
        raise _error(f"window_days 必须 ≥ 1, 得到 {window_days}", f"window_days must be ≥ 1, got {window_days}")
    unknown = [s for s in cohort_stages if s not in STAGES]
    if unknown or not len(cohort_stages):
        raise _error(f"未知或空的 cohort_stages {list(cohort_stages)}",
                     f"unknown or empty cohort_stages {list(cohort_stages)}")
    t0 = _date(cohort_date, "cohort_date")
    stages = assign_stages(transactions, members, t0, rules, customer_col=customer_col, order_col=order_col,
                           time_col=time_col, kind_col=kind_col, amount_col=None, **rule_overrides)
    orders = _purchases(transactions, customer_col, order_col, time_col, kind_col, None).orders
    window_end = t0 + pd.Timedelta(days=window_days)
    last_day = orders["day"].max() if data_end is None else _date(data_end, "data_end")
    if window_end > last_day:
        raise _error(
            f"观察窗口到 {window_end:%Y-%m-%d}, 晚于数据最后一天 {last_day:%Y-%m-%d}: 结果会偏低",
            f"the window ends {window_end:%Y-%m-%d}, after the last data day {last_day:%Y-%m-%d}: "
            "the rate would be too low",
        )
    in_window = orders[(orders["day"] > t0) & (orders["day"] <= window_end)]
    buyers = set(in_window["customer"])
    rows = {}
    groups = [(s, [s]) for s in cohort_stages] + ([("all", list(cohort_stages))] if len(cohort_stages) > 1 else [])
    for name, members_of in groups:
        cohort = stages.index[stages["stage"].isin(members_of)]
        reactivated = int(cohort.isin(buyers).sum())
        label = str(STAGES[name]) if name in STAGES else str(Text("合计", "all"))
        rows[name] = {"label": label, "cohort": len(cohort), "reactivated": reactivated,
                      "rate": reactivated / len(cohort) if len(cohort) else math.nan}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "cohort_stage"
    out = out.astype({"cohort": "int64", "reactivated": "int64", "rate": "float64"})
    out.attrs.update(cohort_date=t0, window_end=window_end, window_days=window_days)
    return out


# --------------------------------------------------------------------------------------------------------------------
# 3. The 90-day rules as work lists
# --------------------------------------------------------------------------------------------------------------------
TOUCHPOINTS: tuple[tuple[str, int, Text], ...] = (
    ("fit", 2, Text("试穿回访: 尺码合身吗? 不合适可换", "fit check: does the size fit? offer an exchange")),
    ("washing", 3, Text("洗护提醒: 面料的洗涤与保养方法", "washing care: how to wash and look after the fabric")),
    ("styling", 7, Text("搭配建议: 用已购单品搭配一套", "styling: an outfit built around the item bought")),
    ("coupon", 14, Text("复购券: 发第二次购买优惠券 (90 天内有效)", "second-purchase coupon (valid within 90 days)")),
)
"""The care timeline after a purchase: (code, days after the purchase, what to do). About 48 h, 3 and 7 days, then
the second-purchase coupon."""


def follow_up_list(
    transactions: pd.DataFrame,
    as_of: object = None,
    window_days: int = 90,
    touchpoints: Sequence[tuple[str, int, Text]] = TOUCHPOINTS,
    *,
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    store_col: str = schema.STORE_ID,
) -> pd.DataFrame:
    """The 90-day follow-up list: each buyer of the last ``window_days`` days with the care timeline of their last
    purchase and its due dates.

    Buyers are members whose last purchase is at most ``window_days`` days before the as-of date (d ≤ 90, the
    same d and boundary as the stage rules: bought today is d = 0), so with the default thresholds the list holds
    exactly the 新客 new and 活跃 active members. One row per buyer and touchpoint (tidy), for the last purchase.

    Returns
    -------
    DataFrame with ``customer_id``, ``order_id``, ``purchase_date``, ``store_id`` (when present),
    ``days_since_purchase``, ``touchpoint``, ``action`` (bilingual), ``due_date`` and ``status``: ``"done_window"``
    (due before the as-of date: the moment has passed), ``"today"`` or ``"upcoming"``. Sorted by due date. To get
    today's calls: ``fu[fu["status"] == "today"]``.

    Examples
    --------
    >>> tx = pd.DataFrame({"order_id": ["a", "b"], "customer_id": ["m1", "m2"], "kind": "sale",
    ...                    "order_time": pd.to_datetime(["2024-06-28 15:00:00", "2024-01-01 10:00:00"]), "amount": 1.0})
    >>> fu = follow_up_list(tx, as_of="2024-06-30")
    >>> fu[["customer_id", "touchpoint", "status"]].head(2).values.tolist()
    [['m1', 'fit', 'today'], ['m1', 'washing', 'upcoming']]
    """
    window_days = int(window_days)
    if window_days < 1:
        raise _error(f"window_days 必须 ≥ 1, 得到 {window_days}", f"window_days must be ≥ 1, got {window_days}")
    codes = [tp[0] for tp in touchpoints]
    if not codes or len(set(codes)) != len(codes) or any(int(tp[1]) < 0 for tp in touchpoints):
        raise _error("touchpoints 需要不重复的代码和 ≥ 0 的天数", "touchpoints need distinct codes and days ≥ 0")
    purchases = _purchases(transactions, customer_col, order_col, time_col, kind_col, None)
    orders = purchases.orders
    as_of_day = orders["day"].max() if as_of is None else _date(as_of, "as_of")
    _check_as_of(as_of_day, purchases.first_day)
    recent = orders[(orders["day"] <= as_of_day) & (orders["day"] >= as_of_day - pd.Timedelta(days=window_days))]
    last = recent.sort_values(["customer", "day", "order"]).groupby("customer", sort=True).tail(1)
    base = pd.DataFrame({
        customer_col: last["customer"].to_numpy(),
        order_col: last["order"].to_numpy(),
        "purchase_date": last["day"].to_numpy(),
    })
    if store_col in transactions.columns:
        stores = transactions.drop_duplicates(order_col).set_index(order_col)[store_col]
        base[store_col] = stores.reindex(base[order_col]).to_numpy()
    base["days_since_purchase"] = (as_of_day - base["purchase_date"]).dt.days.astype("int64")
    plan = pd.DataFrame({"touchpoint": codes, "offset": [int(tp[1]) for tp in touchpoints],
                         "action": [str(tp[2]) for tp in touchpoints]})
    out = base.merge(plan, how="cross")
    out["due_date"] = out["purchase_date"] + pd.to_timedelta(out["offset"], unit="D")
    out["status"] = np.select([out["due_date"] < as_of_day, out["due_date"] == as_of_day],
                             ["done_window", "today"], default="upcoming")
    out["status"] = out["status"].astype("str")
    out["touchpoint"] = out["touchpoint"].astype("str")
    out["action"] = out["action"].astype("str")
    rank = {c: i for i, c in enumerate(codes)}
    out = (out.assign(_rank=out["touchpoint"].map(rank))
           .sort_values(["due_date", customer_col, "_rank"], ignore_index=True)
           .drop(columns=["_rank", "offset"]))
    out.attrs.update(as_of=as_of_day, window_days=window_days, buyers=int(len(base)))
    return out


def activation_list(
    stages: pd.DataFrame,
    value: pd.Series | None = None,
    *,
    min_days: int | None = None,
    max_days: int | None = None,
    value_shares: tuple[float, float] = (0.2, 0.5),
) -> pd.DataFrame:
    """The activation list: members with more than ``min_days`` days without a purchase, ranked by value.

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`assign_stages`.
    value : Series, optional
        A value per customer id, e.g. CLV from :func:`opskit.clv.predict_customers`; default the historical net
        sales. Tiers 高/中/低价值 follow :func:`opskit.rfm.value_tiers` (top 20 %, next 30 %, rest, among the
        members on the list).
    min_days : int, optional
        Default: the ``sleeping_after`` threshold of the stages (90), so the list is exactly the sleeping and lost
        members of the fixed rule.
    max_days : int, optional
        Leave out members silent for longer (e.g. 365: too long gone for a 1:1 call).

    Returns
    -------
    DataFrame indexed by customer id: ``stage``, ``days_since_last``, ``orders``, ``value``, ``value_tier``,
    ``value_tier_label``, ``rank`` (1 = contact first), sorted by rank.
    """
    from opskit.rfm import value_tiers

    if "days_since_last" not in stages.columns:
        raise _error("stages 应为 assign_stages 的结果", "stages must be an output of assign_stages")
    rules = stages.attrs.get("rules", StageRules())
    low = rules.sleeping_after if min_days is None else int(min_days)
    d = stages["days_since_last"]
    keep = d.notna() & (d > low)
    if max_days is not None:
        keep &= d <= int(max_days)
    keep = keep.fillna(False).astype(bool)
    listed = stages.loc[keep, ["stage", "days_since_last", "orders"]].copy()
    if value is None:
        listed["value"] = stages.loc[keep, "net_sales"].astype("float64")
    else:
        if not isinstance(value, pd.Series):
            raise _error("value 需要按会员号索引的 Series", "value must be a Series indexed by customer id")
        aligned = value.reindex(listed.index).astype("float64")
        if aligned.isna().any():
            raise _error(f"value 缺少 {int(aligned.isna().sum())} 位会员的值, 如 {_rows(listed.index[aligned.isna()])}",
                         f"value has no entry for {int(aligned.isna().sum())} member(s), e.g. "
                         f"{_rows(listed.index[aligned.isna()])}")
        listed["value"] = aligned
    if listed.empty:
        listed["value_tier"] = pd.Series(dtype="str")
        listed["value_tier_label"] = pd.Series(dtype="str")
        listed["rank"] = pd.Series(dtype="int64")
        return listed
    listed = value_tiers(listed, value_shares, value_col="value")
    tier_rank = listed["value_tier"].map({"high": 0, "mid": 1, "low": 2})
    listed = (listed.assign(_tier=tier_rank, _id=listed.index)
              .sort_values(["_tier", "value", "_id"], ascending=[True, False, True])
              .drop(columns=["_tier", "_id"]))
    listed["rank"] = np.arange(1, len(listed) + 1, dtype="int64")
    listed.attrs.update(as_of=stages.attrs.get("as_of"), min_days=low, max_days=max_days)
    return listed


# --------------------------------------------------------------------------------------------------------------------
# 4. Rules against the model
# --------------------------------------------------------------------------------------------------------------------
def rules_vs_model(stages: pd.DataFrame, p_alive: pd.Series, bands: Sequence[float] = (0.0, 0.3, 0.7, 1.0)
                   ) -> pd.DataFrame:
    """Cross-table of rule stages against BG/NBD P(alive) bands, with each stage's mean P(alive).

    The two answer different questions. **Rules** are transparent, cheap and the same for everyone (a store manager
    can apply them by hand and staff can be held to them), but blind to the customer's own rhythm: a twice-a-year
    buyer at 120 days is "sleeping" though nothing is wrong, and a weekly buyer at 60 days is "active" though she has
    probably gone. **P(alive)** (BG/NBD) weighs recency against each customer's own frequency and the population's
    dropout pattern, so it ranks customers better — but it is a model: it needs a fit, assumes purchases follow its
    process, says nothing for prospects and nothing *why*. Use the rules to organise work, P(alive) to rank within a
    stage and to spot the disagreements (sleeping with high P(alive): leave them be; active with low P(alive): call
    them first).

    Parameters
    ----------
    stages : DataFrame
        Output of :func:`assign_stages`.
    p_alive : Series
        P(alive) per customer id (e.g. ``predict_customers(...)["p_alive"]``) at the same as-of date.
    bands : sequence of float
        Band edges from 0 to 1.

    Returns
    -------
    DataFrame: one row per stage present in both (lifecycle order), columns the P(alive) bands (counts), ``members``
    and ``mean_p_alive``. Customers with no P(alive) (prospects) are counted in ``attrs["unmatched"]``.
    """
    edges = [float(b) for b in bands]
    if len(edges) < 2 or edges[0] != 0.0 or edges[-1] != 1.0 or any(a >= b for a, b in zip(edges, edges[1:])):
        raise _error(f"bands 应从 0 递增到 1, 得到 {list(bands)}", f"bands must increase from 0 to 1, got {list(bands)}")
    if not isinstance(p_alive, pd.Series):
        raise _error("p_alive 需要按会员号索引的 Series", "p_alive must be a Series indexed by customer id")
    joined = stages[["stage"]].join(p_alive.rename("p_alive"), how="inner")
    if joined.empty:
        raise _error("stages 与 p_alive 没有共同的会员号", "stages and p_alive share no customer id")
    names = [f"{a:.0%}–{b:.0%}" for a, b in zip(edges, edges[1:])]
    band = pd.cut(joined["p_alive"], edges, labels=names, include_lowest=True)
    table = pd.crosstab(joined["stage"], band).reindex(columns=names, fill_value=0)
    order = [s for s in STAGE_ORDER if s in table.index]
    table = table.reindex(order).astype("int64")
    table.columns = [f"P(alive) {c}" for c in table.columns]
    table["members"] = table.sum(axis=1)
    table["mean_p_alive"] = joined.groupby("stage")["p_alive"].mean().reindex(order)
    table.index = pd.Index([stage_label(s) for s in order], name=str(Text("规则阶段", "rule stage")))
    table.attrs["unmatched"] = int(len(stages) - len(joined))
    return table


# --------------------------------------------------------------------------------------------------------------------
# 5. Campaign measurement
# --------------------------------------------------------------------------------------------------------------------
_CAMPAIGN_COLUMNS = ("customer_id", "group", "send_date", "window_end")


def campaign_outcomes(
    campaign: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    customer_col: str = schema.CUSTOMER_ID,
    order_col: str = schema.ORDER_ID,
    time_col: str = schema.ORDER_TIME,
    kind_col: str = schema.KIND,
    amount_col: str = schema.AMOUNT,
) -> pd.DataFrame:
    """Each campaign member's outcome: did they buy in the window (send date … window end, both included)?

    Returns
    -------
    The campaign table with ``orders`` (sale orders in the window), ``purchased`` (bool) and ``revenue`` (paid
    amount of those orders; later returns are not netted, so treatment and control are measured alike).
    """
    if not isinstance(campaign, pd.DataFrame):
        raise _error("campaign 需要 DataFrame", "campaign must be a DataFrame")
    missing = [c for c in _CAMPAIGN_COLUMNS if c not in campaign.columns]
    if missing:
        raise _error(f"活动表缺少列 {missing}", f"the campaign table lacks column(s) {missing}")
    if campaign["customer_id"].duplicated().any():
        dup = campaign.index[campaign["customer_id"].duplicated()]
        raise _error(f"活动表中会员重复出现, 见行 {_rows(dup)}", f"members appear twice in the campaign table: rows {_rows(dup)}")
    orders = _purchases(transactions, customer_col, order_col, time_col, kind_col, amount_col).orders
    window = campaign[["customer_id", "send_date", "window_end"]].rename(columns={"customer_id": "customer"})
    window = window.assign(send_date=pd.to_datetime(window["send_date"]).dt.normalize(),
                           window_end=pd.to_datetime(window["window_end"]).dt.normalize())
    hits = orders.merge(window, on="customer", how="inner")
    hits = hits[(hits["day"] >= hits["send_date"]) & (hits["day"] <= hits["window_end"])]
    per = hits.groupby("customer").agg(orders=("order", "size"), revenue=("amount", "sum"))
    out = campaign.copy()
    out["orders"] = per["orders"].reindex(campaign["customer_id"]).fillna(0).astype("int64").to_numpy()
    out["revenue"] = per["revenue"].reindex(campaign["customer_id"]).fillna(0.0).to_numpy()
    out["purchased"] = out["orders"] > 0
    return out


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference_ci(x1: int, n1: int, x2: int, n2: int, level: float = 0.95, method: str = "newcombe"
                  ) -> tuple[float, float, float]:
    """Difference of two proportions x1/n1 − x2/n2 with a confidence interval.

    ``method="wald"``: d ± z·√(p1(1−p1)/n1 + p2(1−p2)/n2) — simple, but too narrow for small counts or rates near
    0/1. ``method="newcombe"`` (default): Newcombe's hybrid score interval (1998, method 10) from the two Wilson
    intervals [l1, u1], [l2, u2]: lower = d − √((p1−l1)² + (u2−p2)²), upper = d + √((u1−p1)² + (p2−l2)²); it keeps
    its coverage for small samples and low rates, such as reactivation rates.

    >>> [round(v, 4) for v in difference_ci(56, 70, 48, 80, method="newcombe")]
    [0.2, 0.0524, 0.3339]
    """
    from scipy.stats import norm

    if method not in ("newcombe", "wald"):
        raise _error(f"method={method!r} 无效, 可选 'newcombe' 或 'wald'",
                     f"invalid method={method!r}; choose 'newcombe' or 'wald'")
    if not 0 < level < 1:
        raise _error(f"置信水平 level 必须在 0 和 1 之间, 得到 {level}", f"level must be between 0 and 1, got {level}")
    for x, n, name in ((x1, n1, "1"), (x2, n2, "2")):
        if n <= 0 or not 0 <= x <= n:
            raise _error(f"第 {name} 组需要 0 ≤ 成功数 ≤ 人数 且人数 > 0 (得到 {x}/{n})",
                         f"group {name} needs 0 ≤ successes ≤ size and size > 0 (got {x}/{n})")
    z = float(norm.ppf(0.5 + level / 2))
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    if method == "wald":
        half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        return d, d - half, d + half
    l1, u1 = _wilson(x1, n1, z)
    l2, u2 = _wilson(x2, n2, z)
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def campaign_uplift(
    outcomes: pd.DataFrame,
    *,
    treatment: str = "treatment",
    control: str = "control",
    level: float = 0.95,
    method: str = "newcombe",
    group_col: str = "group",
    purchased_col: str = "purchased",
    revenue_col: str = "revenue",
    coupon_col: str = "coupon_value",
) -> pd.DataFrame:
    """Repurchase rate of treatment vs control, the uplift with a confidence interval, and incremental revenue.

    - **uplift** = rate(treatment) − rate(control), in percentage points, with a Newcombe (default) or Wald interval
      (:func:`difference_ci`). Randomisation makes the control rate what the treated would have done anyway.
    - **incremental buyers** = uplift × treated members.
    - **incremental revenue** = (revenue per treated member − revenue per control member) × treated members.
    - **coupon cost** = coupons redeemed × face value, assuming every treated buyer used one coupon (the natural
      buyers too: the coupon subsidises purchases that would have happened anyway). **net** = incremental revenue −
      coupon cost (before margin: multiply incremental revenue by your gross margin for profit).

    Parameters
    ----------
    outcomes : DataFrame
        Output of :func:`campaign_outcomes` (``group``, ``purchased``, optional ``revenue`` and ``coupon_value``).

    Returns
    -------
    A one-row DataFrame: ``n_treatment``, ``n_control``, ``buyers_treatment``, ``buyers_control``,
    ``rate_treatment``, ``rate_control``, ``uplift``, ``ci_low``, ``ci_high``, ``relative_uplift``,
    ``incremental_buyers`` and, with revenue, ``revenue_per_member_treatment``/``_control``,
    ``incremental_revenue``, ``coupon_cost``, ``net_incremental_revenue``. ``attrs`` keeps ``level`` and ``method``.

    Raises
    ------
    ValueError
        No control group (or no treatment group): without a holdout there is nothing to compare with.

    Examples
    --------
    >>> o = pd.DataFrame({"group": ["treatment"] * 4 + ["control"] * 2, "purchased": [1, 1, 0, 0, 1, 0]})
    >>> float(campaign_uplift(o)["uplift"].iloc[0])
    0.0
    """
    for col in (group_col, purchased_col):
        if col not in outcomes.columns:
            raise _error(f"结果表缺少列 {col!r}", f"the outcomes table lacks column {col!r}")
    groups = outcomes[group_col].astype("str")
    present = sorted(groups.unique())
    if not (groups == control).any():
        raise _error(
            f"活动表没有对照组 ({group_col}={control!r}; 现有分组 {present}): 没有对照组就无法知道不发券会怎样, "
            "不能计算提升",
            f"the campaign table has no control group ({group_col}={control!r}; groups present: {present}): "
            "without a holdout there is no way to know what would have happened anyway, so no uplift",
        )
    if not (groups == treatment).any():
        raise _error(f"活动表没有实验组 ({group_col}={treatment!r}; 现有分组 {present})",
                     f"the campaign table has no treatment group ({group_col}={treatment!r}; groups: {present})")
    other = ~groups.isin([treatment, control])
    if other.any():
        raise _error(f"未知分组 {sorted(groups[other].unique())}, 见行 {_rows(outcomes.index[other])}",
                     f"unknown group(s) {sorted(groups[other].unique())}: rows {_rows(outcomes.index[other])}")
    bought = outcomes[purchased_col]
    if bought.isna().any() or not set(pd.unique(bought.astype("float64"))) <= {0.0, 1.0}:
        raise _error(f"列 {purchased_col!r} 只能是 True/False (或 1/0)",
                     f"column {purchased_col!r} must be True/False (or 1/0)")
    bought = bought.astype(bool)
    is_t = (groups == treatment).to_numpy()
    n_t, n_c = int(is_t.sum()), int((~is_t).sum())
    x_t, x_c = int(bought[is_t].sum()), int(bought[~is_t].sum())
    d, low, high = difference_ci(x_t, n_t, x_c, n_c, level, method)
    row: dict[str, float] = {
        "n_treatment": n_t, "n_control": n_c, "buyers_treatment": x_t, "buyers_control": x_c,
        "rate_treatment": x_t / n_t, "rate_control": x_c / n_c, "uplift": d, "ci_low": low, "ci_high": high,
        "relative_uplift": d / (x_c / n_c) if x_c else math.nan, "incremental_buyers": d * n_t,
    }
    if revenue_col in outcomes.columns:
        revenue = outcomes[revenue_col].astype("float64")
        per_t, per_c = float(revenue[is_t].mean()), float(revenue[~is_t].mean())
        coupon = outcomes[coupon_col].astype("float64") if coupon_col in outcomes.columns else pd.Series(
            0.0, index=outcomes.index)
        cost = float((coupon * bought)[is_t].sum())
        row.update(revenue_per_member_treatment=per_t, revenue_per_member_control=per_c,
                   incremental_revenue=(per_t - per_c) * n_t, coupon_cost=cost,
                   net_incremental_revenue=(per_t - per_c) * n_t - cost)
    out = pd.DataFrame([row])
    for col in ("n_treatment", "n_control", "buyers_treatment", "buyers_control"):
        out[col] = out[col].astype("int64")
    out.attrs.update(level=level, method=method)
    return out


# --------------------------------------------------------------------------------------------------------------------
# A/B test sample size
# --------------------------------------------------------------------------------------------------------------------
def _check_rate(value: float, name: str) -> float:
    value = float(value)
    if not 0 < value < 1:
        raise _error(f"{name} 必须在 0 和 1 之间 (不含), 得到 {value}", f"{name} must be between 0 and 1 (exclusive), "
                                                                     f"got {value}")
    return value


def sample_size_per_group(baseline: float, uplift: float, *, alpha: float = 0.05, power: float = 0.8,
                          ratio: float = 1.0, two_sided: bool = True) -> tuple[int, int]:
    """Members needed in the control and treatment groups to detect an ``uplift`` in a rate (e.g. repurchase).

    The normal-approximation test of two proportions (Fleiss, without continuity correction): with p1 = baseline,
    p2 = baseline + uplift, k = treatment / control, p̄ = (p1 + k·p2) / (1 + k) and z-values for α (halved when
    two-sided) and power,

        n_control = [z_α·√(p̄(1−p̄)(1 + 1/k)) + z_β·√(p1(1−p1) + p2(1−p2)/k)]² / uplift²,  n_treatment = k·n_control,

    each rounded up. A holdout is usually the *smaller* group: ``ratio=9`` means 9 treated for every control member.

    Parameters
    ----------
    baseline : float
        The rate without the action (the control group's expected repurchase rate), 0 < baseline < 1.
    uplift : float
        The smallest difference worth detecting, in absolute terms (0.03 = 3 percentage points); may be negative.
    alpha : float
        False-alarm rate (5 %). power : float, the chance to detect a true uplift of that size (80 %).
    ratio : float
        Treatment members per control member (k).
    two_sided : bool
        Two-sided test (default): an action can also hurt.

    Returns
    -------
    (n_control, n_treatment)

    Examples
    --------
    >>> sample_size_per_group(0.10, 0.03)
    (1774, 1774)
    >>> sample_size_per_group(0.10, 0.03, ratio=4)
    (1138, 4552)
    """
    p1 = _check_rate(baseline, "baseline")
    p2 = _check_rate(p1 + float(uplift), "baseline + uplift")
    if uplift == 0:
        raise _error("uplift 不能为 0: 无法检测没有差异的效果", "uplift cannot be 0: no test detects a zero difference")
    _check_rate(alpha, "alpha")
    _check_rate(power, "power")
    if not (math.isfinite(ratio) and ratio > 0):
        raise _error(f"ratio 必须 > 0, 得到 {ratio}", f"ratio must be > 0, got {ratio}")
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2 if two_sided else 1 - alpha)
    z_beta = NormalDist().inv_cdf(power)
    pooled = (p1 + ratio * p2) / (1 + ratio)
    spread = z_alpha * math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio)) + z_beta * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    n_control = math.ceil(spread ** 2 / float(uplift) ** 2 - 1e-9)
    return n_control, math.ceil(ratio * n_control - 1e-9)


def minimum_detectable_uplift(baseline: float, n_control: int, n_treatment: int, *, alpha: float = 0.05,
                              power: float = 0.8) -> float:
    """The smallest positive uplift a test with these group sizes detects with the given power (bisection).

    >>> round(minimum_detectable_uplift(0.10, 1774, 1774), 3)
    0.03
    """
    if n_control < 1 or n_treatment < 1:
        raise _error("两组都至少需要 1 人", "both groups need at least 1 member")
    ratio = n_treatment / n_control
    low, high = 1e-6, 1 - baseline - 1e-9
    if sample_size_per_group(baseline, high, alpha=alpha, power=power, ratio=ratio)[0] > n_control:
        return math.nan
    for _ in range(60):
        mid = (low + high) / 2
        if sample_size_per_group(baseline, mid, alpha=alpha, power=power, ratio=ratio)[0] > n_control:
            low = mid
        else:
            high = mid
    return high


# --------------------------------------------------------------------------------------------------------------------
# 6. KPIs
# --------------------------------------------------------------------------------------------------------------------
KPI_DEFINITIONS: dict[str, tuple[Text, Text]] = {
    "repeat_rate": (
        Text("会员复购率", "member repeat rate"),
        Text("期内 ≥ 2 单的会员 ÷ 期内 ≥ 1 单的会员", "members with ≥ 2 orders in the period ÷ members with ≥ 1"),
    ),
    "active_members": (
        Text("活跃会员数", "active members"),
        Text("最近 N 天内至少购买 1 次的会员数", "members with ≥ 1 order in the last N days"),
    ),
    "reactivation_rate": (
        Text("沉睡唤醒率", "reactivation rate"),
        Text("期初 (t0) 处于沉睡的会员中, 在窗口内购买的比例 (按期初队列计算)",
             "of the members sleeping at t0, the share who bought within the window (cohort-based)"),
    ),
    "ltv_cac": (
        Text("LTV:CAC 客户终身价值与获客成本之比", "LTV:CAC"),
        Text("LTV (新会员首购后 M 个月的毛利, 或模型 CLV × 毛利率) ÷ 获客成本 CAC (假设值)",
             "LTV (gross profit of a new member's first M months, or model CLV × margin) ÷ assumed acquisition "
             "cost CAC"),
    ),
}


def lifecycle_kpis(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    as_of: object = None,
    *,
    cac: float,
    period_days: int = 365,
    active_days: int = 90,
    reactivation_window: int = 90,
    gross_margin: float = 0.6,
    ltv_months: int = 12,
    clv: pd.Series | None = None,
    rules: StageRules | Mapping | None = None,
) -> pd.DataFrame:
    """The lifecycle KPIs at an as-of date, each with its bilingual definition.

    Parameters
    ----------
    cac : float
        Assumed acquisition cost per new member (元). There is no CAC in the data: state your assumption.
    period_days : int
        Repeat rate over the last ``period_days`` days (as_of − period_days + 1 … as_of).
    active_days : int
        Active members: ≥ 1 order in the last ``active_days`` days.
    reactivation_window : int
        Cohort reactivation: members sleeping at t0 = as_of − window who bought in (t0, as_of].
    gross_margin : float
        Share of net sales that is gross profit (assumption, default 60 %).
    ltv_months : int
        Historical LTV: mean net sales in the first ``ltv_months`` months after the first purchase, among members
        whose first purchase is at least that long before the as-of date (complete windows only), × gross margin.
    clv : Series, optional
        Model CLV per customer (e.g. ``predict_customers(...)["clv"]``); if given, LTV = mean CLV × gross margin.

    Returns
    -------
    DataFrame indexed by KPI code: ``kpi`` (name), ``value``, ``definition``; ``attrs`` holds the parts
    (numerators, denominators, LTV).
    """
    if not (isinstance(cac, (int, float)) and cac > 0):
        raise _error(f"获客成本 cac 必须 > 0, 得到 {cac!r}", f"cac must be > 0, got {cac!r}")
    if not 0 < gross_margin <= 1:
        raise _error(f"毛利率 gross_margin 必须在 (0, 1], 得到 {gross_margin}",
                     f"gross_margin must be in (0, 1], got {gross_margin}")
    orders = _purchases(transactions, schema.CUSTOMER_ID, schema.ORDER_ID, schema.ORDER_TIME, schema.KIND,
                        schema.AMOUNT)
    o = orders.orders
    as_of_day = o["day"].max() if as_of is None else _date(as_of, "as_of")
    _check_as_of(as_of_day, orders.first_day)
    o = o[o["day"] <= as_of_day]
    in_period = o[o["day"] > as_of_day - pd.Timedelta(days=period_days)]
    per = in_period.groupby("customer").size()
    buyers, repeaters = int((per >= 1).sum()), int((per >= 2).sum())
    active = int(o.loc[o["day"] > as_of_day - pd.Timedelta(days=active_days), "customer"].nunique())
    react = reactivation_rate(transactions, as_of_day - pd.Timedelta(days=reactivation_window),
                              reactivation_window, members, rules, cohort_stages=["sleeping"], data_end=as_of_day)
    if clv is not None:
        ltv = float(clv.astype("float64").mean()) * gross_margin
        ltv_basis = "clv"
    else:
        first = o.groupby("customer")["day"].min()
        cutoff = as_of_day - pd.DateOffset(months=ltv_months)
        cohort = first[first <= cutoff]
        if cohort.empty:
            raise _error(f"没有会员的首购早于 {cutoff:%Y-%m-%d}, 无法计算 {ltv_months} 个月 LTV",
                         f"no member's first purchase is before {cutoff:%Y-%m-%d}: no complete {ltv_months}-month LTV")
        window = o[o["customer"].isin(cohort.index)].join(cohort.rename("first"), on="customer")
        window = window[window["day"] < window["first"] + pd.DateOffset(months=ltv_months)]
        ltv = float(window.groupby("customer")["amount"].sum().reindex(cohort.index, fill_value=0).mean()) \
            * gross_margin
        ltv_basis = f"{ltv_months}m_history"
    values = {
        "repeat_rate": repeaters / buyers if buyers else math.nan,
        "active_members": float(active),
        "reactivation_rate": float(react.loc["sleeping", "rate"]),
        "ltv_cac": ltv / cac,
    }
    out = pd.DataFrame({
        "kpi": [str(KPI_DEFINITIONS[k][0]) for k in values],
        "value": list(values.values()),
        "definition": [str(KPI_DEFINITIONS[k][1]) for k in values],
    }, index=pd.Index(list(values), name="code"))
    out.attrs.update(as_of=as_of_day, buyers=buyers, repeaters=repeaters, active_days=active_days,
                     reactivation=react, ltv=ltv, ltv_basis=ltv_basis, cac=cac, gross_margin=gross_margin)
    return out
