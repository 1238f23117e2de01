"""Lesson 04 (Lifecycle strategies, 会员生命周期运营): four exercises on stages, the follow-up list, the cohort
reactivation rate and campaign uplift.

The notebook defines, before the exercises (``SETUP`` holds small hand-made versions of the same names):

- ``profile``: a DataFrame of members with ``days_since_last`` (d) and ``orders`` (n);
- ``as_of`` (a Timestamp) and ``last_purchase`` (a Series: last purchase day per customer id);
- ``stage_t0`` (a Series: each member's stage code at t0) and ``bought_in_window`` (the ids who bought in the window);
- ``outcome``: the campaign table with ``group`` (treatment/control) and ``purchased`` (True/False).

Exercises:

- q1 ``stages``: the stage code of each member of ``profile``, in row order (default thresholds 90/180).
- q2 ``follow_up``: the ids of the members who bought in the last 90 days (d ≤ 90).
- q3 ``reactivation``: of the members sleeping at t0, the share who bought in the window.
- q4 ``uplift``: repurchase rate of treatment minus that of control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.exercises.compare import compare_numbers, describe, is_number
from opskit.exercises.core import Examples, Mistake, Problem, code
from opskit.i18n import Text
from opskit.lifecycle import STAGES

# --------------------------------------------------------------------------------------------------------------------
# SETUP: small hand-made inputs (the notebook defines the same names from the course data)
# --------------------------------------------------------------------------------------------------------------------
_AS_OF = pd.Timestamp("2025-03-31")
SETUP = {
    "profile": pd.DataFrame(
        {"days_since_last": [12, 90, 91, 180, 181, 45, 90, 400], "orders": [1, 3, 2, 1, 5, 4, 1, 2]},
        index=pd.Index([f"M9{i:05d}" for i in range(1, 9)], name="customer_id"),
    ),
    "as_of": _AS_OF,
    "last_purchase": pd.Series(
        _AS_OF - pd.to_timedelta([0, 30, 89, 90, 91, 200], unit="D"),
        index=pd.Index(["A1", "A2", "A3", "A4", "A5", "A6"], name="customer_id"),
    ),
    "stage_t0": pd.Series(
        ["sleeping", "sleeping", "sleeping", "sleeping", "lost", "active", "new", "lost"],
        index=pd.Index([f"B{i}" for i in range(1, 9)], name="customer_id"),
    ),
    "bought_in_window": {"B1", "B3", "B6", "B9"},
    "outcome": pd.DataFrame({
        "customer_id": [f"C{i:02d}" for i in range(1, 21)],
        "group": ["treatment"] * 12 + ["control"] * 8,
        "purchased": [True] * 4 + [False] * 8 + [True] * 1 + [False] * 7,
    }),
}

_ZH_TO_CODE = {t.zh: code_ for code_, t in STAGES.items()}
_EN_TO_CODE = {t.en: code_ for code_, t in STAGES.items()}


def _stage_rule(d: float, n: int) -> str:
    if n == 0:
        return "prospect"
    if d > 180:
        return "lost"
    if d > 90:
        return "sleeping"
    return "active" if n >= 2 else "new"


def _expected_stages(ns) -> list[str]:
    p = ns["profile"]
    return [_stage_rule(d, n) for d, n in zip(p["days_since_last"], p["orders"])]


def _as_codes(value) -> list[str] | None:
    """A learner's stages as codes (accepts codes, 中文 names or English names; list, tuple, Series, array)."""
    if isinstance(value, (pd.Series, pd.Index, np.ndarray)):
        value = list(value)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None
    codes = []
    for v in value:
        text = v.strip()
        codes.append(_ZH_TO_CODE.get(text) or _EN_TO_CODE.get(text.lower()) or text.lower())
    return codes


def _wrong_rows(a) -> list[int]:
    codes = _as_codes(a.value) or []
    return [i for i, (got, want) in enumerate(zip(codes, a.expected)) if got != want]


def _boundary_rows(a, d_values) -> bool:
    rows = _wrong_rows(a)
    days = a.namespace["profile"]["days_since_last"].tolist()
    return bool(rows) and all(days[i] in d_values for i in rows)


