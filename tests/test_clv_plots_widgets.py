"""CLV charts (Agg backend) and the headless CLV explorer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from opskit import clv  # noqa: E402
from opskit.datasets import load_cdnow  # noqa: E402
from opskit.plots import clv as clv_plots  # noqa: E402
from opskit.widgets.clv import clv_explorer  # noqa: E402

CAL = {"frequency_col": "frequency_cal", "recency_col": "recency_cal", "T_col": "T_cal"}


@pytest.fixture(scope="module")
def tx():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def calhold(tx):
    return clv.calibration_and_holdout(tx, "1997-09-30", "1998-06-30", time_col="date", freq="W")


@pytest.fixture(scope="module")
def summary(tx):
    return clv.summary_from_transactions(tx, time_col="date", freq="W")


@pytest.fixture(scope="module")
def models(summary):
    return clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _has_bilingual_text(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and any(ch.isascii() and ch.isalpha() for ch in text)


def test_matrices_draw_on_the_given_axes(models):
    bgnbd, _ = models
    fig, (left, right) = plt.subplots(1, 2)
    ax = clv_plots.plot_frequency_recency_matrix(bgnbd, horizon=4, max_frequency=10, max_recency=60, ax=left)
    assert ax is left and _has_bilingual_text(ax.get_xlabel()) and _has_bilingual_text(ax.get_title())
    image = ax.images[0].get_array()
    assert image.shape == (61, 11)
    assert image.mask[5, 0] and not image.mask[0, 0]  # frequency 0 with recency > 0 cannot occur
    # More past purchases, recently: more expected purchases.
    assert image[60, 10] > image[60, 1] > image[5, 1]
    ax = clv_plots.plot_probability_alive_matrix(bgnbd, max_frequency=10, max_recency=60, ax=right)
    alive = ax.images[0].get_array()
    assert ax is right and alive.max() <= 1 and alive[60, 5] > alive[10, 5]


def test_period_transactions(summary, models):
    bgnbd, _ = models
    table = clv_plots.period_transactions_table(summary, bgnbd, max_frequency=7)
    assert table["frequency"].tolist()[-1] == "7+"
    assert table["actual"].sum() == len(summary) == pytest.approx(table["model"].sum())
    assert table["model"].iloc[0] == pytest.approx(table["actual"].iloc[0], rel=0.05)
    ax = clv_plots.plot_period_transactions(summary, bgnbd)
    assert len(ax.patches) == 16 and _has_bilingual_text(ax.get_ylabel())


def test_calibration_vs_holdout_and_tracking(tx, calhold):
    model = clv.fit_bgnbd(calhold, **CAL)
    ax = clv_plots.plot_calibration_vs_holdout(calhold, model, max_frequency=6)
    actual, predicted = ax.get_lines()
    np.testing.assert_allclose(actual.get_ydata(), clv.holdout_by_frequency(calhold, model, 6)["actual"])
    assert len(predicted.get_xdata()) == 7
    tracking = clv.cumulative_tracking(tx, model, 78, time_col="date", freq="W")
    fig, axis = plt.subplots()
    ax = clv_plots.plot_cumulative_tracking(tracking, calibration_period=39, ax=axis)
    assert ax is axis and len(ax.get_lines()) == 3
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), tracking["actual"])


def test_clv_deciles_plot(summary, models):
    band = clv.clv_decile_band(summary, *models, n_draws=20)
    ax = clv_plots.plot_clv_deciles(band)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, band["clv_mean"])


def test_plots_report_missing_columns(models):
    with pytest.raises(clv.CLVDataError, match="actual"):
        clv_plots.plot_cumulative_tracking(pd.DataFrame({"period": [1], "predicted": [2.0]}))


# ------------------------------------------------------------------------------------------------------------ widget


def test_explorer_updates_headlessly(summary, models):
    bgnbd, gamma_gamma = models
    explorer = clv_explorer(summary, bgnbd, gamma_gamma, top=5)
    layout, controls = explorer
    assert layout is explorer.layout
    top_ids = clv.predict_customers(summary, bgnbd, gamma_gamma)["clv"].nlargest(5).index.tolist()
    assert [value for _, value in controls["customer"].options] == top_ids
    first = explorer.state["card"]
    assert first["customer_id"] == top_ids[0] and first["months"] == 12
    assert f"{first['clv']:,.2f}" in controls["card"].value and "P(alive)" in controls["card"].value
    expected = clv.customer_card(summary, bgnbd, gamma_gamma, top_ids[0], months=12, monthly_discount_rate=0.01)
    assert first == expected

    controls["horizon"].value = 24
    assert explorer.state["card"]["months"] == 24 and explorer.state["card"]["clv"] > first["clv"]
    controls["discount"].value = 0.03
    assert explorer.state["card"]["clv"] < clv.customer_card(summary, bgnbd, gamma_gamma, top_ids[0], months=24,
                                                             monthly_discount_rate=0.01)["clv"]
    controls["customer"].value = top_ids[3]
    assert explorer.state["card"]["customer_id"] == top_ids[3]
    assert explorer.state["error"] is None and controls["message"].value == ""


def test_explorer_shows_errors_instead_of_tracebacks(summary, models):
    bgnbd, gamma_gamma = models
    good = summary.index[0]
    explorer = clv_explorer(summary, bgnbd, gamma_gamma, customer_ids=[good, "no-such-customer"])
    _, controls = explorer
    shown = controls["card"].value
    controls["customer"].value = "no-such-customer"  # must not raise
    assert "no-such-customer" in explorer.state["error"] and "⚠" in controls["message"].value
    assert controls["card"].value == shown  # the last good card stays
    controls["customer"].value = good
    assert explorer.state["error"] is None and controls["message"].value == ""
    empty = clv_explorer(summary, bgnbd, gamma_gamma, customer_ids=[])
    assert empty.state["card"] is None and "no customer" in empty.state["error"]


def test_matrix_title_names_the_time_unit_and_given_models_need_a_range(models):
    bgnbd, _ = models
    ax = clv_plots.plot_frequency_recency_matrix(bgnbd, horizon=13, max_frequency=10, max_recency=40)
    assert "13 weeks" in ax.get_title() and "13 周" in ax.get_title()
    given = clv.BGNBDModel.from_params(*bgnbd.params_.to_numpy(), freq="W")
    with pytest.raises(clv.CLVDataError, match="max_frequency"):
        clv_plots.plot_probability_alive_matrix(given)
    ax = clv_plots.plot_probability_alive_matrix(given, max_frequency=10, max_recency=40)
    assert ax.images[0].get_array().shape == (41, 11)


def test_cumulative_tracking_against_dates(tx, calhold):
    model = clv.fit_bgnbd(calhold, **CAL)
    tracking = clv.cumulative_tracking(tx, model, 78, time_col="date", freq="W")
    ax = clv_plots.plot_cumulative_tracking(tracking, "1997-09-30", x="date")
    actual, predicted, end = ax.get_lines()
    assert pd.Timestamp(end.get_xdata()[0]) == pd.Timestamp("1997-09-30")
    np.testing.assert_allclose(predicted.get_ydata(), tracking["predicted"])
    assert "date" in ax.get_xlabel()
    with pytest.raises(clv.CLVDataError, match="x must be"):
        clv_plots.plot_cumulative_tracking(tracking, x="week")


def test_customer_timelines(tx):
    ids = ["00004", "00071"]
    assert set(ids) <= set(tx["customer_id"])
    ax = clv_plots.plot_customer_timelines(tx, ids, "1997-09-30", "1998-06-30", time_col="date")
    assert [t.get_text() for t in ax.get_yticklabels()] == ids  # first customer on top
    summary = clv.summary_from_transactions(tx[tx["customer_id"].isin(ids)], time_col="date",
                                            observation_end="1997-09-30")
    notes = [t.get_text() for t in ax.texts]
    for customer in ids:
        row = summary.loc[customer]
        assert f"x = {row['frequency']:.0f}, t_x = {row['recency']:.0f}, T = {row['T']:.0f}" in notes
    assert len(ax.get_legend().get_texts()) == 4
    with pytest.raises(clv.CLVDataError, match="no purchases"):
        clv_plots.plot_customer_timelines(tx, ["nobody"], "1997-09-30", time_col="date")
