"""Lesson 05 (store-analysis compass, 店铺分析罗盘): diagnose the store that is missing its target.

The notebook defines, before the exercises::

    period = "2025-05"     # the month under review
    boost = 20             # what-if: the weak factor improves by this many percent
    cube = compass_cube()  # the KPI cube of every store and month (and prescriptions, imported)

- q1 ``missing_store``: the id of the store with the lowest target attainment (达成率) in ``period``.
- q2 ``attainment``: that store's attainment, as a fraction (e.g. 0.87).
- q3 ``weak_point``: its weak point (短板) against the target: the factor key with the most negative log term.
- q4 ``actions``: a list of at least two action ids from the prescriptions for that weak point.
- q5 ``projected_attainment``: its attainment if the weak factor improves by ``boost`` percent.

Every expected value is computed from the course data (nothing is hard-coded), so the checks stay right if a trainer
regenerates the dataset. The free-text one-week action plan is not auto-checked: its rubric is in
``course/facilitator/05-store-compass.md``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from opskit.compass import ACTIONS, FACTORS, KPIS, compass_cube, prescriptions
from opskit.exercises.compare import compare_numbers, describe, is_number
from opskit.exercises.core import Attempt, Examples, LazySetup, Mistake, Problem, code
from opskit.i18n import Text

PERIOD, BOOST = "2025-05", 20




@lru_cache(maxsize=1)
def _setup() -> dict:
    return {"period": PERIOD, "boost": BOOST, "cube": compass_cube(), "prescriptions": prescriptions}


SETUP = LazySetup(("period", "boost", "cube", "prescriptions"), _setup)


def _cube(ns):
    return ns["cube"] if "cube" in ns else compass_cube()


def _ranking(ns):
    return _cube(ns).ranking(ns["period"], "attainment").dropna(subset=["attainment"])


def _missing(ns) -> str:
    return str(_ranking(ns)["store_id"].iloc[-1])


def _weak(ns) -> str:
    return _cube(ns).weak_point(_missing(ns), ns["period"], "target").key



def _near(a, b, rtol=1e-3) -> bool:
    return is_number(a) and compare_numbers(a, b, rtol=rtol)[0]


# --- q1 ---------------------------------------------------------------------------------------------------------------
class MissingStore(Problem):
    """q1: the store with the lowest attainment in the period."""

    var = "missing_store"
    title = Text("没完成目标的门店", "the store missing its target")
    hints = [
        Text("cube.ranking(period, \"attainment\") 按达成率从高到低列出所有门店。",
             "cube.ranking(period, \"attainment\") lists every store by attainment, best first."),
        Text("排在最后一行的就是达成率最低的门店: 取它的 store_id (如 'S01'), 用 .iloc[-1]。",
             "The last row is the lowest attainment: take its store_id (like 'S01') with .iloc[-1]."),
    ]
    solution = code('ranking = cube.ranking(period, "attainment")\nmissing_store = ranking["store_id"].iloc[-1]')
    expected = staticmethod(_missing)
    compare_options = {"strip": True}
    mistakes = [
        Mistake(
            key="best_store",
            test=lambda a: a.value == _ranking(a.namespace)["store_id"].iloc[0],
            message=Text("这是达成率最高的门店 (ranking 第一行); 要找最低的: 最后一行",
                         "that is the store with the highest attainment (the first row); we want the lowest: the "
                         "last row"),
        ),
        Mistake(
            key="store_name",
            test=lambda a: isinstance(a.value, str) and a.value.strip() in set(_cube(a.namespace).store_names.values()),
            message=Text("这是门店名称; 请填门店编号 store_id (如 'S01')",
                         "that is the store's name; give its store_id (like 'S01')"),
        ),
    ]


# --- q2 ---------------------------------------------------------------------------------------------------------------
def _attainment(ns) -> float:
    return float(_cube(ns).row(_missing(ns), ns["period"])["attainment"])


class Attainment(Problem):
    """q2: that store's attainment as a fraction."""

    var = "attainment"
    title = Text("它的达成率", "its target attainment")
    hints = [
        Text("达成率 = 销售额 ÷ 当月目标。cube.row(门店, period) 有 sales, target_month 和 attainment 列。",
             "Attainment = sales ÷ the month's target. cube.row(store, period) has sales, target_month and "
             "attainment."),
        Text("用小数表示 (0.87), 不要乘以 100。", "As a fraction (0.87), not multiplied by 100."),
    ]
    solution = code("store = cube.ranking(period, \"attainment\")[\"store_id\"].iloc[-1]  # = missing_store (q1)\n"
                    'row = cube.row(store, period)\nattainment = row["sales"] / row["target_month"]')
    expected = staticmethod(_attainment)
    compare_options = {"rtol": 1e-3}
    mistakes = [
        Mistake(key="percent", test=lambda a: _near(a.value, a.expected * 100),
                message=Text("这是百分数 (乘了 100): 请用小数, 如 0.87", "that is a percentage (×100): give a fraction, "
                             "like 0.87")),
        Mistake(key="inverted", test=lambda a: _near(a.value, 1 / a.expected),
                message=Text("算反了: 达成率 = 销售额 ÷ 目标", "upside down: attainment = sales ÷ target")),
        Mistake(key="gap_not_attainment", test=lambda a: _near(a.value, a.expected - 1),
                message=Text("这是差距 (达成率 − 1), 不是达成率本身", "that is the gap (attainment − 1), not the "
                             "attainment itself")),
    ]