class AssignStages(Problem):
    """q1: the stage of each member from d and n."""

    var = "stages"
    title = Text("判定生命周期阶段", "assign lifecycle stages")
    hints = [
        Text("先看 d (距上次购买天数): d > 180 流失; 90 < d ≤ 180 沉睡; d ≤ 90 时再看订单数: ≥ 2 活跃, = 1 新客。",
             "Look at d (days since the last purchase) first: d > 180 lost; 90 < d ≤ 180 sleeping; for d ≤ 90 look "
             "at the orders: ≥ 2 active, 1 new."),
        Text("边界: 恰好 90 天还不算沉睡, 恰好 180 天还不算流失。答案写成列表, 如 [\"new\", \"active\", …], "
             "用中文名 (\"新客\") 也可以。",
             "Boundaries: exactly 90 days is not yet sleeping, exactly 180 not yet lost. Write a list such as "
             "[\"new\", \"active\", …]; the Chinese stage names work too."),
    ]
    solution = code(
        "from opskit.lifecycle import assign_stages  # 包里的规则同样可以用 (the package applies the same rules)\n"
        "\n"
        "def stage_of(d, n):\n"
        "    if d > 180:\n"
        "        return \"lost\"      # 流失\n"
        "    if d > 90:\n"
        "        return \"sleeping\"  # 沉睡\n"
        "    return \"active\" if n >= 2 else \"new\"  # 活跃 / 新客\n"
        "\n"
        "stages = [stage_of(d, n) for d, n in zip(profile[\"days_since_last\"], profile[\"orders\"])]"
    )
    expected = staticmethod(_expected_stages)
    mistakes = [
        Mistake(
            key="boundary_90",
            test=lambda a: _boundary_rows(a, {90}),
            message=Text("d 恰好 = 90 天的会员还在 90 天内: 算新客/活跃, 不是沉睡 (沉睡是 d > 90)",
                         "a member at exactly d = 90 is still inside the 90 days: new/active, not sleeping "
                         "(sleeping is d > 90)"),
        ),
        Mistake(
            key="boundary_180",
            test=lambda a: _boundary_rows(a, {180}),
            message=Text("d 恰好 = 180 天还是沉睡; 流失是 d > 180", "exactly d = 180 is still sleeping; lost is d > 180"),
        ),
        Mistake(
            key="orders_first",
            test=lambda a: bool(_wrong_rows(a)) and all(
                a.namespace["profile"]["days_since_last"].iloc[i] > 90 for i in _wrong_rows(a)),
            message=Text("先看 d: 超过 90 天没买的会员, 不管买过几次, 都是沉睡或流失",
                         "recency decides first: anyone with d > 90 is sleeping or lost, however many orders"),
        ),
    ]

    def check_value(self, value):
        codes = _as_codes(value)
        expected = self.expected_value()
        if codes is None:
            return False, Text(f"stages 应为阶段名称的列表, 你的是 {describe(value)}",
                               f"stages must be a list of stage names, got {describe(value)}")
        if len(codes) != len(expected):
            return False, Text(f"profile 有 {len(expected)} 位会员, 你给了 {len(codes)} 个阶段",
                               f"profile has {len(expected)} members; you gave {len(codes)} stages")
        unknown = sorted({c for c in codes if c not in STAGES})
        if unknown:
            return False, Text(f"不认识的阶段 {unknown}; 可用: {', '.join(STAGES)}",
                               f"unknown stage(s) {unknown}; use: {', '.join(STAGES)}")
        wrong = [i for i, (g, w) in enumerate(zip(codes, expected)) if g != w]
        if wrong:
            ids = ", ".join(str(self.namespace["profile"].index[i]) for i in wrong[:3])
            return False, Text(f"{len(wrong)} 位会员的阶段不对, 如 {ids}", f"{len(wrong)} stage(s) wrong, e.g. {ids}")
        return True, None


def _expected_follow_up(ns) -> list[str]:
    d = (ns["as_of"] - ns["last_purchase"]).dt.days
    return sorted(map(str, d.index[d <= 90]))


def _as_ids(value) -> list[str] | None:
    if isinstance(value, pd.DataFrame):
        return None
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple, set, frozenset)):
        items = list(value)
        if all(isinstance(v, str) for v in items):
            return sorted(items)
    return None


def _ids_when(a, rule) -> bool:
    d = (a.namespace["as_of"] - a.namespace["last_purchase"]).dt.days
    return _as_ids(a.value) == sorted(map(str, d.index[rule(d)]))


