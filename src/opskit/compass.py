"""The store-analysis compass (店铺分析罗盘): a KPI table per store and period, benchmarks, gap attribution, what-if.

The compass follows the KPI tree of a clothing store (see the domain reference)::

    销售额 sales = 进店人数 visitors × 成交率 conversion × 件单价 ASP × 连带率 UPT × 全渠道系数 omni factor

Scope, stated once and kept everywhere
--------------------------------------
- **Sales (销售额)** are all channels attributed to the store (POS, mini-program shop, WeCom group), at the amount
  paid at checkout, *before* later returns: this is how the chain's monthly targets were set (the simulator sets
  each target from the store's all-channel order amounts). Returns booked in the period are reported alongside
  (``returns``, ``net_sales``), never silently netted.
- **Footfall counts physical visitors**, so the in-store factors are POS-only: conversion (成交率) = POS orders /
  visitors, ASP (件单价) = POS sales / POS units, UPT (连带率) = POS units / POS orders. The fifth factor, the
  omni factor (全渠道系数) = all-channel sales / POS sales, carries the mini-program and community sales. The product
  of the five factors is the store's sales exactly, so the log of (actual / benchmark) splits exactly.
- **Members** of a store are the members who buy there (any channel). Active members (活跃会员数) bought at the
  store in the ``active_days`` days up to the period end. The reactivation rate (沉睡唤醒率) is cohort-based: members
  whose last purchase before the period start was ``sleep_days`` (91–180) days earlier, attributed to the store of
  that purchase; the rate is the share of them who buy (anywhere) within the period.
- **Periods** are calendar months (``"2025-05"``) or month to date (``"2025-06-15"``: 1–15 June). For month to
  date, attainment (达成率) is MTD sales / the full month's target, and the time-progress gap (时间进度差) is
  attainment − elapsed days / days in the month. A store that opened inside a period has a *partial* period: its
  KPIs cover its open days, and it is not used as a peer or as anyone's "same period last year".

Benchmarks (对标)
-----------------
``"target"``
    The month's target (pro-rated for month to date). A target fixes sales only, so its factor profile is the peer
    median mix (conversion, ASP, UPT, omni) at the store's own visitors, scaled evenly (geometrically, each factor
    by the same ratio) so that the product equals the target.
``"peers"``
    The median of the other stores with a complete period, factor by factor (visitors per open day × the store's
    open days); benchmark sales = the product of the medians.
``"last_year"``
    The same store, same dates one year earlier (n/a when that period was missing or partial).

Examples
--------
>>> from opskit.compass import compass_cube
>>> cube = compass_cube()                                    # doctest: +SKIP
>>> cube.attribution("S02", "2025-05", "peers")              # doctest: +SKIP
>>> cube.weak_point("S02", "2025-05", "target").key          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text, label

__all__ = [
    "ACTIONS",
    "BENCHMARKS",
    "FACTORS",
    "KPIS",
    "KPI",
    "Benchmark",
    "CompassCube",
    "CompassNA",
    "Period",
    "WeakPoint",
    "compass_cube",
    "gap_attribution",
    "kpi_registry",
    "kpi_table",
    "member_split",
    "parse_period",
    "prescriptions",
    "what_if",
    "weak_point",
]


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


class CompassNA(ValueError):
    """A figure cannot be computed for this store and period; ``reason`` (a :class:`Text`) says why."""

    def __init__(self, reason: Text):
        super().__init__(str(reason))
        self.reason = reason


# ---------------------------------------------------------------------------------------------------------------------
# KPI registry
# ---------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KPI:
    """One compass KPI: ``key``, Chinese and English names, unit, group, definition, formula and direction."""

    key: str
    zh: str
    en: str
    unit: str
    group: str
    definition: Text
    formula: str
    higher_is_better: bool | None = True
    fmt: str = "{:,.2f}"

    @property
    def label(self) -> str:
        return label(self.zh, self.en)

    @property
    def short_label(self) -> str:
        """A compact label for charts, e.g. ``"连带率 UPT"``."""
        return label(self.zh, _SHORT_EN.get(self.key, self.en))

    def format(self, value: float) -> str:
        """The value as shown in the compass (``"n/a"`` when missing)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
            return "n/a"
        if self.unit == "pp":
            return f"{value * 100:+.1f} pp"
        return self.fmt.format(value)


_SHORT_EN = {"entry_rate": "entry", "atv": "ATV", "asp": "ASP", "upt": "UPT", "omni": "omni",
             "sales_per_m2": "sales/m²", "sales_per_hour": "sales/hour", "member_share": "member share",
             "repeat_rate": "repeat", "reactivation_rate": "reactivation", "attainment": "attainment"}


