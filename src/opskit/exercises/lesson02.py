"""Lesson 02 (RFM tiering, 客户分层): five exercises on recency, tied scores, the 8-class map and revenue shares.

The notebook defines, before the exercises (from the course data, as-of date 2024-12-31)::

    as_of       # pd.Timestamp, the as-of date (截止日)
    purchases   # DataFrame: customer_id, order_id, purchase_day (a date), amount — the sales of five members,
                # including some made *after* the as-of date
    rfm         # opskit.rfm.rfm_table(tx, as_of): recency, frequency, monetary, net_spend, … per customer
    customer    # one row of rfm (a Series with recency, frequency, monetary)
    limits      # opskit.rfm.cn8_thresholds(rfm, "mean"): the 高/低 thresholds with their rules
    segments    # opskit.rfm.segment_customers(rfm, "cn8", thresholds="median")

- q1 ``recency``: days from each member's last purchase on or before ``as_of`` to ``as_of`` (a Series).
- q2 ``f_score``: F quintile scores 1–5 in which tied customers share a score (``rank(method="min")``).
- q3 ``segment``: the 8-class segment of ``customer`` under ``limits`` (label or key).
- q4 ``important_value_share``: the revenue share of 重要价值客户 in ``segments``.
- q5 ``top20_share``: the share of revenue brought by the top 20 % of customers.

Expected values are functions of the notebook namespace, so the same checkers work on the course data in the notebook
and on the small hand-made ``SETUP`` below in the tests.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pandas as pd

from opskit.exercises.compare import compare_numbers, compare_series, is_number
from opskit.exercises.core import Attempt, Examples, Mistake, Problem, code
from opskit.i18n import Text
from opskit.rfm import DIMENSIONS, SCHEMES, cn8_thresholds, revenue_share_of_top, rfm_scores, segment_customers

# --------------------------------------------------------------------------------------------------------------------
# SETUP: a small hand-made namespace with the same variables as the notebook
# --------------------------------------------------------------------------------------------------------------------
_AS_OF = pd.Timestamp("2024-12-31")

_PURCHASES = pd.DataFrame(
    {
        "customer_id": ["M1", "M1", "M2", "M2", "M2", "M3", "M4", "M4", "M5"],
        "order_id": ["O1", "O7", "O2", "O3", "O8", "O4", "O5", "O9", "O6"],
        "purchase_day": pd.to_datetime(
            ["2024-12-31", "2025-02-03", "2024-03-10", "2024-11-20", "2025-01-15", "2023-06-01", "2024-12-01",
             "2025-03-01", "2024-12-24"]
        ),
        "amount": [420.0, 300.0, 199.0, 650.0, 500.0, 89.0, 1200.0, 260.0, 350.0],
    }
)

# Ten customers; F has ties (four one-timers, two with 2 orders), so a rank that splits ties gives a different answer.
_RFM = pd.DataFrame(
    {
        "recency": [3, 40, 90, 200, 15, 365, 500, 10, 60, 700],
        "frequency": [9, 1, 1, 2, 6, 1, 2, 4, 3, 1],
        "monetary": [5200.0, 300.0, 150.0, 800.0, 3100.0, 90.0, 700.0, 2600.0, 1900.0, 60.0],
    },
    index=pd.Index([f"M{i:02d}" for i in range(1, 11)], name="customer_id"),
)
_RFM["net_spend"] = _RFM["monetary"]

_CUSTOMER = pd.Series({"recency": 32, "frequency": 3, "monetary": 2500.0}, name="M99")

SETUP = {
    "as_of": _AS_OF,
    "purchases": _PURCHASES,
    "rfm": _RFM,
    "customer": _CUSTOMER,
    "limits": cn8_thresholds(_RFM, "mean"),
    "segments": segment_customers(_RFM, "cn8", thresholds="median"),
}


# --------------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------------
def _same_series(value: object, expected: pd.Series) -> bool:
    return isinstance(value, pd.Series) and compare_series(value, expected, atol=1e-9)[0]



def _close(value: object, target: float, atol: float = 1e-3) -> bool:
    return is_number(value) and compare_numbers(value, target, atol=atol, rtol=1e-4)[0]


# --------------------------------------------------------------------------------------------------------------------
# q1 recency at the as-of date
# --------------------------------------------------------------------------------------------------------------------
def _last_purchase(ns, up_to_as_of: bool = True, how: str = "max") -> pd.Series:
    purchases, as_of = ns["purchases"], pd.Timestamp(ns["as_of"])
    kept = purchases.loc[purchases["purchase_day"] <= as_of] if up_to_as_of else purchases
    return kept.groupby("customer_id")["purchase_day"].agg(how)


def _recency(ns) -> pd.Series:
    return (pd.Timestamp(ns["as_of"]) - _last_purchase(ns)).dt.days


class Recency(Problem):
    """q1: recency in whole days at the as-of date, leaving out purchases made after it."""

    var = "recency"
    title = Text("截止日的 R(最近一次消费间隔)", "recency at the as-of date")
    hints = [
        Text(
            "先只保留截止日当天及之前的购买: purchases[purchases[\"purchase_day\"] <= as_of]。截止日之后的购买在截止日还没发生。",
            'First keep only purchases on or before the as-of date: purchases[purchases["purchase_day"] <= as_of]. '
            "Purchases after it had not happened yet on the as-of date.",
        ),
        Text(
            "每位会员最后一次购买: .groupby(\"customer_id\")[\"purchase_day\"].max()。R = as_of − 最后购买日, 用 .dt.days 取天数。",
            'Each member\'s last purchase: .groupby("customer_id")["purchase_day"].max(). R = as_of − last purchase '
            "day; .dt.days turns the time spans into whole days.",
        ),
    ]
    solution = code(
        'before = purchases[purchases["purchase_day"] <= as_of]  # 截止日之后的购买不算 (not yet happened)\n'
        'last_purchase = before.groupby("customer_id")["purchase_day"].max()\n'
        "recency = (as_of - last_purchase).dt.days"
    )
    expected = staticmethod(_recency)
    mistakes = [
        Mistake(
            key="timedelta",
            test=lambda a: isinstance(a.value, pd.Series)
            and pd.api.types.is_timedelta64_dtype(a.value.dtype)
            and _same_series(a.value.dt.days, a.expected),
            message=Text(
                "数值对了, 但这是时间间隔 (Timedelta), 不是天数: 在末尾加上 .dt.days",
                "right values, but these are time spans (Timedelta), not numbers of days: add .dt.days at the end",
            ),
        ),
        Mistake(
            key="after_as_of",
            test=lambda a: _same_series(a.value, (pd.Timestamp(a.namespace["as_of"])
                                                  - _last_purchase(a.namespace, up_to_as_of=False)).dt.days),
            message=Text(
                "把截止日之后的购买也算进去了 (有的 R 成了负数): 先筛选 purchase_day <= as_of",
                "purchases after the as-of date were counted too (some recencies are negative): keep purchase_day <= "
                "as_of first",
            ),
        ),
        Mistake(
            key="reversed",
            test=lambda a: _same_series(a.value, -a.expected),
            message=Text(
                "方向反了: R = 截止日 − 最后购买日, 应为正数", "the wrong way round: R = as-of date − last purchase day, a "
                "positive number",
            ),
        ),
        Mistake(
            key="first_purchase",
            test=lambda a: _same_series(a.value, (pd.Timestamp(a.namespace["as_of"])
                                                  - _last_purchase(a.namespace, how="min")).dt.days),
            message=Text(
                "这是距第一次购买的天数: R 看的是最后一次购买, 用 .max()",
                "that counts days since the first purchase: R is about the last purchase, use .max()",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------------------------
# q2 F scores with ties
# --------------------------------------------------------------------------------------------------------------------
def _f_score(ns) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collapsed bins are the lesson's topic, not a problem of the checker
        return rfm_scores(ns["rfm"][list(DIMENSIONS)], 5, ties="min")["f_score"]


def _splits_ties(attempt: Attempt) -> bool:
    value, rfm = attempt.value, attempt.namespace["rfm"]
    if not isinstance(value, pd.Series) or len(value) != len(rfm) or not value.index.equals(rfm.index):
        return False
    return bool((value.groupby(rfm["frequency"]).nunique() > 1).any())


class FrequencyScore(Problem):
    """q2: quintile F scores in which equal frequencies share one score."""

    var = "f_score"
    title = Text("F 分数(并列同分)", "F scores with ties")
    hints = [
        Text(
            "同样消费次数的客户必须得同一个分数。rfm[\"frequency\"].rank(method=\"min\") 让并列的客户共用最小的名次。",
            'Customers with the same frequency must get the same score. rfm["frequency"].rank(method="min") gives '
            "tied customers the lowest rank of their group.",
        ),
        Text(
            "分数 = 1 + np.floor(5 × (名次 − 1) ÷ 客户数)。客户数是 len(rfm)。",
            "score = 1 + np.floor(5 × (rank − 1) ÷ number of customers). The number of customers is len(rfm).",
        ),
    ]
    solution = code(
        "import numpy as np\n"
        "\n"
        'rank = rfm["frequency"].rank(method="min")  # 并列取最小名次 (ties share the lowest rank)\n'
        "f_score = 1 + np.floor(5 * (rank - 1) / len(rfm))\n"
        "# 或 / or: f_score = rfm_scores(rfm)[\"f_score\"]"
    )
    expected = staticmethod(_f_score)
    mistakes = [
        Mistake(
            key="split_ties",
            test=_splits_ties,
            message=Text(
                "消费次数相同的客户拿到了不同的分数 (qcut 配 rank(method=\"first\") 就会这样): 用 rank(method=\"min\")",
                'customers with the same frequency got different scores (qcut on rank(method="first") does that): '
                'use rank(method="min")',
            ),
        ),
        Mistake(
            key="reversed",
            test=lambda a: _same_series(a.value, 6 - a.expected),
            message=Text(
                "方向反了: F 分数 5 应给消费次数最多的客户", "the wrong way round: F score 5 belongs to the customers with the "
                "most orders",
            ),
        ),
        Mistake(
            key="zero_based",
            test=lambda a: _same_series(a.value, a.expected - 1),
            message=Text("分数应为 1–5, 你的是 0–4: 公式前面加 1", "scores run 1–5, yours run 0–4: add 1"),
        ),
        Mistake(
            key="rank_not_score",
            test=lambda a: _same_series(a.value, a.namespace["rfm"]["frequency"].rank(method="min")),
            message=Text(
                "这是名次 (1 … 客户数), 还要换算成 1–5 分: 1 + np.floor(5 × (名次 − 1) ÷ 客户数)",
                "that is the rank (1 … number of customers); turn it into a 1–5 score: 1 + np.floor(5 × (rank − 1) ÷ "
                "customers)",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------------------------------
# q3 classify one customer in the 8-class model
# --------------------------------------------------------------------------------------------------------------------
_RULES = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
_CN8 = SCHEMES["cn8"]


def _cell(ns) -> tuple[bool, bool, bool]:
    customer, limits = ns["customer"], ns["limits"]
    return tuple(  # type: ignore[return-value]
        bool(_RULES[limits[d]["rule"]](float(customer[d]), limits[d]["value"])) for d in DIMENSIONS
    )


def _flipped(ns, position: int) -> str:
    cell = list(_cell(ns))
    cell[position] = not cell[position]
    return _CN8.cells[tuple(cell)]


def _segment_key(value: object) -> str | None:
    """A cn8 key from a key, a Chinese label (with or without 客户) or an English label; None if not one."""
    if not isinstance(value, str):
        return None
    text = value.strip().split(" / ")[0].strip()
    for key, label in _CN8.labels.items():
        names = {key, label.zh, label.zh.removesuffix("客户")}
        if text in names or text.lower() in {key, label.en.lower(), label.en.lower().replace(" ", "_")}:
            return key
    return None


def _label_list() -> str:
    return ", ".join(label.zh for label in _CN8.labels.values())


class ClassifyCustomer(Problem):
    """q3: the 8-class segment of one customer, from the 高/低 thresholds and their comparison rules."""

    var = "segment"
    title = Text("八类模型中的客户归类", "classify a customer in the 8-class model")
    hints = [
        Text(
            "逐项比较: R 高 = 距上次购买天数 < 阈值 (越近越好); F 高 = 消费次数 > 阈值; M 高 = 消费金额 > 阈值。",
            "Compare one letter at a time: R high = days since the last purchase < threshold (recent is good); F high "
            "= frequency > threshold; M high = monetary > threshold.",
        ),
        Text(
            "再查八类表: 高高高 重要价值, 高低高 重要发展, 低高高 重要保持, 低低高 重要挽留, M 低时把'重要'换成'一般'。",
            "Then look it up (R F M): HHH important value, HLH important to develop, LHH important to keep, LLH "
            "important to win back; with M low, 'important' becomes 'general'.",
        ),
    ]
    solution = code(
        "# 课程数据中的 M004712: R 32 天 < 251.9 → 高; F 3 次 < 3.428 → 低; M 2,350.85 元 > 1,624 → 高 (高 低 高)\n"
        "# M004712 in the course data: R 32 days < 251.9 → high; F 3 < 3.428 → low; M 2,350.85 > 1,624 → high\n"
        'segment = "重要发展客户"  # 或 / or "important to develop"'
    )
    expected = staticmethod(lambda ns: _CN8.cells[_cell(ns)])
    mistakes = [
        Mistake(
            key="r_reversed",
            test=lambda a: _segment_key(a.value) == _flipped(a.namespace, 0),
            message=Text(
                "R 的方向反了: R 高 表示最近买过, 即距上次购买的天数 *少于* 阈值",
                "R is the wrong way round: R high means a recent buyer, i.e. *fewer* days since the last purchase than "
                "the threshold",
            ),
        ),
        Mistake(
            key="f_wrong",
            test=lambda a: _segment_key(a.value) == _flipped(a.namespace, 1),
            message=Text(
                "F 判断错了: 把消费次数和 F 的阈值再比一次 (刚好等于阈值算低)",
                "F is off: compare the frequency with the F threshold again (exactly at a mean or median counts as "
                "low)",
            ),
        ),
        Mistake(
            key="m_wrong",
            test=lambda a: _segment_key(a.value) == _flipped(a.namespace, 2),
            message=Text("M 判断错了: 把消费金额和 M 的阈值再比一次", "M is off: compare monetary with the M threshold again"),
        ),
    ]

    def check_value(self, value):
        key = _segment_key(value)
        if key is None:
            return False, Text(
                f"请写八类中的一个分群名 (字符串), 例如 {_label_list()}",
                "write one of the eight segment names as a string, e.g. \"important value\" or \"重要价值客户\"",
            )
        return key == self.expected_value(), None


# --------------------------------------------------------------------------------------------------------------------
# q4 revenue share of 重要价值客户, q5 top-20 % share
# --------------------------------------------------------------------------------------------------------------------
def _important_value_share(ns) -> float:
    segments = ns["segments"]
    return float(segments.loc[segments["segment"].eq("important_value"), "net_spend"].sum()
                 / segments["net_spend"].sum())


def _customer_share(ns) -> float:
    return float(ns["segments"]["segment"].eq("important_value").mean())


class ImportantValueShare(Problem):
    """q4: revenue share of the important-value segment."""

    var = "important_value_share"
    title = Text("重要价值客户的销售额占比", "revenue share of important-value customers")
    hints = [
        Text(
            "选出重要价值客户: segments[segments[\"segment\"] == \"important_value\"], 对 net_spend 求和。",
            'Select them with segments[segments["segment"] == "important_value"] and sum their net_spend.',
        ),
        Text("再除以所有客户的 net_spend 之和, 得到 0 到 1 之间的比例。",
             "Divide by the net_spend of all customers: a share between 0 and 1."),
    ]
    solution = code(
        'is_iv = segments["segment"] == "important_value"\n'
        'important_value_share = segments.loc[is_iv, "net_spend"].sum() / segments["net_spend"].sum()'
    )
    expected = staticmethod(_important_value_share)
    compare_options = {"atol": 6e-4}  # round(share, 3) is accepted
    mistakes = [
        Mistake(
            key="customer_share",
            test=lambda a: _close(a.value, _customer_share(a.namespace), atol=6e-4),
            message=Text(
                "这是客户人数占比: 题目要的是销售额 (net_spend) 占比",
                "that is the share of customers; the task asks for the share of revenue (net_spend)",
            ),
        ),
        Mistake(
            key="percent",
            test=lambda a: _close(a.value, 100 * a.expected, atol=0.06),
            message=Text("请用 0 到 1 之间的小数 (如 0.25), 不要乘以 100", "give a fraction between 0 and 1 (like 0.25), "
                         "not a percentage"),
        ),
        Mistake(
            key="inverted",
            test=lambda a: _close(a.value, 1 / a.expected, atol=1e-3),
            message=Text("除反了: 分群的销售额 ÷ 全部销售额", "upside down: the segment's revenue ÷ all revenue"),
        ),
    ]


def _bottom_share(ns, share: float = 0.2) -> float:
    values = ns["rfm"]["net_spend"].sort_values()
    return float(values.head(int(round(share * len(values)))).sum() / values.sum())


class TopTwentyShare(Problem):
    """q5: share of revenue from the top 20 % of customers by net spend."""

    var = "top20_share"
    title = Text("前 20% 客户的销售额占比", "revenue share of the top 20 % of customers")
    hints = [
        Text(
            "按 net_spend 从高到低排序: rfm[\"net_spend\"].sort_values(ascending=False)。",
            'Sort net spend from highest to lowest: rfm["net_spend"].sort_values(ascending=False).',
        ),
        Text(
            "取前 20% 的客户 (.head(round(0.2 * len(rfm)))), 求和, 再除以总和。",
            "Take the first 20 % of customers (.head(round(0.2 * len(rfm)))), sum, and divide by the total.",
        ),
    ]
    solution = code(
        'spend = rfm["net_spend"].sort_values(ascending=False)  # 从高到低 (highest first)\n'
        "top20_share = spend.head(round(0.2 * len(spend))).sum() / spend.sum()\n"
        "# 或 / or: top20_share = revenue_share_of_top(rfm, 0.2)"
    )
    expected = staticmethod(lambda ns: revenue_share_of_top(ns["rfm"], 0.2))
    compare_options = {"atol": 1e-3}
    mistakes = [
        Mistake(
            key="bottom",
            test=lambda a: _close(a.value, _bottom_share(a.namespace)),
            message=Text(
                "这是消费最少的 20% 客户: 排序要从高到低 (ascending=False)",
                "that is the 20 % who spend *least*: sort from highest to lowest (ascending=False)",
            ),
        ),
        Mistake(
            key="percent",
            test=lambda a: _close(a.value, 100 * a.expected, atol=0.1),
            message=Text("请用 0 到 1 之间的小数, 不要乘以 100", "give a fraction between 0 and 1, not a percentage"),
        ),
    ]


PROBLEMS = [Recency, FrequencyScore, ClassifyCustomer, ImportantValueShare, TopTwentyShare]

# --------------------------------------------------------------------------------------------------------------------
# EXAMPLES on SETUP
# --------------------------------------------------------------------------------------------------------------------
_R = _recency(SETUP)
_F = _f_score(SETUP)
_IV = _important_value_share(SETUP)
_TOP = revenue_share_of_top(_RFM, 0.2)
_first_rank = _RFM["frequency"].rank(method="first")

EXAMPLES = {
    "q1": Examples(
        correct=[_R, _R.astype("float64"), _R.rename("recency"), _R.rename_axis(None)],
        mistakes={
            "timedelta": _AS_OF - _last_purchase(SETUP),
            "after_as_of": (_AS_OF - _last_purchase(SETUP, up_to_as_of=False)).dt.days,
            "reversed": -_R,
            "first_purchase": (_AS_OF - _last_purchase(SETUP, how="min")).dt.days,
        },
        wrong=[_R + 1, _R.iloc[:3], _R.to_list(), 0, None, _R.sort_values(ascending=False).reset_index(drop=True)],
    ),
    "q2": Examples(
        correct=[_F, _F.astype("float64"), 1 + np.floor(5 * (_RFM["frequency"].rank(method="min") - 1) / len(_RFM))],
        mistakes={
            "split_ties": (1 + np.floor(5 * (_first_rank - 1) / len(_RFM))).astype("int64"),
            "reversed": 6 - _F,
            "zero_based": _F - 1,
            "rank_not_score": _RFM["frequency"].rank(method="min"),
        },
        wrong=[
            1 + np.floor(5 * (_RFM["frequency"].rank(method="max") - 1) / len(_RFM)),
            _F.to_list(),
            _RFM["frequency"],
            _F.iloc[:-1],
            None,
        ],
    ),
    "q3": Examples(
        correct=["重要发展客户", "重要发展", "important to develop", "Important to develop", "important_develop",
                 " 重要发展客户 / important to develop"],
        mistakes={"r_reversed": "重要挽留客户", "f_wrong": "important value", "m_wrong": "一般发展客户"},
        wrong=["重要保持客户", "VIP", "", 3, None, ["重要发展客户"]],
    ),
    "q4": Examples(
        correct=[_IV, round(_IV, 3), np.float64(_IV)],
        mistakes={
            "customer_share": _customer_share(SETUP),
            "percent": 100 * _IV,
            "inverted": 1 / _IV,
        },
        wrong=[_IV + 0.05, 0, 1.0, "0.7", None, float("nan")],
    ),
    "q5": Examples(
        correct=[_TOP, round(_TOP, 3)],
        mistakes={"bottom": _bottom_share(SETUP), "percent": 100 * _TOP},
        wrong=[0.2, 0.8, _TOP - 0.05, None, str(_TOP)],
    ),
}
