"""opskit.widgets.rfm: the explorer headless — set control values, check the state it computed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from opskit import rfm as R
from opskit.i18n import set_language
from opskit.widgets.rfm import rfm_explorer


@pytest.fixture(autouse=True)
def both_languages():
    set_language("both")


@pytest.fixture
def tx():
    rng = np.random.default_rng(3)
    n = 240
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i:04d}" for i in range(n)],
            "order_time": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D"),
            "customer_id": pd.Series([f"m{i:03d}" for i in rng.integers(0, 90, n)], dtype="str"),
            "store_id": "S01",
            "channel": "pos",
            "kind": "sale",
            "units": 1,
            "amount": rng.gamma(2.0, 300.0, n).round(2),
        }
    )
    frame.loc[::20, "customer_id"] = pd.NA  # walk-ins
    return frame


def test_initial_state_matches_pure_functions(tx):
    explorer = rfm_explorer(tx)
    assert explorer.state["error"] is None
    expected = R.segment_summary(R.segment_customers(R.rfm_table(tx), "cn8", thresholds="mean"))
    pd.testing.assert_frame_equal(explorer.summary, expected)
    assert explorer.as_of.value == R.rfm_table(tx).attrs["accounting"].as_of.date()
    assert "重要价值客户" in explorer.table.value and "<table" in explorer.table.value
    assert "walk-in" in explorer.info.value and "mean" in explorer.info.value
    assert explorer.chart.outputs and "image/png" in explorer.chart.outputs[0]["data"]
    assert explorer.r_days.disabled and explorer.f_min.disabled and explorer.m_min.disabled
    assert explorer.layout.children  # something to display


def test_threshold_and_business_sliders(tx):
    explorer = rfm_explorer(tx)
    explorer.threshold.value = "median"
    assert explorer.state["thresholds"]["frequency"]["method"] == "median"
    explorer.threshold.value = "business"
    assert not explorer.r_days.disabled
    explorer.r_days.value = 30
    explorer.f_min.value = 2
    explorer.m_min.value = 1000
    assert explorer.state["thresholds"]["recency"] == {"method": "business", "value": 30.0, "rule": "<="}
    rfm = R.rfm_table(tx)
    expected = R.segment_summary(
        R.segment_customers(rfm, "cn8", thresholds={"recency": 30, "frequency": 2, "monetary": 1000}))
    pd.testing.assert_frame_equal(explorer.summary, expected)


def test_scheme_switch_to_rf10(tx):
    explorer = rfm_explorer(tx)
    explorer.scheme.value = "rf10"
    assert list(explorer.summary.index) == list(R.SCHEMES["rf10"].keys)
    assert explorer.summary["customers"].sum() == explorer.state["customers"]
    assert explorer.threshold.disabled and explorer.r_days.disabled
    assert explorer.state["thresholds"] is None


def test_as_of_change_and_error_becomes_a_message(tx):
    explorer = rfm_explorer(tx)
    explorer.as_of.value = dt.date(2024, 6, 30)
    assert explorer.state["error"] is None
    assert explorer.state["as_of"] == pd.Timestamp("2024-06-30")
    assert explorer.summary["customers"].sum() == len(R.rfm_table(tx, "2024-06-30"))
    good = explorer.summary
    explorer.as_of.value = dt.date(2020, 1, 1)
    assert "before the first member purchase" in explorer.state["error"]
    assert "before the first member purchase" in explorer.message.value
    assert "Traceback" not in explorer.message.value
    assert explorer.summary is good  # the last good table stays
    explorer.as_of.value = dt.date(2024, 12, 1)
    assert explorer.state["error"] is None and explorer.message.value.find("⚠") == -1


def test_bad_input_never_raises():
    explorer = rfm_explorer(pd.DataFrame(columns=["order_id", "order_time", "customer_id", "kind", "amount"]))
    assert "empty" in explorer.state["error"]
    assert "empty" in explorer.message.value
    assert explorer.summary is None


def test_collapse_warnings_are_shown_as_notes():
    tx = pd.DataFrame(
        {
            "order_id": ["a", "b", "c"],
            "order_time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "customer_id": ["x", "y", "z"],
            "kind": "sale",
            "amount": [10.0, 20.0, 30.0],
        }
    )
    explorer = rfm_explorer(tx, scheme="rf10")
    assert explorer.state["error"] is None
    assert any("F scores take only 1" in note for note in explorer.state["notes"])
    assert "F scores take only 1" in explorer.message.value