class FollowUpList(Problem):
    """q2: the ids of the buyers of the last 90 days."""

    var = "follow_up"
    title = Text("90 天回访名单", "the 90-day follow-up list")
    hints = [
        Text("先算每位会员距上次购买的天数: (as_of - last_purchase).dt.days", "First the days since each member's "
             "last purchase: (as_of - last_purchase).dt.days"),
        Text("要的是 d ≤ 90 的会员号: 对 Series 用布尔条件筛选, 再取 .index, 如 list(d.index[d <= 90])",
             "You want the ids with d ≤ 90: filter the Series with a condition and take .index, e.g. "
             "list(d.index[d <= 90])"),
    ]
    solution = code(
        "d = (as_of - last_purchase).dt.days       # 距上次购买天数 (days since the last purchase)\n"
        "follow_up = list(d.index[d <= 90])        # 近 90 天的购买者 (buyers of the last 90 days)"
    )
    expected = staticmethod(_expected_follow_up)
    mistakes = [
        Mistake(key="strict_90", test=lambda a: _ids_when(a, lambda d: d < 90),
                message=Text("漏掉了恰好 90 天前购买的会员: 用 d ≤ 90 (与阶段规则一致)",
                             "you left out the members who bought exactly 90 days ago: use d ≤ 90 (as the stages do)")),
        Mistake(key="activation_instead", test=lambda a: _ids_when(a, lambda d: d > 90),
                message=Text("这是激活名单 (90 天以上没买); 回访名单是近 90 天买过的会员",
                             "that is the activation list (no purchase for 90+ days); follow-up is for the buyers of "
                             "the last 90 days")),
        Mistake(key="dates_not_ids", test=lambda a: isinstance(a.value, pd.Series)
                and pd.api.types.is_datetime64_any_dtype(a.value),
                message=Text("这是购买日期; 要的是会员号: 取筛选结果的 .index",
                             "those are purchase dates; the task wants the ids: take .index of the filtered Series")),
    ]

    def check_value(self, value):
        ids = _as_ids(value)
        if ids is None:
            return False, Text(f"follow_up 应为会员号的列表, 你的是 {describe(value)}",
                               f"follow_up must be a list of customer ids, got {describe(value)}")
        expected = self.expected_value()
        missing, extra = sorted(set(expected) - set(ids)), sorted(set(ids) - set(expected))
        if missing or extra or len(ids) != len(expected):
            return False, Text(f"名单不对: 缺少 {len(missing)} 位, 多了 {len(extra)} 位",
                               f"not the right list: {len(missing)} missing, {len(extra)} too many")
        return True, None


def _sleepers(ns) -> pd.Index:
    return ns["stage_t0"].index[ns["stage_t0"] == "sleeping"]


def _expected_reactivation(ns) -> float:
    cohort = _sleepers(ns)
    return float(cohort.isin(list(ns["bought_in_window"])).mean())



class CohortReactivation(Problem):
    """q3: cohort reactivation rate."""

    var = "reactivation"
    title = Text("沉睡唤醒率 (按期初队列)", "cohort reactivation rate")
    hints = [
        Text("队列 = t0 时处于沉睡 (stage_t0 == \"sleeping\") 的会员。唤醒率 = 其中在窗口内购买的人数 ÷ 队列人数。",
             "The cohort = members sleeping at t0 (stage_t0 == \"sleeping\"). Rate = those of them who bought in the "
             "window ÷ the cohort size."),
        Text("cohort = stage_t0.index[stage_t0 == \"sleeping\"]; 然后 cohort.isin(bought_in_window) 的均值就是比例。",
             "cohort = stage_t0.index[stage_t0 == \"sleeping\"]; then the mean of cohort.isin(bought_in_window) is the "
             "share."),
    ]
    solution = code(
        "cohort = stage_t0.index[stage_t0 == \"sleeping\"]          # t0 时的沉睡会员 (sleeping at t0)\n"
        "reactivation = cohort.isin(list(bought_in_window)).mean()  # 其中窗口内购买的比例 (share who bought)"
    )
    expected = staticmethod(_expected_reactivation)
    compare_options = {"atol": 1e-4}
    mistakes = [
        Mistake(key="current_sleepers", test=lambda a: is_number(a.value) and a.value == 0 and a.expected > 0,
                message=Text("0 是“现在还在沉睡且买过”的陷阱: 买过的人现在就不沉睡了。要固定 t0 的队列再往后看",
                             "0 is the trap of 'sleeping now and bought': whoever bought is no longer sleeping. Fix "
                             "the cohort at t0, then look forward")),
        Mistake(key="whole_base", test=lambda a: is_number(a.value) and compare_numbers(
                    a.value, len(set(_sleepers(a.namespace)) & set(a.namespace["bought_in_window"]))
                    / len(a.namespace["stage_t0"]), atol=1e-6)[0],
                message=Text("分母用了全部会员; 分母应是 t0 时沉睡的会员数",
                             "you divided by all members; divide by the number sleeping at t0")),
        Mistake(key="count_not_rate", test=lambda a: is_number(a.value) and a.value == len(
                    set(_sleepers(a.namespace)) & set(a.namespace["bought_in_window"])) and a.value > 1,
                message=Text("这是被唤醒的人数; 还要除以队列人数得到比例",
                             "that is the number reactivated; divide by the cohort size to get the rate")),
        Mistake(key="sleeping_and_lost", test=lambda a: is_number(a.value) and compare_numbers(
                    a.value, float(a.namespace["stage_t0"].index[a.namespace["stage_t0"].isin(["sleeping", "lost"])]
                                   .isin(list(a.namespace["bought_in_window"])).mean()), atol=1e-6)[0],
                message=Text("队列里混进了流失会员; 这里只要沉睡 (sleeping) 的",
                             "the cohort includes lost members; this rate is for the sleeping ones only")),
    ]