_PCT = "{:.1%}"
_PCT_SIGNED = "{:+.1%}"
_KPI_LIST = [
    KPI("passers_by", "客流量", "passers-by", "人次 persons", "traffic",
        Text("门店门口经过的人数", "people passing the storefront"), "Σ passers_by", True, "{:,.0f}"),
    KPI("visitors", "进店人数", "visitors", "人次 persons", "traffic",
        Text("进入门店的人数 (客流计数器)", "people entering the store (door counter)"), "Σ visitors", True, "{:,.0f}"),
    KPI("entry_rate", "进店率", "entry rate", "%", "traffic",
        Text("进店人数 ÷ 客流量", "visitors ÷ passers-by"), "visitors / passers_by", True, _PCT),
    KPI("conversion", "成交率", "conversion", "%", "conversion",
        Text("门店POS成交单数 ÷ 进店人数", "store POS orders ÷ visitors"), "pos_orders / visitors", True, _PCT),
    KPI("atv", "客单价", "average ticket (ATV)", "元 yuan", "conversion",
        Text("门店POS销售额 ÷ POS单数 (= 件单价 × 连带率)", "POS sales ÷ POS orders (= ASP × UPT)"),
        "pos_sales / pos_orders", True, "{:,.0f}"),
    KPI("asp", "件单价", "average selling price (ASP)", "元 yuan", "conversion",
        Text("门店POS销售额 ÷ POS件数", "POS sales ÷ POS units"), "pos_sales / pos_units", True, "{:,.0f}"),
    KPI("upt", "连带率", "units per transaction (UPT)", "件/单 units/order", "conversion",
        Text("门店POS件数 ÷ POS单数 (不是连单率)", "POS units ÷ POS orders (not the multi-item share)"),
        "pos_units / pos_orders", True, "{:.2f}"),
    KPI("omni", "全渠道系数", "omni-channel factor", "×", "conversion",
        Text("全渠道销售额 ÷ 门店POS销售额 (小程序与社群的贡献)", "all-channel sales ÷ POS sales (mini-program and "
             "community contribution)"), "sales / pos_sales", True, "{:.3f}"),
    KPI("sales", "销售额", "sales", "元 yuan", "target",
        Text("归属门店的全渠道实付金额 (退货另计)", "all-channel paid amount attributed to the store (returns "
             "reported separately)"), "Σ amount (kind = sale)", True, "{:,.0f}"),
    KPI("returns", "退货额", "returns", "元 yuan", "target",
        Text("期内登记的退货金额", "refunds booked in the period"), "−Σ amount (kind = return)", False, "{:,.0f}"),
    KPI("sales_per_m2", "坪效", "sales per m²", "元/㎡·天 yuan/m²/day", "productivity",
        Text("销售额 ÷ 营业面积(㎡) ÷ 营业天数 (1 坪 ≈ 3.3 ㎡)", "sales ÷ selling area (m²) ÷ open days "
             "(1 ping ≈ 3.3 m²)"), "sales / area_m2 / days_open", True, "{:,.1f}"),
    KPI("sales_per_hour", "人效", "sales per staff hour", "元/工时 yuan/hour", "productivity",
        Text("销售额 ÷ 员工出勤工时", "sales ÷ staff hours worked"), "sales / staff_hours", True, "{:,.0f}"),
    KPI("member_share", "会员消费占比", "member sales share", "%", "members",
        Text("会员销售额 ÷ 销售额", "member sales ÷ sales"), "member_sales / sales", True, _PCT),
    KPI("repeat_rate", "会员复购率", "member repeat rate", "%", "members",
        Text("期内消费 ≥ 2 次的会员 ÷ 消费 ≥ 1 次的会员", "members with ≥ 2 orders ÷ members with ≥ 1 order, "
             "in the period"), "member_repeaters / member_buyers", True, _PCT),
    KPI("new_members", "新会员数", "new members", "人 members", "members",
        Text("期内在本店入会的人数", "members who joined at the store in the period"), "count(join_date in period)",
        True, "{:,.0f}"),
    KPI("active_members", "活跃会员数", "active members", "人 members", "members",
        Text("截至期末 N 天内在本店消费过的会员 (N 默认 90)", "members who bought at the store in the N days up to "
             "the period end (N = 90 by default)"), "count(last order ≥ end − N days)", True, "{:,.0f}"),
    KPI("reactivation_rate", "沉睡唤醒率", "reactivation rate", "%", "members",
        Text("期初沉睡 (91–180 天未购) 的会员中, 期内回来购买的比例 (按期初群组计)",
             "of the members sleeping at the period start (91–180 days since last purchase), the share who buy "
             "within the period (cohort-based)"), "sleepers_woken / sleepers_t0", True, _PCT),
    KPI("attainment", "达成率", "target attainment", "%", "target",
        Text("销售额 ÷ 当月目标", "sales ÷ the month's target"), "sales / target_month", True, _PCT),
    KPI("progress_gap", "时间进度差", "time-progress gap", "pp", "target",
        Text("达成率 − 已过天数 ÷ 当月天数 (负数 = 落后)", "attainment − elapsed days ÷ days in month (negative = "
             "behind)"), "attainment − elapsed / days_in_month", True, _PCT_SIGNED),
    KPI("yoy", "同比", "year on year", "%", "target",
        Text("销售额 ÷ 去年同期 − 1", "sales ÷ same period last year − 1"), "sales / sales_ly − 1", True, _PCT_SIGNED),
    KPI("mom", "环比", "period on period", "%", "target",
        Text("销售额 ÷ 上月同期 − 1", "sales ÷ the previous month's same days − 1"), "sales / sales_prev − 1", True,
        _PCT_SIGNED),
]
KPIS: dict[str, KPI] = {k.key: k for k in _KPI_LIST}

# The multiplicative factors of sales, in tree order.
FACTORS: tuple[str, ...] = ("visitors", "conversion", "asp", "upt", "omni")
# What the radar shows, as ratios to the benchmark.
RADAR_KPIS: tuple[str, ...] = (
    "entry_rate", "conversion", "atv", "asp", "upt", "omni", "sales_per_m2", "sales_per_hour", "member_share",
    "repeat_rate",
)
BENCHMARKS: dict[str, Text] = {
    "target": Text("目标", "target"),
    "peers": Text("同类门店中位数", "peer median"),
    "last_year": Text("去年同期", "same period last year"),
}
_GROUPS = {
    "traffic": Text("流量", "traffic"),
    "conversion": Text("转化", "conversion"),
    "productivity": Text("效率", "productivity"),
    "members": Text("会员", "members"),
    "target": Text("目标", "target"),
}


def kpi_registry() -> pd.DataFrame:
    """The KPI registry as a table: key, zh, en, unit, group, definition, formula, higher_is_better.

    Examples
    --------
    >>> kpi_registry().set_index("key").loc["upt", "zh"]
    '连带率'
    """
    return pd.DataFrame(
        [
            {
                "key": k.key, "zh": k.zh, "en": k.en, "unit": k.unit, "group": str(_GROUPS[k.group]),
                "definition": str(k.definition), "formula": k.formula, "higher_is_better": k.higher_is_better,
            }
            for k in _KPI_LIST
        ]
    )


# ---------------------------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A calendar month, or a month to date: ``start`` .. ``end`` inclusive, within ``month``."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str  # "month" or "mtd"

    @property
    def month(self) -> pd.Timestamp:
        return self.start

    @property
    def days(self) -> int:
        return int((self.end - self.start).days) + 1

    @property
    def days_in_month(self) -> int:
        return int(self.start.days_in_month)

    @property
    def time_progress(self) -> float:
        return self.days / self.days_in_month

    def shifted(self, months: int) -> "Period":
        """The same days ``months`` months earlier/later (the end clipped to that month's length)."""
        start = self.start + pd.DateOffset(months=months)
        if self.kind == "month":
            return parse_period(start.strftime("%Y-%m"))
        day = min(self.end.day, int(start.days_in_month))
        return parse_period(start.replace(day=day).strftime("%Y-%m-%d"))


def parse_period(value: "str | Period | pd.Timestamp") -> Period:
    """``"2025-05"`` → the month of May 2025; ``"2025-06-15"`` → 1–15 June 2025 (month to date).

    Examples
    --------
    >>> parse_period("2025-06-15").days
    15
    """
    if isinstance(value, Period):
        return value
    text = str(value).strip()
    try:
        if len(text) == 7:
            start = pd.Timestamp(text + "-01")
            return Period(text, start, start + pd.offsets.MonthEnd(0), "month")
        end = pd.Timestamp(text).normalize()
    except (ValueError, TypeError) as exc:
        raise _error(f"无法识别的期间 {value!r}: 请写 '2025-05' (整月) 或 '2025-06-15' (月初至该日)",
                     f"cannot read period {value!r}: write '2025-05' (a month) or '2025-06-15' (month to date)") from exc
    start = end.replace(day=1)
    if end.day == end.days_in_month:
        return Period(start.strftime("%Y-%m"), start, end, "month")
    return Period(end.strftime("%Y-%m-%d"), start, end, "mtd")


