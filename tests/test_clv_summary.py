"""opskit.clv summaries and calibration/holdout splits: identical to lifetimes where lifetimes works, right where it
does not (months, returns, pandas 3 without a monetary column), and clear errors on bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from opskit import clv
from opskit.datasets import load_cdnow


@pytest.fixture(scope="module")
def lifetimes_utils():
    clv.import_lifetimes()
    import lifetimes.utils

    return lifetimes.utils


@pytest.fixture(scope="module")
def cdnow_sample():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def cdnow_master():
    return load_cdnow("master")


def _lifetimes_summary(utils, tx, **kwargs):
    with clv._lifetimes_guard():
        return utils.summary_data_from_transaction_data(tx, "customer_id", "date", **kwargs).sort_index()


# ---------------------------------------------------------------------------------------------------- identical results


@pytest.mark.parametrize("which", ["sample", "master"])
@pytest.mark.parametrize("freq", ["D", "W"])
def test_summary_identical_to_lifetimes(lifetimes_utils, cdnow_sample, cdnow_master, which, freq):
    tx = cdnow_sample if which == "sample" else cdnow_master
    ours = clv.summary_from_transactions(tx, time_col="date", freq=freq)
    ref = _lifetimes_summary(lifetimes_utils, tx, monetary_value_col="amount", freq=freq)
    assert list(ours.columns) == ["frequency", "recency", "T", "monetary_value"]
    pd.testing.assert_frame_equal(ours, ref, check_names=False, rtol=1e-12)
    assert ours.attrs["rows"]["rows_used"] == len(tx)


def test_summary_without_monetary_and_with_multiplier_and_end(lifetimes_utils, cdnow_sample):
    ours = clv.summary_from_transactions(
        cdnow_sample, time_col="date", monetary_col=None, freq="D", freq_multiplier=7, observation_end="1997-06-30"
    )
    ref = _lifetimes_summary(lifetimes_utils, cdnow_sample, freq="D", freq_multiplier=7,
                             observation_period_end="1997-06-30")
    assert "monetary_value" not in ours.columns
    pd.testing.assert_frame_equal(ours, ref, check_names=False, rtol=1e-12)
    rows = ours.attrs["rows"]
    assert rows["rows_after_end"] == int((cdnow_sample["date"] > "1997-06-30").sum()) > 0
    assert rows["rows_after_end"] + rows["rows_used"] == len(cdnow_sample)


@pytest.mark.parametrize("freq,multiplier", [("D", 1), ("W", 1), ("D", 7)])
def test_calibration_holdout_identical_to_lifetimes_with_monetary(lifetimes_utils, cdnow_sample, freq, multiplier):
    ours = clv.calibration_and_holdout(cdnow_sample, "1997-09-30", "1998-06-30", time_col="date", freq=freq,
                                       freq_multiplier=multiplier)
    with clv._lifetimes_guard():
        ref = lifetimes_utils.calibration_and_holdout_data(
            cdnow_sample, "customer_id", "date", "1997-09-30", "1998-06-30", freq=freq, freq_multiplier=multiplier,
            monetary_value_col="amount",
        ).sort_index()
    assert list(ours.columns) == list(ref.columns)
    pd.testing.assert_frame_equal(ours, ref, check_names=False, rtol=1e-12)


def _reference_holdout(tx: pd.DataFrame, cal_end: str, obs_end: str) -> pd.DataFrame:
    """Independent per-customer implementation of the pandas-2 semantics (days, no monetary)."""
    cal_end, obs_end = pd.Timestamp(cal_end), pd.Timestamp(obs_end)
    rows = {}
    for customer, group in tx.groupby("customer_id"):
        days = sorted({t.normalize() for t in group["order_time"] if t <= cal_end})
        if not days:
            continue
        holdout_days = {t.normalize() for t in group["order_time"] if cal_end < t <= obs_end}
        rows[customer] = {
            "frequency_cal": len(days) - 1.0,
            "recency_cal": float((days[-1] - days[0]).days),
            "T_cal": float((cal_end.normalize() - days[0]).days),
            "frequency_holdout": float(len(holdout_days)),
            "duration_holdout": float((obs_end.normalize() - cal_end.normalize()).days),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("customer_id")


def test_calibration_holdout_without_monetary_matches_reference():
    rng = np.random.default_rng(5)
    n = 400
    tx = pd.DataFrame({
        "customer_id": rng.choice([f"c{i:03d}" for i in range(60)], n),
        "order_time": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 200, n), unit="D"),
    })
    ours = clv.calibration_and_holdout(tx, "2024-04-15 12:00", "2024-07-10", monetary_col=None)
    ref = _reference_holdout(tx, "2024-04-15 12:00", "2024-07-10")
    pd.testing.assert_frame_equal(ours, ref.loc[ours.index], check_names=False)
    assert len(ours) == len(ref)
    assert ours.attrs["rows"]["holdout_only_customers"] == tx.loc[
        tx["order_time"] > "2024-04-15 12:00", "customer_id"].nunique() - tx.loc[
        tx["order_time"] > "2024-04-15 12:00", "customer_id"].isin(ours.index).groupby(
        tx["customer_id"]).any().sum()


def test_holdout_counts_customers_first_seen_in_holdout():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c"],
        "order_time": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-02-15", "2024-01-20"]),
        "amount": [10.0, 20.0, 5.0, 8.0],
    })
    out = clv.calibration_and_holdout(tx, "2024-01-31")
    assert list(out.index) == ["a", "c"]
    assert out.attrs["rows"]["holdout_only_customers"] == 1
    assert out.loc["a", "frequency_holdout"] == 1.0 and out.loc["a", "monetary_value_holdout"] == 20.0
    assert out.loc["c", "frequency_holdout"] == 0.0 and out.loc["c", "monetary_value_holdout"] == 0.0


# ---------------------------------------------------------------------------------------------- semantics by hand


def test_same_period_merge_and_monetary_over_repeat_periods():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "order_time": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-05 08:00",
                                      "2024-01-05 10:00", "2024-01-03 12:00"]),
        "amount": [10.0, 5.0, 30.0, 12.0, 8.0],
    })
    out = clv.summary_from_transactions(tx, observation_end="2024-01-10")
    assert out.loc["a"].tolist() == [1.0, 4.0, 9.0, 42.0]  # one repeat day, spent 30 + 12 that day
    assert out.loc["b"].tolist() == [0.0, 0.0, 7.0, 0.0]


def test_weeks_start_on_monday_like_pandas_periods():
    times = pd.to_datetime(["2024-03-03", "2024-03-04", "2024-03-10", "2024-03-11", "1969-12-29", "1970-01-04"])
    ours = clv._periods(times.to_numpy(), "W")
    theirs = np.array([p.ordinal for p in times.to_period("W")])
    np.testing.assert_array_equal(ours - ours[0], theirs - theirs[0])
    assert ours[0] != ours[1] and ours[1] == ours[2] and ours[4] == ours[5]


def test_months_are_calendar_months():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b"],
        "order_time": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-02-29", "2024-03-15"]),
        "amount": [10.0, 20.0, 30.0, 5.0],
    })
    out = clv.summary_from_transactions(tx, freq="M", observation_end="2024-05-02")
    # a: January, February (two orders merged) -> one repeat month of 50; recency 1 month; T = May - Jan = 4
    assert out.loc["a"].tolist() == [1.0, 1.0, 4.0, 50.0]
    assert out.loc["b"].tolist() == [0.0, 0.0, 2.0, 0.0]


def test_timezone_aware_times_use_local_wall_clock():
    times = pd.to_datetime(["2024-01-01 23:30", "2024-01-02 00:30"]).tz_localize("Asia/Shanghai")
    tx = pd.DataFrame({"customer_id": ["a", "a"], "order_time": times, "amount": [1.0, 2.0]})
    out = clv.summary_from_transactions(tx)
    assert out.loc["a", "frequency"] == 1.0 and out.loc["a", "T"] == 1.0


# ---------------------------------------------------------------------------------------------------------- returns


def _with_returns() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o2", "o4", "o3"],
        "order_time": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-20", "2024-01-12", "2024-01-05",
                                      "2024-02-20"]),
        "customer_id": ["a", "a", "a", "a", "b", "a"],
        "kind": ["sale", "sale", "sale", "return", "sale", "return"],
        "units": [1, 3, 2, -1, 1, -2],
        "amount": [100.0, 300.0, 200.0, -100.0, 50.0, -200.0],
    })


def test_returns_net_into_their_order_and_keep_the_purchase_event():
    tx = _with_returns()
    out = clv.summary_from_transactions(tx, observation_end="2024-01-31")
    # o2 is netted to 200; o3's full refund comes after the end, so it is not used yet.
    assert out.loc["a", "frequency"] == 2.0
    assert out.loc["a", "monetary_value"] == pytest.approx((200.0 + 200.0) / 2)
    rows = out.attrs["rows"]
    assert rows == {**rows, "input_rows": 6, "sale_rows": 4, "return_rows_netted": 1, "return_rows_after_end": 1}
    later = clv.summary_from_transactions(tx, observation_end="2024-03-01")
    assert later.loc["a", "frequency"] == 2.0  # a fully returned order still counts as a purchase event
    assert later.loc["a", "monetary_value"] == pytest.approx((200.0 + 0.0) / 2)


def test_returns_ignore_gives_gross_spend_and_counts_the_rows():
    out = clv.summary_from_transactions(_with_returns(), returns="ignore")
    assert out.loc["a", "monetary_value"] == pytest.approx(250.0)
    rows = out.attrs["rows"]
    assert rows["sale_rows"] + rows["return_rows_not_used"] == rows["input_rows"]


def test_returns_net_in_calibration_only_uses_refunds_booked_by_calibration_end():
    later_sale = pd.DataFrame({"order_id": ["o5"], "order_time": pd.to_datetime(["2024-02-10"]), "customer_id": ["b"],
                               "kind": ["sale"], "units": [1], "amount": [70.0]})
    tx = pd.concat([_with_returns(), later_sale], ignore_index=True)
    out = clv.calibration_and_holdout(tx, "2024-01-31", "2024-03-01")
    assert out.loc["a", "monetary_value_cal"] == pytest.approx(200.0)  # o3's refund is booked after calibration
    assert out.loc["b", "frequency_holdout"] == 1.0 and out.loc["b", "monetary_value_holdout"] == 70.0


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda tx: tx.assign(order_id=["o1", "o2", "o3", "zz", "o4", "o3"]), "zz"),
        (lambda tx: tx.assign(kind=["sale", "sale", "refund", "return", "sale", "return"]), "refund"),
        (lambda tx: tx.drop(columns="order_id"), "order_id"),
    ],
)
def test_bad_returns_data_is_reported(change, match):
    with pytest.raises(clv.CLVDataError, match=match):
        clv.summary_from_transactions(change(_with_returns()))


# ------------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("column", ["customer_id", "order_time", "amount"])
def test_nan_in_any_input_column_names_the_column(column):
    tx = _with_returns().drop(columns=["kind", "order_id"])
    tx[column] = tx[column].astype(object)
    tx.loc[2, column] = None
    with pytest.raises(clv.CLVDataError, match=f"'{column}'"):
        clv.summary_from_transactions(tx, observation_end="2024-03-01")
    with pytest.raises(clv.CLVDataError, match=f"'{column}'"):
        clv.calibration_and_holdout(tx, "2024-01-15", "2024-03-01")


@pytest.mark.filterwarnings("ignore:Could not infer format")
def test_empty_and_malformed_input_errors():
    empty = pd.DataFrame({"customer_id": [], "order_time": pd.to_datetime([]), "amount": []})
    with pytest.raises(clv.CLVDataError, match="empty"):
        clv.summary_from_transactions(empty)
    with pytest.raises(clv.CLVDataError, match="empty"):
        clv.calibration_and_holdout(empty, "2024-01-01")
    tx = _with_returns()
    with pytest.raises(clv.CLVDataError, match="missing column"):
        clv.summary_from_transactions(tx, time_col="date")
    with pytest.raises(clv.CLVDataError, match="freq"):
        clv.summary_from_transactions(tx, freq="ME")
    with pytest.raises(clv.CLVDataError, match="numeric"):
        clv.summary_from_transactions(tx.assign(amount=tx["amount"].astype(str)))
    with pytest.raises(clv.CLVDataError, match="datetimes"):
        clv.summary_from_transactions(tx.assign(order_time="not a date"))
    with pytest.raises(clv.CLVDataError, match="returns"):
        clv.summary_from_transactions(tx, returns="drop")
    with pytest.raises(clv.CLVDataError, match="after calibration_end"):
        clv.calibration_and_holdout(tx, "2024-02-01", "2024-01-01")
    with pytest.raises(clv.CLVDataError, match="no purchases in the holdout"):
        clv.calibration_and_holdout(tx, "2024-01-31", "2024-02-15")
    with pytest.raises(clv.CLVDataError, match="no purchases on or before"):
        clv.summary_from_transactions(tx, observation_end="2023-01-01")


# ---------------------------------------------------------------------------------------- lifetimes' side effects


_GUARD_SCRIPT = textwrap.dedent(
    """
    import importlib, sys, warnings
    import pandas as pd
    warnings.simplefilter("error", FutureWarning)
    warnings.filterwarnings("always", message="opskit-marker")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.set_option("mode.chained_assignment", "raise")
    def state():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            option = pd.get_option("mode.chained_assignment")
        return list(warnings.filters), option
    import opskit.clv as clv
    print("LIGHT" if "lifetimes" not in sys.modules and "matplotlib" not in sys.modules else "HEAVY")
    before = state()
    clv.import_lifetimes()
    print("lifetimes" in sys.modules, state() == before)
    clv.fit_bgnbd(pd.DataFrame({"frequency": [0, 1, 2, 3], "recency": [0, 2, 5, 7], "T": [8, 8, 9, 9]}))
    print("fit", state() == before)
    # Shows the check can fail: re-running lifetimes' module code without the guard changes global state.
    importlib.reload(sys.modules["lifetimes.fitters"])
    print("bare filters", state()[0] == before[0])
    importlib.reload(sys.modules["lifetimes.utils"])
    print("bare option", state()[1] == before[1])
    """
)


def test_lifetimes_import_and_fit_leave_warnings_and_pandas_option_alone():
    result = subprocess.run([sys.executable, "-c", _GUARD_SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:5] == [
        "LIGHT", "True True", "fit True", "bare filters False", "bare option False"], result.stdout


# ---------------------------------------------------------------------------------- fast and general id paths agree


@pytest.mark.parametrize(
    "relabel",
    [
        lambda ids: ids,  # short ASCII: packed-id fast path
        lambda ids: "顾客" + ids,  # non-ASCII: general path
        lambda ids: "member-number-" + ids,  # too long to pack: general path
        lambda ids: ids.str.slice(1).astype("int64"),  # integer ids: general path
        lambda ids: ids.astype(object),  # object dtype strings: fast path after inference
    ],
)
def test_id_types_give_the_same_summary(cdnow_sample, relabel):
    base = clv.summary_from_transactions(cdnow_sample, time_col="date", freq="W")
    tx = cdnow_sample.assign(customer_id=relabel("C" + cdnow_sample["customer_id"]))
    out = clv.summary_from_transactions(tx, time_col="date", freq="W")
    assert len(out) == len(base)
    same_customers = base.loc[[str(i)[-5:].zfill(5) for i in out.index]].to_numpy()
    np.testing.assert_allclose(out.to_numpy(), same_customers, rtol=1e-12)  # only summation order differs
    assert out.index.is_monotonic_increasing


def test_ids_that_differ_only_by_trailing_nul_stay_apart():
    tx = pd.DataFrame({
        "customer_id": ["a", "a\x00", "a", "b"],
        "order_time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
        "amount": [1.0, 2.0, 3.0, 4.0],
    })
    out = clv.summary_from_transactions(tx)
    assert len(out) == 3 and out.loc["a", "frequency"] == 1.0 and out.loc["a\x00", "frequency"] == 0.0


def test_short_ids_sort_like_python_strings():
    ids = ["C10", "C1", "C2", "B99", "C1a", "C"]
    tx = pd.DataFrame({"customer_id": ids, "order_time": pd.Timestamp("2024-01-01"), "amount": 1.0})
    out = clv.summary_from_transactions(tx)
    assert list(out.index) == sorted(ids)


def test_refunds_booked_on_the_observation_end_day_are_netted_like_its_purchases():
    tx = pd.DataFrame({
        "order_id": ["o1", "o2", "o2", "o3"],
        "order_time": pd.to_datetime(["2024-01-01 10:00", "2024-01-31 09:00", "2024-01-31 18:00", "2024-02-02 12:00"]),
        "customer_id": ["a", "a", "a", "a"],
        "kind": ["sale", "sale", "return", "sale"],
        "units": [1, 2, -1, 1],
        "amount": [100.0, 300.0, -100.0, 80.0],
    })
    # The 31 January purchase counts (days are whole periods), so its same-day refund must count too.
    out = clv.summary_from_transactions(tx, observation_end="2024-01-31")
    assert out.loc["a", "frequency"] == 1.0 and out.loc["a", "monetary_value"] == pytest.approx(200.0)
    assert out.attrs["rows"]["return_rows_netted"] == 1
    split = clv.calibration_and_holdout(tx, "2024-01-31 23:59:59", "2024-02-29")
    assert split.loc["a", "monetary_value_cal"] == out.loc["a", "monetary_value"]
