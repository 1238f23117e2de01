"""opskit.clv models, predictions, uncertainty bands, validation and the published CDNOW figures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from opskit import clv
from opskit.datasets import load_cdnow

CAL = {"frequency_col": "frequency_cal", "recency_col": "recency_cal", "T_col": "T_cal"}


@pytest.fixture(scope="module")
def lifetimes():
    return clv.import_lifetimes()


@pytest.fixture(scope="module")
def cdnow_tx():
    return load_cdnow("sample")


@pytest.fixture(scope="module")
def calhold(cdnow_tx):
    return clv.calibration_and_holdout(cdnow_tx, "1997-09-30", "1998-06-30", time_col="date", freq="D",
                                       freq_multiplier=7)


@pytest.fixture(scope="module")
def summary(calhold):
    """Calibration columns renamed to the plain summary names (weeks measured in days)."""
    out = calhold.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T",
                                  "monetary_value_cal": "monetary_value"})
    out.attrs.update(calhold.attrs)
    return out[["frequency", "recency", "T", "monetary_value"]]


@pytest.fixture(scope="module")
def bgnbd(summary):
    return clv.fit_bgnbd(summary)


@pytest.fixture(scope="module")
def gamma_gamma(summary):
    return clv.fit_gamma_gamma(summary)


# ---------------------------------------------------------------------------------------------------------- fitting


def test_weighted_fit_equals_row_by_row_fit(summary, bgnbd):
    row_by_row = clv.BGNBDModel().fit(summary, weighted=False)
    assert bgnbd.n_unique_rows_ < bgnbd.n_customers_ == len(summary)
    np.testing.assert_allclose(bgnbd.params_.to_numpy(), row_by_row.params_.to_numpy(), rtol=1e-5)
    assert bgnbd.log_likelihood_ == pytest.approx(row_by_row.log_likelihood_, rel=1e-9)
    assert list(bgnbd.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    # Our standard errors agree with lifetimes' on the diagonal (where its variance matrix is right).
    np.testing.assert_allclose(bgnbd.summary["se(coef)"], row_by_row.fitter_.standard_errors_, rtol=1e-4)


def test_loglikelihood_matches_lifetimes_objective(summary, bgnbd, lifetimes):
    x, tx, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    scale = 1 / T.max()
    log_params = np.log(bgnbd.params_.to_numpy() * [1, scale, 1, 1])
    with clv._lifetimes_guard():
        mean_nll_scaled = lifetimes.BetaGeoFitter._negative_log_likelihood(log_params, x, tx * scale, T * scale,
                                                                           np.ones_like(x), 0.0)
    # Rescaling time multiplies each customer's likelihood by scale^x.
    expected = -mean_nll_scaled * len(x) + np.sum(x) * np.log(scale)
    assert bgnbd.log_likelihood_ == pytest.approx(expected, rel=1e-10)


def test_predictions_equal_lifetimes(summary, bgnbd, gamma_gamma):
    x, tx, T, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    fitter = bgnbd.fitter_
    with clv._lifetimes_guard():
        np.testing.assert_allclose(bgnbd.expected_purchases(summary, 26).to_numpy(),
                                   fitter.conditional_expected_number_of_purchases_up_to_time(26, x, tx, T), rtol=1e-12)
        np.testing.assert_allclose(bgnbd.p_alive(summary).to_numpy(), fitter.conditional_probability_alive(x, tx, T),
                                   rtol=1e-12)
        ts = np.array([0.5, 5.0, 39.0, 78.0])
        np.testing.assert_allclose(bgnbd.expected_purchases_new_customer(ts),
                                   fitter.expected_number_of_purchases_up_to_time(ts), rtol=1e-12)
        for n in range(5):
            np.testing.assert_allclose(bgnbd.probability_of_n_purchases(ts, n),
                                       [fitter.probability_of_n_purchases_up_to_time(t, n) for t in ts], rtol=1e-10)
        np.testing.assert_allclose(gamma_gamma.expected_average_spend(summary).to_numpy(),
                                   gamma_gamma.fitter_.conditional_expected_average_profit(x, m), rtol=1e-12)


def test_convergence_failure_gives_advice(summary, lifetimes):
    with pytest.raises(clv.CLVFitError, match="penalizer") as info:
        clv.fit_bgnbd(summary, maxiter=1)
    assert isinstance(info.value.__cause__, lifetimes.utils.ConvergenceError)
    daily = summary.copy()
    daily.attrs = {"freq": "D", "freq_multiplier": 1}
    with pytest.raises(clv.CLVFitError, match="weeks"):
        clv.fit_bgnbd(daily, maxiter=1)


def test_what_cannot_be_estimated_is_explained():
    no_repeat = pd.DataFrame({"frequency": [0.0, 0.0, 0.0], "recency": [0.0, 0.0, 0.0], "T": [5.0, 9.0, 3.0]})
    with pytest.raises(clv.CLVFitError, match="no repeat buyers"):
        clv.fit_bgnbd(no_repeat)
    with pytest.raises(clv.CLVFitError, match="no repeat buyers"):
        clv.fit_pareto_nbd(no_repeat)
    identical = pd.DataFrame({"frequency": [2.0] * 4, "recency": [3.0] * 4, "T": [9.0] * 4})
    with pytest.raises(clv.CLVFitError, match="same"):
        clv.fit_bgnbd(identical)
    same_spend = pd.DataFrame({"frequency": [2.0, 2.0, 0.0], "monetary_value": [10.0, 10.0, 0.0]})
    with pytest.raises(clv.CLVFitError, match="spend distribution"):
        clv.fit_gamma_gamma(same_spend)


@pytest.mark.parametrize(
    "frame,match",
    [
        (pd.DataFrame({"frequency": [1.0, np.nan], "recency": [1.0, 0.0], "T": [3.0, 3.0]}), "'frequency'"),
        (pd.DataFrame({"frequency": [1.0, 0.0], "recency": [4.0, 0.0], "T": [3.0, 3.0]}), "'recency'"),
        (pd.DataFrame({"frequency": [1.5, 0.0], "recency": [1.0, 0.0], "T": [3.0, 3.0]}), "'frequency'"),
        (pd.DataFrame({"frequency": [1.0, 0.0], "recency": [1.0, 0.0]}), "'T'"),
        (pd.DataFrame({"frequency": [], "recency": [], "T": []}), "empty"),
    ],
)
def test_bad_summary_is_reported(frame, match):
    with pytest.raises(clv.CLVDataError, match=match):
        clv.fit_bgnbd(frame)


def test_gamma_gamma_excludes_non_positive_spend_with_a_count(summary, lifetimes):
    bad = summary.copy()
    repeaters = bad.index[bad["frequency"] > 0][:3]
    bad.loc[repeaters, "monetary_value"] = [0.0, -5.0, 0.0]
    with pytest.warns(UserWarning, match="3 repeat buyer"):
        model = clv.fit_gamma_gamma(bad)
    assert model.n_excluded_ == 3
    assert model.n_customers_ == int((summary["frequency"] > 0).sum()) - 3
    assert model.n_non_repeat_ == int((summary["frequency"] == 0).sum())
    assert any("excluded" in str(m) for m in model.messages_)
    kept = bad[(bad["frequency"] > 0) & (bad["monetary_value"] > 0)]
    with clv._lifetimes_guard():
        ref = lifetimes.GammaGammaFitter().fit(kept["frequency"], kept["monetary_value"])
    np.testing.assert_allclose(model.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-5)


def test_gamma_gamma_correlation_check(gamma_gamma, summary):
    repeat = summary[summary["frequency"] > 0]
    assert gamma_gamma.correlation_ == pytest.approx(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
    assert abs(gamma_gamma.correlation_) < 0.3
    assert "r = 0.11" in str(gamma_gamma.correlation_note_) and gamma_gamma.correlation_note_.zh != ""
    rng = np.random.default_rng(0)
    frequency = rng.integers(1, 10, 300).astype(float)
    correlated = pd.DataFrame({"frequency": frequency, "monetary_value": rng.gamma(6, (5 + 2 * frequency) / 6)})
    with pytest.warns(UserWarning, match="doubtful"):
        model = clv.fit_gamma_gamma(correlated)
    assert model.correlation_ > 0.3


def test_no_warning_for_weakly_correlated_spend(summary):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clv.fit_gamma_gamma(summary)


def test_pareto_nbd_is_deterministic_and_weighted(summary):
    first, second = clv.fit_pareto_nbd(summary), clv.fit_pareto_nbd(summary)
    pd.testing.assert_series_equal(first.params_, second.params_)
    assert first.n_unique_rows_ < first.n_customers_
    assert first.p_alive(summary).between(0, 1).all()
    assert first.expected_purchases(summary, 39).sum() > 0


# ------------------------------------------------------------------------------------------------------ predictions


@pytest.mark.parametrize("freq", ["D", "W"])
def test_clv_equals_lifetimes(cdnow_tx, freq):
    whole = clv.summary_from_transactions(cdnow_tx, time_col="date", freq=freq)
    bg, gg = clv.fit_bgnbd(whole), clv.fit_gamma_gamma(whole)
    ours = clv.customer_lifetime_value(whole, bg, gg, months=6, monthly_discount_rate=0.02)
    with clv._lifetimes_guard():
        ref = gg.fitter_.customer_lifetime_value(bg.fitter_, whole["frequency"], whole["recency"], whole["T"],
                                                 whole["monetary_value"], time=6, discount_rate=0.02, freq=freq)
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-10)


def test_clv_on_many_customers_evaluates_each_history_once(summary, bgnbd, gamma_gamma):
    # Above 10,000 customers the formula runs on distinct (x, t_x, T) histories only; the values must not change.
    many = pd.concat([summary] * 6, ignore_index=True)
    assert len(many) > 10_000
    ours = clv.customer_lifetime_value(many, bgnbd, gamma_gamma, months=12)
    one_by_one = clv.customer_lifetime_value(summary, bgnbd, gamma_gamma, months=12)  # < 10,000: every row
    assert len(summary) < 10_000
    np.testing.assert_allclose(ours.to_numpy(), np.tile(one_by_one.to_numpy(), 6), rtol=1e-12)


def test_predict_customers(summary, bgnbd, gamma_gamma):
    out = clv.predict_customers(summary, bgnbd, gamma_gamma, months=12)
    assert list(out.columns) == ["expected_purchases", "p_alive", "expected_avg_spend", "clv"]
    assert out.attrs["horizon"] == pytest.approx(12 * 30 / 7)  # weeks measured in days: 30/7 weeks a month
    assert out["p_alive"].between(0, 1).all() and (out["clv"] > 0).all()
    cheaper = clv.predict_customers(summary, bgnbd, gamma_gamma, months=12, monthly_discount_rate=0.05)
    longer = clv.predict_customers(summary, bgnbd, gamma_gamma, months=24)
    assert (cheaper["clv"] < out["clv"]).all() and (longer["clv"] > out["clv"]).all()
    no_spend = clv.predict_customers(summary, bgnbd, horizon=10)
    assert list(no_spend.columns) == ["expected_purchases", "p_alive"]
    with pytest.raises(clv.CLVDataError, match="months"):
        clv.predict_customers(summary, bgnbd, gamma_gamma, months=0)


def test_units_per_month():
    assert clv.units_per_month("D") == 30.0
    assert clv.units_per_month({"freq": "D", "freq_multiplier": 7}) == pytest.approx(30 / 7)
    with pytest.raises(clv.CLVDataError, match="units_per_month"):
        clv.units_per_month({"freq": None})


def test_forecast_band_is_deterministic_and_brackets_the_estimate(summary, bgnbd):
    band = clv.forecast_band(summary, bgnbd, [13, 39], n_draws=150, seed=7)
    again = clv.forecast_band(summary, bgnbd, [13, 39], n_draws=150, seed=7)
    other = clv.forecast_band(summary, bgnbd, [13, 39], n_draws=150, seed=8)
    pd.testing.assert_frame_equal(band, again)
    assert not band["lower"].equals(other["lower"])
    assert (band["lower"] < band["expected_total"]).all() and (band["expected_total"] < band["upper"]).all()
    assert band["expected_total"].iloc[1] == pytest.approx(bgnbd.expected_purchases(summary, 39).sum())
    # Relative width is a few percent for 2,357 customers; a 90% band must be narrower than a 99% band.
    wide = clv.forecast_band(summary, bgnbd, [39], n_draws=150, seed=7, level=0.99)
    assert wide["upper"].iloc[0] - wide["lower"].iloc[0] > band["upper"].iloc[1] - band["lower"].iloc[1]
    assert 0.01 < (band["upper"].iloc[1] - band["lower"].iloc[1]) / band["expected_total"].iloc[1] < 0.5


def test_clv_decile_band(summary, bgnbd, gamma_gamma):
    band = clv.clv_decile_band(summary, bgnbd, gamma_gamma, n_draws=60, seed=1)
    assert band["decile"].tolist() == list(range(1, 11))
    assert band["customers"].sum() == len(summary)
    assert band["clv_mean"].is_monotonic_decreasing
    assert ((band["lower"] <= band["clv_mean"]) & (band["clv_mean"] <= band["upper"])).all()
    point = clv.customer_lifetime_value(summary, bgnbd, gamma_gamma)
    assert band["clv_total"].sum() == pytest.approx(point.sum())
    pd.testing.assert_frame_equal(band, clv.clv_decile_band(summary, bgnbd, gamma_gamma, n_draws=60, seed=1))
    with pytest.raises(clv.CLVDataError, match="n_draws"):
        clv.clv_decile_band(summary, bgnbd, gamma_gamma, n_draws=1)


# ------------------------------------------------------------------------------------------------------- validation


def test_holdout_by_frequency_and_error(calhold):
    model = clv.fit_bgnbd(calhold, **CAL)
    table = clv.holdout_by_frequency(calhold, model, max_frequency=5)
    assert table.index.tolist() == [0, 1, 2, 3, 4, 5] and table["label"].iloc[-1] == "5+"
    assert table["customers"].sum() == len(calhold)
    capped = calhold["frequency_cal"].clip(upper=5)
    np.testing.assert_allclose(table["actual"], calhold.groupby(capped)["frequency_holdout"].mean())
    predicted = model.expected_purchases(calhold, 39, **CAL)
    np.testing.assert_allclose(table["predicted"], predicted.groupby(capped).mean())
    error = clv.holdout_error(calhold, model).set_index("metric")["value"]
    assert error["actual_total"] == calhold["frequency_holdout"].sum() == 1882
    assert error["predicted_total"] == pytest.approx(predicted.sum())
    assert error["total_pct_error"] == pytest.approx(100 * (predicted.sum() - 1882) / 1882)
    assert error["mae"] == pytest.approx(np.mean(np.abs(predicted - calhold["frequency_holdout"])))


@pytest.mark.parametrize("freq,multiplier,periods", [("D", 7, 78 * 7), ("W", 1, 78)])
def test_cumulative_tracking_equals_lifetimes(cdnow_tx, freq, multiplier, periods, lifetimes):
    cal = clv.calibration_and_holdout(cdnow_tx, "1997-09-30", "1998-06-30", time_col="date", freq=freq,
                                      freq_multiplier=multiplier)
    model = clv.fit_bgnbd(cal, **CAL)
    ours = clv.cumulative_tracking(cdnow_tx, model, periods, time_col="date", freq=freq, freq_multiplier=multiplier)
    with clv._lifetimes_guard():
        ref = lifetimes.utils.expected_cumulative_transactions(model.fitter_, cdnow_tx, "date", "customer_id", periods,
                                                               freq=freq, freq_multiplier=multiplier)
    np.testing.assert_array_equal(ours["actual"].to_numpy(), ref["actual"].to_numpy())
    np.testing.assert_allclose(ours["predicted"].to_numpy(), ref["predicted"].to_numpy(), rtol=1e-10)
    assert ours["period"].iloc[-1] == 78


@pytest.fixture(scope="module")
def simulated():
    true = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}
    tx, truth = clv.simulate_bgnbd_transactions(20_000, **true, observation_periods=52, acquisition_periods=8,
                                                seed=11)
    summary = clv.summary_from_transactions(tx, freq="D", freq_multiplier=7,
                                            observation_end=pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=52))
    return tx, truth, summary, true


def test_simulation_is_reproducible_and_follows_the_process(simulated):
    tx, truth, summary, true = simulated
    again, _ = clv.simulate_bgnbd_transactions(20_000, **true, observation_periods=52, acquisition_periods=8, seed=11)
    pd.testing.assert_frame_equal(tx, again)
    assert len(summary) == 20_000 and tx["order_time"].max() <= pd.Timestamp("2024-12-30")
    model = clv.BGNBDModel()
    model.params_ = pd.Series(true)
    # Total repeat purchases are close to what the true model expects for these customers' ages.
    expected = np.sum(model.expected_purchases_new_customer(summary["T"].to_numpy()))
    assert summary["frequency"].sum() == pytest.approx(expected, rel=0.05)
    # Dead customers dropped right after a repeat purchase: they all have at least two orders.
    orders = tx.groupby("customer_id").size().reindex(truth.index)
    assert (orders[~truth["alive"]] >= 2).all() and (orders[truth["alive"]] >= 1).all()


def test_compare_with_truth_on_a_simulation(simulated):
    tx, truth, summary, true = simulated
    model = clv.fit_bgnbd(summary)
    table = clv.compare_with_truth(summary, model, truth, true).set_index("quantity")
    assert list(table.columns) == ["label", "true", "estimated", "difference"]
    for name in ("r", "a", "b"):
        assert table.loc[name, "estimated"] == pytest.approx(true[name], rel=0.25)
    assert table.loc["mean_lambda", "estimated"] == pytest.approx(table.loc["mean_lambda", "true"], rel=0.1)
    assert table.loc["alive_share", "estimated"] == pytest.approx(table.loc["alive_share", "true"], abs=0.02)
    assert 0 < table.loc["brier_p_alive", "estimated"] < 0.2
    calibration = clv.p_alive_calibration(summary, model, truth)
    assert calibration["customers"].sum() == len(summary)
    big = calibration[calibration["customers"] >= 500]
    assert (np.abs(big["predicted"] - big["actual"]) < 0.06).all()
    with pytest.raises(clv.CLVDataError, match="truth lacks"):
        clv.compare_with_truth(summary, model, truth.iloc[5:])
    with pytest.raises(clv.CLVDataError, match="'alive'"):
        clv.compare_with_truth(summary, model, truth.drop(columns="alive"))


# -------------------------------------------------------------------------------------------------------- published


def test_cdnow_published_figures_reproduce():
    table = clv.cdnow_published_check()
    assert list(table.columns) == ["quantity", "published", "ours", "ok"]
    assert table["ok"].all(), table[~table["ok"]]
    values = table.set_index("quantity")["ours"]
    assert values["bgnbd_r"] == pytest.approx(0.243, abs=5e-4)
    assert values["bgnbd_log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert values["gg_repeat_buyers"] == 946
    assert values["expected_x39_given_2_30.43_38.86"] == pytest.approx(1.226, abs=5e-4)


# ------------------------------------------------------------------------------------------- models from parameters


def test_bgnbd_from_params_predicts_like_a_fitted_model(summary, bgnbd):
    given = clv.BGNBDModel.from_params(*bgnbd.params_.to_numpy(), freq="D", freq_multiplier=7)
    pd.testing.assert_series_equal(given.p_alive(summary), bgnbd.p_alive(summary))
    pd.testing.assert_series_equal(given.expected_purchases(summary, 39), bgnbd.expected_purchases(summary, 39))
    assert given.time_unit_ == bgnbd.time_unit_ == {"freq": "D", "freq_multiplier": 7}
    assert "given parameters" in repr(given) and "2357 customers" in repr(bgnbd)
    with pytest.raises(clv.CLVFitError, match="given parameters"):
        clv.forecast_band(summary, given, 39, n_draws=10)


def test_gamma_gamma_from_params_matches_the_fitted_spend(summary, gamma_gamma):
    given = clv.GammaGammaModel.from_params(*gamma_gamma.params_.to_numpy())
    pd.testing.assert_series_equal(given.expected_average_spend(summary), gamma_gamma.expected_average_spend(summary))
    assert clv.GammaGammaModel.from_params(4.0, 4.0, 375.0).population_mean_spend == pytest.approx(500.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: clv.BGNBDModel.from_params(0.9, -1.0, 0.8, 4.0),
        lambda: clv.BGNBDModel.from_params(0.9, 110.0, float("nan"), 4.0),
        lambda: clv.BGNBDModel.from_params(0.9, 110.0, 0.8, 4.0, freq="H"),
        lambda: clv.GammaGammaModel.from_params(4.0, 0.9, 375.0),
        lambda: clv.GammaGammaModel.from_params(0.0, 4.0, 375.0),
    ],
)
def test_from_params_rejects_impossible_parameters(build):
    with pytest.raises(clv.CLVDataError):
        build()


def test_cumulative_tracking_refuses_a_time_unit_other_than_the_model_s(cdnow_tx, bgnbd):
    # bgnbd is in weeks measured in days (D / 7); tracking in days would feed days into E[X(t)] in weeks.
    with pytest.raises(clv.CLVDataError, match="freq_multiplier=7"):
        clv.cumulative_tracking(cdnow_tx, bgnbd, 78 * 7, time_col="date", freq="D", freq_multiplier=1)
    with pytest.raises(clv.CLVDataError, match="time unit"):
        clv.cumulative_tracking(cdnow_tx, bgnbd, 78, time_col="date", freq="W")