# ---------------------------------------------------------------------------------------------------------------------
# The KPI table
# ---------------------------------------------------------------------------------------------------------------------
_REQUIRED = {
    "transactions": (schema.ORDER_TIME, schema.CUSTOMER_ID, schema.STORE_ID, schema.CHANNEL, schema.KIND,
                     schema.UNITS, schema.AMOUNT),
    "footfall": ("date", "store_id", "passers_by", "visitors", "staff_hours"),
    "members": ("customer_id", "join_date", "join_store_id"),
    "stores": ("store_id", "area_m2", "staff", "opened"),
    "targets": ("store_id", "month", "sales_target"),
}


def _check_columns(frame: pd.DataFrame, name: str) -> None:
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if missing:
        raise _error(f"{name} 缺少列: {', '.join(missing)}", f"{name} is missing column(s): {', '.join(missing)}")


def _period_rows(period: Period, sales: pd.DataFrame, returns: pd.DataFrame, foot: pd.DataFrame,
                 members: pd.DataFrame, stores: pd.DataFrame, targets: pd.Series, active_days: int,
                 sleep_days: tuple[int, int], last_before: pd.DataFrame) -> pd.DataFrame:
    store_ids = stores["store_id"].astype(str).tolist()
    idx = pd.Index(store_ids, name="store_id")
    end_excl = period.end + pd.Timedelta(days=1)
    in_p = sales[(sales["t"] >= period.start) & (sales["t"] < end_excl)]
    pos = in_p[in_p["channel"] == "pos"]
    f = foot[(foot["date"] >= period.start) & (foot["date"] <= period.end)]
    g_f = f.groupby("store_id")
    out = pd.DataFrame(index=idx)
    out["period"] = period.label
    out["start"] = period.start
    out["end"] = period.end
    out["days"] = period.days
    out["days_open"] = g_f.size().reindex(idx, fill_value=0).astype("int64")
    out["passers_by"] = g_f["passers_by"].sum().reindex(idx, fill_value=0).astype("float64")
    out["visitors"] = g_f["visitors"].sum().reindex(idx, fill_value=0).astype("float64")
    out["staff_hours"] = g_f["staff_hours"].sum().reindex(idx, fill_value=0).astype("float64")
    g_s = in_p.groupby("store_id")
    g_p = pos.groupby("store_id")
    out["orders"] = g_s.size().reindex(idx, fill_value=0).astype("float64")
    out["sales"] = g_s["amount"].sum().reindex(idx, fill_value=0.0)
    out["pos_orders"] = g_p.size().reindex(idx, fill_value=0).astype("float64")
    out["pos_units"] = g_p["units"].sum().reindex(idx, fill_value=0).astype("float64")
    out["pos_sales"] = g_p["amount"].sum().reindex(idx, fill_value=0.0)
    r = returns[(returns["t"] >= period.start) & (returns["t"] < end_excl)]
    out["returns"] = -r.groupby("store_id")["amount"].sum().reindex(idx, fill_value=0.0)
    out["net_sales"] = out["sales"] - out["returns"]
    mem = in_p[in_p["is_member"]]
    out["member_sales"] = mem.groupby("store_id")["amount"].sum().reindex(idx, fill_value=0.0)
    per_member = mem.groupby(["store_id", "customer_id"]).size()
    by_store = per_member.groupby(level="store_id")
    out["member_buyers"] = by_store.size().reindex(idx, fill_value=0).astype("float64")
    out["member_repeaters"] = (per_member >= 2).groupby(level="store_id").sum().reindex(idx, fill_value=0).astype(
        "float64")
    joined = members[(members["join_date"] >= period.start) & (members["join_date"] <= period.end)]
    out["new_members"] = joined.groupby("join_store_id").size().reindex(idx, fill_value=0).astype("float64")
    window = sales[(sales["t"] >= end_excl - pd.Timedelta(days=active_days)) & (sales["t"] < end_excl)
                   & sales["is_member"]]
    out["active_members"] = window.groupby("store_id")["customer_id"].nunique().reindex(idx, fill_value=0).astype(
        "float64")
    # Sleepers at t0 = period start: last purchase before t0 between sleep_days[0]+1 and sleep_days[1] days earlier.
    gap = (period.start - last_before["t"].dt.normalize()).dt.days
    sleepers = last_before[(gap > sleep_days[0]) & (gap <= sleep_days[1])]
    bought = set(in_p.loc[in_p["is_member"], "customer_id"].unique())
    woken = sleepers["customer_id"].isin(bought)
    out["sleepers_t0"] = sleepers.groupby("store_id").size().reindex(idx, fill_value=0).astype("float64")
    out["sleepers_woken"] = woken.groupby(sleepers["store_id"]).sum().reindex(idx, fill_value=0).astype("float64")
    out["area_m2"] = stores.set_index("store_id")["area_m2"].reindex(idx).astype("float64").to_numpy()
    out["staff"] = stores.set_index("store_id")["staff"].reindex(idx).astype("float64").to_numpy()
    out["target_month"] = targets.reindex(pd.MultiIndex.from_product([store_ids, [period.start]])).to_numpy()
    out["time_progress"] = period.time_progress
    return out.reset_index()


