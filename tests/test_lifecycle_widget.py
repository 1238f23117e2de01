"""opskit.widgets.lifecycle headless (set .value, check state) and opskit.plots.lifecycle."""

from __future__ import annotations

import datetime as dt

import matplotlib
import pandas as pd
import pytest

from opskit import lifecycle as L
from opskit.i18n import set_language
from opskit.plots.lifecycle import plot_stage_counts, plot_transition_heatmap
from opskit.widgets.lifecycle import lifecycle_explorer

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def both_languages():
    set_language("both")


@pytest.fixture
def data():
    days = [5, 30, 60, 95, 100, 120, 170, 200, 260, 400, 20, 150, 10]
    who = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "a", "b", "k"]
    as_of = pd.Timestamp("2024-12-31")
    tx = pd.DataFrame({"order_id": [f"o{i}" for i in range(len(days))],
                       "order_time": [as_of - pd.Timedelta(days=d) for d in days],
                       "customer_id": pd.Series(who, dtype="str"), "kind": "sale", "amount": 100.0})
    members = pd.DataFrame({"customer_id": [*sorted(set(who)), "p"],
                            "join_date": pd.Timestamp("2023-06-01")})
    return tx, members


def test_initial_state_matches_pure_functions(data):
    tx, members = data
    explorer = lifecycle_explorer(tx, members, chart=False)
    assert explorer.state["error"] is None
    expected = L.stage_summary(L.assign_stages(tx, members))
    pd.testing.assert_frame_equal(explorer.summary, expected)
    assert explorer.as_of.value == dt.date(2024, 12, 26)  # the last purchase day
    assert "<table" in explorer.table.value and "沉睡" in explorer.table.value
    assert explorer.state["counts"].index[-1] == pd.Timestamp("2024-12-26")


def test_moving_thresholds_moves_the_counts(data):
    tx, members = data
    explorer = lifecycle_explorer(tx, members, chart=False)
    before = explorer.summary["members"].copy()
    explorer.sleeping_after.value = 50
    assert explorer.state["error"] is None and explorer.state["sleeping_after"] == 50
    after = explorer.summary["members"]
    assert after["sleeping"] > before["sleeping"]
    assert after.equals(L.stage_summary(L.assign_stages(tx, members, sleeping_after=50))["members"])
    explorer.rule.value = "personal"
    assert explorer.state["error"] is None and "personal" in explorer.rules_text.value


def test_bad_choices_show_a_message_never_a_traceback(data):
    tx, members = data
    explorer = lifecycle_explorer(tx, members, chart=False)
    good = explorer.summary
    explorer.sleeping_after.value = 250  # ≥ lost_after 180
    assert "out of order" in explorer.state["error"] and "out of order" in explorer.message.value
    assert explorer.summary is good  # the last good table stays
    explorer.sleeping_after.value = 90
    assert explorer.state["error"] is None and explorer.message.value == ""
    explorer.as_of.value = dt.date(2020, 1, 1)
    assert "before the first member purchase" in explorer.state["error"]


def test_chart_is_rendered_into_the_output(data):
    tx, members = data
    explorer = lifecycle_explorer(tx, members)
    assert explorer.chart.outputs and "image/png" in explorer.chart.outputs[0]["data"]


def test_plots_return_axes_with_bilingual_labels(data):
    tx, members = data
    counts = L.stage_counts_over_time(tx, members, "2024-06-30", "2024-12-31")
    ax = plot_stage_counts(counts)
    assert "会员数" in ax.get_ylabel() and len(ax.get_legend().get_texts()) == len(L.STAGE_ORDER)
    ax = plot_stage_counts(counts, share=True)
    assert "占比" in ax.get_ylabel()
    early = L.assign_stages(tx, members, "2024-09-30")
    late = L.assign_stages(tx, members, "2024-12-31")
    ax = plot_transition_heatmap(L.transition_matrix(early, late))
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 7 * 6 and "期初" in ax.get_ylabel()
    ax = plot_transition_heatmap(L.transition_matrix(early, late, normalize=True))
    assert any(t.endswith("%") for t in (t.get_text() for t in ax.texts))
    with pytest.raises(ValueError, match="stage column"):
        plot_stage_counts(counts.drop(columns="lost"))
    matplotlib.pyplot.close("all")
