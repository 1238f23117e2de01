"""Lesson 06 (capstone, 综合实战): plan one month of customer operations for store S03 and design its A/B test.

The notebook defines, before the exercises::

    store, as_of = "S03", "2025-06-30"
    inputs = demo_inputs(store)                      # the store's data (opskit.report)
    analysis = run_method(inputs, as_of=as_of)       # tiers, CLV, stages, work lists
    t0, window = pd.Timestamp("2025-05-31"), 30      # the last month, for the baseline
    uplift = 0.05                                    # the smallest effect worth detecting: +5 points

- q1 ``target_group``: how many **sleeping** members of **high** value are on the activation list (the 1:1 group).
- q2 ``baseline``: the cohort reactivation rate of the members sleeping at ``t0`` within ``window`` days (a fraction).
- q3 ``n_per_group``: members needed per group (treatment and control, equal sizes) to detect ``uplift`` over the
  baseline at α = 5 % (two-sided) and 80 % power.
- q4 ``can_prove``: can the store's sleeping members (all of them, split in half) prove that uplift? (True/False)
- q5 ``mde``: the smallest uplift the store *can* detect with its sleeping members split in half (a fraction).

Every expected value is computed from the data with the package (nothing hard-coded). The month plan itself (target
groups, actions, KPIs, test design) is free text, marked with the rubric in ``course/facilitator/06-capstone.md``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from opskit.exercises.compare import compare_numbers, is_number
from opskit.exercises.core import Examples, LazySetup, Mistake, Problem, code
from opskit.i18n import Text

STORE, AS_OF, T0, WINDOW, UPLIFT = "S03", "2025-06-30", "2025-05-31", 30, 0.05


@lru_cache(maxsize=1)
def _setup() -> dict:
    from opskit.lifecycle import minimum_detectable_uplift, reactivation_rate, sample_size_per_group
    from opskit.report import demo_inputs, run_method

    inputs = demo_inputs(STORE)
    ns = {"store": STORE, "as_of": AS_OF, "inputs": inputs, "analysis": run_method(inputs, as_of=AS_OF),
          "t0": pd.Timestamp(T0), "window": WINDOW, "uplift": UPLIFT, "pd": pd,
          "sample_size_per_group": sample_size_per_group, "minimum_detectable_uplift": minimum_detectable_uplift,
          "reactivation_rate": reactivation_rate}
    return ns


_KEYS = ("store", "as_of", "inputs", "analysis", "t0", "window", "uplift", "pd", "sample_size_per_group",
         "minimum_detectable_uplift", "reactivation_rate")
SETUP = LazySetup(_KEYS, _setup)


_DEFAULTS = {"store": STORE, "as_of": AS_OF, "t0": pd.Timestamp(T0), "window": WINDOW, "uplift": UPLIFT}


def _get(ns, name):
    if name in ns:
        return ns[name]
    return _DEFAULTS[name] if name in _DEFAULTS else _setup()[name]


def _activation(ns) -> pd.DataFrame:
    return _get(ns, "analysis").activation


def _target_group(ns) -> int:
    a = _activation(ns)
    return int(((a["stage"] == "sleeping") & (a["value_tier"] == "high")).sum())


@lru_cache(maxsize=4)
def _reactivation(t0: pd.Timestamp, window: int) -> pd.DataFrame:
    from opskit.lifecycle import reactivation_rate

    from opskit.report import demo_inputs

    inputs = demo_inputs(STORE)
    return reactivation_rate(inputs.transactions, t0, window, inputs.members, cohort_stages=["sleeping"],
                             data_end=pd.Timestamp(AS_OF))


def _baseline(ns) -> float:
    return float(_reactivation(pd.Timestamp(_get(ns, "t0")), int(_get(ns, "window"))).loc["sleeping", "rate"])


def _n(ns, **options) -> int:
    from opskit.lifecycle import sample_size_per_group

    return sample_size_per_group(_baseline(ns), float(_get(ns, "uplift")), **options)[0]


def _sleeping(ns) -> int:
    return int(_get(ns, "analysis").stage_summary.loc["sleeping", "members"])


def _mde(ns) -> float:
    from opskit.lifecycle import minimum_detectable_uplift

    half = _sleeping(ns) // 2
    return float(minimum_detectable_uplift(_baseline(ns), half, half))


def _near(a, b, rtol=1e-3) -> bool:
    return is_number(a) and compare_numbers(a, b, rtol=rtol)[0]


# --- q1 ---------------------------------------------------------------------------------------------------------------
class TargetGroup(Problem):
    """q1: sleeping members of high value on the activation list."""

    var = "target_group"
    title = Text("1:1 唤醒的目标人群", "the 1:1 reactivation group")
    hints = [
        Text("analysis.activation 是激活清单: 每位超过 90 天未购买的会员一行, 有 stage 和 value_tier 两列。",
             "analysis.activation is the activation list: one row per member silent for more than 90 days, with "
             "stage and value_tier columns."),
        Text("两个条件都要满足: stage == \"sleeping\" 且 value_tier == \"high\"; 用 & 连接, 再 .sum()。",
             "Both conditions: stage == \"sleeping\" and value_tier == \"high\"; join them with &, then .sum()."),
    ]
    solution = code('act = analysis.activation\n'
                    'target_group = int(((act["stage"] == "sleeping") & (act["value_tier"] == "high")).sum())')
    expected = staticmethod(_target_group)
    mistakes = [
        Mistake(key="all_sleeping",
                test=lambda a: a.value == int((_activation(a.namespace)["stage"] == "sleeping").sum()),
                message=Text("这是所有沉睡会员; 1:1 联系只给高价值的 (value_tier == \"high\")",
                             "that is every sleeping member; the 1:1 contact is for the high-value ones "
                             "(value_tier == \"high\")")),
        Mistake(key="with_lost",
                test=lambda a: a.value == int((_activation(a.namespace)["value_tier"] == "high").sum()),
                message=Text("这里也包括了流失会员 (超过 180 天); 只要沉睡的 (stage == \"sleeping\")",
                             "that includes the lost members (over 180 days); keep the sleeping ones "
                             "(stage == \"sleeping\")")),
    ]


# --- q2 ---------------------------------------------------------------------------------------------------------------
class Baseline(Problem):
    """q2: the cohort reactivation rate of the members sleeping at t0."""

    var = "baseline"
    title = Text("对照基线: 沉睡会员的月唤醒率", "the baseline: monthly reactivation of sleeping members")
    hints = [
        Text("reactivation_rate(inputs.transactions, t0, window, inputs.members, cohort_stages=[\"sleeping\"], "
             "data_end=as_of) 返回一张表; 取 sleeping 行的 rate。",
             "reactivation_rate(inputs.transactions, t0, window, inputs.members, cohort_stages=[\"sleeping\"], "
             "data_end=as_of) returns a table; take the rate of the sleeping row."),
        Text("用小数 (0.11), 不要乘 100。按队列算: 是 t0 时沉睡的会员中有多少人在之后 window 天内购买。",
             "As a fraction (0.11), not ×100. It is cohort-based: of the members sleeping at t0, the share who "
             "bought within the next window days."),
    ]
    solution = code("react = reactivation_rate(inputs.transactions, t0, window, inputs.members,\n"
                    "                          cohort_stages=[\"sleeping\"], data_end=pd.Timestamp(as_of))\n"
                    "baseline = float(react.loc[\"sleeping\", \"rate\"])")
    expected = staticmethod(_baseline)
    compare_options = {"rtol": 1e-3}
    mistakes = [
        Mistake(key="percent", test=lambda a: _near(a.value, a.expected * 100),
                message=Text("这是百分数: 请用小数, 如 0.11", "that is a percentage: give a fraction, like 0.11")),
        Mistake(key="count_not_rate",
                test=lambda a: _near(a.value, float(_reactivation(pd.Timestamp(_get(a.namespace, "t0")),
                                                                  int(_get(a.namespace, "window")))
                                                    .loc["sleeping", "reactivated"])),
                message=Text("这是被唤醒的人数; 基线是比例 (人数 ÷ 队列人数)",
                             "that is the number reactivated; the baseline is a rate (reactivated ÷ cohort)")),
    ]


# --- q3 ---------------------------------------------------------------------------------------------------------------
class SampleSize(Problem):
    """q3: members per group to detect the uplift."""

    var = "n_per_group"
    title = Text("每组需要多少人", "members needed per group")
    hints = [
        Text("sample_size_per_group(baseline, uplift) 返回 (对照组人数, 实验组人数); 两组一样大时取第一个。",
             "sample_size_per_group(baseline, uplift) returns (control, treatment) sizes; with equal groups take "
             "the first."),
        Text("uplift 是绝对差: +5 个百分点写 0.05 (不是相对提升 5%)。",
             "uplift is an absolute difference: +5 points is 0.05 (not a relative 5%)."),
    ]
    solution = code("baseline = float(reactivation_rate(inputs.transactions, t0, window, inputs.members,\n"
                    "    cohort_stages=[\"sleeping\"], data_end=pd.Timestamp(as_of)).loc[\"sleeping\", \"rate\"])  # q2\n"
                    "n_per_group = sample_size_per_group(baseline, uplift)[0]")
    expected = staticmethod(_n)
    compare_options = {"atol": 0.5}
    mistakes = [
        Mistake(key="total_not_per_group", test=lambda a: _near(a.value, 2 * a.expected),
                message=Text("这是两组合计; 问的是每组人数", "that is both groups together; the question asks per group")),
        Mistake(key="one_sided", test=lambda a: _near(a.value, _n(a.namespace, two_sided=False)),
                message=Text("这是单侧检验的人数; 活动也可能有害, 用双侧 (默认)",
                             "that is for a one-sided test; a campaign can also hurt: use two-sided (the default)")),
        Mistake(key="relative_uplift",
                test=lambda a: _near(a.value, _relative_n(a.namespace)),
                message=Text("你把 uplift 当成了相对提升 (基线 × 5%); 这里是 +5 个百分点: uplift=0.05",
                             "you took the uplift as relative (baseline × 5%); here it is +5 points: uplift=0.05")),
    ]


def _relative_n(ns) -> int:
    from opskit.lifecycle import sample_size_per_group

    base = _baseline(ns)
    return sample_size_per_group(base, base * float(_get(ns, "uplift")))[0]


# --- q4 ---------------------------------------------------------------------------------------------------------------
class CanProve(Problem):
    """q4: is the store's sleeping stage big enough for the test?"""

    var = "can_prove"
    title = Text("本店的沉睡会员够不够做这个实验", "are the store's sleeping members enough for this test")
    hints = [
        Text("需要 2 × n_per_group 人 (实验组 + 对照组)。本店沉睡会员人数: analysis.stage_summary.loc[\"sleeping\", "
             "\"members\"]。",
             "You need 2 × n_per_group members (treatment + control). The store's sleeping members: "
             "analysis.stage_summary.loc[\"sleeping\", \"members\"]."),
        Text("答案是 True 或 False, 例如 can_prove = sleeping >= 2 * n_per_group。",
             "The answer is True or False, e.g. can_prove = sleeping >= 2 * n_per_group."),
    ]
    solution = code("baseline = float(reactivation_rate(inputs.transactions, t0, window, inputs.members,\n"
                    "    cohort_stages=[\"sleeping\"], data_end=pd.Timestamp(as_of)).loc[\"sleeping\", \"rate\"])  # q2\n"
                    "n_per_group = sample_size_per_group(baseline, uplift)[0]  # q3\n"
                    'sleeping = analysis.stage_summary.loc["sleeping", "members"]\n'
                    "can_prove = bool(sleeping >= 2 * n_per_group)")
    expected = staticmethod(lambda ns: bool(_sleeping(ns) >= 2 * _n(ns)))

    def check_value(self, value):
        if not isinstance(value, (bool, np.bool_)):
            return False, Text("请写 True 或 False", "answer True or False")
        return bool(value) == self.expected_value(), None