def kpi_table(transactions: pd.DataFrame, footfall: pd.DataFrame, members: pd.DataFrame, stores: pd.DataFrame,
              targets: pd.DataFrame, periods=None, *, active_days: int = 90,
              sleep_days: tuple[int, int] = (90, 180)) -> pd.DataFrame:
    """The compass KPI table: one row per store and period, base quantities and every KPI of :data:`KPIS`.

    Parameters
    ----------
    transactions : DataFrame
        The canonical transactions frame (:mod:`opskit.schema`): sales and returns.
    footfall : DataFrame
        Daily ``date``, ``store_id``, ``passers_by``, ``visitors``, ``staff_hours`` (rows on open days only).
    members : DataFrame
        ``customer_id``, ``join_date``, ``join_store_id``.
    stores : DataFrame
        ``store_id``, ``area_m2``, ``staff``, ``opened``.
    targets : DataFrame
        ``store_id``, ``month`` (first day), ``sales_target`` (yuan).
    periods : list of str or Period, optional
        Default: every calendar month covered by the footfall data. The same dates one year earlier and one month
        earlier are added automatically (for 同比, 环比 and the last-year benchmark).
    active_days : int
        N of 活跃会员数 (30, 90, 180 …).
    sleep_days : (int, int)
        A member is sleeping when ``sleep_days[0] < days since last purchase <= sleep_days[1]``.

    Returns
    -------
    DataFrame
        Columns ``store_id``, ``period``, base quantities, the KPIs (NaN when n/a: see :func:`na_reason`), and
        ``partial`` (the store opened inside the period) and ``requested`` (the period was asked for).

    Examples
    --------
    >>> from opskit.datasets import load_transactions, load_footfall, load_members, load_stores, load_targets
    >>> table = kpi_table(load_transactions(), load_footfall(), load_members(), load_stores(), load_targets(),
    ...                   ["2025-05"])                                  # doctest: +SKIP
    >>> table.loc[table["requested"], ["store_id", "conversion"]]     # doctest: +SKIP
    """
    for frame, name in ((transactions, "transactions"), (footfall, "footfall"), (members, "members"),
                        (stores, "stores"), (targets, "targets")):
        _check_columns(frame, name)
    if active_days <= 0:
        raise _error(f"active_days 必须为正数, 收到 {active_days}", f"active_days must be positive, got {active_days}")
    store_ids = stores["store_id"].astype(str)
    known = set(store_ids)
    for frame, name, col in ((transactions, "transactions", schema.STORE_ID), (footfall, "footfall", "store_id")):
        unknown = sorted(set(frame[col].dropna().astype(str)) - known)
        if unknown:
            raise _error(f"{name} 里有未知门店 {unknown[:5]} (不在 stores 中)",
                         f"{name} has unknown store id(s) {unknown[:5]} (not in stores)")
    foot = pd.DataFrame({
        "date": pd.to_datetime(footfall["date"]).dt.normalize(),
        "store_id": footfall["store_id"].astype(str),
        "passers_by": footfall["passers_by"].astype("float64"),
        "visitors": footfall["visitors"].astype("float64"),
        "staff_hours": footfall["staff_hours"].astype("float64"),
    })
    kind = transactions[schema.KIND].astype(str)
    bad = ~kind.isin([schema.SALE, schema.RETURN])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise _error(f"transactions 第 {row} 行: kind 必须是 sale 或 return, 收到 {kind[bad].iloc[0]!r}",
                     f"transactions row {row}: kind must be sale or return, got {kind[bad].iloc[0]!r}")
    tx = pd.DataFrame({
        "t": pd.to_datetime(transactions[schema.ORDER_TIME]),
        "customer_id": transactions[schema.CUSTOMER_ID],
        "store_id": transactions[schema.STORE_ID].astype(str),
        "channel": transactions[schema.CHANNEL].astype(str),
        "units": transactions[schema.UNITS].astype("float64"),
        "amount": transactions[schema.AMOUNT].astype("float64"),
    })
    tx["is_member"] = tx["customer_id"].notna()
    is_sale = (kind == schema.SALE).to_numpy()
    sales = tx[is_sale].reset_index(drop=True)
    returns = tx[~is_sale].reset_index(drop=True)
    mem = pd.DataFrame({"customer_id": members["customer_id"], "join_date": pd.to_datetime(members["join_date"]),
                        "join_store_id": members["join_store_id"].astype(str)})
    tgt = targets.assign(store_id=targets["store_id"].astype(str), month=pd.to_datetime(targets["month"]))
    dup = tgt.duplicated(["store_id", "month"])
    if dup.any():
        first = tgt[dup].iloc[0]
        raise _error(f"targets 有重复的门店月份: {first['store_id']} {first['month']:%Y-%m}",
                     f"targets has a duplicate store-month: {first['store_id']} {first['month']:%Y-%m}")
    target_by = tgt.set_index(["store_id", "month"])["sales_target"].astype("float64")

    if periods is None:
        months = pd.period_range(foot["date"].min(), foot["date"].max(), freq="M")
        requested = [parse_period(str(m)) for m in months]
    else:
        requested = [parse_period(p) for p in periods]
    wanted: dict[str, Period] = {p.label: p for p in requested}
    for p in requested:  # last year and previous month, for 同比 / 环比 / the last-year benchmark
        for extra in (p.shifted(-12), p.shifted(-1)):
            wanted.setdefault(extra.label, extra)
    member_sales = sales[sales["is_member"]].sort_values("t", kind="stable")

    rows = []
    for period in sorted(wanted.values(), key=lambda p: (p.start, p.end)):
        before = member_sales[member_sales["t"] < period.start]
        last_before = before.groupby("customer_id", sort=False).tail(1)[["customer_id", "t", "store_id"]]
        rows.append(_period_rows(period, sales, returns, foot, mem, stores.assign(store_id=store_ids), target_by,
                                 active_days, sleep_days, last_before))
    table = pd.concat(rows, ignore_index=True)
    table["requested"] = table["period"].isin([p.label for p in requested])
    table["partial"] = (table["days_open"] > 0) & (table["days_open"] < table["days"])
    _add_kpis(table, wanted)
    return table.sort_values(["period", "store_id"], key=None, ignore_index=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN (not inf, not an error) where the denominator is 0 or missing."""
    den = den.astype("float64")
    return (num.astype("float64") / den.where(den > 0)).astype("float64")


def _add_kpis(table: pd.DataFrame, periods: Mapping[str, Period]) -> None:
    t = table
    t["entry_rate"] = _ratio(t["visitors"], t["passers_by"])
    t["conversion"] = _ratio(t["pos_orders"], t["visitors"])
    t["atv"] = _ratio(t["pos_sales"], t["pos_orders"])
    t["asp"] = _ratio(t["pos_sales"], t["pos_units"])
    t["upt"] = _ratio(t["pos_units"], t["pos_orders"])
    t["omni"] = _ratio(t["sales"], t["pos_sales"])
    t["sales_per_m2"] = _ratio(t["sales"], t["area_m2"] * t["days_open"])
    t["sales_per_hour"] = _ratio(t["sales"], t["staff_hours"])
    t["member_share"] = _ratio(t["member_sales"], t["sales"])
    t["repeat_rate"] = _ratio(t["member_repeaters"], t["member_buyers"])
    t["reactivation_rate"] = _ratio(t["sleepers_woken"], t["sleepers_t0"])
    t["attainment"] = _ratio(t["sales"], t["target_month"])
    t["progress_gap"] = t["attainment"] - t["time_progress"]
    # Same dates last year / previous month: only comparable when that period was complete for the store.
    key = t.set_index(["store_id", "period"])
    complete = (key["days_open"] == key["days"]) & (key["days_open"] > 0)
    ly_label = t["period"].map(lambda lab: periods[lab].shifted(-12).label)
    prev_label = t["period"].map(lambda lab: periods[lab].shifted(-1).label)
    for col, labels in (("sales_ly", ly_label), ("sales_prev", prev_label)):
        idx = pd.MultiIndex.from_arrays([t["store_id"], labels])
        ok = complete.reindex(idx, fill_value=False).to_numpy()
        values = key["sales"].reindex(idx).to_numpy()
        t[col] = np.where(ok, values, np.nan)
    t["period_ly"] = ly_label
    t["period_prev"] = prev_label
    t["yoy"] = _ratio(t["sales"], t["sales_ly"]) - 1
    t["mom"] = _ratio(t["sales"], t["sales_prev"]) - 1
    closed = t["days_open"] == 0
    for kpi in KPIS.values():  # a store with no open day in the period has no KPI at all
        t.loc[closed, kpi.key] = np.nan


def na_reason(row: Mapping, key: str) -> Text | None:
    """Why the KPI ``key`` of one table row is n/a (or a caveat for a partial period); None when all is well.

    Examples
    --------
    >>> na_reason({"days_open": 31, "days": 31, "visitors": 0.0, "conversion": float("nan")}, "conversion")
    Text('期内进店人数为 0, 无法计算', 'no visitors recorded in the period: cannot be computed')
    """
    value = row.get(key, np.nan)
    if row.get("days_open", 1) == 0:
        return Text("门店在该期间未营业 (无客流记录)", "the store was not open in this period (no footfall rows)")
    missing = value is None or pd.isna(value)
    if not missing:
        if row.get("partial", False):
            return Text(f"部分期间: 仅 {row['days_open']}/{row['days']} 天营业", f"partial period: open "
                        f"{row['days_open']} of {row['days']} days")
        return None
    dependencies = {
        "entry_rate": [("passers_by", Text("期内客流量为 0", "no passers-by recorded in the period"))],
        "conversion": [("visitors", Text("期内进店人数为 0, 无法计算", "no visitors recorded in the period: cannot be "
                                         "computed"))],
        "atv": [("pos_orders", Text("期内没有门店POS成交", "no store POS orders in the period"))],
        "upt": [("pos_orders", Text("期内没有门店POS成交", "no store POS orders in the period"))],
        "asp": [("pos_units", Text("期内没有门店POS件数", "no store POS units in the period"))],
        "omni": [("pos_sales", Text("期内没有门店POS销售额", "no store POS sales in the period"))],
        "member_share": [("sales", Text("期内没有销售", "no sales in the period"))],
        "repeat_rate": [("member_buyers", Text("期内没有会员购买", "no member bought in the period"))],
        "reactivation_rate": [("sleepers_t0", Text("期初没有沉睡会员", "no sleeping members at the period start"))],
        "sales_per_hour": [("staff_hours", Text("没有出勤工时记录", "no staff hours recorded"))],
        "attainment": [("target_month", Text("缺少本月目标", "no target for this month"))],
        "progress_gap": [("target_month", Text("缺少本月目标", "no target for this month"))],
    }
    for column, reason in dependencies.get(key, []):
        base = row.get(column, np.nan)
        if base is None or pd.isna(base) or base == 0:
            return reason
    if key in ("yoy", "mom"):
        which = row.get("period_ly" if key == "yoy" else "period_prev", "")
        return Text(f"对比期 {which} 门店未营业或只营业了部分天数, 不可比",
                    f"the comparison period {which} is missing or partial for this store: not comparable")
    return Text("无数据", "no data")


# ---------------------------------------------------------------------------------------------------------------------
# Pure functions: attribution, weak point, what-if, prescriptions
# ---------------------------------------------------------------------------------------------------------------------
_WHERE = {"actual": Text("实际", "actual"), "benchmark": Text("对标", "benchmark")}


def _factor_values(values: Mapping[str, float], where: str) -> np.ndarray:
    out = np.array([float(values[f]) if values.get(f) is not None else np.nan for f in FACTORS], dtype="float64")
    bad = [f for f, v in zip(FACTORS, out) if not (np.isfinite(v) and v > 0)]
    if bad:
        names = ", ".join(KPIS[f].zh for f in bad)
        names_en = ", ".join(KPIS[f].en for f in bad)
        raise CompassNA(Text(f"{_WHERE[where].zh}的因子 {names} 缺失或不为正数, 无法拆解",
                             f"{where} factor(s) {names_en} missing or not positive: cannot attribute"))
    return out


def gap_attribution(actual: Mapping[str, float], benchmark: Mapping[str, float]) -> pd.DataFrame:
    """Split log(actual sales / benchmark sales) exactly into one term per factor, and into yuan.

    ``log_ratio`` of factor *i* is log(actual_i / benchmark_i); the terms add up to log(actual / benchmark) because
    sales is the product of the factors. Yuan are allocated with the logarithmic mean (LMDI):
    ``yuan_i = L(actual, benchmark) × log_ratio_i`` with ``L(a, b) = (a − b) / (ln a − ln b)`` (``= a`` when
    ``a = b``), i.e. proportional to the log terms, and they add up to actual − benchmark exactly.

    Parameters
    ----------
    actual, benchmark : mapping
        Values of every factor in :data:`FACTORS` (visitors, conversion, asp, upt, omni); all positive.

    Returns
    -------
    DataFrame
        One row per factor: ``factor``, ``label``, ``actual``, ``benchmark``, ``ratio``, ``log_ratio``, ``share``
        (of the total log gap; NaN when the gap is 0), ``yuan``.

    Examples
    --------
    >>> a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.3)
    >>> b = dict(visitors=1000, conversion=0.3, asp=300, upt=1.5, omni=1.3)
    >>> gap_attribution(a, b).set_index("factor").loc["conversion", "yuan"].round(0)
    np.float64(-58500.0)
    """
    a = _factor_values(actual, "actual")
    b = _factor_values(benchmark, "benchmark")
    terms = np.log(a) - np.log(b)
    sales_a, sales_b = float(np.prod(a)), float(np.prod(b))
    total = math.log(sales_a) - math.log(sales_b)
    log_mean = sales_a if sales_a == sales_b else (sales_a - sales_b) / total
    yuan = log_mean * terms
    return pd.DataFrame({
        "factor": list(FACTORS),
        "label": [KPIS[f].short_label for f in FACTORS],
        "actual": a,
        "benchmark": b,
        "ratio": a / b,
        "log_ratio": terms,
        "share": terms / total if total != 0 else np.full(len(FACTORS), np.nan),
        "yuan": yuan,
    })


@dataclass(frozen=True)
class WeakPoint:
    """The weak point (短板): the factor with the most negative log term, or ``key=None`` when none is negative."""

    key: str | None
    log_ratio: float
    yuan: float

    @property
    def text(self) -> Text:
        if self.key is None:
            return Text("没有低于对标的因子", "no factor is below the benchmark")
        k = KPIS[self.key]
        return Text(f"短板: {k.zh} (贡献 {self.yuan:+,.0f} 元, 对数差 {self.log_ratio:+.3f})",
                    f"weak point: {k.en} (contributes {self.yuan:+,.0f} yuan, log gap {self.log_ratio:+.3f})")


def weak_point(attribution: pd.DataFrame) -> WeakPoint:
    """The most negative term of :func:`gap_attribution` (ties: the first in tree order).

    Examples
    --------
    >>> a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.3)
    >>> b = dict(visitors=1000, conversion=0.3, asp=300, upt=1.5, omni=1.3)
    >>> weak_point(gap_attribution(a, b)).key
    'conversion'
    """
    terms = attribution["log_ratio"].to_numpy()
    i = int(np.argmin(terms))
    if not terms[i] < 0:
        return WeakPoint(None, 0.0, 0.0)
    return WeakPoint(str(attribution["factor"].iloc[i]), float(terms[i]), float(attribution["yuan"].iloc[i]))


def member_split(actual_sales: float, actual_member_sales: float, benchmark_sales: float,
                 benchmark_member_share: float) -> pd.DataFrame:
    """The gap in yuan split into members and non-members; the two rows add up to actual − benchmark exactly.

    Examples
    --------
    >>> member_split(100.0, 60.0, 120.0, 0.6)["gap"].tolist()
    [-12.0, -8.0]
    """
    share = float(benchmark_member_share)
    if not 0 <= share <= 1:
        raise CompassNA(Text("对标的会员占比缺失", "the benchmark's member share is missing"))
    bench_m = benchmark_sales * share
    actual = [actual_member_sales, actual_sales - actual_member_sales]
    bench = [bench_m, benchmark_sales - bench_m]
    return pd.DataFrame({
        "segment": ["member", "non_member"],
        "label": [label("会员", "members"), label("非会员", "non-members")],
        "actual": actual,
        "benchmark": bench,
        "gap": [x - y for x, y in zip(actual, bench)],
    })


def what_if(actual: Mapping[str, float], benchmark: Mapping[str, float], changes: Mapping[str, float],
            target: float | None = None) -> dict:
    """Improve factors by a percentage and project sales, attainment and the gap to the benchmark.

    Parameters
    ----------
    actual, benchmark : mapping
        Factor values (see :func:`gap_attribution`).
    changes : mapping
        ``{factor: percent}``, e.g. ``{"conversion": 10}`` for +10 %; unknown factors raise ``ValueError``.
    target : float, optional
        The sales target of the period (for the projected attainment).

    Returns
    -------
    dict
        ``sales``, ``projected_sales``, ``delta_sales``, ``attainment``, ``projected_attainment``, ``gap``,
        ``projected_gap`` (yuan vs the benchmark), ``gap_change``, ``weak_point`` (after the change, a key or None).

    Examples
    --------
    >>> a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.0)
    >>> round(what_if(a, a, {"conversion": 10})["projected_sales"])
    99000
    """
    unknown = sorted(set(changes) - set(FACTORS))
    if unknown:
        raise _error(f"未知因子 {unknown}; 可选: {', '.join(FACTORS)}",
                     f"unknown factor(s) {unknown}; choose from: {', '.join(FACTORS)}")
    for key, pct in changes.items():
        if not np.isfinite(pct) or pct <= -100:
            raise _error(f"{key} 的变化 {pct}% 无效 (须大于 -100%)", f"change {pct}% for {key} is invalid (must be > -100%)")
    a = _factor_values(actual, "actual")
    b = _factor_values(benchmark, "benchmark")
    multipliers = np.array([1 + changes.get(f, 0.0) / 100 for f in FACTORS])
    projected = a * multipliers
    sales, proj = float(np.prod(a)), float(np.prod(projected))
    bench = float(np.prod(b))
    has_target = target is not None and np.isfinite(target) and target > 0
    after = gap_attribution(dict(zip(FACTORS, projected)), dict(zip(FACTORS, b)))
    return {
        "sales": sales,
        "projected_sales": proj,
        "delta_sales": proj - sales,
        "attainment": sales / target if has_target else np.nan,
        "projected_attainment": proj / target if has_target else np.nan,
        "benchmark_sales": bench,
        "gap": sales - bench,
        "projected_gap": proj - bench,
        "gap_change": proj - sales,
        "weak_point": weak_point(after).key,
    }


# Course actions (处方): what each weak factor or KPI calls for.
ACTIONS: dict[str, tuple[str, Text]] = {
    "community_activity": ("visitors", Text("社群活动引流 (企微群新品/穿搭直播、到店福利)",
                                            "community (社群) activity: new-arrival and styling sessions in the WeCom "
                                            "group, in-store perks")),
    "reactivation_campaign": ("visitors", Text("沉睡会员唤醒活动 (分层触达、分批发券, 设对照组)",
                                               "reactivation campaign for sleeping members (tiered contact, coupons "
                                               "in waves, with a holdout group)")),
    "storefront_display": ("entry_rate", Text("橱窗与门口陈列更新、门口迎宾", "refresh the window and entrance "
                                              "display; greet at the door")),
    "fitting_room_service": ("conversion", Text("试衣间服务 (主动递尺码、搭配建议、试穿跟进)",
                                                "fitting-room service (bring sizes, suggest outfits, follow up every "
                                                "try-on)")),
    "staff_coaching": ("conversion", Text("导购销售技巧辅导 (接待、需求探询、促成成交)",
                                          "staff coaching on the sales steps (greet, discover needs, close)")),
    "peak_scheduling": ("conversion", Text("按客流高峰排班, 保证高峰时段有人接待",
                                           "schedule staff to the traffic peaks so every visitor is served")),
    "styling_addon": ("upt", Text("搭配销售、连带推荐 (整套搭配、配饰加购)",
                                  "styling and add-on selling (complete outfits, accessories at the till)")),
    "bundle_offer": ("upt", Text("组合优惠 (第二件折扣、套装价)", "bundle offers (second item off, outfit price)")),
    "full_price_focus": ("asp", Text("新品与正价货品陈列前置, 控制折扣深度",
                                     "put new and full-price items up front; keep discounts shallow")),
    "upsell_quality": ("asp", Text("讲面料与工艺, 推荐更高价位的单品", "sell fabric and make; recommend the "
                                   "higher-priced option")),
    "omni_community_sales": ("omni", Text("社群与小程序运营 (群内上新、小程序下单门店发货/自提)",
                                          "community and mini-program selling (launches in the group, order online "
                                          "and ship or collect in store)")),
    "follow_up_90": ("repeat_rate", Text("90 天跟进: 购后 48 小时、3 天、7 天关怀 (合身、洗护、搭配) 与复购券",
                                         "the 90-day follow-up: care contact at 48 hours, 3 and 7 days (fit, washing, "
                                         "styling) and a second-purchase coupon")),
    "activation_list": ("repeat_rate", Text("第 4 课的激活名单: 90 天以上未复购的会员定期盘点并激活",
                                            "the activation lists from lesson 4: take stock of members with no repeat "
                                            "in 90+ days and activate them")),
    "member_signup": ("member_share", Text("收银时邀请入会, 讲清会员权益", "invite every buyer to join at the till; "
                                           "explain the member benefits")),
}
# Which KPIs map to which factor's actions (a KPI below benchmark calls for the actions of its key).
_ACTION_KEYS = {"atv": ("asp", "upt"), "reactivation_rate": ("visitors",), "new_members": ("member_share",),
                "active_members": ("repeat_rate",)}


def prescriptions(keys) -> pd.DataFrame:
    """The course's actions (处方) for weak factors or KPIs, in the order given.

    Parameters
    ----------
    keys : str or list of str
        Factor or KPI keys, e.g. ``"upt"`` or ``["conversion", "repeat_rate"]``.

    Returns
    -------
    DataFrame
        ``for_kpi``, ``action`` (id), ``zh``, ``en``.

    Examples
    --------
    >>> prescriptions("upt")["action"].tolist()
    ['styling_addon', 'bundle_offer']
    """
    if isinstance(keys, str):
        keys = [keys]
    rows = []
    for key in keys:
        if key not in KPIS:
            raise _error(f"未知指标 {key!r}", f"unknown KPI {key!r}")
        targets = _ACTION_KEYS.get(key, (key,))
        for action, (for_key, text) in ACTIONS.items():
            if for_key in targets and action not in {r["action"] for r in rows}:
                rows.append({"for_kpi": key, "action": action, "zh": text.zh, "en": text.en})
    return pd.DataFrame(rows, columns=["for_kpi", "action", "zh", "en"])


# ---------------------------------------------------------------------------------------------------------------------
# The cube: the KPI table computed once, with benchmarks looked up on demand
# ---------------------------------------------------------------------------------------------------------------------
@dataclass
class Benchmark:
    """A benchmark's factor profile, sales, member share and KPI values (for the radar), or ``reason`` if n/a."""

    kind: str
    factors: dict = field(default_factory=dict)
    sales: float = float("nan")
    member_share: float = float("nan")
    kpis: dict = field(default_factory=dict)
    reason: Text | None = None

    @property
    def available(self) -> bool:
        return self.reason is None


