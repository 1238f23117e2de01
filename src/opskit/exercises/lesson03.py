"""Lesson 03 (CLV prediction, 客户终身价值预测): five exercises on the BG/NBD and Gamma-Gamma models.

The notebook defines, before the exercises (course data, members only, time unit = days)::

    purchases        # DataFrame: order_id, purchase_day (a date), kind ("sale"/"return"), amount — every row of one
                     # member, including returns and purchases after the calibration end
    calibration_end  # pd.Timestamp("2024-12-31"), the last day of the calibration period (校准期)
    summary          # opskit.clv.summary_from_transactions(members, observation_end="2024-12-31"): frequency, recency,
                     # T (days) and monetary_value per member
    bgnbd            # opskit.clv.fit_bgnbd(summary), time unit days
    gamma_gamma      # opskit.clv.fit_gamma_gamma(summary)
    member_a         # a member who bought 4 times after her first purchase, the last time 12 days before the end
    member_b         # a member with the same 4 repeat purchases, the last one more than a year before the end
    calhold          # opskit.clv.calibration_and_holdout(...): *_cal columns, frequency_holdout, duration_holdout

- q1 ``frequency, recency, T``: one member's summary by hand, with lifetimes' semantics (sales only, same-day orders
  merge, frequency = repeat purchase days, recency = first → last purchase, T = first purchase → calibration end).
- q2 ``p_alive_a, p_alive_b``: P(alive) of the two members.
- q3 ``expected_next_quarter``: member A's expected purchases in the next quarter (3 months = 90 days; the model
  counts time in days).
- q4 ``clv_a``: member A's 12-month CLV with an annual discount rate of 12 % turned into a monthly rate.
- q5 ``holdout_pct_error``: the error of the predicted total of holdout purchases, in percent of the actual total.

Expected values are functions of the notebook namespace, so the same checkers work on the course data in the notebook
and on the small hand-made ``SETUP`` below in the tests (models built from given parameters, no fitting).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit import clv
from opskit.exercises.compare import compare_numbers, is_number
from opskit.exercises.core import Attempt, Examples, Mistake, Problem, code
from opskit.i18n import Text

# --------------------------------------------------------------------------------------------------------------------
# SETUP: a small hand-made namespace with the same variables as the notebook
# --------------------------------------------------------------------------------------------------------------------
_CALIBRATION_END = pd.Timestamp("2024-12-31")

# Same-day orders (7 sale orders on 4 days), two return days and two purchases after the end, so that each
# anticipated mistake gives a different frequency: orders − 1 = 6, days = 4, days with returns − 1 = 5, right = 3.
_PURCHASES = pd.DataFrame(
    {
        "order_id": ["O1", "O1", "O2", "O3", "O4", "O5", "O9", "O6", "O6", "O7", "O8"],
        "purchase_day": pd.to_datetime(
            ["2023-04-02", "2023-04-09", "2023-06-18", "2023-06-18", "2023-11-11", "2023-11-11", "2023-11-11",
             "2024-05-20", "2024-05-28", "2025-01-15", "2025-03-08"]
        ),
        "kind": ["sale", "return", "sale", "sale", "sale", "sale", "sale", "sale", "return", "sale", "sale"],
        "amount": [520.0, -180.0, 260.0, 140.0, 890.0, 99.0, 159.0, 430.0, -430.0, 310.0, 275.0],
    }
)

_SUMMARY = pd.DataFrame(
    {
        "frequency": [4.0, 4.0, 0.0, 1.0, 9.0, 2.0],
        "recency": [570.0, 216.0, 0.0, 40.0, 600.0, 300.0],
        "T": [582.0, 589.0, 589.0, 400.0, 700.0, 650.0],
        "monetary_value": [520.0, 310.0, 0.0, 199.0, 640.0, 455.0],
    },
    index=pd.Index(["M1", "M2", "M3", "M4", "M5", "M6"], name="customer_id"),
)
_SUMMARY.attrs.update(freq="D", freq_multiplier=1)

_CALHOLD = _SUMMARY.rename(columns=lambda c: f"{c}_cal")
_CALHOLD["frequency_holdout"] = [3.0, 0.0, 0.0, 1.0, 4.0, 1.0]
_CALHOLD["duration_holdout"] = 181.0

# Rounded from the course data's fit (days).
_BGNBD = clv.BGNBDModel.from_params(0.92, 114.0, 0.77, 3.94, freq="D")
_GAMMA_GAMMA = clv.GammaGammaModel.from_params(3.35, 4.16, 453.0)

SETUP = {
    "purchases": _PURCHASES,
    "calibration_end": _CALIBRATION_END,
    "summary": _SUMMARY,
    "bgnbd": _BGNBD,
    "gamma_gamma": _GAMMA_GAMMA,
    "member_a": "M1",
    "member_b": "M2",
    "calhold": _CALHOLD,
}


# --------------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------------

def _close(value: object, target: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return is_number(value) and bool(np.isfinite(float(value))) and compare_numbers(value, target, atol=atol,
                                                                                     rtol=rtol)[0]


def _triple(value: object) -> tuple[float, float, float] | None:
    if isinstance(value, tuple) and len(value) == 3 and all(is_number(v) for v in value):
        return tuple(float(v) for v in value)  # type: ignore[return-value]
    return None


def _one(ns, member: str) -> pd.DataFrame:
    return ns["summary"].loc[[ns[member]]]


# --------------------------------------------------------------------------------------------------------------------
# q1 frequency, recency, T by hand
# --------------------------------------------------------------------------------------------------------------------
def _frt(ns, *, sales_only: bool = True, up_to_end: bool = True, merge_days: bool = True) -> tuple[int, int, int]:
    rows, end = ns["purchases"], pd.Timestamp(ns["calibration_end"])
    if sales_only:
        rows = rows[rows["kind"] == "sale"]
    if up_to_end:
        rows = rows[rows["purchase_day"] <= end]
    days = rows["purchase_day"].drop_duplicates().sort_values()
    first, last = days.iloc[0], days.iloc[-1]
    count = len(days) if merge_days else len(rows)
    return count - 1, (last - first).days, (end - first).days


def _frt_expected(ns) -> tuple[int, int, int]:
    return _frt(ns)


def _component(attempt: Attempt, position: int, target: float) -> bool:
    value = _triple(attempt.value)
    return value is not None and value[position] == target and value[position] != attempt.expected[position]


class FrequencyRecencyT(Problem):
    """q1: one member's frequency, recency and T in days, with lifetimes' semantics."""

    vars = ("frequency", "recency", "T")
    title = Text("手算一位会员的 frequency、recency、T", "frequency, recency and T of one member by hand")
    hints = [
        Text(
            "只用销售 (kind == \"sale\") 且在校准期结束日及之前的行; 退货不是一次购买。同一天的多笔订单算一次购买: "
            "先取不重复的购买日期 (drop_duplicates)。",
            'Use only sale rows (kind == "sale") on or before calibration_end: a return is not a purchase. Several '
            "orders on the same day are one purchase: take the distinct purchase days first (drop_duplicates).",
        ),
        Text(
            "frequency = 不重复购买日数 − 1 (回购次数, 首购不算); recency = 末次购买日 − 首次购买日 (天); "
            "T = calibration_end − 首次购买日 (天)。用 .days 取天数。",
            "frequency = distinct purchase days − 1 (repeat purchases: the first one is not a repeat); recency = last "
            "purchase day − first purchase day (days); T = calibration_end − first purchase day (days). .days turns a "
            "time span into a number of days.",
        ),
    ]
    solution = code(
        'sales = purchases[(purchases["kind"] == "sale") & (purchases["purchase_day"] <= calibration_end)]\n'
        'days = sales["purchase_day"].drop_duplicates()   # 同一天的订单算一次购买 (same-day orders merge)\n'
        "frequency = len(days) - 1                         # 回购次数 (repeat purchase days)\n"
        "recency = (days.max() - days.min()).days          # 首购 → 末次购买 (first → last purchase)\n"
        "T = (calibration_end - days.min()).days           # 首购 → 校准期结束 (first purchase → end)"
    )
    expected = staticmethod(_frt_expected)
    mistakes = [
        Mistake(
            key="orders_not_days",
            test=lambda a: _component(a, 0, _frt(a.namespace, merge_days=False)[0]),
            message=Text(
                "frequency 数的是不重复的购买 *日期* 减 1: 同一天的两笔订单是一次购买 (lifetimes 按天合并)",
                "frequency counts distinct purchase *days* minus 1: two orders on the same day are one purchase "
                "(lifetimes merges them by day)",
            ),
        ),
        Mistake(
            key="not_minus_one",
            test=lambda a: _component(a, 0, a.expected[0] + 1),
            message=Text(
                "frequency 是 *回购* 次数: 首次购买不算, 要减 1",
                "frequency counts *repeat* purchases: the first purchase is not a repeat, subtract 1",
            ),
        ),
        Mistake(
            key="after_end",
            test=lambda a: (v := _triple(a.value)) is not None
            and v[:2] == tuple(float(x) for x in _frt(a.namespace, up_to_end=False)[:2]) and v[:2] != a.expected[:2],
            message=Text(
                "校准期结束之后的购买也算进去了: 先筛选 purchase_day <= calibration_end",
                "purchases after the calibration end were counted: keep purchase_day <= calibration_end first",
            ),
        ),
        Mistake(
            key="returns_counted",
            test=lambda a: _component(a, 0, _frt(a.namespace, sales_only=False)[0]),
            message=Text(
                "退货行也被当成了购买日: 只保留 kind == \"sale\" 的行",
                'return rows were counted as purchase days: keep only the rows with kind == "sale"',
            ),
        ),
        Mistake(
            key="rfm_recency",
            test=lambda a: _component(a, 1, a.expected[2] - a.expected[1]),
            message=Text(
                "这是 RFM 的 R (距末次购买的天数)。lifetimes 的 recency 是顾客末次购买时的 '年龄': 末次 − 首次购买日",
                "that is RFM's R (days since the last purchase). In lifetimes, recency is the customer's age at her "
                "last purchase: last − first purchase day",
            ),
        ),
        Mistake(
            key="t_from_last",
            test=lambda a: _component(a, 2, a.expected[2] - a.expected[1]),
            message=Text(
                "T 从 *首次* 购买算到校准期结束, 不是从末次购买算",
                "T runs from the *first* purchase to the calibration end, not from the last purchase",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------------------------
# q2 P(alive) of two members
# --------------------------------------------------------------------------------------------------------------------
def _p_alive(ns) -> tuple[float, float]:
    p = ns["bgnbd"].p_alive(ns["summary"])
    return float(p.loc[ns["member_a"]]), float(p.loc[ns["member_b"]])


def _pair(value: object) -> tuple[float, float] | None:
    if isinstance(value, tuple) and len(value) == 2 and all(is_number(v) for v in value):
        return float(value[0]), float(value[1])
    return None


def _pair_close(value: object, target: tuple[float, float], atol: float = 6e-4) -> bool:
    pair = _pair(value)
    return pair is not None and all(abs(v - t) <= atol for v, t in zip(pair, target))


class ProbabilityAlive(Problem):
    """q2: P(alive) of member A and member B."""

    vars = ("p_alive_a", "p_alive_b")
    title = Text("两位会员仍活跃的概率 P(alive)", "P(alive) of two members")
    hints = [
        Text(
            "bgnbd.p_alive(summary) 给出每位会员的 P(alive) (一个 Series, 以会员编号为索引); 用 .loc[member_a] 取出一位。",
            "bgnbd.p_alive(summary) gives every member's P(alive) (a Series indexed by member id); pick one with "
            ".loc[member_a].",
        ),
        Text(
            "结果是 0 到 1 之间的概率, 不要乘以 100。也可以用公式: 1 / (1 + a/(b+x−1) × ((α+T)/(α+t_x))^(r+x))。",
            "The result is a probability between 0 and 1: don't multiply by 100. The formula works too: "
            "1 / (1 + a/(b+x−1) × ((α+T)/(α+t_x))^(r+x)).",
        ),
    ]
    solution = code(
        "p_alive = bgnbd.p_alive(summary)   # 每位会员一个值 (one value per member)\n"
        "p_alive_a = p_alive.loc[member_a]\n"
        "p_alive_b = p_alive.loc[member_b]"
    )
    expected = staticmethod(_p_alive)
    compare_options = {"atol": 6e-4}  # round(p, 3) is accepted
    mistakes = [
        Mistake(
            key="swapped",
            test=lambda a: _pair_close(a.value, a.expected[::-1]),
            message=Text("两个值放反了: p_alive_a 属于 member_a", "the two values are swapped: p_alive_a belongs to member_a"),
        ),
        Mistake(
            key="percent",
            test=lambda a: _pair_close(a.value, tuple(100 * v for v in a.expected), atol=0.06),
            message=Text("请用 0 到 1 之间的概率, 不要乘以 100", "give probabilities between 0 and 1, not percentages"),
        ),
        Mistake(
            key="one_minus",
            test=lambda a: _pair_close(a.value, tuple(1 - v for v in a.expected)),
            message=Text(
                "这是已经离开的概率 1 − P(alive): 题目要的是仍活跃的概率",
                "that is the probability she has left, 1 − P(alive): the task asks for the probability she is still "
                "active",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------------------------
# q3 expected purchases in the next quarter (90 days)
# --------------------------------------------------------------------------------------------------------------------
_QUARTER_DAYS = (90.0, 92.0)  # 3 × 30 days as lifetimes counts a month, up to the longest calendar quarter


def _expected_purchases(ns, horizon: float, member: str = "member_a") -> float:
    return float(ns["bgnbd"].expected_purchases(_one(ns, member), horizon).iloc[0])


def _near(attempt: Attempt, target: float) -> bool:
    return _close(attempt.value, target, rtol=1e-3, atol=1e-4)


class ExpectedNextQuarter(Problem):
    """q3: member A's expected purchases over the next quarter; the horizon is in the model's unit, days."""

    var = "expected_next_quarter"
    title = Text("会员 A 下一季度的预期购买次数", "member A's expected purchases next quarter")
    hints = [
        Text(
            "bgnbd.expected_purchases(顾客表, horizon) 的 horizon 用模型的时间单位: 这里模型按 *天* 拟合, "
            "所以一个季度 (3 个月) 是 90 天, 不是 3。",
            "The horizon of bgnbd.expected_purchases(table, horizon) is in the model's time unit: this model was "
            "fitted in *days*, so a quarter (3 months) is 90 days, not 3.",
        ),
        Text(
            "只取会员 A 的一行: summary.loc[[member_a]] (双层方括号保留表格), 再用 .iloc[0] 取出数值。",
            "Take member A's row only: summary.loc[[member_a]] (double brackets keep a table), then .iloc[0] for "
            "the number.",
        ),
    ]
    solution = code(
        "# 模型按天计时: 3 个月 = 90 天 (the model counts days: 3 months = 90 days)\n"
        "expected_next_quarter = bgnbd.expected_purchases(summary.loc[[member_a]], 90).iloc[0]"
    )
    expected = staticmethod(lambda ns: _expected_purchases(ns, _QUARTER_DAYS[0]))
    mistakes = [
        Mistake(
            key="months_not_days",
            test=lambda a: _near(a, _expected_purchases(a.namespace, 3.0)),
            message=Text(
                "horizon 用了 3, 模型却按天计时: 这是 3 *天* 内的预期购买次数。一个季度 = 90 天",
                "you used a horizon of 3, but the model counts days: that is the expectation over 3 *days*. A quarter "
                "is 90 days",
            ),
        ),
        Mistake(
            key="weeks_not_days",
            test=lambda a: _near(a, _expected_purchases(a.namespace, 13.0)),
            message=Text(
                "horizon 用了 13 (周), 模型却按天计时: 一个季度 = 90 天",
                "you used 13 (weeks), but the model counts days: a quarter is 90 days",
            ),
        ),
        Mistake(
            key="new_customer",
            test=lambda a: _near(a, float(a.namespace["bgnbd"].expected_purchases_new_customer(90.0))),
            message=Text(
                "这是一位 *新* 顾客首购后 90 天内的预期回购次数, 没有用到会员 A 的历史: 用 expected_purchases(她的那一行, 90)",
                "that is the expectation for a *new* customer, without member A's history: use "
                "expected_purchases(her row, 90)",
            ),
        ),
        Mistake(
            key="other_member",
            test=lambda a: _near(a, _expected_purchases(a.namespace, 90.0, "member_b")),
            message=Text("这是会员 B 的结果: 题目问的是 member_a", "that is member B's result: the task asks about member_a"),
        ),
    ]

    def check_value(self, value):
        if not is_number(value) or not np.isfinite(float(value)):
            return False, Text("请给出一个数 (预期购买次数)", "give one number (the expected number of purchases)")
        low, high = (_expected_purchases(self.namespace, days) for days in _QUARTER_DAYS)
        return bool(low * (1 - 1e-3) - 1e-4 <= float(value) <= high * (1 + 1e-3) + 1e-4), None


# --------------------------------------------------------------------------------------------------------------------
# q4 CLV over 12 months with a monthly discount rate
# --------------------------------------------------------------------------------------------------------------------
_ANNUAL_RATE = 0.12


def _monthly_rate(annual: float = _ANNUAL_RATE) -> float:
    return (1 + annual) ** (1 / 12) - 1


def _clv(ns, months: int = 12, rate: float | None = None) -> float:
    rate = _monthly_rate() if rate is None else rate
    value = clv.customer_lifetime_value(_one(ns, "member_a"), ns["bgnbd"], ns["gamma_gamma"], months=months,
                                        monthly_discount_rate=rate)
    return float(value.iloc[0])


def _series_holding_answer(attempt: Attempt) -> bool:
    value = attempt.value
    return (
        isinstance(value, pd.Series)
        and attempt.namespace["member_a"] in value.index
        and _close(value.loc[attempt.namespace["member_a"]], attempt.expected, rtol=2e-4)
    )


class CustomerLifetimeValue(Problem):
    """q4: member A's 12-month CLV, discounted monthly at the monthly equivalent of 12 % a year."""

    var = "clv_a"
    title = Text("会员 A 的 12 个月 CLV (月折现率)", "member A's 12-month CLV with a monthly discount rate")
    hints = [
        Text(
            "customer_lifetime_value 的折现率是 *每月* 的: 年利率 12% 对应的月利率是 (1 + 0.12) ** (1/12) − 1 ≈ 0.95%, "
            "不是 0.12。",
            "customer_lifetime_value discounts *per month*: a 12 % annual rate is a monthly rate of "
            "(1 + 0.12) ** (1/12) − 1 ≈ 0.95 %, not 0.12.",
        ),
        Text(
            "clv.customer_lifetime_value(summary.loc[[member_a]], bgnbd, gamma_gamma, months=12, "
            "monthly_discount_rate=monthly_rate) 返回一个 Series; 用 .iloc[0] 取出数值。",
            "clv.customer_lifetime_value(summary.loc[[member_a]], bgnbd, gamma_gamma, months=12, "
            "monthly_discount_rate=monthly_rate) returns a Series; .iloc[0] gives the number.",
        ),
    ]
    solution = code(
        "from opskit import clv\n"
        "\n"
        "monthly_rate = (1 + 0.12) ** (1 / 12) - 1   # 年 12% → 每月约 0.95% (12 % a year → about 0.95 % a month)\n"
        "clv_a = clv.customer_lifetime_value(summary.loc[[member_a]], bgnbd, gamma_gamma, months=12,\n"
        "                                    monthly_discount_rate=monthly_rate).iloc[0]"
    )
    expected = staticmethod(_clv)
    compare_options = {"rtol": 2e-4, "atol": 0.006}  # round(clv_a, 2) is accepted
    mistakes = [
        Mistake(
            key="annual_as_monthly",
            test=lambda a: _close(a.value, _clv(a.namespace, rate=_ANNUAL_RATE), rtol=2e-4),
            message=Text(
                "把年利率 0.12 当成了月利率: 每个月都折掉 12%, CLV 被大大低估。先换算: (1 + 0.12) ** (1/12) − 1",
                "the annual rate 0.12 was used as a monthly rate: 12 % off every month undervalues the customer badly. "
                "Convert first: (1 + 0.12) ** (1/12) − 1",
            ),
        ),
        Mistake(
            key="simple_monthly",
            test=lambda a: _close(a.value, _clv(a.namespace, rate=_ANNUAL_RATE / 12), rtol=2e-4),
            message=Text(
                "很接近! 0.12 / 12 = 1% 是近似值, 复利换算更准确: (1 + 0.12) ** (1/12) − 1 ≈ 0.949%",
                "very close! 0.12 / 12 = 1 % is an approximation; the compound conversion is exact: "
                "(1 + 0.12) ** (1/12) − 1 ≈ 0.949 %",
            ),
        ),
        Mistake(
            key="undiscounted",
            test=lambda a: _close(a.value, _clv(a.namespace, rate=0.0), rtol=2e-4),
            message=Text(
                "没有折现 (折现率 0): 明年的一元钱不等于今天的一元钱, 请用月折现率",
                "not discounted (rate 0): a yuan next year is worth less than a yuan today; use the monthly rate",
            ),
        ),
        Mistake(
            key="whole_table",
            test=_series_holding_answer,
            message=Text(
                "这是一个 Series (可能包含所有会员): 取出会员 A 的数值, 例如 .loc[member_a] 或 .iloc[0]",
                "that is a Series (maybe of every member): take member A's number, e.g. .loc[member_a] or .iloc[0]",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------------------------
# q5 holdout error of the total
# --------------------------------------------------------------------------------------------------------------------
_CAL_COLUMNS = ("frequency_cal", "recency_cal", "T_cal")


def _holdout_totals(ns, horizon: float | None = None) -> tuple[float, float]:
    calhold = ns["calhold"]
    horizon = float(calhold["duration_holdout"].iloc[0]) if horizon is None else horizon
    predicted = ns["bgnbd"].expected_purchases(calhold, horizon, *_CAL_COLUMNS).sum()
    return float(predicted), float(calhold["frequency_holdout"].sum())


def _pct_error(ns, horizon: float | None = None) -> float:
    predicted, actual = _holdout_totals(ns, horizon)
    return 100 * (predicted - actual) / actual


class HoldoutError(Problem):
    """q5: percentage error of the predicted total of holdout purchases."""

    var = "holdout_pct_error"
    title = Text("验证期总购买次数的预测误差 (%)", "holdout error of the total, in percent")
    hints = [
        Text(
            "预测: bgnbd.expected_purchases(calhold, 天数, \"frequency_cal\", \"recency_cal\", \"T_cal\")。验证期是 "
            "2025-01-01 到 2025-06-30, 共 181 天: calhold[\"duration_holdout\"] 里有这个数。",
            'Predicted: bgnbd.expected_purchases(calhold, days, "frequency_cal", "recency_cal", "T_cal"). The holdout '
            'runs from 2025-01-01 to 2025-06-30, 181 days: calhold["duration_holdout"] holds the number.',
        ),
        Text(
            "误差 % = 100 × (预测总数 − 实际总数) ÷ 实际总数; 实际是 calhold[\"frequency_holdout\"] 的总和。",
            'error % = 100 × (predicted total − actual total) ÷ actual total; the actual total is the sum of '
            'calhold["frequency_holdout"].',
        ),
    ]
    solution = code(
        'days = calhold["duration_holdout"].iloc[0]   # 181 天 (1 Jan – 30 Jun 2025)\n'
        'predicted = bgnbd.expected_purchases(calhold, days, "frequency_cal", "recency_cal", "T_cal").sum()\n'
        'actual = calhold["frequency_holdout"].sum()\n'
        "holdout_pct_error = 100 * (predicted - actual) / actual"
    )
    expected = staticmethod(_pct_error)
    compare_options = {"atol": 0.006}  # two decimals are accepted
    mistakes = [
        Mistake(
            key="fraction",
            test=lambda a: _close(a.value, a.expected / 100, rtol=1e-3, atol=6e-5),
            message=Text("这是比例: 题目要百分数, 再乘以 100", "that is a fraction: the task asks for percent, multiply by 100"),
        ),
        Mistake(
            key="reversed",
            test=lambda a: _close(a.value, -a.expected, rtol=1e-3, atol=0.006),
            message=Text(
                "符号反了: 误差 = 预测 − 实际 (预测偏多时为正)",
                "the sign is reversed: error = predicted − actual (positive when the model predicts too many)",
            ),
        ),
        Mistake(
            key="divided_by_predicted",
            test=lambda a: _close(
                a.value, 100 * (lambda pa: (pa[0] - pa[1]) / pa[0])(_holdout_totals(a.namespace)), rtol=1e-3,
                atol=0.006),
            message=Text("除数应该是实际总数, 不是预测总数", "divide by the actual total, not by the predicted total"),
        ),
        Mistake(
            key="horizon_180",
            test=lambda a: _close(a.value, _pct_error(a.namespace, 180.0), rtol=1e-3, atol=0.006),
            message=Text(
                "用了 180 天 (6 × 30): 验证期实际是 181 天, 用 calhold[\"duration_holdout\"]",
                'you used 180 days (6 × 30): the holdout really is 181 days long, use calhold["duration_holdout"]',
            ),
        ),
        Mistake(
            key="months_not_days",
            test=lambda a: _close(a.value, _pct_error(a.namespace, 6.0), rtol=1e-3, atol=0.006),
            message=Text(
                "horizon 用了 6 (个月), 模型却按天计时: 验证期是 181 天",
                "you used 6 (months) as the horizon, but the model counts days: the holdout is 181 days",
            ),
        ),
    ]


PROBLEMS = [FrequencyRecencyT, ProbabilityAlive, ExpectedNextQuarter, CustomerLifetimeValue, HoldoutError]

# --------------------------------------------------------------------------------------------------------------------
# EXAMPLES on SETUP
# --------------------------------------------------------------------------------------------------------------------
_F, _R, _T = _frt(SETUP)
_PA = _p_alive(SETUP)
_EQ = _expected_purchases(SETUP, 90.0)
_CLV = _clv(SETUP)
_ERR = _pct_error(SETUP)
_PRED, _ACT = _holdout_totals(SETUP)

EXAMPLES = {
    "q1": Examples(
        correct=[(_F, _R, _T), (float(_F), float(_R), float(_T)), (np.int64(_F), np.int64(_R), np.int64(_T))],
        mistakes={
            "orders_not_days": (_frt(SETUP, merge_days=False)[0], _R, _T),
            "not_minus_one": (_F + 1, _R, _T),
            "returns_counted": (_frt(SETUP, sales_only=False)[0], _R, _T),
            "after_end": _frt(SETUP, up_to_end=False)[:2] + (_T,),
            "rfm_recency": (_F, _T - _R, _T),
            "t_from_last": (_F, _R, _T - _R),
        },
        wrong=[(_F, _R, _T + 1), (_F - 1, _R, _T), (_R, _F, _T), (None, _R, _T), ("3", _R, _T)],
    ),
    "q2": Examples(
        correct=[_PA, (round(_PA[0], 3), round(_PA[1], 3)), (np.float64(_PA[0]), np.float64(_PA[1]))],
        mistakes={
            "swapped": _PA[::-1],
            "percent": (100 * _PA[0], 100 * _PA[1]),
            "one_minus": (1 - _PA[0], 1 - _PA[1]),
        },
        wrong=[(_PA[0], _PA[0]), (1.0, 1.0), (_PA[0] + 0.05, _PA[1]), (None, _PA[1])],
    ),
    "q3": Examples(
        correct=[_EQ, round(_EQ, 3), _expected_purchases(SETUP, 91.25), _expected_purchases(SETUP, 92.0)],
        mistakes={
            "months_not_days": _expected_purchases(SETUP, 3.0),
            "weeks_not_days": _expected_purchases(SETUP, 13.0),
            "new_customer": float(_BGNBD.expected_purchases_new_customer(90.0)),
            "other_member": _expected_purchases(SETUP, 90.0, "member_b"),
        },
        wrong=[_expected_purchases(SETUP, 365.0), 0, -_EQ, None, str(_EQ), float("nan"), [_EQ]],
    ),
    "q4": Examples(
        correct=[_CLV, round(_CLV, 2), np.float64(_CLV)],
        mistakes={
            "annual_as_monthly": _clv(SETUP, rate=0.12),
            "simple_monthly": _clv(SETUP, rate=0.01),
            "undiscounted": _clv(SETUP, rate=0.0),
            "whole_table": clv.customer_lifetime_value(_SUMMARY, _BGNBD, _GAMMA_GAMMA, months=12,
                                                       monthly_discount_rate=_monthly_rate()),
        },
        wrong=[_clv(SETUP, months=24), _clv(SETUP, months=1), 0.0, None, str(_CLV), float("inf")],
    ),
    "q5": Examples(
        correct=[_ERR, round(_ERR, 2), np.float64(_ERR)],
        mistakes={
            "fraction": _ERR / 100,
            "reversed": -_ERR,
            "divided_by_predicted": 100 * (_PRED - _ACT) / _PRED,
            "horizon_180": _pct_error(SETUP, 180.0),
            "months_not_days": _pct_error(SETUP, 6.0),
        },
        wrong=[_ERR + 5, 0.0, _PRED - _ACT, None, str(_ERR)],
    ),
}
