"""Tests for the exercise engine: bind, outcomes, feedback display, languages, scoreboard, never-raises."""

from __future__ import annotations

import doctest
import importlib
import math
import re

import numpy as np
import pandas as pd
import pytest

import opskit.exercises as ex
from opskit.exercises import (
    PLACEHOLDER,
    BoundProblem,
    CheckResult,
    Mistake,
    Problem,
    Status,
    bind,
    code,
    lesson_ids,
    scoreboard,
)
from opskit.exercises.core import _reset_scoreboard, contains_placeholder
from opskit.exercises.view import Feedback
from opskit.i18n import Text, get_language, set_language

CJK = re.compile(r"[\u4e00-\u9fff]")
ATV = 45_870 / 108


@pytest.fixture(autouse=True)
def _clean_state():
    language = get_language()
    set_language("both")
    _reset_scoreboard()
    yield
    set_language(language)
    _reset_scoreboard()


@pytest.fixture
def ns():
    namespace = {"sales": 45_870, "orders": 108}
    bind("00", namespace, quiet=True)
    return namespace


# ---- bind -----------------------------------------------------------------------------------------------------------
def test_bind_defines_problems_and_placeholder_and_prints_one_line(capsys):
    namespace = {}
    bind("00", namespace)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "第 00 课" in out and "Lesson 00" in out and "q1" in out and "q2" in out
    assert isinstance(namespace["q1"], BoundProblem) and isinstance(namespace["q2"], BoundProblem)
    assert namespace["____"] is PLACEHOLDER
    assert namespace["q1"].namespace is namespace


@pytest.mark.parametrize("lesson", ["00", "0", 0, "lesson00", " 00 "])
def test_bind_accepts_id_spellings(lesson):
    namespace = {}
    bind(lesson, namespace, quiet=True)
    assert "q1" in namespace


@pytest.mark.parametrize("lesson", ["99", "7", "abc", None, ""])
def test_bind_unknown_lesson_lists_valid_ids(lesson):
    with pytest.raises(ValueError) as info:
        bind(lesson, {})
    message = str(info.value)
    assert "00" in message and "valid lessons" in message and "可选" in message


def test_bind_rejects_a_non_mapping_namespace():
    with pytest.raises(ValueError, match="globals"):
        bind("00", ["not", "a", "dict"])


def test_lesson_ids_are_discovered():
    ids = lesson_ids()
    assert "00" in ids and ids == sorted(ids) and all(len(i) == 2 and i.isdigit() for i in ids)


# ---- placeholder ----------------------------------------------------------------------------------------------------
def test_placeholder_is_a_stable_singleton_that_survives_arithmetic_and_format():
    import copy
    import pickle

    assert repr(PLACEHOLDER) == "____"
    assert PLACEHOLDER / 3 is PLACEHOLDER and 3 - PLACEHOLDER is PLACEHOLDER and round(PLACEHOLDER, 2) is PLACEHOLDER
    assert f"{PLACEHOLDER:.2f}" == "____"
    assert copy.deepcopy(PLACEHOLDER) is PLACEHOLDER
    assert pickle.loads(pickle.dumps(PLACEHOLDER)) is PLACEHOLDER
    assert type(PLACEHOLDER)() is PLACEHOLDER


def test_contains_placeholder_nested_and_safe_on_cycles():
    assert contains_placeholder([1, (2, {"k": PLACEHOLDER})])
    assert contains_placeholder({PLACEHOLDER: 1})
    assert contains_placeholder({1, PLACEHOLDER})
    assert not contains_placeholder([1, "____", None])
    loop = [1]
    loop.append(loop)
    assert not contains_placeholder(loop)


# ---- outcomes of lesson 00 ------------------------------------------------------------------------------------------
def test_not_attempted_when_undefined_or_placeholder(ns):
    q1 = ns["q1"]
    result = q1.outcome()
    assert result.status is Status.NOT_ATTEMPTED and "atv" in result.message.en
    ns["atv"] = PLACEHOLDER
    assert q1.outcome().status is Status.NOT_ATTEMPTED
    ns["channels"] = ["pos", PLACEHOLDER, "wecom_group"]
    assert ns["q2"].outcome().status is Status.NOT_ATTEMPTED
    ns["atv"] = PLACEHOLDER / ns["orders"]  # a half-filled stub still runs
    assert q1.outcome().status is Status.NOT_ATTEMPTED