class CompassCube:
    """The KPI table of every store and period, computed once; lookups for the compass app are cheap.

    Build it with :func:`compass_cube`. ``table`` is the :func:`kpi_table` frame indexed by (store_id, period).
    """

    def __init__(self, table: pd.DataFrame, stores: pd.DataFrame | None = None):
        self.table = table.set_index(["store_id", "period"]).sort_index()
        self.stores = tuple(sorted(table["store_id"].unique()))
        names = {} if stores is None else dict(zip(stores["store_id"].astype(str), stores.get("store_name", [])))
        self.store_names = {s: names.get(s, s) for s in self.stores}
        requested = table.loc[table["requested"], ["period", "start", "end"]].drop_duplicates("period")
        self.periods = tuple(requested.sort_values(["start", "end"])["period"])
        self._rows: dict = {}
        self._peer_cache: dict = {}

    # -- lookups --------------------------------------------------------------------------------------------------
    def check_store(self, store: str) -> str:
        if store not in self.stores:
            raise _error(f"未知门店 {store!r}; 可选: {', '.join(self.stores)}",
                         f"unknown store id {store!r}; choose one of: {', '.join(self.stores)}")
        return store

    def row(self, store: str, period: str) -> pd.Series:
        """The KPI row of one store and period (``ValueError`` for an unknown store or period)."""
        key = (self.check_store(store), parse_period(period).label)
        if key not in self._rows:
            if key not in self.table.index:
                raise _error(f"期间 {key[1]} 不在罗盘中; 可选: {', '.join(self.periods)}",
                             f"period {key[1]} is not in the compass; choose one of: {', '.join(self.periods)}")
            self._rows[key] = self.table.loc[key]
        return self._rows[key]

    def kpis(self, store: str, period: str) -> pd.DataFrame:
        """One store's KPIs for one period: key, label, value, display (``n/a`` when missing), unit, reason."""
        row = self.row(store, period)
        records = []
        for k in KPIS.values():
            value = row[k.key]
            reason = na_reason(row, k.key)
            records.append({"key": k.key, "group": str(_GROUPS[k.group]), "label": k.label, "value": value,
                            "display": k.format(value), "unit": k.unit, "reason": "" if reason is None else str(reason)})
        return pd.DataFrame(records)

    def _peers(self, period: str, exclude: str) -> pd.DataFrame:
        key = (period, exclude)
        if key not in self._peer_cache:
            rows = self.table.xs(period, level="period")
            ok = (rows["days_open"] == rows["days"]) & (rows["visitors"] > 0) & (rows["pos_units"] > 0)
            self._peer_cache[key] = rows[ok & (rows.index != exclude)]
        return self._peer_cache[key]

    def benchmark(self, store: str, period: str, kind: str = "target") -> Benchmark:
        """The benchmark profile of one store and period (see the module docstring for each ``kind``)."""
        if kind not in BENCHMARKS:
            raise _error(f"未知对标 {kind!r}; 可选: {', '.join(BENCHMARKS)}",
                         f"unknown benchmark {kind!r}; choose one of: {', '.join(BENCHMARKS)}")
        row = self.row(store, period)
        label_ = parse_period(period).label
        if kind == "last_year":
            ly = row["period_ly"]
            if (store, ly) not in self.table.index or not (self.table.loc[(store, ly), "days_open"]
                                                            == self.table.loc[(store, ly), "days"]):
                return Benchmark(kind, reason=Text(f"去年同期 ({ly}) 门店未营业或只营业了部分天数, 无法对比",
                                                   f"same period last year ({ly}) is missing or partial for this "
                                                   "store: no comparison"))
            other = self.table.loc[(store, ly)]
            return Benchmark(kind, {f: float(other[f]) for f in FACTORS}, float(other["sales"]),
                             float(other["member_share"]), {k: float(other[k]) for k in RADAR_KPIS})
        peers = self._peers(label_, store)
        if peers.empty:
            return Benchmark(kind, reason=Text("该期间没有可比的同类门店", "no comparable peer store in this period"))
        med = peers[list(dict.fromkeys([*FACTORS, *RADAR_KPIS, "member_share"]))].median()
        per_day = float((peers["visitors"] / peers["days_open"]).median())
        factors = {f: float(med[f]) for f in FACTORS}
        factors["visitors"] = per_day * float(row["days_open"])
        radar = {k: float(med[k]) for k in RADAR_KPIS}
        if kind == "peers":
            sales = float(np.prod([factors[f] for f in FACTORS]))
            return Benchmark(kind, factors, sales, float(med["member_share"]), radar)
        # target: peer mix at the store's own visitors, scaled evenly to the (pro-rated) target.
        target = float(row["target_month"]) * float(row["time_progress"])
        if not (np.isfinite(target) and target > 0):
            return Benchmark(kind, reason=Text("缺少本月目标, 无法对比目标", "no target for this month: no comparison "
                                               "with target"))
        if not row["visitors"] > 0:
            return Benchmark(kind, reason=Text("期内进店人数为 0, 无法拆解目标", "no visitors in the period: the target "
                                               "cannot be split"))
        factors["visitors"] = float(row["visitors"])
        base = float(np.prod([factors[f] for f in FACTORS]))
        scale = (target / base) ** (1 / len(FACTORS))
        factors = {f: v * scale for f, v in factors.items()}
        radar.update({
            "conversion": factors["conversion"], "asp": factors["asp"], "upt": factors["upt"],
            "omni": factors["omni"], "atv": factors["asp"] * factors["upt"],
            "sales_per_m2": target / (row["area_m2"] * row["days_open"]) if row["days_open"] > 0 else np.nan,
            "sales_per_hour": target / row["staff_hours"] if row["staff_hours"] > 0 else np.nan,
        })
        return Benchmark(kind, factors, target, float(med["member_share"]), radar)

    def _actual(self, store: str, period: str) -> dict:
        row = self.row(store, period)
        return {f: float(row[f]) for f in FACTORS}

    def attribution(self, store: str, period: str, kind: str = "target") -> pd.DataFrame:
        """:func:`gap_attribution` of one store and period against a benchmark (``CompassNA`` when n/a)."""
        bench = self.benchmark(store, period, kind)
        if not bench.available:
            raise CompassNA(bench.reason)
        return gap_attribution(self._actual(store, period), bench.factors)

    def weak_point(self, store: str, period: str, kind: str = "target") -> WeakPoint:
        """The weak point (短板) of one store and period against a benchmark."""
        return weak_point(self.attribution(store, period, kind))

    def member_split(self, store: str, period: str, kind: str = "target") -> pd.DataFrame:
        """The gap in yuan split into member and non-member sales."""
        bench = self.benchmark(store, period, kind)
        if not bench.available:
            raise CompassNA(bench.reason)
        row = self.row(store, period)
        return member_split(float(row["sales"]), float(row["member_sales"]), bench.sales, bench.member_share)

    def what_if(self, store: str, period: str, changes: Mapping[str, float], kind: str = "target") -> dict:
        """:func:`what_if` of one store and period; the projected attainment is against the month's target."""
        bench = self.benchmark(store, period, kind)
        if not bench.available:
            raise CompassNA(bench.reason)
        row = self.row(store, period)
        return what_if(self._actual(store, period), bench.factors, changes, float(row["target_month"]))

    def radar(self, store: str, period: str, kind: str = "target") -> pd.DataFrame:
        """KPI ratios to the benchmark for the radar: key, label, actual, benchmark, ratio (> 1 = better)."""
        bench = self.benchmark(store, period, kind)
        if not bench.available:
            raise CompassNA(bench.reason)
        row = self.row(store, period)
        records = []
        for key in RADAR_KPIS:
            k = KPIS[key]
            a, b = float(row[key]), bench.kpis.get(key, np.nan)
            ratio = a / b if (np.isfinite(a) and np.isfinite(b) and b > 0) else np.nan
            if k.higher_is_better is False and np.isfinite(ratio) and ratio > 0:
                ratio = 1 / ratio
            records.append({"key": key, "zh": k.zh, "en": k.en, "label": k.short_label, "actual": a, "benchmark": b,
                            "ratio": ratio})
        return pd.DataFrame(records)

    def prescribe(self, store: str, period: str, kind: str = "target", top: int = 2) -> pd.DataFrame:
        """Actions for the ``top`` most negative factors, and for member KPIs below the benchmark."""
        attribution = self.attribution(store, period, kind)
        negative = attribution[attribution["log_ratio"] < 0].sort_values("log_ratio", kind="stable")
        keys = list(negative["factor"].head(top))
        radar = self.radar(store, period, kind).set_index("key")
        if radar.loc["repeat_rate", "ratio"] < 0.95:
            keys.append("repeat_rate")
        return prescriptions(keys)

    def ranking(self, period: str, kpi: str = "attainment") -> pd.DataFrame:
        """All stores' values of one KPI in a period, best first (n/a last)."""
        if kpi not in KPIS:
            raise _error(f"未知指标 {kpi!r}", f"unknown KPI {kpi!r}")
        rows = self.table.xs(parse_period(period).label, level="period")
        out = pd.DataFrame({"store_id": rows.index, "store_name": [self.store_names[s] for s in rows.index],
                            kpi: rows[kpi].to_numpy()})
        ascending = KPIS[kpi].higher_is_better is False
        return out.sort_values(kpi, ascending=ascending, na_position="last", kind="stable", ignore_index=True)