# --- q3 ---------------------------------------------------------------------------------------------------------------
_ALIASES = {alias.strip().lower(): key for key in FACTORS
            for alias in (key, KPIS[key].zh, KPIS[key].en, KPIS[key].label)}


def _factor_key(value):
    if isinstance(value, str):
        return _ALIASES.get(value.strip().lower())
    return None


def _most_positive(ns) -> str:
    att = _cube(ns).attribution(_missing(ns), ns["period"], "target")
    return str(att.loc[att["log_ratio"].idxmax(), "factor"])


class WeakPoint(Problem):
    """q3: the weak point (短板) against the target."""

    var = "weak_point"
    title = Text("它的短板", "its weak point")
    hints = [
        Text("cube.attribution(门店, period, \"target\") 把差距拆到 5 个因子上; log_ratio 最负的那个就是短板。",
             "cube.attribution(store, period, \"target\") splits the gap over the 5 factors; the most negative "
             "log_ratio is the weak point."),
        Text("也可以直接用 cube.weak_point(门店, period, \"target\").key。答案写因子的键, 如 'upt'。",
             "Or use cube.weak_point(store, period, \"target\").key. Answer with the factor key, like 'upt'."),
    ]
    solution = code("store = cube.ranking(period, \"attainment\")[\"store_id\"].iloc[-1]  # = missing_store (q1)\n"
                    'weak_point = cube.weak_point(store, period, "target").key')
    expected = staticmethod(_weak)

    def check_value(self, value):
        key = _factor_key(value)
        if key is None:
            return False, Text(f"{describe(value)} 不是因子; 可选: {', '.join(FACTORS)}",
                               f"{describe(value)} is not a factor; choose one of: {', '.join(FACTORS)}")
        return key == self.expected_value(), None

    mistakes = [
        Mistake(key="most_positive", test=lambda a: _factor_key(a.value) == _most_positive(a.namespace),
                message=Text("这是表现最好的因子 (log_ratio 最大); 短板是最负的那个",
                             "that is the best factor (the largest log_ratio); the weak point is the most negative")),
        Mistake(key="outcome_not_factor",
                test=lambda a: isinstance(a.value, str) and a.value.strip().lower() in
                {"sales", "attainment", "销售额", "达成率"},
                message=Text("销售额和达成率是结果, 不是因子; 短板是 5 个因子之一",
                             "sales and attainment are outcomes, not factors; the weak point is one of the 5 "
                             "factors")),
    ]


# --- q4 ---------------------------------------------------------------------------------------------------------------
def _prescribed(ns) -> set[str]:
    return set(prescriptions(_weak(ns))["action"])


class Actions(Problem):
    """q4: at least two actions, all from the weak point's prescriptions."""

    var = "actions"
    title = Text("选择行动", "choose actions")
    hints = [
        Text("prescriptions(weak_point) 列出短板对应的行动; 'action' 列是行动编号。",
             "prescriptions(weak_point) lists the actions for the weak point; the 'action' column holds the ids."),
        Text("选至少两个, 写成列表, 如 ['styling_addon', 'bundle_offer']。",
             "Pick at least two, as a list, like ['styling_addon', 'bundle_offer']."),
    ]
    solution = code("store = cube.ranking(period, \"attainment\")[\"store_id\"].iloc[-1]  # = missing_store (q1)\n"
                    'weak = cube.weak_point(store, period, "target").key  # = weak_point (q3)\n'
                    'actions = prescriptions(weak)["action"].tolist()[:2]')
    expected = staticmethod(lambda ns: sorted(_prescribed(ns)))

    def check_value(self, value):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            return False, Text("请给一个行动编号的列表, 如 ['a', 'b']", "give a list of action ids, like ['a', 'b']")
        chosen = {v.strip() for v in value}
        unknown = sorted(chosen - set(ACTIONS))
        if unknown:
            return False, Text(f"未知的行动编号: {unknown}", f"unknown action id(s): {unknown}")
        if len(chosen) < 2:
            return False, Text("至少选两个不同的行动", "choose at least two different actions")
        off = sorted(chosen - _prescribed(self.namespace))
        if off:
            return False, Text(f"这些行动不针对短板: {off}", f"these actions do not address the weak point: {off}")
        return True, None

    mistakes = [
        Mistake(key="one_string", test=lambda a: isinstance(a.value, str),
                message=Text("这是一个字符串; 请写成列表: ['编号1', '编号2']", "that is one string; write a list: "
                             "['id1', 'id2']")),
        Mistake(key="other_factor",
                test=lambda a: isinstance(a.value, (list, tuple)) and set(a.value) <= set(ACTIONS)
                and not set(a.value) & _prescribed(a.namespace),
                message=Text("这些都是别的因子的处方; 先确认短板, 再用 prescriptions(weak_point)",
                             "these are all prescriptions for other factors; confirm the weak point, then use "
                             "prescriptions(weak_point)")),
    ]


