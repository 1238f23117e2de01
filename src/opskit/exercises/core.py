"""The exercise engine: problem declarations, bound ``q1, q2, …`` objects, outcomes and the per-kernel scoreboard.

Lesson authors subclass :class:`Problem`; :func:`opskit.exercises.bind` turns each into a :class:`BoundProblem` that
reads the learner's variable from the notebook globals. See the package docstring for how to write a lesson module.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from opskit.exercises import compare as _compare
from opskit.exercises.view import Feedback, show
from opskit.i18n import Text

__all__ = [
    "PLACEHOLDER",
    "Attempt",
    "BoundProblem",
    "CheckResult",
    "Examples",
    "LazySetup",
    "Mistake",
    "Problem",
    "Status",
    "code",
    "contains_placeholder",
    "scoreboard",
]


class LazySetup(Mapping):
    """A lesson's ``SETUP`` whose values are built on first access, by ``build()`` (cache it: ``lru_cache``).

    For lessons whose setup takes seconds (a compass cube, a whole analysis): importing the lesson stays instant, and
    ``bind()`` and the checks see an ordinary mapping with the declared ``keys``.
    """

    def __init__(self, keys: Sequence[str], build: Callable[[], Mapping[str, Any]]):
        self._keys, self._build = tuple(keys), build

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return self._build()[key]

    def __iter__(self):
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


# --------------------------------------------------------------------------------------------------------------------
# The placeholder ____
# --------------------------------------------------------------------------------------------------------------------
class _Placeholder:
    """The blank ``____`` in exercise cells. Arithmetic on it gives it back, so a stub like ``atv = ____ / orders``
    still runs and the check reports "not attempted" instead of the cell failing."""

    _instance: ClassVar[_Placeholder | None] = None

    def __new__(cls) -> _Placeholder:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "____"

    def __format__(self, spec: str) -> str:
        return "____"

    def __reduce__(self) -> str:
        return "PLACEHOLDER"  # unpickles to the module-level singleton

    def _self(self, *args: Any, **kwargs: Any) -> _Placeholder:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _self
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = _self
    __neg__ = __pos__ = __abs__ = __round__ = _self


PLACEHOLDER = _Placeholder()

_SCAN_LIMIT = 10_000  # elements scanned per container: enough for any exercise, bounded for huge answers


def contains_placeholder(value: Any, _depth: int = 0, _seen: set[int] | None = None) -> bool:
    """True if ``value`` is the placeholder or holds it in a tuple, list, set or dict (keys or values), at any depth.

    >>> contains_placeholder(("pos", [PLACEHOLDER]))
    True
    """
    if value is PLACEHOLDER:
        return True
    if _depth > 20 or not isinstance(value, (list, tuple, set, frozenset, dict)):
        return False
    seen = set() if _seen is None else _seen
    if id(value) in seen:  # self-referencing containers
        return False
    seen.add(id(value))
    items = list(value.items()) if isinstance(value, dict) else value
    for position, item in enumerate(items):
        if position >= _SCAN_LIMIT:
            break
        if contains_placeholder(item, _depth + 1, seen):
            return True
    return False


def code(source: str) -> Text:
    """Language-neutral code for a ``solution``: the same text in Chinese and English (comments can be bilingual)."""
    return Text(source, source)


# --------------------------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------------------------
class Status(StrEnum):
    """The three outcomes of a check. A ``StrEnum``: ``Status.CORRECT == "correct"``."""

    NOT_ATTEMPTED = "not_attempted"
    INCORRECT = "incorrect"
    CORRECT = "correct"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one answer.

    Attributes
    ----------
    status : Status
    message : Text
        What the learner sees after ``✓``/``✗``/``○``.
    mistake : str or None
        The key of the anticipated :class:`Mistake` recognised, if any.
    """

    status: Status
    message: Text
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.CORRECT

    def __str__(self) -> str:
        return f"{self.status.value}: {self.message.render()}"


@dataclass(frozen=True)
class Attempt:
    """What a :class:`Mistake` test sees: the learner's ``value`` (a tuple for multi-variable problems), the
    ``expected`` value and the notebook ``namespace`` (globals)."""

    value: Any
    expected: Any
    namespace: Mapping[str, Any]