# --- q5 ---------------------------------------------------------------------------------------------------------------
class DetectableUplift(Problem):
    """q5: the minimum detectable uplift with the sleeping members split in half."""

    var = "mde"
    title = Text("本店能检测到的最小提升", "the smallest uplift this store can detect")
    hints = [
        Text("minimum_detectable_uplift(baseline, n_control, n_treatment): 两组各为沉睡会员的一半 (整除 // 2)。",
             "minimum_detectable_uplift(baseline, n_control, n_treatment): each group is half the sleeping members "
             "(integer division // 2)."),
        Text("结果是绝对差的小数, 如 0.09 = +9 个百分点。", "The result is an absolute difference, e.g. 0.09 = +9 points."),
    ]
    solution = code("baseline = float(reactivation_rate(inputs.transactions, t0, window, inputs.members,\n"
                    "    cohort_stages=[\"sleeping\"], data_end=pd.Timestamp(as_of)).loc[\"sleeping\", \"rate\"])  # q2\n"
                    'half = int(analysis.stage_summary.loc["sleeping", "members"]) // 2\n'
                    "mde = minimum_detectable_uplift(baseline, half, half)")
    expected = staticmethod(_mde)
    compare_options = {"rtol": 2e-3}
    mistakes = [
        Mistake(key="whole_group_each",
                test=lambda a: _near(a.value, _whole_each(a.namespace), rtol=2e-3),
                message=Text("你让两组都用了全部沉睡会员; 一个人只能在一组: 各一半",
                             "you put every sleeping member in both groups; each member is in one group: half each")),
        Mistake(key="percent", test=lambda a: _near(a.value, a.expected * 100, rtol=2e-3),
                message=Text("这是百分点数; 请用小数, 如 0.09", "that is in points; give a fraction, like 0.09")),
    ]