# --- q5 ---------------------------------------------------------------------------------------------------------------
def _projected(ns) -> float:
    return float(_cube(ns).what_if(_missing(ns), ns["period"], {_weak(ns): ns["boost"]}, "target")
                 ["projected_attainment"])


class ProjectedAttainment(Problem):
    """q5: projected attainment when the weak factor improves by ``boost`` percent."""

    var = "projected_attainment"
    title = Text("假如短板提升后的达成率", "attainment if the weak point improves")
    hints = [
        Text("cube.what_if(门店, period, {因子: 百分比}) 返回一个字典, 含 projected_attainment。",
             "cube.what_if(store, period, {factor: percent}) returns a dict with projected_attainment."),
        Text("因子提升 boost% 时销售额乘以 (1 + boost/100), 所以达成率也乘以同一个数。",
             "Improving a factor by boost% multiplies sales by (1 + boost/100), so attainment too."),
    ]
    solution = code("store = cube.ranking(period, \"attainment\")[\"store_id\"].iloc[-1]  # = missing_store (q1)\n"
                    'weak = cube.weak_point(store, period, "target").key  # = weak_point (q3)\n'
                    'projected_attainment = cube.what_if(store, period, {weak: boost})["projected_attainment"]')
    expected = staticmethod(_projected)
    compare_options = {"rtol": 1e-3}
    mistakes = [
        Mistake(key="added_points", test=lambda a: _near(a.value, _attainment(a.namespace) + a.namespace["boost"] / 100),
                message=Text("提升 20% 是乘以 1.2, 不是加 20 个百分点", "a 20% improvement multiplies by 1.2; it does "
                             "not add 20 percentage points")),
        Mistake(key="sales_not_attainment", test=lambda a: is_number(a.value) and a.value > 1000,
                message=Text("这是预计销售额 (元); 题目要的是预计达成率 (小数)",
                             "that is the projected sales (yuan); the task asks for the projected attainment (a "
                             "fraction)")),
        Mistake(key="percent", test=lambda a: _near(a.value, a.expected * 100),
                message=Text("这是百分数 (乘了 100): 请用小数", "that is a percentage (×100): give a fraction")),
    ]


PROBLEMS = [MissingStore, Attainment, WeakPoint, Actions, ProjectedAttainment]


@lru_cache(maxsize=1)
def _examples() -> dict:
    ns = _setup()
    store, weak = _missing(ns), _weak(ns)
    cube = ns["cube"]
    ranking = _ranking(ns)
    best = str(ranking["store_id"].iloc[0])
    middle = str(ranking["store_id"].iloc[len(ranking) // 2])
    att = _attainment(ns)
    prescribed = prescriptions(weak)["action"].tolist()
    other = next(f for f in FACTORS if f != weak and not set(prescriptions(f)["action"]) & set(prescribed))
    other_actions = prescriptions(other)["action"].tolist()
    top = _most_positive(ns)
    projected = _projected(ns)
    row = cube.row(store, ns["period"])
    return {
        "q1": Examples(correct=[store, f" {store} "], mistakes={"best_store": best,
                                                              "store_name": cube.store_names[store]},
                       wrong=[middle, store.lower() + "x", 4, None, [store]]),
        "q2": Examples(correct=[att, round(att, 4), np.float64(att)],
                       mistakes={"percent": att * 100, "inverted": 1 / att, "gap_not_attainment": att - 1},
                       wrong=[float(row["sales"]), 1.0, "0.57", None, float("nan")]),
        "q3": Examples(correct=[weak, KPIS[weak].zh, KPIS[weak].en.upper(), f" {weak} "],
                       mistakes={"most_positive": top, "outcome_not_factor": "attainment"},
                       wrong=[next(f for f in FACTORS if f not in (weak, top)), "happiness", 3, None]),
        "q4": Examples(correct=[prescribed[:2], prescribed, tuple(reversed(prescribed[:2]))],
                       mistakes={"one_string": ", ".join(prescribed[:2]), "other_factor": other_actions[:2]},
                       wrong=[prescribed[:1], [prescribed[0], prescribed[0]], [prescribed[0], "magic"],
                              [prescribed[0], other_actions[0]], [], None, {"a": 1}]),
        "q5": Examples(correct=[projected, round(projected, 4)],
                       mistakes={"added_points": att + ns["boost"] / 100,
                                 "sales_not_attainment": projected * float(row["target_month"]),
                                 "percent": projected * 100},
                       wrong=[att, projected * 1.2, "0.69", None]),
    }


EXAMPLES = LazySetup(tuple(f"q{i}" for i in range(1, len(PROBLEMS) + 1)), _examples)