def compass_cube(transactions=None, footfall=None, members=None, stores=None, targets=None, periods=None,
                 **options) -> CompassCube:
    """Compute the compass once for every store and period; with no data given, for the course dataset.

    The course cube (all months plus the month-to-date period ``"2025-06-15"``) is cached, so widgets, the
    notebook and the exercise checks share it.

    Examples
    --------
    >>> cube = compass_cube()                  # doctest: +SKIP
    >>> cube.kpis("S02", "2025-05").head(3)    # doctest: +SKIP
    """
    given = [x is not None for x in (transactions, footfall, members, stores, targets)]
    if not any(given) and periods is None and not options:
        return _course_cube()
    if not all(given):
        raise _error("请同时提供 transactions, footfall, members, stores, targets (或都不提供, 使用课程数据)",
                     "give all of transactions, footfall, members, stores, targets (or none, for the course data)")
    table = kpi_table(transactions, footfall, members, stores, targets, periods, **options)
    return CompassCube(table, stores)


COURSE_MTD = "2025-06-15"


@lru_cache(maxsize=1)
def _course_cube() -> CompassCube:
    from opskit.datasets import load_footfall, load_members, load_stores, load_targets, load_transactions

    footfall = load_footfall()
    months = [str(m) for m in pd.period_range(footfall["date"].min(), footfall["date"].max(), freq="M")]
    stores = load_stores()
    table = kpi_table(load_transactions(), footfall, load_members(), stores, load_targets(), [*months, COURSE_MTD])
    return CompassCube(table, stores)
