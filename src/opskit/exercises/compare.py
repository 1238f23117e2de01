"""Tolerant comparisons for exercise checkers, each with a specific bilingual reason.

Every helper has the shape ``compare_xxx(value, expected, **options) -> (ok, reason)``: ``ok`` is a bool and
``reason`` is ``None`` when ``ok`` is true, otherwise an :class:`opskit.i18n.Text` saying what is wrong, such as
"长度应为 5, 你的是 4 / expected length 5, got 4". ``value`` is the learner's answer and may be anything;
``expected`` is the checker's value and is trusted.

Reasons describe the learner's value and the expected *structure* (type, length, columns, index, missing items), but
not the expected scalar answer, so a "wrong value" message does not give the answer away.

:func:`compare` picks the helper from the type of ``expected`` and passes on only the options that helper takes.

Examples
--------
>>> from opskit.exercises.compare import compare
>>> compare(424.7222, 45_870 / 108, atol=0.01)
(True, None)
>>> ok, reason = compare([1, 2], [1, 2, 3])
>>> reason.en
'expected length 3, got 2'
"""

from __future__ import annotations

import datetime as _dt
import functools
import inspect
import math
import numbers
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from opskit.i18n import Text

Result = tuple[bool, "Text | None"]
OK: Result = (True, None)

__all__ = [
    "OK",
    "Result",
    "compare",
    "compare_arrays",
    "compare_dates",
    "compare_frames",
    "compare_mappings",
    "compare_numbers",
    "compare_sequences",
    "compare_series",
    "compare_sets",
    "compare_strings",
    "describe",
    "type_label",
]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_REPR = 60
_MAX_LISTED = 5

_TYPE_LABELS: dict[type, tuple[str, str]] = {
    bool: ("布尔值", "bool"),
    int: ("整数", "int"),
    float: ("小数", "float"),
    str: ("文本", "str"),
    list: ("列表", "list"),
    tuple: ("元组", "tuple"),
    dict: ("字典", "dict"),
    set: ("集合", "set"),
    frozenset: ("集合", "frozenset"),
    type(None): ("空值", "None"),
    pd.DataFrame: ("数据表", "DataFrame"),
    pd.Series: ("序列", "Series"),
    np.ndarray: ("数组", "ndarray"),
}


# --------------------------------------------------------------------------------------------------------------------
# Describing values safely (learner objects may raise in __repr__, be huge, or print memory addresses)
# --------------------------------------------------------------------------------------------------------------------
def type_label(value: Any) -> Text:
    """Bilingual name of ``value``'s type, e.g. ``Text("列表", "list")``."""
    kind = type(value)
    for known, (zh, en) in _TYPE_LABELS.items():
        if kind is known:
            return Text(f"{zh} {en}", en)
    if isinstance(value, (np.bool_,)):
        return Text("布尔值 bool", "bool")
    if isinstance(value, numbers.Integral):
        return Text(f"整数 {kind.__name__}", kind.__name__)
    if isinstance(value, (numbers.Real, Decimal)):
        return Text(f"小数 {kind.__name__}", kind.__name__)
    return Text(kind.__name__, kind.__name__)