@dataclass(frozen=True)
class Mistake:
    """An anticipated wrong answer with its own message.

    Parameters
    ----------
    key : str
        Short identifier, e.g. ``"inverted"``; the lesson's ``EXAMPLES`` must give a value for each key.
    test : callable
        ``test(attempt) -> bool``; exceptions count as "not this mistake" (learner values can be anything).
    message : Text or callable
        The message, or ``message(attempt) -> Text`` to name specifics (e.g. which channel is missing).

    Examples
    --------
    >>> inverted = Mistake(
    ...     key="inverted",
    ...     test=lambda a: abs(a.value - 1 / a.expected) < 1e-9,
    ...     message=Text("算反了", "inverted"),
    ... )
    """

    key: str
    test: Callable[[Attempt], Any]
    message: Text | Callable[[Attempt], Text]

    def matches(self, attempt: Attempt) -> bool:
        try:
            return bool(self.test(attempt))
        except Exception:
            return False

    def message_for(self, attempt: Attempt) -> Text:
        return self.message(attempt) if callable(self.message) else self.message


@dataclass(frozen=True)
class Examples:
    """Test fixtures every lesson module must give for each problem, in ``EXAMPLES = {"q1": Examples(...), …}``.

    Attributes
    ----------
    correct : list
        Answers that must pass (for ``vars`` problems: tuples in ``vars`` order).
    mistakes : dict
        ``{mistake key: answer}``, one for every :class:`Mistake` the problem declares; each must be recognised as
        exactly that mistake.
    wrong : list
        Further wrong answers that must fail (generic reasons).
    """

    correct: Sequence[Any]
    mistakes: Mapping[str, Any] = field(default_factory=dict)
    wrong: Sequence[Any] = ()


# --------------------------------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------------------------------
_UNSET: Any = object()


class Problem:
    """Base class for one exercise. Subclass it and set the class attributes.

    Attributes
    ----------
    var : str
        Name of the learner's variable (or set ``vars``, a tuple of names, instead).
    title : Text
        Short title, listed by ``bind`` and the scoreboard.
    hints : list of Text
        At least one; shown one by one with ``qN.hint()``, ``qN.hint(2)``, …
    solution : Text
        Code shown by ``qN.solution()``; use :func:`code` for language-neutral code.
    expected : object or callable
        The right value, or a function ``expected(namespace) -> value`` computing it from the notebook globals.
        (For ``vars``: a tuple in the same order.) Not needed if ``check_value`` is overridden.
    mistakes : list of Mistake
        Anticipated mistakes, tried in order when the answer is not correct.
    compare_options : dict
        Options for :func:`opskit.exercises.compare.compare`, e.g. ``{"atol": 0.006}`` or ``{"ignore_order": True}``.

    Override ``check_value(self, value)`` for custom logic: return ``(ok, reason)``, a bool or a
    :class:`CheckResult`. ``self.namespace`` holds the notebook globals and ``self.expected_value()`` the expected
    value. Anticipated mistakes are still tried when it reports "incorrect".

    Examples
    --------
    >>> class Atv(Problem):
    ...     var = "atv"
    ...     title = Text("客单价", "Average ticket")
    ...     hints = [Text("销售额 ÷ 订单数", "sales ÷ orders")]
    ...     solution = code("atv = sales / orders")
    ...     expected = staticmethod(lambda ns: ns["sales"] / ns["orders"])
    """

    var: ClassVar[str | None] = None
    vars: ClassVar[tuple[str, ...] | None] = None
    title: ClassVar[Text]
    hints: ClassVar[Sequence[Text]] = ()
    solution: ClassVar[Text]
    expected: ClassVar[Any] = _UNSET
    mistakes: ClassVar[Sequence[Mistake]] = ()
    compare_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    def __init__(self, namespace: Mapping[str, Any] | None = None) -> None:
        self.namespace: Mapping[str, Any] = {} if namespace is None else namespace

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """The learner variable names, ``var`` or ``vars``."""
        if cls.var is not None:
            return (cls.var,)
        return tuple(cls.vars or ())

    @classmethod
    def has_custom_check(cls) -> bool:
        return cls.check_value is not Problem.check_value

    @classmethod
    def validate(cls) -> None:
        """Raise ``TypeError`` naming the class and attribute if the declaration is incomplete."""
        name = cls.__qualname__
        problems = []
        if (cls.var is None) == (cls.vars is None):
            problems.append("set exactly one of `var` or `vars`")
        elif cls.vars is not None and (not isinstance(cls.vars, tuple) or not cls.vars):
            problems.append("`vars` must be a non-empty tuple of names")
        for attribute in ("title", "solution"):
            if not isinstance(getattr(cls, attribute, None), Text):
                problems.append(f"`{attribute}` must be an opskit.i18n.Text")
        if not cls.hints or not all(isinstance(hint, Text) for hint in cls.hints):
            problems.append("`hints` must be a non-empty list of Text")
        if inspect.getattr_static(cls, "expected", _UNSET) is _UNSET and not cls.has_custom_check():
            problems.append("set `expected` or override `check_value`")
        if not all(isinstance(mistake, Mistake) for mistake in cls.mistakes):
            problems.append("`mistakes` must be Mistake objects")
        else:
            keys = [mistake.key for mistake in cls.mistakes]
            if len(set(keys)) != len(keys):
                problems.append(f"duplicate mistake keys in {keys}")
        if problems:
            raise TypeError(f"Problem {name}: " + "; ".join(problems))

    def expected_value(self) -> Any:
        """The expected value, computed from ``self.namespace`` if ``expected`` is a callable."""
        raw = inspect.getattr_static(type(self), "expected", _UNSET)
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if raw is _UNSET:
            return None
        return raw(self.namespace) if callable(raw) else raw

    def check_value(self, value: Any) -> Any:
        """Custom check hook; the default compares with ``expected`` (never called directly when not overridden)."""
        raise NotImplementedError