def _whole_each(ns) -> float:
    from opskit.lifecycle import minimum_detectable_uplift

    n = _sleeping(ns)
    return float(minimum_detectable_uplift(_baseline(ns), n, n))


PROBLEMS = [TargetGroup, Baseline, SampleSize, CanProve, DetectableUplift]


@lru_cache(maxsize=1)
def _examples_data() -> dict:
    ns = _setup()
    group = _target_group(ns)
    act = _activation(ns)
    base = _baseline(ns)
    n = _n(ns)
    can = bool(_sleeping(ns) >= 2 * n)
    mde = _mde(ns)
    reactivated = float(_reactivation(ns["t0"], ns["window"]).loc["sleeping", "reactivated"])
    return {
        "q1": Examples(correct=[group, np.int64(group), float(group)],
                       mistakes={"all_sleeping": int((act["stage"] == "sleeping").sum()),
                                 "with_lost": int((act["value_tier"] == "high").sum())},
                       wrong=[group + 1, 0, "many", None]),
        "q2": Examples(correct=[base, round(base, 4), np.float64(base)],
                       mistakes={"percent": base * 100, "count_not_rate": reactivated},
                       wrong=[1 - base, 0.5, "0.11", None]),
        "q3": Examples(correct=[n, np.int64(n), float(n)],
                       mistakes={"total_not_per_group": 2 * n, "one_sided": _n(ns, two_sided=False),
                                 "relative_uplift": _relative_n(ns)},
                       wrong=[n // 2, 100, "n", None]),
        "q4": Examples(correct=[can, np.bool_(can)], mistakes={}, wrong=[not can, "yes", 1 if not can else 0,
                                                                                   None]),
        "q5": Examples(correct=[mde, round(mde, 5)],
                       mistakes={"whole_group_each": _whole_each(ns), "percent": mde * 100},
                       wrong=[mde * 2, 0.05, "0.1", None]),
    }


EXAMPLES = LazySetup(tuple(f"q{i}" for i in range(1, len(PROBLEMS) + 1)), _examples_data)
