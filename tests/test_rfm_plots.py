"""opskit.plots.rfm: every chart draws on Agg, returns the Axes it drew on and shows bilingual labels."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from opskit import rfm as R  # noqa: E402
from opskit.i18n import set_language  # noqa: E402
from opskit.plots import rfm as P  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    set_language("both")
    yield
    plt.close("all")


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame(
        {
            "recency": rng.integers(0, 400, n),
            "frequency": rng.choice([1, 1, 1, 2, 3, 6], n),
            "monetary": rng.gamma(2.0, 400.0, n).round(2),
        },
        index=pd.Index([f"c{i:02d}" for i in range(n)], name="customer_id"),
    ).assign(net_spend=lambda f: f["monetary"])


def test_segment_sizes_paired_bars(table):
    summary = R.segment_summary(R.segment_customers(table, "cn8"))
    fig, ax = plt.subplots()
    out = P.plot_segment_sizes(summary, ax=ax)
    assert out is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == list(summary["label"])
    # two bars per segment, with widths equal to the shares
    widths = sorted(round(p.get_width(), 9) for p in ax.patches if p.get_height() > 0)
    expected = sorted(round(v, 9) for v in [*summary["customer_share"], *summary["revenue_share"]])
    assert widths == expected
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["客户占比 customers", "销售额占比 revenue"]
    assert "客户分群" in ax.get_ylabel() and "segment" in ax.get_ylabel()
    fig.canvas.draw()


def test_segment_sizes_without_ax_and_bad_input(table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", R.BinsCollapsedWarning)  # F ties: this fixture has many F = 1
        summary = R.segment_summary(R.segment_customers(table, "rf10"))
    ax = P.plot_segment_sizes(summary)
    assert len(ax.get_yticklabels()) == 10
    with pytest.raises(ValueError, match="segment_summary"):
        P.plot_segment_sizes(summary.drop(columns="revenue_share"))


@pytest.mark.parametrize("value", ["customers", "revenue"])
def test_rf_heatmap_cells_match_counts(table, value):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", R.BinsCollapsedWarning)
        scored = R.rfm_scores(table)
    fig, ax = plt.subplots()
    assert P.plot_rf_heatmap(scored, value, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "4", "3", "2", "1"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5"]
    grid = ax.collections[0].get_array().reshape(5, 5)
    if value == "customers":
        assert grid.sum() == len(table)
        top_left = ((scored["r_score"] == 5) & (scored["f_score"] == 1)).sum()
        assert grid[0, 0] == top_left
    else:
        assert grid.sum() == pytest.approx(table["net_spend"].sum())
    fig.canvas.draw()


def test_rf_heatmap_needs_scores(table):
    with pytest.raises(ValueError, match="rfm_scores"):
        P.plot_rf_heatmap(table)
    with pytest.raises(ValueError, match="'customers' or 'revenue'"):
        P.plot_rf_heatmap(table, "profit")


def test_pareto_from_curve_or_table(table):
    curve = R.pareto_curve(table)
    fig, ax = plt.subplots()
    assert P.plot_pareto(curve, ax=ax) is ax
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, curve["revenue_share"])
    share = R.revenue_share_of_top(table, 0.2)
    assert any(f"{share:.0%}" in t.get_text() for t in ax.texts)
    ax2 = P.plot_pareto(table, mark=None)  # an RFM table works too
    assert not ax2.texts and "帕累托" in ax2.get_title()
    fig.canvas.draw()


def test_pareto_note_stays_inside_the_axes(table):
    # The bilingual note once ran past the right edge of the chart; it must fit inside the axes for any mark.
    for mark in (0.2, 0.5, 0.9):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        P.plot_pareto(table, ax=ax, mark=mark)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        note = ax.texts[0]
        assert "\n" in note.get_text()  # one language per line
        box, frame = note.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (mark, box, frame)
        plt.close(fig)


def test_english_only_labels():
    set_language("en")
    summary = R.segment_summary(R.segment_customers(pd.DataFrame(
        {"recency": [1, 50], "frequency": [3, 1], "monetary": [900.0, 10.0], "net_spend": [900.0, 10.0]}), "cn8"))
    ax = P.plot_segment_sizes(summary)
    assert ax.get_xlabel() == "share"
    assert "important value" in [t.get_text() for t in ax.get_yticklabels()]
