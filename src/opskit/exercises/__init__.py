"""In-notebook exercises: ``q1.check()``, ``q1.hint()``, ``q1.solution()``.

A notebook starts its exercises with::

    from opskit.exercises import bind
    bind("00", globals())    # defines q1, q2, … and the placeholder ____

Each exercise cell then reads ``atv = ____`` in the learner copy; ``q1.check()`` says "not attempted" (○), tells a
wrong answer apart with a specific message (✗) or confirms it (✓). Feedback is bilingual (see
:func:`opskit.set_language`), shows as a coloured block in Jupyter and as deterministic plain text for nbval.

Writing a lesson module
-----------------------
Create ``src/opskit/exercises/lessonNN.py`` (``NN`` = the lesson number, two digits). It is found automatically by
:func:`bind`, :func:`lesson_ids` and the generic test, and must define:

``PROBLEMS``
    The :class:`Problem` subclasses in order; they become ``q1``, ``q2``, …
``SETUP``
    The variables the notebook defines before the exercises (e.g. ``{"sales": 45_870, "orders": 108}``); the tests
    run the checkers in this namespace.
``EXAMPLES``
    ``{"q1": Examples(correct=[…], mistakes={key: value, …}, wrong=[…]), …}``: right answers, one answer per
    anticipated :class:`Mistake` (recognised as exactly that mistake) and more wrong answers. The tests fail if a
    problem or a mistake has no example, and they also run each ``solution`` and check it passes.

A problem declares ``var`` (or ``vars``), ``title``, ``hints``, ``solution`` and ``expected`` (a value or a function of
the notebook globals), and optionally ``mistakes`` and ``compare_options`` (see :mod:`opskit.exercises.compare`)::

    class AverageTicket(Problem):
        var = "atv"
        title = Text("客单价", "Average ticket (ATV)")
        hints = [Text("客单价 = 销售额 ÷ 订单数", "ATV = sales ÷ orders")]
        solution = code("atv = sales / orders")
        expected = staticmethod(lambda ns: ns["sales"] / ns["orders"])
        compare_options = {"atol": 0.006}
        mistakes = [
            Mistake(key="inverted", test=lambda a: abs(a.value * a.expected - 1) < 1e-6,
                    message=Text("算反了: 应为 销售额 ÷ 订单数", "inverted: ATV = sales ÷ orders")),
        ]

For logic beyond equality, override ``check_value(self, value)`` and return ``(ok, reason)``.

Trainer cells and tests call ``q1.assert_check_passed()`` / ``q1.assert_check_failed()``; ``q1.outcome()`` returns
the :class:`CheckResult` without showing anything; :func:`scoreboard` lists the latest outcome of each problem in the
kernel, for a progress checker that runs notebooks headless.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import MutableMapping
from typing import Any

from opskit.exercises.core import (
    PLACEHOLDER,
    Attempt,
    BoundProblem,
    CheckResult,
    Examples,
    Mistake,
    Problem,
    Status,
    _register,
    code,
    scoreboard,
)
from opskit.i18n import Text

__all__ = [
    "PLACEHOLDER",
    "Attempt",
    "BoundProblem",
    "CheckResult",
    "Examples",
    "Mistake",
    "Problem",
    "Status",
    "bind",
    "code",
    "lesson_ids",
    "load_lesson",
    "scoreboard",
]

_LESSON_MODULE = re.compile(r"^lesson(\d{2})$")


def lesson_ids() -> list[str]:
    """The ids of the lesson modules present, e.g. ``["00", "01"]``.

    >>> "00" in lesson_ids()
    True
    """
    found = (_LESSON_MODULE.match(info.name) for info in pkgutil.iter_modules(__path__))
    return sorted(match.group(1) for match in found if match)


def _normalise_id(lesson: Any) -> str:
    text = str(lesson).strip().lower().removeprefix("lesson")
    return text.zfill(2) if text.isdigit() and len(text) <= 2 else text


def load_lesson(lesson: Any):
    """Import the lesson module for ``lesson`` (``"00"``, ``"0"``, ``0`` or ``"lesson00"``).

    Raises
    ------
    ValueError
        If there is no such lesson; the message lists the valid ids.
    """
    lesson_id = _normalise_id(lesson)
    valid = lesson_ids()
    if lesson_id not in valid:
        listed = ", ".join(valid)
        raise ValueError(
            f"没有第 {lesson!r} 课的练习; 可选: {listed} / no exercises for lesson {lesson!r}; valid lessons: {listed}"
        )
    return importlib.import_module(f"{__name__}.lesson{lesson_id}")


def bind(lesson: Any, namespace: MutableMapping[str, Any], *, quiet: bool = False) -> None:
    """Put the lesson's exercises ``q1, q2, …`` and the placeholder ``____`` into ``namespace``.

    Parameters
    ----------
    lesson : str or int
        The lesson id, ``"00"`` … ``"06"``.
    namespace : dict
        The notebook's ``globals()``; the checks read the learner's variables from it.
    quiet : bool, default False
        Skip the one-line summary.

    Raises
    ------
    ValueError
        For an unknown lesson id (the message lists the valid ones).

    Examples
    --------
    >>> ns = {}
    >>> bind("00", ns)
    第 00 课练习已加载: q1 客单价, q2 渠道代码列表 / Lesson 00 exercises loaded: q1 average ticket (ATV), q2 list of channel codes
    >>> sorted(k for k in ns if k.startswith("q")), repr(ns["____"])
    (['q1', 'q2'], '____')
    """
    module = load_lesson(lesson)
    lesson_id = module.__name__.rsplit("lesson", 1)[1]
    if not isinstance(namespace, MutableMapping):
        raise ValueError(
            f"namespace 应为 globals() 字典, 你传入的是 {type(namespace).__name__} / "
            f"namespace must be the notebook's globals() dict, got {type(namespace).__name__}"
        )
    names_zh, names_en = [], []
    for number, problem_class in enumerate(module.PROBLEMS, start=1):
        problem_class.validate()
        name = f"q{number}"
        namespace[name] = BoundProblem(problem_class(namespace), namespace, lesson_id, name)
        _register(lesson_id, name, problem_class.title)
        names_zh.append(f"{name} {problem_class.title.zh}")
        names_en.append(f"{name} {problem_class.title.en}")
    namespace["____"] = PLACEHOLDER
    if not quiet:
        print(
            Text(
                f"第 {lesson_id} 课练习已加载: {', '.join(names_zh)}",
                f"Lesson {lesson_id} exercises loaded: {', '.join(names_en)}",
            )
        )