# --------------------------------------------------------------------------------------------------------------------
# Per-kernel scoreboard
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class _Record:
    lesson: str
    problem: str
    title: Text
    status: Status = Status.NOT_ATTEMPTED
    checks: int = 0


_SCOREBOARD: dict[tuple[str, str], _Record] = {}


def _problem_number(name: str) -> int:
    digits = re.sub(r"\D", "", name)
    return int(digits) if digits else 0


def _register(lesson: str, name: str, title: Text) -> None:
    record = _SCOREBOARD.setdefault((lesson, name), _Record(lesson, name, title))
    record.title = title


def _record(lesson: str, name: str, title: Text, status: Status) -> None:
    record = _SCOREBOARD.setdefault((lesson, name), _Record(lesson, name, title))
    record.status = status
    record.checks += 1


def _reset_scoreboard() -> None:
    """Forget all records (for tests)."""
    _SCOREBOARD.clear()


def scoreboard(lesson: str | None = None):
    """The latest outcome of every bound problem in this kernel, as a DataFrame.

    Problems that were bound but never checked show ``not_attempted`` with ``checks == 0``.

    Parameters
    ----------
    lesson : str, optional
        Only this lesson's problems (e.g. ``"00"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``lesson``, ``problem``, ``title`` (in the current language), ``status`` (``"not_attempted"``,
        ``"incorrect"`` or ``"correct"``) and ``checks`` (how many times ``check()`` ran).

    Examples
    --------
    >>> from opskit.exercises import scoreboard
    >>> scoreboard().columns.tolist()
    ['lesson', 'problem', 'title', 'status', 'checks']
    """
    import pandas as pd

    records = sorted(_SCOREBOARD.values(), key=lambda r: (r.lesson, _problem_number(r.problem), r.problem))
    if lesson is not None:
        records = [r for r in records if r.lesson == str(lesson)]
    return pd.DataFrame(
        {
            "lesson": [r.lesson for r in records],
            "problem": [r.problem for r in records],
            "title": [r.title.render() for r in records],
            "status": [r.status.value for r in records],
            "checks": [r.checks for r in records],
        },
        columns=["lesson", "problem", "title", "status", "checks"],
    ).astype({"checks": "int64"})


