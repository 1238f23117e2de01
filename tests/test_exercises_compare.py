"""Tests for opskit.exercises.compare: tolerance, types and the specific reasons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from opskit.exercises.compare import (
    compare,
    compare_arrays,
    compare_dates,
    compare_frames,
    compare_mappings,
    compare_numbers,
    compare_sequences,
    compare_series,
    compare_sets,
    compare_strings,
    describe,
)


def en(result):
    ok, reason = result
    assert ok is False and reason is not None, result
    return reason.en


# ---- numbers --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected, options",
    [
        (424.7222, 45_870 / 108, {"rtol": 1e-6}),
        (424.72, 45_870 / 108, {"atol": 0.006}),
        (np.float64(424.7222222222222), 45_870 / 108, {}),
        (np.int64(3), 3, {}),
        (np.float32(0.1), 0.1, {"rtol": 1e-6}),
        (Decimal("0.1"), 0.1, {}),
        (3, Decimal("3.000"), {}),
        (float("nan"), float("nan"), {}),
        (np.nan, Decimal("NaN"), {}),
        (float("inf"), float("inf"), {}),
        (10**400, 10**400, {}),
        (np.array(2.5), 2.5, {}),
        (True, True, {}),
        (np.bool_(False), False, {}),
    ],
)
def test_numbers_equal(value, expected, options):
    assert compare_numbers(value, expected, **options) == (True, None)


@pytest.mark.parametrize(
    "value, expected, options, fragment",
    [
        (424.72, 45_870 / 108, {}, "wrong value: yours is 424.72"),
        (425, 45_870 / 108, {"atol": 0.006}, "wrong value: yours is 425"),
        (1.0, float("nan"), {}, "expected NaN"),
        (float("nan"), 1.0, {}, "your value is NaN"),
        (float("inf"), 1.0, {}, "wrong value"),
        (-float("inf"), float("inf"), {}, "wrong value"),
        (10**400 + 1, 10**400 - 1, {"rtol": 0}, "wrong value"),
        (True, 1, {}, "expected a number, got bool: True"),
        (1, True, {}, "expected True or False, got int"),
        (False, True, {}, "not right: yours is False"),
        ("424.72", 424.72, {}, "Remove the quotes"),
        (None, 1.0, {}, "missing"),
        (pd.NA, 1.0, {}, "missing"),
        ([1.0], 1.0, {}, "expected a number, got list"),
        (1 + 2j, 1.0, {}, "expected a number"),
    ],
)
def test_numbers_unequal_reasons(value, expected, options, fragment):
    assert fragment in en(compare_numbers(value, expected, **options))


def test_numbers_tolerance_is_relative_to_expected():
    assert compare_numbers(1_000_000.5, 1_000_000, rtol=1e-6)[0]
    assert not compare_numbers(1.5, 1, rtol=1e-6)[0]
    assert compare_numbers(1.004, 1, atol=0.005, rtol=0)[0]
    assert not compare_numbers(1.006, 1, atol=0.005, rtol=0)[0]


def test_numbers_reason_is_bilingual_and_hides_the_answer():
    ok, reason = compare_numbers(12.99, 424.72)
    assert not ok
    assert "数值不对" in reason.zh and "12.99" in reason.zh
    assert "424.72" not in reason.zh + reason.en


def test_numbers_rejects_non_numeric_expected():
    with pytest.raises(TypeError):
        compare_numbers(1, "1")


# ---- strings and dates ----------------------------------------------------------------------------------------------
def test_strings():
    assert compare_strings("  pos ", "pos") == (True, None)
    assert "letter case differs" in en(compare_strings("POS", "pos"))
    assert compare_strings("POS", "pos", case_sensitive=False) == (True, None)
    assert "spaces" in en(compare_strings(" pos", "pos", strip=False))
    assert "wrong text: yours is 'pso'" in en(compare_strings("pso", "pos"))
    assert "expected text (str), got int" in en(compare_strings(5, "5"))


def test_dates():
    assert compare_dates(pd.Timestamp("2024-03-01 15:00"), dt.date(2024, 3, 1)) == (True, None)
    assert compare_dates(dt.datetime(2024, 3, 1), pd.Timestamp("2024-03-01")) == (True, None)
    assert compare_dates(np.datetime64("2024-03-01"), pd.Timestamp("2024-03-01")) == (True, None)
    assert "wrong date" in en(compare_dates(pd.Timestamp("2024-03-02"), dt.date(2024, 3, 1)))
    assert "wrong date" in en(compare_dates(pd.Timestamp("2024-03-01 00:30"), pd.Timestamp("2024-03-01")))
    assert compare_dates(pd.Timestamp("2024-03-01 00:30"), pd.Timestamp("2024-03-01"), tolerance="1h")[0]
    assert "time zone" in en(compare_dates(pd.Timestamp("2024-03-01", tz="Asia/Shanghai"), pd.Timestamp("2024-03-01")))
    assert "pd.Timestamp" in en(compare_dates("2024-03-01", dt.date(2024, 3, 1)))
    assert "expected a date/timestamp, got int" in en(compare_dates(20240301, dt.date(2024, 3, 1)))
    assert compare_dates(pd.NaT, pd.NaT) == (True, None)
    assert not compare_dates(pd.NaT, pd.Timestamp("2024-03-01"))[0]


# ---- containers -----------------------------------------------------------------------------------------------------
def test_sequences_ordered():
    assert compare_sequences([1.0, "a"], [1, "a"]) == (True, None)
    assert en(compare_sequences([1, 2, 3, 4], [1, 2, 3, 4, 5])) == "expected length 5, got 4"
    assert "element [1]: wrong value: yours is 5" in en(compare_sequences([1, 5], [1, 2]))
    assert compare_sequences([0.1 + 0.2], [0.3]) == (True, None)
    assert "Convert it with list" in en(compare_sequences((1, 2), [1, 2]))
    assert "one string" in en(compare_sequences("a, b", ["a", "b"]))


def test_sequences_any_order():
    assert compare_sequences([3, 1, 2], [1, 2, 3], ignore_order=True) == (True, None)
    reason = en(compare_sequences(["pos", "wecom_group"], ["pos", "mini_program", "wecom_group"], ignore_order=True))
    assert reason == "expected length 3, got 2; missing: 'mini_program'"
    reason = en(compare_sequences([1, 1, 2], [1, 2, 3], ignore_order=True))
    assert "missing: 3" in reason and "extra or wrong: 1" in reason
    assert not compare_sequences([1, 2], [1, 2, 3], ignore_order=False)[0]


def test_sets_and_mappings():
    assert compare_sets({1, 2, 3}, {3, 2, 1}) == (True, None)
    reason = en(compare_sets({1, 2, 9}, {1, 2, 3}))
    assert "missing: 3" in reason and "extra: 9" in reason
    assert "Convert it with set" in en(compare_sets([1, 2, 3], {1, 2, 3}))
    assert compare_mappings({"pos": 1.0, "wecom_group": [1, 2]}, {"pos": 1, "wecom_group": [1, 2]}) == (True, None)
    assert "missing keys: 'wecom_group'" in en(compare_mappings({"pos": 1}, {"pos": 1, "wecom_group": 2}))
    assert "unexpected keys: 'x'" in en(compare_mappings({"pos": 1, "x": 2}, {"pos": 1}))
    assert "key 'pos': wrong value: yours is 2" in en(compare_mappings({"pos": 2}, {"pos": 1}))


# ---- pandas ---------------------------------------------------------------------------------------------------------
STORES = pd.Index(["S01", "S02", "S03"], name="store_id")


def test_series_tolerance_dtype_and_names():
    expected = pd.Series([424.72, 380.5, np.nan], index=STORES, name="atv")
    got = pd.Series([424.7200001, 380.5, np.nan], index=STORES, name="amount")
    assert compare_series(got, expected) == (True, None)
    assert "name" in en(compare_series(got, expected, check_names=True))
    assert compare_series(pd.Series([1, 2, 3]), pd.Series([1.0, 2.0, 3.0])) == (True, None)
    assert compare_series(pd.Series(["a", None], dtype=object), pd.Series(["a", None])) == (True, None)


def test_series_reasons():
    expected = pd.Series([1.0, 2.0, 3.0], index=STORES)
    assert en(compare_series(expected.iloc[:2], expected)) == "expected length 3, got 2"
    reason = en(compare_series(expected.iloc[[2, 0, 1]], expected))
    assert "different order" in reason
    assert compare_series(expected.iloc[[2, 0, 1]], expected, ignore_order=True) == (True, None)
    assert "wrong index: missing 'S03'" in en(compare_series(pd.Series([1.0, 2.0, 3.0], index=["S01", "S02", "S09"]), expected))
    assert compare_series(expected.reset_index(drop=True), expected, ignore_index=True) == (True, None)
    assert "wrong value at index 'S02': yours is 9" in en(compare_series(pd.Series([1.0, 9.0, 3.0], index=STORES), expected))
    assert "got DataFrame" in en(compare_series(expected.to_frame(), expected))
    assert compare_series(pd.Series([3.0, 1.0, 2.0]), pd.Series([1.0, 2.0, 3.0]), ignore_order=True, ignore_index=True)[0]
    assert not compare_series(pd.Series([3.0, 1.0, 2.0]), pd.Series([1.0, 2.0, 3.0]), ignore_index=True)[0]


def test_frames():
    expected = pd.DataFrame({"store_id": ["S01", "S02"], "orders": [108, 96], "atv": [424.72, 380.5]})
    same = pd.DataFrame({"atv": [424.72, 380.5000001], "store_id": ["S01", "S02"], "orders": [108.0, 96.0]})
    assert compare_frames(same, expected) == (True, None)
    assert "column order" in en(compare_frames(same, expected, check_column_order=True))
    assert en(compare_frames(expected.drop(columns="atv"), expected)) == "missing columns: 'atv'"
    assert "unexpected columns: 'x'" in en(compare_frames(expected.assign(x=1), expected))
    assert en(compare_frames(expected.iloc[:1], expected)) == "expected 2 rows, got 1"
    wrong = expected.assign(atv=[424.72, 38.05])
    assert "column 'atv', index 1: wrong value, yours is 38.05" in en(compare_frames(wrong, expected))
    shuffled = expected.iloc[[1, 0]]
    assert "different order" in en(compare_frames(shuffled, expected))
    assert compare_frames(shuffled, expected, ignore_order=True) == (True, None)
    assert compare_frames(shuffled.reset_index(drop=True), expected, ignore_order=True, ignore_index=True)[0]
    assert "reset_index" in en(compare_frames(expected["atv"], expected))
    assert compare_frames(pd.DataFrame(), pd.DataFrame()) == (True, None)
    doubled = pd.concat([expected, expected[["atv"]]], axis=1)
    assert en(compare_frames(doubled, expected)) == "duplicate column names: 'atv'"


def test_arrays():
    assert compare_arrays(np.array([1, 2]), np.array([1.0, 2.0])) == (True, None)
    assert en(compare_arrays(np.zeros((2, 2)), np.zeros(4))) == "expected shape (4,), got (2, 2)"
    assert "wrong value at (1, 0)" in en(compare_arrays(np.array([[0, 0], [5, 0]]), np.zeros((2, 2))))


# ---- dispatcher and describe ----------------------------------------------------------------------------------------
def test_dispatcher_routes_by_expected_type():
    assert compare(1.0000001, 1)[0]
    assert compare(" pos", "pos")[0]
    assert compare([1.0, {"a": (1, 2)}], [1, {"a": (1, 2)}])[0]
    assert compare(None, None)[0]
    assert "expected None" in en(compare(0, None))
    assert compare(pd.NA, pd.NA)[0] and compare(None, pd.NA)[0]
    assert not compare(0, pd.NA)[0]
    assert compare(dt.date(2024, 1, 1), dt.date(2024, 1, 1))[0]
    assert compare(b"x", b"x")[0] and not compare(b"x", b"y")[0]
    assert "expected bytes, got str" in en(compare("x", b"x"))


def test_dispatcher_passes_options_down_and_rejects_unknown():
    assert compare({"a": [2, 1]}, {"a": [1, 2]}, ignore_order=True)[0]
    assert compare(["POS"], ["pos"], case_sensitive=False)[0]
    with pytest.raises(TypeError, match="unknown options"):
        compare(1, 1, tolerence=1)


def test_describe_is_short_safe_and_deterministic():
    class Nasty:
        def __repr__(self):
            raise RuntimeError("no")

    def my_function():
        pass

    assert describe(Nasty()) == "<Nasty>"
    assert "0x" not in describe(my_function) and "my_function" in describe(my_function)
    assert "0x" not in describe(x for x in [])
    assert len(describe("x" * 1000)) == 60
    assert describe(10**5000) == "<int>"
    assert describe(pd.DataFrame({"a": [1]})) == "DataFrame 1×1"
    assert describe(np.float64(1.5)) == "1.5"
    assert describe(45_870 / 108) == "424.7222222" and describe(np.float32(0.1)) == "0.1000000015"
    assert describe(float("nan")) == "nan" and describe(10**20) == "100000000000000000000"


def test_describe_sets_do_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys

    script = "from opskit.exercises.compare import describe; print(describe({'wecom_group', 'pos', 'mini_program', 'x'}))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {"{'mini_program', 'pos', 'wecom_group', 'x'}\n"}
    assert describe(set()) == "set()" and describe(frozenset({2, 1})) == "frozenset({1, 2})"