def test_q1_right_answers_and_each_mistake(ns):
    q1 = ns["q1"]
    ns["atv"] = ns["sales"] / ns["orders"]
    q1.assert_check_passed()
    q1.assert_check_passed(round(ATV, 2))
    q1.assert_check_failed(108 / 45_870, mistake="inverted")
    q1.assert_check_failed(425, mistake="rounded")
    q1.assert_check_failed(45_870 // 108, mistake="rounded")
    q1.assert_check_failed(45_870, mistake="typed_sales")
    result = q1.outcome(42.47)
    assert result.status is Status.INCORRECT and result.mistake is None and "42.47" in result.message.en


def test_q1_expected_follows_the_notebook_numbers(ns):
    ns["sales"], ns["orders"] = 129_900, 100
    ns["q1"].assert_check_passed(1299.0)
    ns["q1"].assert_check_failed(ATV)
    del ns["sales"]
    result = ns["q1"].outcome(1299.0)
    assert result.status is Status.INCORRECT and "sales" in result.message.en and "run the cells above" in result.message.en


def test_q2_any_order_and_missing_channel_is_named(ns):
    q2 = ns["q2"]
    q2.assert_check_passed(["wecom_group", "mini_program", "pos"])
    result = q2.outcome(["pos", "wecom_group"])
    assert result.mistake == "missing_channel"
    assert "'mini_program'" in result.message.en and "小程序商城" in result.message.zh
    q2.assert_check_failed(("pos", "mini_program", "wecom_group"))
    q2.assert_check_failed(["pos", "mini_program", "wecom_group", "pos"])


def test_assert_helpers_raise_with_a_useful_message(ns):
    q1 = ns["q1"]
    with pytest.raises(AssertionError, match="expected the check to pass, got incorrect"):
        q1.assert_check_passed(1.0)
    with pytest.raises(AssertionError, match="expected the check to fail, got correct"):
        q1.assert_check_failed(ATV)
    with pytest.raises(AssertionError, match="expected the check to fail, got not_attempted"):
        q1.assert_check_failed(PLACEHOLDER)
    with pytest.raises(AssertionError, match="expected mistake 'inverted', got 'rounded'"):
        q1.assert_check_failed(425, mistake="inverted")


# ---- toy problems: multi-variable, custom checks, checker bugs ------------------------------------------------------
class UnitsPerTransaction(Problem):
    vars = ("units", "orders_count")
    title = Text("连带率的输入", "UPT inputs")
    hints = [Text("数一数", "count them")]
    solution = code("units, orders_count = 150, 75")
    expected = (150, 75)


class EvenNumber(Problem):
    var = "n"
    title = Text("偶数", "an even number")
    hints = [Text("能被 2 整除", "divisible by 2")]
    solution = code("n = 2")
    mistakes = [Mistake(key="odd", test=lambda a: a.value % 2 == 1, message=Text("这是奇数", "that is odd"))]

    def check_value(self, value):
        if not isinstance(value, int):
            return CheckResult(Status.NOT_ATTEMPTED, Text("请给一个整数", "give an integer"))
        return value % 2 == 0, Text("不是偶数", "not even")


class BuggyExpected(Problem):
    var = "x"
    title = Text("有缺陷", "buggy")
    hints = [Text("无", "none")]
    solution = code("x = 1")
    expected = staticmethod(lambda ns: 1 / 0)


def bound(problem_class, namespace, name="q1"):
    return BoundProblem(problem_class(namespace), namespace, "99", name)


def test_multi_variable_problem():
    namespace = {}
    q = bound(UnitsPerTransaction, namespace)
    assert q.outcome().status is Status.NOT_ATTEMPTED
    namespace["units"] = 150
    result = q.outcome()
    assert result.status is Status.INCORRECT and "`orders_count`" in result.message.en
    namespace["orders_count"] = PLACEHOLDER
    assert q.outcome().status is Status.NOT_ATTEMPTED
    namespace["orders_count"] = 76
    assert "`orders_count`: wrong value: yours is 76" in q.outcome().message.en
    namespace["orders_count"] = 75
    q.assert_check_passed()
    q.assert_check_failed((150, 74))


def test_custom_check_value_with_result_tuple_and_mistakes():
    namespace = {}
    q = bound(EvenNumber, namespace)
    q.assert_check_passed(4)
    assert q.outcome(3).mistake == "odd"
    assert q.outcome("4").status is Status.NOT_ATTEMPTED


def test_checker_bug_is_reported_not_raised(capsys):
    q = bound(BuggyExpected, {"x": 1})
    result = q.outcome()
    assert result.status is Status.INCORRECT
    assert result.message.en == "could not check this answer: ZeroDivisionError: division by zero"
    q.check()
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_validate_names_the_missing_attributes():
    class Incomplete(Problem):
        var = "x"
        hints = ["not a Text"]

    with pytest.raises(TypeError) as info:
        Incomplete.validate()
    message = str(info.value)
    for fragment in ("Incomplete", "title", "solution", "hints", "expected"):
        assert fragment in message

    class BothVars(UnitsPerTransaction):
        var = "y"

    with pytest.raises(TypeError, match="exactly one of `var` or `vars`"):
        BothVars.validate()
    UnitsPerTransaction.validate()
    EvenNumber.validate()


# ---- never raises ---------------------------------------------------------------------------------------------------
class RaisesOnEq:
    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = object.__hash__


class RaisesOnBool:
    def __bool__(self):
        raise RuntimeError("bool")

    def __eq__(self, other):
        return self


class RaisesOnRepr:
    def __repr__(self):
        raise RuntimeError("repr")

    __str__ = __repr__


class RaisesOnEverything:
    def __getattribute__(self, name):
        raise RuntimeError(name)

    def __len__(self):
        raise RuntimeError("len")

    def __iter__(self):
        raise RuntimeError("iter")


class ListRaisingOnEq(list):
    def __eq__(self, other):
        raise RuntimeError("eq")


def _generator():
    yield 1


def _self_loop():
    loop = ["pos"]
    loop.append(loop)
    return loop


NASTY = [
    None,
    math.nan,
    -math.inf,
    pd.NA,
    pd.NaT,
    pd.DataFrame(),
    pd.Series(dtype=float),
    pd.DataFrame({"a": [1, None]}),
    np.array([]),
    np.array([[1, 2], [3, 4]]),
    np.float64("nan"),
    RaisesOnEq(),
    RaisesOnBool(),
    RaisesOnRepr(),
    RaisesOnEverything(),
    ListRaisingOnEq(["pos", "mini_program", "wecom_group"]),
    [RaisesOnEq(), RaisesOnBool(), RaisesOnRepr()],
    {"pos": RaisesOnBool()},
    10**5000,
    -(10**400),
    2**63,
    1 + 1j,
    "",
    "x" * 100_000,
    "424.72",
    b"pos",
    lambda: 1,
    _generator(),
    (x for x in range(3)),
    print,
    int,
    Ellipsis,
    object(),
    _self_loop(),
    {"pos", "mini_program"},
    [[["pos"]]],
]


@pytest.mark.parametrize("lesson", lesson_ids())
@pytest.mark.parametrize("index", range(len(NASTY)))  # by index: pytest itself must not touch the values
def test_checks_never_raise_on_nasty_values(lesson, index, capsys):
    value = NASTY[index]
    module = importlib.import_module(f"opskit.exercises.lesson{lesson}")
    namespace = dict(module.SETUP)
    bind(lesson, namespace, quiet=True)
    for number, problem_class in enumerate(module.PROBLEMS, start=1):
        q = namespace[f"q{number}"]
        names = problem_class.variables()
        answer = value if len(names) == 1 else tuple(value for _ in names)
        result = q.outcome(answer)
        assert isinstance(result, CheckResult)
        assert result.status in (Status.INCORRECT, Status.NOT_ATTEMPTED)
        for language in ("zh", "en", "both"):
            text = result.message.render(language)
            assert text and "Traceback" not in text and not re.search(r"0x[0-9a-f]{6,}", text)
        for name in names:
            namespace[name] = value
        q.check()
        q.hint()
        q.solution()
    out = capsys.readouterr().out
    assert "Traceback" not in out and not re.search(r"0x[0-9a-f]{6,}", out)


def test_check_survives_a_broken_display(ns, monkeypatch, capsys):
    import opskit.exercises.core as core

    def broken(feedback):
        raise RuntimeError("display is broken")

    monkeypatch.setattr(core, "show", broken)
    ns["atv"] = ATV
    ns["q1"].check()
    assert "could not check this answer: RuntimeError" in capsys.readouterr().out


# ---- output ---------------------------------------------------------------------------------------------------------
def test_plain_text_output_outside_ipython(ns, capsys):
    q1 = ns["q1"]
    q1.check()
    ns["atv"] = 108 / 45_870
    q1.check()
    ns["atv"] = ATV
    q1.check()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("○ q1: ")
    assert lines[1].startswith("✗ q1: 算反了") and "upside down" in lines[1]
    assert lines[2] == "✓ q1: 正确! / Correct!"


def test_hints_are_successive_and_out_of_range_is_friendly(ns, capsys):
    q1 = ns["q1"]
    count = len(type(q1.problem).hints)
    q1.hint()
    first = capsys.readouterr().out
    assert first.startswith(f"💡 q1: 提示 1/{count}") and f"q1.hint(2)" in first
    q1.hint(count)
    last = capsys.readouterr().out
    assert f"{count}/{count}" in last and f"q1.hint({count + 1})" not in last
    for bad in (0, count + 1, "two", None):
        q1.hint(bad)
        assert f"q1.hint({count})" in capsys.readouterr().out


def test_solution_shows_code(ns, capsys):
    ns["q1"].solution()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "📖 q1: 参考答案: / Solution:"
    assert "atv = sales / orders" in out


def test_feedback_html_is_coloured_escaped_and_bilingual():
    feedback = Feedback("incorrect", "q2", Text("不对 <b>", "wrong <b>"), code="x < 1", footer=Text("下一条", "next"))
    page = feedback.html("both")
    assert "#b71c1c" in page and "&lt;b&gt;" in page and "<br>" in page and "x &lt; 1" in page
    assert "<br>" not in Feedback("hint", "q1", Text("提示", "hint")).html("en")
    colours = {kind: Feedback(kind, "q1", Text("a", "b")).html() for kind in ("correct", "incorrect", "hint", "not_attempted")}
    assert len({re.search(r"border-left:4px solid (#\w+)", page).group(1) for page in colours.values()}) == 4


def test_rich_output_under_ipython(ns):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        ns["atv"] = ATV
        with capture_output() as captured:
            ns["q1"].check()
            ns["q1"].hint()
        bundles = [output.data for output in captured.outputs]
        assert len(bundles) == 2
        assert bundles[0]["text/plain"] == "✓ q1: 正确! / Correct!"
        assert "opskit-correct" in bundles[0]["text/html"] and "#1b5e20" in bundles[0]["text/html"]
        assert "opskit-hint" in bundles[1]["text/html"]
        assert captured.stdout == ""
    finally:
        InteractiveShell.clear_instance()
        assert shell is not None


# ---- languages ------------------------------------------------------------------------------------------------------
def test_language_switching(ns, capsys):
    ns["atv"] = 425
    set_language("en")
    ns["q1"].check()
    english = capsys.readouterr().out
    assert english.startswith("✗ q1: the result was rounded") and not CJK.search(english)
    set_language("zh")
    ns["q1"].check()
    chinese = capsys.readouterr().out
    assert "取整" in chinese and "rounded" not in chinese
    set_language("both")
    ns["q1"].check()
    both = capsys.readouterr().out
    assert "取整" in both and "rounded" in both and " / " in both


# ---- scoreboard -----------------------------------------------------------------------------------------------------
def test_scoreboard_records_latest_check_per_problem(ns, capsys):
    board = scoreboard()
    assert board.columns.tolist() == ["lesson", "problem", "title", "status", "checks"]
    assert board["status"].tolist() == ["not_attempted", "not_attempted"] and board["checks"].tolist() == [0, 0]
    ns["atv"] = 1.0
    ns["q1"].check()
    ns["atv"] = ATV
    ns["q1"].outcome(2.0)  # pure: not recorded
    ns["q1"].assert_check_failed(2.0)
    ns["q1"].check()
    board = scoreboard("00")
    row = board.set_index("problem").loc["q1"]
    assert row["status"] == "correct" and row["checks"] == 2 and row["lesson"] == "00"
    assert board.set_index("problem").loc["q2", "status"] == "not_attempted"
    ns["channels"] = ["pos"]
    ns["q2"].check()
    assert scoreboard().set_index("problem").loc["q2", "status"] == "incorrect"
    assert scoreboard("01").empty and scoreboard("01").columns.tolist() == board.columns.tolist()
    set_language("en")
    assert scoreboard()["title"].tolist()[0] == "average ticket (ATV)"


def test_scoreboard_keeps_records_when_bind_runs_again(ns, capsys):
    ns["atv"] = ATV
    ns["q1"].check()
    bind("00", ns, quiet=True)
    assert scoreboard().set_index("problem").loc["q1", "status"] == "correct"


# ---- docs -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "module_name",
    ["opskit.exercises", "opskit.exercises.core", "opskit.exercises.compare", "opskit.exercises.view"],
)
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)[:2]
    assert failures == 0


def test_import_opskit_exercises_stays_light():
    import subprocess
    import sys

    code_ = (
        "import sys, opskit.exercises; heavy = [m for m in ('lifetimes', 'seaborn', 'matplotlib', 'ipywidgets', "
        "'IPython') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code_], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert ex.__all__ and all(hasattr(ex, name) for name in ex.__all__)