# --------------------------------------------------------------------------------------------------------------------
# Bound problems: the q1, q2, … objects in the notebook
# --------------------------------------------------------------------------------------------------------------------
_CORRECT = Text("正确!", "Correct!")


def _backticked(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _could_not_check(exc: BaseException) -> Text:
    detail = _compare.describe(str(exc), 80).strip("'\"") if str(exc) else ""
    kind = type(exc).__name__
    suffix = f"{kind}: {detail}" if detail else kind
    return Text(f"无法检查这个答案: {suffix}", f"could not check this answer: {suffix}")


def _as_result(raw: Any) -> tuple[CheckResult | None, bool, Text | None]:
    """Normalise a ``check_value`` return: (full result or None, ok, reason)."""
    if isinstance(raw, CheckResult):
        return raw, raw.passed, raw.message
    if isinstance(raw, tuple) and len(raw) == 2:
        return None, bool(raw[0]), raw[1]
    return None, bool(raw), None


class BoundProblem:
    """A problem bound to a notebook's globals: the ``q1``, ``q2``, … objects learners call.

    Learners use :meth:`check`, :meth:`hint` and :meth:`solution`; trainers and tests use :meth:`outcome`,
    :meth:`assert_check_passed` and :meth:`assert_check_failed`.
    """

    def __init__(self, problem: Problem, namespace: MutableMapping[str, Any], lesson: str, name: str) -> None:
        self.problem = problem
        self.namespace = namespace
        self.lesson = lesson
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}: {self.problem.title.render()} — .check() .hint() .solution()>"

    # ---- judging --------------------------------------------------------------------------------------------------
    def outcome(self, value: Any = _UNSET) -> CheckResult:
        """Judge the answer without displaying or recording anything. Never raises.

        Parameters
        ----------
        value : optional
            Judge this value instead of the learner's variable(s) (a tuple for ``vars`` problems).

        Returns
        -------
        CheckResult

        Examples
        --------
        >>> from opskit.exercises import bind
        >>> ns = {"sales": 45_870, "orders": 108}
        >>> bind("00", ns, quiet=True)
        >>> ns["q1"].outcome(45_870 / 108).status
        <Status.CORRECT: 'correct'>
        """
        try:
            if value is _UNSET:
                missing = [name for name in self.problem.variables() if name not in self.namespace]
                if missing:
                    return self._undefined(missing)
                values = tuple(self.namespace[name] for name in self.problem.variables())
                value = values[0] if self.problem.var is not None else values
            return self._judge(value)
        except Exception as exc:  # a checker bug or a hostile object: report, never raise
            return CheckResult(Status.INCORRECT, _could_not_check(exc))

    def _undefined(self, missing: list[str]) -> CheckResult:
        names = self.problem.variables()
        if len(missing) == len(names):
            return CheckResult(
                Status.NOT_ATTEMPTED,
                Text(
                    f"还没有定义 {_backticked(missing)}: 在上面的练习单元格里写出答案并运行, 再运行 {self.name}.check()",
                    f"{_backticked(missing)} is not defined yet: write your answer in the exercise cell above, run "
                    f"it, then run {self.name}.check()",
                ),
            )
        return CheckResult(
            Status.INCORRECT,
            Text(f"还需要定义 {_backticked(missing)}", f"you still need to define {_backticked(missing)}"),
        )

    def _judge(self, value: Any) -> CheckResult:
        if contains_placeholder(value):
            names = _backticked(self.problem.variables())
            return CheckResult(
                Status.NOT_ATTEMPTED,
                Text(
                    f"还没作答: 把 {names} 里的 ____ 换成你的答案, 运行后再检查",
                    f"not attempted yet: replace ____ in {names} with your answer, run the cell, then check again",
                ),
            )
        try:
            expected = self.problem.expected_value()
        except KeyError as exc:  # the cells defining the inputs were not run
            return CheckResult(
                Status.INCORRECT,
                Text(
                    f"缺少变量 {exc}: 请先运行上面的单元格", f"variable {exc} is missing: run the cells above first"
                ),
            )
        full, ok, reason = self._compare(value, expected)
        if ok:
            return CheckResult(Status.CORRECT, _CORRECT)
        if full is not None and full.status is Status.NOT_ATTEMPTED:
            return full
        attempt = Attempt(value, expected, self.namespace)
        for mistake in self.problem.mistakes:
            if mistake.matches(attempt):
                return CheckResult(Status.INCORRECT, mistake.message_for(attempt), mistake.key)
        return CheckResult(Status.INCORRECT, reason or Text("答案不对, 再试试", "not right yet, try again"))

    def _compare(self, value: Any, expected: Any) -> tuple[CheckResult | None, bool, Text | None]:
        if self.problem.has_custom_check():
            return _as_result(self.problem.check_value(value))
        options = dict(self.problem.compare_options)
        if self.problem.var is not None:
            ok, reason = _compare.compare(value, expected, **options)
            return None, ok, reason
        names = self.problem.variables()
        if not isinstance(value, tuple) or len(value) != len(names):
            raise TypeError(f"{self.name}: expected a tuple of {len(names)} values for {names}")
        for name, got, want in zip(names, value, expected):
            ok, reason = _compare.compare(got, want, **options)
            if not ok:
                return None, False, _compare._prefix(Text(f"`{name}`", f"`{name}`"), reason)
        return None, True, None

    # ---- learner-facing -------------------------------------------------------------------------------------------
    def check(self) -> None:
        """Check the learner's answer, show ✓ / ✗ / ○ feedback and record it on the scoreboard. Never raises."""
        try:
            result = self.outcome()
            _record(self.lesson, self.name, self.problem.title, result.status)
            kind = {Status.CORRECT: "correct", Status.INCORRECT: "incorrect"}.get(result.status, "not_attempted")
            show(Feedback(kind, self.name, result.message))
        except Exception as exc:  # display trouble must not break the learner's cell either
            print(f"✗ {self.name}: {_could_not_check(exc).render()}")

    def hint(self, n: int = 1) -> None:
        """Show hint number ``n`` (1 = first); the footer says how to see the next one."""
        hints = list(self.problem.hints)
        try:
            number = int(n)
        except Exception:
            number = 0
        if not 1 <= number <= len(hints):
            show(
                Feedback(
                    "hint",
                    self.name,
                    Text(
                        f"这道题有 {len(hints)} 条提示: 用 {self.name}.hint(1) … {self.name}.hint({len(hints)})",
                        f"this exercise has {len(hints)} hints: use {self.name}.hint(1) … {self.name}.hint({len(hints)})",
                    ),
                )
            )
            return
        chosen = hints[number - 1]
        message = Text(f"提示 {number}/{len(hints)}: {chosen.zh}", f"Hint {number}/{len(hints)}: {chosen.en}")
        footer = None
        if number < len(hints):
            footer = Text(f"下一条提示: {self.name}.hint({number + 1})", f"next hint: {self.name}.hint({number + 1})")
        show(Feedback("hint", self.name, message, footer=footer))

    def solution(self) -> None:
        """Show the reference solution code."""
        solution = self.problem.solution
        source = solution.render(sep="\n\n")
        show(Feedback("solution", self.name, Text("参考答案:", "Solution:"), code=source))

    # ---- trainer / test helpers -----------------------------------------------------------------------------------
    def assert_check_passed(self, value: Any = _UNSET) -> None:
        """Raise ``AssertionError`` unless the answer (or ``value``) is judged correct."""
        result = self.outcome(value)
        if not result.passed:
            raise AssertionError(
                f"{self.name}: expected the check to pass, got {result.status.value}: {result.message.render('en')}"
            )

    def assert_check_failed(self, value: Any = _UNSET, mistake: str | None = None) -> None:
        """Raise ``AssertionError`` unless the answer (or ``value``) is judged incorrect (and, if given, recognised as
        the anticipated ``mistake`` key)."""
        result = self.outcome(value)
        if result.status is not Status.INCORRECT:
            raise AssertionError(
                f"{self.name}: expected the check to fail, got {result.status.value}: {result.message.render('en')}"
            )
        if mistake is not None and result.mistake != mistake:
            raise AssertionError(
                f"{self.name}: expected mistake {mistake!r}, got {result.mistake!r}: {result.message.render('en')}"
            )