def describe(value: Any, limit: int = _MAX_REPR) -> str:
    """A short, deterministic text for ``value``: never raises, no memory addresses, at most ``limit`` characters.

    >>> describe(424.72)
    '424.72'
    >>> describe(lambda x: x)
    '<function <lambda>>'
    """
    try:
        if isinstance(value, pd.DataFrame):
            text = f"DataFrame {value.shape[0]}×{value.shape[1]}"
        elif isinstance(value, pd.Series):
            text = f"Series (len {len(value)})"
        elif isinstance(value, np.ndarray) and value.ndim > 0:
            text = f"ndarray shape {value.shape}"
        elif isinstance(value, (set, frozenset)):
            # sorted: set order of strings changes with the hash seed, and nbval compares the text
            members = ", ".join(sorted(describe(item, limit) for item in value)) if value else ""
            text = ("{" + members + "}" if isinstance(value, set) else f"frozenset({{{members}}})") if value else repr(value)
        elif inspect.isroutine(value):
            text = f"<function {getattr(value, '__name__', '?')}>"
        elif inspect.isgenerator(value):
            text = "<generator>"
        elif isinstance(value, (float, np.floating)):
            text = format(float(value), ".10g")  # 56.53736682, not 56.537366815121295
        elif isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, (bool, np.bool_)):
            text = str(value)  # str, not repr: 424.72 rather than np.float64(424.72)
        else:
            text = repr(value)
    except Exception:
        try:
            return f"<{type(value).__name__}>"
        except Exception:
            return "<?>"
    text = _ADDRESS.sub("", text).replace("\n", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _listing(items: list[Any]) -> str:
    shown = ", ".join(describe(item, 30) for item in items[:_MAX_LISTED])
    return shown + (", …" if len(items) > _MAX_LISTED else "")


def _wrong_type(value: Any, expected_label: Text, tip: Text | None = None) -> Result:
    got = type_label(value)
    reason = Text(
        f"应为{expected_label.zh}, 你的是{got.zh}: {describe(value)}",
        f"expected {expected_label.en}, got {got.en}: {describe(value)}",
    )
    if tip is not None:
        reason = Text(f"{reason.zh}。{tip.zh}", f"{reason.en}. {tip.en}")
    return False, reason


def _prefix(where: Text, reason: Text | None) -> Text | None:
    if reason is None:
        return None
    return Text(f"{where.zh}: {reason.zh}", f"{where.en}: {reason.en}")


def _is_missing_scalar(value: Any) -> bool:
    """True for None, NaN, pd.NA and NaT; False for containers and anything that cannot be tested."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        if isinstance(value, (float, np.floating)):
            return math.isnan(value)
        if isinstance(value, Decimal):
            return value.is_nan()
        if isinstance(value, np.datetime64):
            return bool(np.isnat(value))
    except Exception:
        return False
    return False


# --------------------------------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------------------------------
def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """True for a real number a learner might give (int, float, numpy scalar, Decimal, Fraction), never a bool."""
    return isinstance(value, (numbers.Real, Decimal)) and not _is_bool(value)


def _exact(value: Any) -> Fraction | float:
    """An exact Fraction, or a float for NaN/±inf. Exact arithmetic never overflows on huge ints."""
    if isinstance(value, Decimal):
        if value.is_nan():
            return math.nan
        if value.is_infinite():
            return math.inf if value > 0 else -math.inf
        return Fraction(value)
    if isinstance(value, numbers.Integral):
        return Fraction(int(value))
    as_float = float(value)
    if math.isnan(as_float) or math.isinf(as_float):
        return as_float
    return Fraction(as_float)


def compare_numbers(value: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> Result:
    """Compare numbers with tolerance ``|value - expected| <= atol + rtol * |expected|``.

    Accepts Python and numpy numbers, Decimal and 0-d arrays. NaN equals NaN only when NaN is expected. A bool is not
    accepted for a number (nor a number for a bool): ``True`` where 1 is expected is almost always a mistake.

    >>> compare_numbers(424.72, 45_870 / 108, atol=0.006)
    (True, None)
    >>> compare_numbers(True, 1)[1].en
    'expected a number, got bool: True'
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if _is_bool(expected):
        if not _is_bool(value):
            return _wrong_type(value, Text("布尔值 True/False", "True or False"))
        if bool(value) == bool(expected):
            return OK
        return False, Text(f"不对: 你的是 {describe(value)}", f"not right: yours is {describe(value)}")
    if not is_number(expected):
        raise TypeError(f"compare_numbers: expected must be a real number, not {type(expected).__name__}")
    if _is_bool(value):
        return _wrong_type(value, Text("数字", "a number"))
    if value is None or value is pd.NA or value is pd.NaT:
        return False, Text(
            f"你的值是缺失值 {describe(value)}, 应为数字", f"your value is missing ({describe(value)}), expected a number"
        )
    if isinstance(value, str):
        return _wrong_type(value, Text("数字", "a number"), Text("去掉引号", "Remove the quotes"))
    if not is_number(value):
        return _wrong_type(value, Text("数字", "a number"))
    got, want = _exact(value), _exact(expected)
    if isinstance(want, float) and math.isnan(want):
        if isinstance(got, float) and math.isnan(got):
            return OK
        return False, Text(
            f"应为 NaN (缺失值), 你的是 {describe(value)}", f"expected NaN (missing), got {describe(value)}"
        )
    if isinstance(got, float) and math.isnan(got):
        return False, Text(
            "你的值是 NaN (缺失值): 有没有除以 0 或者用到空数据?",
            "your value is NaN (missing): did you divide by 0 or use empty data?",
        )
    if isinstance(got, float) or isinstance(want, float):  # at least one infinity
        if got == want:
            return OK
    elif abs(got - want) <= Fraction(atol) + Fraction(rtol) * abs(want):
        return OK
    return False, Text(f"数值不对: 你的是 {describe(value)}", f"wrong value: yours is {describe(value)}")


# --------------------------------------------------------------------------------------------------------------------
# Strings and dates
# --------------------------------------------------------------------------------------------------------------------
def compare_strings(value: Any, expected: str, *, strip: bool = True, case_sensitive: bool = True) -> Result:
    """Compare text, by default ignoring surrounding spaces; optionally ignoring letter case.

    >>> compare_strings(" pos ", "pos")
    (True, None)
    >>> compare_strings("POS", "pos")[1].en
    "letter case differs: yours is 'POS'"
    """
    if not isinstance(value, str):
        return _wrong_type(value, Text("文本", "text (str)"), Text("文本要加引号", "Text goes in quotes"))
    got, want = (value.strip(), expected.strip()) if strip else (str(value), str(expected))
    if got == want:
        return OK
    if not case_sensitive and got.casefold() == want.casefold():
        return OK
    if got.casefold() == want.casefold():
        return False, Text(f"大小写不对: 你的是 {describe(value)}", f"letter case differs: yours is {describe(value)}")
    if got.strip() == want.strip():
        return False, Text(
            f"前后多了或少了空格: 你的是 {describe(value)}", f"extra or missing spaces: yours is {describe(value)}"
        )
    return False, Text(f"文本不对: 你的是 {describe(value)}", f"wrong text: yours is {describe(value)}")


def _is_datelike(value: Any) -> bool:
    return isinstance(value, (_dt.date, np.datetime64, pd.Timestamp))


def compare_dates(value: Any, expected: Any, *, tolerance: Any = None) -> Result:
    """Compare dates and timestamps (``datetime.date``, ``datetime``, ``pd.Timestamp``, ``np.datetime64``).

    When ``expected`` is a plain ``datetime.date`` only the calendar day counts. ``tolerance`` is a ``pd.Timedelta``
    (or anything it accepts, such as ``"1h"``); the default requires equality.

    >>> import datetime, pandas as pd
    >>> compare_dates(pd.Timestamp("2024-03-01"), datetime.date(2024, 3, 1))
    (True, None)
    """
    if not _is_datelike(expected):
        raise TypeError(f"compare_dates: expected must be a date or timestamp, not {type(expected).__name__}")
    if isinstance(value, str):
        return _wrong_type(
            value, Text("日期/时间", "a date/timestamp"), Text("用 pd.Timestamp(...) 转换", "Convert it with pd.Timestamp(...)")
        )
    if not _is_datelike(value):
        return _wrong_type(value, Text("日期/时间", "a date/timestamp"))
    if _is_missing_scalar(expected) or _is_missing_scalar(value):
        if _is_missing_scalar(expected) and _is_missing_scalar(value):
            return OK
        return False, Text(f"日期不对: 你的是 {describe(value)}", f"wrong date: yours is {describe(value)}")
    got, want = pd.Timestamp(value), pd.Timestamp(expected)
    if (got.tzinfo is None) != (want.tzinfo is None):
        return False, Text(
            "时区不一致: 一个带时区一个不带", "time zones differ: one timestamp has a time zone, the other has none"
        )
    if isinstance(expected, _dt.date) and not isinstance(expected, _dt.datetime):
        if got.date() == want.date():
            return OK
    else:
        allowed = pd.Timedelta(0) if tolerance is None else pd.Timedelta(tolerance)
        if abs(got - want) <= allowed:
            return OK
    return False, Text(f"日期不对: 你的是 {describe(value)}", f"wrong date: yours is {describe(value)}")


# --------------------------------------------------------------------------------------------------------------------
# Python containers
# --------------------------------------------------------------------------------------------------------------------
def _matches(value: Any, expected: Any, options: dict[str, Any]) -> bool:
    try:
        return compare(value, expected, **options)[0]
    except Exception:
        return False


def compare_sequences(value: Any, expected: list | tuple, *, ignore_order: bool = False, **options: Any) -> Result:
    """Compare a list or tuple element by element (recursively, with ``options``), optionally in any order.

    With ``ignore_order=True`` the elements are matched as a multiset and the reason names what is missing or extra.

    >>> compare_sequences(["pos", "wecom_group"], ["pos", "mini_program", "wecom_group"], ignore_order=True)[1].en
    "expected length 3, got 2; missing: 'mini_program'"
    """
    want_label = type_label(expected)
    if not isinstance(value, (list, tuple)) or type(value) is not type(expected):
        tip = None
        if isinstance(value, str) and isinstance(expected, list):
            tip = Text("这是一整个字符串; 列表写成 [\"a\", \"b\"]", 'That is one string; a list is written ["a", "b"]')
        elif isinstance(value, (list, tuple)):
            tip = Text(f"用 {type(expected).__name__}(...) 转换", f"Convert it with {type(expected).__name__}(...)")
        return _wrong_type(value, want_label, tip)
    if ignore_order:
        unmatched = list(value)
        missing = []
        for item in expected:
            for position, candidate in enumerate(unmatched):
                if _matches(candidate, item, options):
                    del unmatched[position]
                    break
            else:
                missing.append(item)
        if not missing and not unmatched:
            return OK
        parts_zh, parts_en = [], []
        if len(value) != len(expected):
            parts_zh.append(f"长度应为 {len(expected)}, 你的是 {len(value)}")
            parts_en.append(f"expected length {len(expected)}, got {len(value)}")
        if missing:
            parts_zh.append(f"缺少: {_listing(missing)}")
            parts_en.append(f"missing: {_listing(missing)}")
        if unmatched:
            parts_zh.append(f"多余或不对: {_listing(unmatched)}")
            parts_en.append(f"extra or wrong: {_listing(unmatched)}")
        return False, Text("; ".join(parts_zh), "; ".join(parts_en))
    if len(value) != len(expected):
        return False, Text(
            f"长度应为 {len(expected)}, 你的是 {len(value)}", f"expected length {len(expected)}, got {len(value)}"
        )
    for position, (got, want) in enumerate(zip(value, expected)):
        ok, reason = compare(got, want, **options)
        if not ok:
            return False, _prefix(
                Text(f"第 {position + 1} 个元素 [{position}]", f"element [{position}]"), reason
            )
    return OK


def compare_sets(value: Any, expected: set | frozenset) -> Result:
    """Compare sets, naming missing and extra members.

    >>> compare_sets({1, 2}, {1, 2, 3})[1].en
    'missing: 3'
    """
    if not isinstance(value, (set, frozenset)):
        tip = Text("用 set(...) 转换", "Convert it with set(...)") if isinstance(value, (list, tuple)) else None
        return _wrong_type(value, type_label(expected), tip)
    missing = sorted((item for item in expected if item not in value), key=repr)
    extra = sorted((item for item in value if item not in expected), key=describe)
    if not missing and not extra:
        return OK
    parts_zh, parts_en = [], []
    if missing:
        parts_zh.append(f"缺少: {_listing(missing)}")
        parts_en.append(f"missing: {_listing(missing)}")
    if extra:
        parts_zh.append(f"多余: {_listing(extra)}")
        parts_en.append(f"extra: {_listing(extra)}")
    return False, Text("; ".join(parts_zh), "; ".join(parts_en))


def compare_mappings(value: Any, expected: Mapping, **options: Any) -> Result:
    """Compare dicts: the same keys, and each value compared recursively with ``options``.

    >>> compare_mappings({"pos": 2}, {"pos": 1, "wecom_group": 3})[1].en
    "missing keys: 'wecom_group'"
    """
    if not isinstance(value, Mapping):
        return _wrong_type(value, type_label(expected))
    missing = [key for key in expected if key not in value]
    extra = [key for key in value if key not in expected]
    if missing:
        return False, Text(f"缺少键: {_listing(missing)}", f"missing keys: {_listing(missing)}")
    if extra:
        return False, Text(f"多余的键: {_listing(extra)}", f"unexpected keys: {_listing(extra)}")
    for key, want in expected.items():
        ok, reason = compare(value[key], want, **options)
        if not ok:
            return False, _prefix(Text(f"键 {describe(key, 30)}", f"key {describe(key, 30)}"), reason)
    return OK


# --------------------------------------------------------------------------------------------------------------------
# pandas and numpy
# --------------------------------------------------------------------------------------------------------------------
def _elementwise_close(got: pd.Series, want: pd.Series, rtol: float, atol: float) -> np.ndarray:
    """Boolean array: element i of ``got`` matches element i of ``want`` (same length, positions aligned)."""
    numeric = (
        pd.api.types.is_numeric_dtype(got.dtype)
        and pd.api.types.is_numeric_dtype(want.dtype)
        and not pd.api.types.is_bool_dtype(got.dtype)
        and not pd.api.types.is_bool_dtype(want.dtype)
    )
    if numeric:
        got_values = got.to_numpy(dtype=float, na_value=np.nan)
        want_values = want.to_numpy(dtype=float, na_value=np.nan)
        return np.isclose(got_values, want_values, rtol=rtol, atol=atol, equal_nan=True)
    got_items, want_items = got.tolist(), want.tolist()
    try:  # vectorised first; learner objects whose __eq__ misbehaves fall through to the careful loop
        flags = np.asarray(
            np.asarray(got_items, dtype=object) == np.asarray(want_items, dtype=object), dtype=bool
        ).copy()
        if flags.shape != (len(got_items),):
            raise ValueError("elementwise comparison did not give one flag per row")
    except Exception:
        flags = np.zeros(len(got_items), dtype=bool)
    options = {"rtol": rtol, "atol": atol}
    for position in np.flatnonzero(~flags):  # only the rows that differ: missing values, tolerance, strip
        got_item, want_item = got_items[position], want_items[position]
        both_missing = _is_missing_scalar(got_item) and _is_missing_scalar(want_item)
        flags[position] = both_missing or (not _is_missing_scalar(want_item) and _matches(got_item, want_item, options))
    return flags


def _sort_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by all columns (then index), falling back to the text form when types do not sort together."""
    try:
        return frame.sort_values(list(frame.columns), kind="mergesort", na_position="last")
    except Exception:
        keys = frame.astype(str).apply(lambda row: "\x1f".join(row), axis=1)
        return frame.iloc[np.argsort(keys.to_numpy(), kind="mergesort")]


def _check_index(got: pd.Index, want: pd.Index) -> Result:
    if got.equals(want):
        return OK
    try:
        same_labels = len(got) == len(want) and set(got) == set(want)
    except TypeError:
        same_labels = False
    if same_labels:
        return False, Text(
            "行的顺序不同 (索引标签相同): 试试 .sort_index() 或按要求排序",
            "rows are in a different order (same index labels): try .sort_index() or sort as asked",
        )
    missing = [label for label in want if label not in got]
    extra = [label for label in got if label not in want]
    detail_zh = f"缺少 {_listing(missing)}" if missing else f"多余 {_listing(extra)}" if extra else "标签不一致"
    detail_en = f"missing {_listing(missing)}" if missing else f"unexpected {_listing(extra)}" if extra else "labels differ"
    return False, Text(f"索引不对: {detail_zh}", f"wrong index: {detail_en}")


def _align_rows(got: Any, want: Any, ignore_order: bool, ignore_index: bool) -> tuple[Any, Any]:
    """Put rows of both objects in a comparable order/index according to the options."""
    if ignore_order:
        if ignore_index:
            if isinstance(got, pd.Series):
                got = _sort_rows(got.to_frame("v"))["v"]
                want = _sort_rows(want.to_frame("v"))["v"]
            else:
                got, want = _sort_rows(got), _sort_rows(want)
        else:
            got = got.sort_index(kind="mergesort") if _sortable(got.index) else got
            want = want.sort_index(kind="mergesort") if _sortable(want.index) else want
    if ignore_index:
        got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    return got, want


def _sortable(index: pd.Index) -> bool:
    try:
        index.sort_values()
        return True
    except Exception:
        return False


def _pandas_equal(kind: str, got: Any, want: Any, rtol: float, atol: float, check_names: bool = False) -> bool:
    """Fast vectorised path via pandas.testing (dtype ignored). False only means "look closer": pandas is stricter
    than the course about missing values (None vs NaN), so the element-wise check below has the last word."""
    options = dict(check_dtype=False, check_exact=False, rtol=rtol, atol=atol, check_index_type=False,
                   check_categorical=False, check_freq=False, check_names=check_names)
    try:
        if kind == "series":
            pd.testing.assert_series_equal(got, want, **options)
        else:
            pd.testing.assert_frame_equal(got, want, check_column_type=False, **options)
    except (AssertionError, TypeError, ValueError):
        return False
    return True


def compare_series(
    value: Any,
    expected: pd.Series,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    ignore_order: bool = False,
    ignore_index: bool = False,
    check_names: bool = False,
) -> Result:
    """Compare a pandas Series: type, length, index, then values with tolerance (dtype is not compared).

    ``ignore_index=True`` compares positions only; ``ignore_order=True`` accepts the rows in any order;
    ``check_names=True`` also requires the same Series name.

    >>> import pandas as pd
    >>> compare_series(pd.Series([1, 2]), pd.Series([1.0, 2.0]))
    (True, None)
    """
    if not isinstance(value, pd.Series):
        tip = None
        if isinstance(value, pd.DataFrame):
            tip = Text("用 df[\"列名\"] 取出一列", 'Take one column with df["column"]')
        return _wrong_type(value, Text("序列 Series", "a pandas Series"), tip)
    if len(value) != len(expected):
        return False, Text(
            f"长度应为 {len(expected)}, 你的是 {len(value)}", f"expected length {len(expected)}, got {len(value)}"
        )
    if check_names and value.name != expected.name:
        return False, Text(
            f"Series 名称应为 {describe(expected.name)}, 你的是 {describe(value.name)}",
            f"Series name should be {describe(expected.name)}, got {describe(value.name)}",
        )
    got, want = _align_rows(value, expected, ignore_order, ignore_index)
    ok, reason = _check_index(got.index, want.index)
    if not ok:
        return ok, reason
    if _pandas_equal("series", got, want, rtol, atol):
        return OK
    close = _elementwise_close(got, want, rtol, atol)
    if not close.all():
        position = int(np.flatnonzero(~close)[0])
        label = got.index[position]
        return False, Text(
            f"索引 {describe(label, 30)} 处的值不对: 你的是 {describe(got.iloc[position])}",
            f"wrong value at index {describe(label, 30)}: yours is {describe(got.iloc[position])}",
        )
    return OK


def compare_frames(
    value: Any,
    expected: pd.DataFrame,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    ignore_order: bool = False,
    ignore_index: bool = False,
    check_column_order: bool = False,
) -> Result:
    """Compare a DataFrame: type, columns, row count, index, then each column's values with tolerance.

    Column order is ignored unless ``check_column_order=True``; dtypes are not compared.

    >>> import pandas as pd
    >>> expected = pd.DataFrame({"store_id": ["S01"], "atv": [424.72]})
    >>> compare_frames(pd.DataFrame({"store_id": ["S01"]}), expected)[1].en
    "missing columns: 'atv'"
    """
    if not isinstance(value, pd.DataFrame):
        tip = None
        if isinstance(value, pd.Series):
            tip = Text("可以用 .reset_index() 或 .to_frame() 变成数据表", "Use .reset_index() or .to_frame() to make one")
        return _wrong_type(value, Text("数据表 DataFrame", "a pandas DataFrame"), tip)
    if value.columns.has_duplicates:
        repeated = list(dict.fromkeys(value.columns[value.columns.duplicated()]))
        return False, Text(f"列名重复: {_listing(repeated)}", f"duplicate column names: {_listing(repeated)}")
    missing = [column for column in expected.columns if column not in value.columns]
    extra = [column for column in value.columns if column not in expected.columns]
    if missing:
        return False, Text(f"缺少列: {_listing(missing)}", f"missing columns: {_listing(missing)}")
    if extra:
        return False, Text(f"多余的列: {_listing(extra)}", f"unexpected columns: {_listing(extra)}")
    if check_column_order and list(value.columns) != list(expected.columns):
        return False, Text(
            f"列的顺序应为 {_listing(list(expected.columns))}", f"column order should be {_listing(list(expected.columns))}"
        )
    if len(value) != len(expected):
        return False, Text(f"行数应为 {len(expected)}, 你的是 {len(value)}", f"expected {len(expected)} rows, got {len(value)}")
    got, want = _align_rows(value[list(expected.columns)], expected, ignore_order, ignore_index)
    ok, reason = _check_index(got.index, want.index)
    if not ok:
        return ok, reason
    if _pandas_equal("frame", got, want, rtol, atol):
        return OK
    for column in want.columns:
        close = _elementwise_close(got[column], want[column], rtol, atol)
        if not close.all():
            position = int(np.flatnonzero(~close)[0])
            label = got.index[position]
            shown = describe(got[column].iloc[position])
            return False, Text(
                f"列 {describe(column, 30)} 在索引 {describe(label, 30)} 处的值不对: 你的是 {shown}",
                f"column {describe(column, 30)}, index {describe(label, 30)}: wrong value, yours is {shown}",
            )
    return OK


def compare_arrays(value: Any, expected: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9) -> Result:
    """Compare numpy arrays: shape, then values with tolerance (NaN equals NaN).

    >>> import numpy as np
    >>> compare_arrays(np.zeros((2, 2)), np.zeros(4))[1].en
    'expected shape (4,), got (2, 2)'
    """
    if not isinstance(value, np.ndarray):
        return _wrong_type(value, Text("数组 ndarray", "a numpy array"))
    if value.shape != expected.shape:
        return False, Text(
            f"形状应为 {expected.shape}, 你的是 {value.shape}", f"expected shape {expected.shape}, got {value.shape}"
        )
    close = _elementwise_close(pd.Series(value.ravel()), pd.Series(expected.ravel()), rtol, atol)
    if not close.all():
        flat = int(np.flatnonzero(~close)[0])
        where = tuple(int(i) for i in np.unravel_index(flat, expected.shape))
        return False, Text(
            f"位置 {where} 的值不对: 你的是 {describe(value.ravel()[flat])}",
            f"wrong value at {where}: yours is {describe(value.ravel()[flat])}",
        )
    return OK


# --------------------------------------------------------------------------------------------------------------------
# Dispatcher
# --------------------------------------------------------------------------------------------------------------------
_OPTION_NAMES = frozenset(
    {"rtol", "atol", "ignore_order", "ignore_index", "check_names", "check_column_order", "strip", "case_sensitive",
     "tolerance"}
)


@functools.cache
def _accepted_options(helper: Any) -> frozenset[str] | None:
    """The keyword options ``helper`` takes, or None if it takes any (``**options``)."""
    parameters = inspect.signature(helper).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


def _call(helper: Any, value: Any, expected: Any, options: dict[str, Any]) -> Result:
    accepted = _accepted_options(helper)
    passed = options if accepted is None else {k: v for k, v in options.items() if k in accepted}
    return helper(value, expected, **passed)


def compare(value: Any, expected: Any, **options: Any) -> Result:
    """Compare ``value`` with ``expected`` using the helper that fits ``expected``'s type.

    Parameters
    ----------
    value
        The learner's answer: anything.
    expected
        The right answer.
    **options
        Passed to the helpers that take them (and down into containers): ``rtol``, ``atol``, ``ignore_order``,
        ``ignore_index``, ``check_names``, ``check_column_order``, ``strip``, ``case_sensitive``, ``tolerance``.

    Returns
    -------
    tuple of (bool, Text or None)

    Examples
    --------
    >>> compare({"pos": 1.0}, {"pos": 1})
    (True, None)
    >>> compare("pos", None)[1].en
    "expected None, got str: 'pos'"
    """
    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise TypeError(f"compare: unknown options {sorted(unknown)}; valid: {sorted(_OPTION_NAMES)}")
    if expected is None:
        return OK if value is None else _wrong_type(value, Text("None", "None"))
    if expected is pd.NA or expected is pd.NaT:
        if _is_missing_scalar(value):
            return OK
        return False, Text(f"应为缺失值, 你的是 {describe(value)}", f"expected a missing value, got {describe(value)}")
    if _is_bool(expected) or is_number(expected):
        return _call(compare_numbers, value, expected, options)
    if isinstance(expected, str):
        return _call(compare_strings, value, expected, options)
    if _is_datelike(expected):
        return _call(compare_dates, value, expected, options)
    if isinstance(expected, pd.DataFrame):
        return _call(compare_frames, value, expected, options)
    if isinstance(expected, pd.Series):
        return _call(compare_series, value, expected, options)
    if isinstance(expected, np.ndarray):
        return _call(compare_arrays, value, expected, options)
    if isinstance(expected, Mapping):
        return _call(compare_mappings, value, expected, options)
    if isinstance(expected, (set, frozenset)):
        return compare_sets(value, expected)
    if isinstance(expected, (list, tuple)):
        return _call(compare_sequences, value, expected, options)
    if type(value) is not type(expected):
        return _wrong_type(value, type_label(expected))
    if bool(value == expected):
        return OK
    return False, Text(f"不对: 你的是 {describe(value)}", f"not right: yours is {describe(value)}")