def _rates(ns) -> tuple[float, float]:
    o = ns["outcome"]
    bought = o["purchased"].astype(bool)
    return float(bought[o["group"] == "treatment"].mean()), float(bought[o["group"] == "control"].mean())


class CampaignUplift(Problem):
    """q4: uplift = treatment rate − control rate."""

    var = "uplift"
    title = Text("活动提升 (实验组 − 对照组)", "campaign uplift (treatment − control)")
    hints = [
        Text("分别算两组的复购率: 组内 purchased 的均值。", "Compute each group's repurchase rate: the mean of "
             "purchased within the group."),
        Text("outcome.groupby(\"group\")[\"purchased\"].mean() 一次得到两组; 提升 = 实验组 − 对照组 (百分点, 不是倍数)。",
             "outcome.groupby(\"group\")[\"purchased\"].mean() gives both; uplift = treatment − control (a difference "
             "in points, not a ratio)."),
    ]
    solution = code(
        "rates = outcome.groupby(\"group\")[\"purchased\"].mean()      # 各组复购率 (rate per group)\n"
        "uplift = rates[\"treatment\"] - rates[\"control\"]          # 提升 = 实验组 − 对照组"
    )
    expected = staticmethod(lambda ns: _rates(ns)[0] - _rates(ns)[1])
    compare_options = {"atol": 1e-4}
    mistakes = [
        Mistake(key="reversed", test=lambda a: is_number(a.value) and compare_numbers(a.value, -a.expected,
                                                                                    atol=1e-6)[0],
                message=Text("符号反了: 提升 = 实验组 − 对照组", "wrong sign: uplift = treatment − control")),
        Mistake(key="treatment_rate_only", test=lambda a: is_number(a.value) and compare_numbers(
                    a.value, _rates(a.namespace)[0], atol=1e-6)[0],
                message=Text("这是实验组的复购率; 还要减去对照组 (没有发券也会买的人)",
                             "that is the treatment rate alone; subtract the control rate (those who buy anyway)")),
        Mistake(key="ratio", test=lambda a: is_number(a.value) and compare_numbers(
                    a.value, _rates(a.namespace)[0] / _rates(a.namespace)[1], atol=1e-6)[0],
                message=Text("这是两组之比; 这里要的是差 (百分点)", "that is the ratio of the rates; the task wants "
                             "their difference (points)")),
    ]


PROBLEMS = [AssignStages, FollowUpList, CohortReactivation, CampaignUplift]

_NS = dict(SETUP)
_STAGES = _expected_stages(_NS)
_RT, _RC = _rates(_NS)

EXAMPLES = {
    "q1": Examples(
        correct=[_STAGES, tuple(_STAGES), pd.Series(_STAGES), [str(STAGES[s].zh) for s in _STAGES],
                 [s.upper() for s in _STAGES]],
        mistakes={
            "boundary_90": ["new", "sleeping", "sleeping", "sleeping", "lost", "active", "sleeping", "lost"],
            "boundary_180": ["new", "active", "sleeping", "lost", "lost", "active", "new", "lost"],
            "orders_first": ["new", "active", "active", "sleeping", "lost", "active", "new", "lost"],
        },
        wrong=[_STAGES[:-1], "new", ["new"] * 8, [*_STAGES[:-1], "gone"], None, 3],
    ),
    "q2": Examples(
        correct=[["A1", "A2", "A3", "A4"], pd.Index(["A4", "A3", "A2", "A1"]), {"A1", "A2", "A3", "A4"}],
        mistakes={"strict_90": ["A1", "A2", "A3"], "activation_instead": ["A5", "A6"],
                  "dates_not_ids": SETUP["last_purchase"].iloc[:4]},
        wrong=[["A1", "A2", "A3", "A4", "A5"], ["A1", "A1", "A2", "A3", "A4"], [], "A1", 4],
    ),
    "q3": Examples(
        correct=[0.5, np.float64(0.5), 2 / 4],
        mistakes={"current_sleepers": 0, "whole_base": 2 / 8, "count_not_rate": 2, "sleeping_and_lost": 2 / 6},
        wrong=[0.75, "0.5", None, [0.5]],
    ),
    "q4": Examples(
        correct=[_RT - _RC, round(_RT - _RC, 4)],
        mistakes={"reversed": _RC - _RT, "treatment_rate_only": _RT, "ratio": _RT / _RC},
        wrong=[_RC, 0.2, "0.21", None],
    ),
}
