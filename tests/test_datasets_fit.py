"""BG/NBD fitted on the shipped members' calibration data recovers the simulation's true parameters.

Tolerances. Simulating the chain with 8 seeds (2025 = shipped, 1-7) at the shipped size (12,000 members, about 9,100
buyers in the calibration period) and fitting lifetimes' BetaGeoFitter gave (run once, 2025-06 build):

    r      0.86-0.98  (true 0.9)    mean 0.916  sd 0.034 (3.7%)   lifetimes SE ~0.022
    alpha  104-120    (true 110)    mean 113.1  sd 4.5   (4.0%)   SE ~3.4
    a      0.68-0.98  (true 0.8)    mean 0.834  sd 0.10  (12%)    SE ~0.09
    b      3.40-5.29  (true 4.0)    mean 4.27   sd 0.60  (14%)    SE ~0.55
    r/alpha   sd 1.7%;  a/(a+b)  sd 2.1%

The tolerances are about 3 seed-to-seed standard deviations: 12% for r and alpha, 40% for a and b (individually
weakly identified: they trade off), and 6% / 8% for the well-identified mean purchase rate r/alpha and mean dropout
probability a/(a+b). The shipped seed fits r 0.919, alpha 113.7, a 0.762, b 3.87.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import opskit.datasets as ds


def calibration_summary(tx: pd.DataFrame, end: str = "2024-12-31") -> pd.DataFrame:
    """frequency / recency / T in days from the sale rows up to ``end`` (same-day orders merge, as in lifetimes)."""
    sales = tx[(tx["kind"] == "sale") & tx["customer_id"].notna() & (tx["order_time"] < pd.Timestamp(end) +
                                                                      pd.Timedelta(days=1))]
    days = sales.assign(day=sales["order_time"].dt.normalize()).drop_duplicates(["customer_id", "day"])
    g = days.groupby("customer_id")["day"].agg(["min", "max", "count"])
    return pd.DataFrame({
        "frequency": g["count"] - 1,
        "recency": (g["max"] - g["min"]).dt.days,
        "T": (pd.Timestamp(end) - g["min"]).dt.days,
    })


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' own import-time warnings
        from lifetimes import BetaGeoFitter
    summary = calibration_summary(ds.load_transactions())
    unique = summary.groupby(["frequency", "recency", "T"]).size().rename("weight").reset_index()
    model = BetaGeoFitter()
    model.fit(unique["frequency"], unique["recency"], unique["T"], weights=unique["weight"])
    return model, summary


def test_calibration_summary_matches_ground_truth(fitted):
    _, summary = fitted
    truth = ds.load_ground_truth().set_index("customer_id")
    joined = truth[truth["joined_in_calibration"] & ~truth["prospect"]]
    assert set(summary.index) == set(joined.index)
    assert (summary["frequency"] <= joined["calibration_orders"].reindex(summary.index) - 1).all()
    assert (summary["recency"] <= summary["T"]).all() and (summary["T"] >= 0).all()


def test_bgnbd_recovers_true_parameters(fitted):
    model, _ = fitted
    true = ds.load_answer_key()["parameters"]["bgnbd"]
    est = model.params_
    for name, tolerance in {"r": 0.12, "alpha": 0.12, "a": 0.40, "b": 0.40}.items():
        assert est[name] == pytest.approx(true[name], rel=tolerance), name
    assert est["r"] / est["alpha"] == pytest.approx(true["r"] / true["alpha"], rel=0.06)
    assert est["a"] / (est["a"] + est["b"]) == pytest.approx(true["a"] / (true["a"] + true["b"]), rel=0.08)


def test_alive_truth_agrees_with_the_model(fitted):
    """Members the model thinks are alive are more often truly alive (a sanity check on the truth file)."""
    model, summary = fitted
    truth = ds.load_ground_truth().set_index("customer_id").reindex(summary.index)
    p_alive = model.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    alive = truth["alive_at_calibration_end"].astype(bool).to_numpy()
    assert p_alive[alive].mean() > p_alive[~alive].mean() + 0.2
