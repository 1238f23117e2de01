"""Generic contract for every lesson module in opskit.exercises (discovered, so new lessons are covered).

Each ``lessonNN`` module must declare ``PROBLEMS``, ``SETUP`` and ``EXAMPLES``; every problem must be complete and
bilingual, every anticipated mistake must have an example that is recognised as exactly that mistake, and every
solution must pass its own check.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping

import pytest

from opskit.exercises import PLACEHOLDER, Attempt, Examples, Mistake, Problem, Status, bind, lesson_ids
from opskit.exercises.core import _reset_scoreboard
from opskit.i18n import Text, get_language, set_language

CJK = re.compile(r"[\u4e00-\u9fff]")
LESSONS = lesson_ids()


@pytest.fixture(autouse=True)
def _clean_state():
    language = get_language()
    set_language("both")
    _reset_scoreboard()
    yield
    set_language(language)
    _reset_scoreboard()


def _module(lesson):
    return importlib.import_module(f"opskit.exercises.lesson{lesson}")


def _bound(lesson):
    module = _module(lesson)
    namespace = dict(module.SETUP)
    bind(lesson, namespace, quiet=True)
    return module, namespace


def _cases(lesson):
    module = _module(lesson)
    return [(lesson, f"q{number}") for number in range(1, len(module.PROBLEMS) + 1)]


ALL_PROBLEMS = [case for lesson in LESSONS for case in _cases(lesson)]
IDS = [f"lesson{lesson}-{name}" for lesson, name in ALL_PROBLEMS]


def test_at_least_the_welcome_lesson_exists():
    assert "00" in LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_module_declares_problems_setup_and_examples(lesson):
    module = _module(lesson)
    assert module.__doc__, "a lesson module explains its exercises in its docstring"
    problems = module.PROBLEMS
    assert isinstance(problems, list) and problems
    assert all(isinstance(p, type) and issubclass(p, Problem) for p in problems)
    assert len(set(problems)) == len(problems)
    assert isinstance(module.SETUP, Mapping)
    assert isinstance(module.EXAMPLES, Mapping)
    assert set(module.EXAMPLES) == {f"q{n}" for n in range(1, len(problems) + 1)}
    assert all(isinstance(examples, Examples) for examples in module.EXAMPLES.values())
    variables = [name for problem in problems for name in problem.variables()]
    assert len(set(variables)) == len(variables), "two problems of a lesson must not share a variable"
    assert not set(variables) & set(module.SETUP), "learner variables must not be pre-set by SETUP"


def _bilingual(text):
    return isinstance(text, Text) and text.zh.strip() and text.en.strip() and CJK.search(text.zh) and not CJK.search(text.en)


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
def test_problem_declaration_is_complete_and_bilingual(lesson, name):
    module, namespace = _bound(lesson)
    problem = type(namespace[name].problem)
    problem.validate()
    assert problem.variables()
    assert _bilingual(problem.title)
    assert len(problem.hints) >= 1 and all(_bilingual(hint) for hint in problem.hints)
    assert problem.solution.zh.strip() and problem.solution.en.strip()
    for mistake in problem.mistakes:
        assert isinstance(mistake, Mistake) and re.fullmatch(r"[a-z][a-z0-9_]*", mistake.key)


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
def test_correct_examples_pass_and_trigger_no_mistake(lesson, name):
    module, namespace = _bound(lesson)
    q = namespace[name]
    examples = module.EXAMPLES[name]
    assert examples.correct, f"{name}: give at least one correct answer"
    expected = q.problem.expected_value()
    for value in examples.correct:
        q.assert_check_passed(value)
        attempt = Attempt(value, expected, namespace)
        fired = [m.key for m in q.problem.mistakes if m.matches(attempt)]
        assert not fired, f"{name}: mistake test(s) {fired} also match the correct answer {value!r}"


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
def test_every_anticipated_mistake_has_an_example_that_is_recognised(lesson, name):
    module, namespace = _bound(lesson)
    q = namespace[name]
    examples = module.EXAMPLES[name]
    declared = {m.key for m in q.problem.mistakes}
    assert set(examples.mistakes) == declared, f"{name}: EXAMPLES mistakes must cover exactly {sorted(declared)}"
    for key, value in examples.mistakes.items():
        q.assert_check_failed(value, mistake=key)
        message = q.outcome(value).message
        assert _bilingual(message), f"{name}/{key}: the message must be bilingual"


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
def test_wrong_examples_fail(lesson, name):
    module, namespace = _bound(lesson)
    q = namespace[name]
    examples = module.EXAMPLES[name]
    assert len(examples.wrong) + len(examples.mistakes) >= 1, f"{name}: give at least one wrong answer"
    for value in examples.wrong:
        q.assert_check_failed(value)
        assert not q.outcome(value).message.en.startswith("could not check"), f"{name}: checker crashed on {value!r}"


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_solution_code_passes_its_own_check(lesson, name, language):
    module, namespace = _bound(lesson)
    q = namespace[name]
    exec(q.problem.solution.render(language), namespace)  # noqa: S102 - our own solution code
    q.assert_check_passed()


@pytest.mark.parametrize("lesson, name", ALL_PROBLEMS, ids=IDS)
def test_not_attempted_with_placeholder_or_undefined(lesson, name):
    module, namespace = _bound(lesson)
    q = namespace[name]
    names = q.problem.variables()
    assert q.outcome().status is Status.NOT_ATTEMPTED
    for variable in names:
        namespace[variable] = PLACEHOLDER
    assert q.outcome().status is Status.NOT_ATTEMPTED
    assert q.outcome(PLACEHOLDER if len(names) == 1 else (PLACEHOLDER,) * len(names)).status is Status.NOT_ATTEMPTED
