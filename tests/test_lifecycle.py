"""opskit.lifecycle: stage boundaries, snapshots, movement, work lists, campaign uplift, KPIs, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opskit import lifecycle as L
from opskit.i18n import set_language

AS_OF = pd.Timestamp("2024-12-31")


@pytest.fixture(autouse=True)
def both_languages():
    set_language("both")


def _tx(rows):
    """rows: (customer, days before AS_OF) per sale order."""
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(rows))],
        "order_time": [AS_OF - pd.Timedelta(days=d) + pd.Timedelta(hours=15) for _, d in rows],
        "customer_id": pd.Series([c for c, _ in rows], dtype="str"),
        "store_id": "S01",
        "channel": "pos",
        "kind": "sale",
        "units": 1,
        "amount": 100.0,
    })


def _stage(rows, **kw):
    return L.assign_stages(_tx(rows), as_of=AS_OF, **kw)["stage"].to_dict()


# ---- 1. stage boundaries --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "days, expected",
    [
        ([0], "new"), ([90], "new"), ([91], "sleeping"), ([180], "sleeping"), ([181], "lost"),
        ([0, 300], "active"), ([90, 100], "active"), ([91, 100], "sleeping"), ([180, 400], "sleeping"),
        ([181, 400], "lost"),
    ],
)
def test_stage_boundaries_with_default_thresholds(days, expected):
    assert _stage([("m", d) for d in days]) == {"m": expected}


def test_prospect_needs_members_and_join_before_as_of():
    members = pd.DataFrame({"customer_id": ["m", "p", "later"],
                            "join_date": [AS_OF - pd.Timedelta(days=10), AS_OF, AS_OF + pd.Timedelta(days=1)]})
    stages = L.assign_stages(_tx([("m", 10)]), members, AS_OF)
    assert stages["stage"].to_dict() == {"m": "new", "p": "prospect"}
    assert pd.isna(stages.loc["p", "days_since_last"])
    assert stages.attrs["accounting"]["members_not_yet_joined"] == 1


def test_one_off_buyer_past_the_new_window_is_sleeping_when_new_within_is_shorter():
    # new_within < sleeping_after: a one-off buyer at 60 days is no longer new, not yet past 90: sleeping
    assert _stage([("m", 60)], new_within=30) == {"m": "sleeping"}
    assert _stage([("m", 30)], new_within=30) == {"m": "new"}
    assert _stage([("m", 60), ("m", 70)], new_within=30) == {"m": "active"}


def test_thresholds_are_parameters():
    assert _stage([("m", 50), ("m", 70)], sleeping_after=45, lost_after=60) == {"m": "sleeping"}
    assert _stage([("m", 61)], sleeping_after=45, lost_after=60) == {"m": "lost"}


def test_same_day_orders_count_as_orders_and_returns_never_remove_a_purchase():
    tx = _tx([("m", 5), ("m", 5)])
    ret = tx.iloc[[0]].assign(kind="return", amount=-100.0, order_time=AS_OF)
    stages = L.assign_stages(pd.concat([tx, ret], ignore_index=True), as_of=AS_OF)
    assert stages.loc["m", "orders"] == 2 and stages.loc["m", "stage"] == "active"
    acc = stages.attrs["accounting"]
    assert acc["return_rows"] == 1 and acc["sale_rows"] == 2 and acc["rows_in"] == 3


def test_orders_after_as_of_are_left_out_and_counted():
    tx = _tx([("m", 200), ("m", -3)])  # the second is 3 days after the as-of date
    stages = L.assign_stages(tx, as_of=AS_OF)
    assert stages.loc["m", "stage"] == "lost" and stages.loc["m", "orders"] == 1
    assert stages.attrs["accounting"]["orders_after_as_of"] == 1


def test_walk_ins_are_counted_not_staged():
    tx = _tx([("m", 5), ("x", 5)])
    tx.loc[1, "customer_id"] = pd.NA
    stages = L.assign_stages(tx, as_of=AS_OF)
    assert list(stages.index) == ["m"] and stages.attrs["accounting"]["walk_in_rows"] == 1


def test_personal_rule_uses_the_customers_own_gap_with_a_floor():
    weekly = [("w", d) for d in (40, 47, 54, 61)]          # median gap 7 → 2 × 7 = 14 < floor 30 → sleeps after 30
    seasonal = [("s", d) for d in (150, 330, 510)]         # median gap 180 → sleeps after 360
    two = [("t", 150), ("t", 200)]                         # fewer than 3 purchase days: fixed rule
    stages = L.assign_stages(_tx(weekly + seasonal + two), as_of=AS_OF, rule="personal")
    assert stages.loc["w", "stage"] == "sleeping" and stages.loc["w", "sleeping_after"] == 30
    assert stages.loc["s", "stage"] == "active" and stages.loc["s", "sleeping_after"] == 360
    assert stages.loc["s", "lost_after"] == 450
    assert stages.loc["t", "stage"] == "sleeping" and stages.loc["t", "sleeping_after"] == 90
    fixed = L.assign_stages(_tx(weekly + seasonal + two), as_of=AS_OF)
    assert fixed.loc["w", "stage"] == "active" and fixed.loc["s", "stage"] == "sleeping"


# ---- bad input --------------------------------------------------------------------------------------------------------
def test_snapshot_before_any_data_is_a_clear_error():
    with pytest.raises(ValueError, match="before the first member purchase"):
        L.assign_stages(_tx([("m", 5)]), as_of="2020-01-01")


@pytest.mark.parametrize("sleeping, lost", [(180, 180), (200, 180)])
def test_thresholds_out_of_order(sleeping, lost):
    with pytest.raises(ValueError, match="out of order.*sleeping_after"):
        L.assign_stages(_tx([("m", 5)]), as_of=AS_OF, sleeping_after=sleeping, lost_after=lost)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="lacks column"):
        L.assign_stages(_tx([("m", 5)]).drop(columns="order_time"))
    with pytest.raises(ValueError, match="rule"):
        L.StageRules(rule="magic")
    with pytest.raises(ValueError, match="whole number of days"):
        L.StageRules(sleeping_after=-1)
    bad = _tx([("m", 5)]).assign(kind="refund")
    with pytest.raises(ValueError, match="'sale' or 'return'"):
        L.assign_stages(bad)


# ---- 2. movement ------------------------------------------------------------------------------------------------------
def _two_snapshots():
    # t0 = AS_OF - 30: a sleeping at t0 buys at AS_OF - 10 → returned; b lost at t0 stays lost; c active → sleeping
    tx = _tx([("a", 130), ("a", 10), ("b", 400), ("c", 100), ("c", 110), ("d", 5)])
    t0 = AS_OF - pd.Timedelta(days=30)
    return tx, L.assign_stages(tx, as_of=t0), L.assign_stages(tx, as_of=AS_OF)


def test_returned_at_the_later_snapshot():
    _, early, late = _two_snapshots()
    assert early["stage"].to_dict() == {"a": "sleeping", "b": "lost", "c": "active"}
    moves = L.compare_snapshots(early, late)
    assert moves.loc["a", "stage_to"] == "returned" and moves.loc["a", "rule_stage"] == "active"
    assert moves.loc["b", "stage_to"] == "lost"
    assert moves.loc["c", "stage_to"] == "sleeping"
    assert moves.loc["d", "stage_from"] == "not_member" and moves.loc["d", "stage_to"] == "new"


def test_transition_matrix_counts_and_shares():
    _, early, late = _two_snapshots()
    m = L.transition_matrix(early, late, labels=False)
    assert m.loc["sleeping", "returned"] == 1 and m.loc["active", "sleeping"] == 1
    assert m.loc["lost", "lost"] == 1 and m.loc["not_member", "new"] == 1
    assert m.to_numpy().sum() == len(late)
    shares = L.transition_matrix(early, late, normalize=True, labels=False)
    assert shares.loc["sleeping"].sum() == pytest.approx(1.0) and shares.loc["new"].sum() == 0
    labelled = L.transition_matrix(early, late)
    assert "沉睡 / sleeping" in labelled.index


def test_compare_snapshots_wrong_order():
    _, early, late = _two_snapshots()
    with pytest.raises(ValueError, match="must be before"):
        L.compare_snapshots(late, early)


def test_counts_over_time_equal_snapshots_one_by_one():
    tx, _, _ = _two_snapshots()
    members = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "p"],
                            "join_date": pd.to_datetime(["2023-01-01"] * 4 + ["2024-11-15"])})
    counts = L.stage_counts_over_time(tx, members, "2024-09-30", AS_OF)
    assert list(counts.index) == list(pd.to_datetime(["2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31"]))
    for previous, date in zip(counts.index[:-1], counts.index[1:]):
        moves = L.compare_snapshots(L.assign_stages(tx, members, previous), L.assign_stages(tx, members, date))
        expected = moves["stage_to"].value_counts().reindex(L.STAGE_ORDER, fill_value=0)
        assert counts.loc[date, list(L.STAGE_ORDER)].tolist() == expected.tolist(), date
    assert (counts["members"] == counts[list(L.STAGE_ORDER)].sum(axis=1)).all()
    # d (joined 2023, first purchase in December) is a prospect until then; p joins in November
    assert counts.loc["2024-10-31", "prospect"] == 1 and counts.loc["2024-11-30", "prospect"] == 2
    assert counts.loc["2024-12-31", "prospect"] == 1


def test_counts_over_time_on_the_course_data_match_assign_stages():
    from opskit.datasets import load_members, load_transactions

    tx, members = load_transactions(), load_members()
    counts = L.stage_counts_over_time(tx, members, "2024-01-31", "2024-06-30", returned=False)
    for date in ("2024-01-31", "2024-06-30"):
        direct = L.stage_summary(L.assign_stages(tx, members, date))["members"]
        assert counts.loc[date, list(L.STAGE_ORDER)].tolist() == direct.tolist()


def test_cohort_reactivation_rate_by_hand():
    # at t0: s1, s2, s3 sleeping (d = 100, 120, 150), l1 lost; in the 60-day window s1 and l1 buy, s2 buys later
    t0 = AS_OF - pd.Timedelta(days=100)
    tx = _tx([("s1", 200), ("s2", 220), ("s3", 250), ("l1", 400), ("s1", 60), ("l1", 41), ("s2", 39), ("a", 100)])
    rate = L.reactivation_rate(tx, t0, 60)
    assert rate.loc["sleeping", ["cohort", "reactivated"]].tolist() == [3, 1]
    assert rate.loc["sleeping", "rate"] == pytest.approx(1 / 3)
    assert rate.loc["lost", "rate"] == 1.0 and rate.loc["all", "rate"] == pytest.approx(2 / 4)
    # the naive "current sleepers who bought in the window" is always 0: the cohort definition is what makes it work
    now = L.assign_stages(tx, as_of=t0 + pd.Timedelta(days=60))
    naive = now.index[now["stage"].eq("sleeping") & (now["last_purchase"] > t0)]
    assert len(naive) == 0


def test_reactivation_window_must_end_inside_the_data():
    with pytest.raises(ValueError, match="after the last data day"):
        L.reactivation_rate(_tx([("m", 100), ("m", 200)]), AS_OF - pd.Timedelta(days=10), 90)


# ---- 3. work lists ---------------------------------------------------------------------------------------------------
def test_follow_up_list_timeline_and_window():
    tx = _tx([("a", 0), ("b", 2), ("c", 90), ("d", 91), ("b", 30)])
    fu = L.follow_up_list(tx, AS_OF)
    assert sorted(fu["customer_id"].unique()) == ["a", "b", "c"]  # d = 91 days: out of the window, like the stages
    stages = L.assign_stages(tx, as_of=AS_OF)
    assert set(fu["customer_id"]) == set(stages.index[stages["stage"].isin(["new", "active"])])
    b = fu[fu["customer_id"] == "b"].set_index("touchpoint")
    assert b.loc["fit", "purchase_date"] == AS_OF - pd.Timedelta(days=2)  # the last purchase
    assert b.loc["fit", "due_date"] == AS_OF and b.loc["fit", "status"] == "today"
    assert b.loc["washing", "due_date"] == AS_OF + pd.Timedelta(days=1) and b.loc["washing", "status"] == "upcoming"
    assert b.loc["styling", "due_date"] == AS_OF + pd.Timedelta(days=5)
    assert b.loc["coupon", "due_date"] == AS_OF + pd.Timedelta(days=12)
    assert set(fu.loc[fu["customer_id"] == "c", "status"]) == {"done_window"}
    assert fu["due_date"].is_monotonic_increasing and len(fu) == 3 * len(L.TOUCHPOINTS)


def test_activation_list_ranked_by_value_tier_then_value():
    tx = _tx([("a", 100), ("b", 200), ("c", 95), ("d", 10), ("e", 91), ("f", 90)])
    tx["amount"] = [500.0, 3000.0, 50.0, 9999.0, 800.0, 700.0]
    stages = L.assign_stages(tx, as_of=AS_OF)
    act = L.activation_list(stages)
    assert list(act.index) == ["b", "e", "a", "c"]  # d and f bought ≤ 90 days ago
    assert act["rank"].tolist() == [1, 2, 3, 4] and act.loc["b", "value_tier"] == "high"
    clv = pd.Series({"a": 10.0, "b": 1.0, "c": 5.0, "e": 2.0, "d": 0.0, "f": 0.0})
    assert L.activation_list(stages, clv).index[0] == "a"
    assert list(L.activation_list(stages, max_days=150).index) == ["e", "a", "c"]
    with pytest.raises(ValueError, match="no entry"):
        L.activation_list(stages, clv.drop("a"))


def test_rules_vs_model_cross_table():
    stages = L.assign_stages(_tx([("a", 5), ("a", 10), ("b", 120), ("c", 300)]), as_of=AS_OF)
    table = L.rules_vs_model(stages, pd.Series({"a": 0.9, "b": 0.5, "c": 0.1}))
    assert table["members"].sum() == 3
    assert table.loc["活跃 / active", "P(alive) 70%–100%"] == 1
    assert table.loc["流失 / lost", "P(alive) 0%–30%"] == 1
    with pytest.raises(ValueError, match="bands"):
        L.rules_vs_model(stages, pd.Series({"a": 0.9}), bands=(0.2, 1.0))


# ---- 5. campaign -----------------------------------------------------------------------------------------------------
def test_uplift_against_a_hand_computation():
    outcomes = pd.DataFrame({"group": ["treatment"] * 70 + ["control"] * 80,
                             "purchased": [True] * 56 + [False] * 14 + [True] * 48 + [False] * 32})
    w = L.campaign_uplift(outcomes, method="wald").iloc[0]
    p1, p2 = 56 / 70, 48 / 80
    half = 1.959963984540054 * math.sqrt(p1 * (1 - p1) / 70 + p2 * (1 - p2) / 80)
    assert w["uplift"] == pytest.approx(0.2)
    assert (w["ci_low"], w["ci_high"]) == pytest.approx((0.2 - half, 0.2 + half))
    n = L.campaign_uplift(outcomes).iloc[0]
    # Newcombe (1998) Table II example: 56/70 − 48/80, method 10 interval 0.0524 to 0.3339
    assert (n["ci_low"], n["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=6e-4)
    assert n["relative_uplift"] == pytest.approx(0.2 / 0.6) and n["incremental_buyers"] == pytest.approx(14.0)


def test_incremental_revenue_and_coupon_cost():
    outcomes = pd.DataFrame({"group": ["treatment"] * 4 + ["control"] * 2, "purchased": [1, 1, 0, 0, 1, 0],
                             "revenue": [300.0, 100.0, 0, 0, 200.0, 0], "coupon_value": [50.0] * 4 + [0.0] * 2})
    row = L.campaign_uplift(outcomes).iloc[0]
    assert row["incremental_revenue"] == pytest.approx((100.0 - 100.0) * 4)
    assert row["coupon_cost"] == 100.0 and row["net_incremental_revenue"] == pytest.approx(-100.0)


def test_campaign_without_control_group_is_a_clear_error():
    outcomes = pd.DataFrame({"group": ["treatment"] * 3, "purchased": [True, False, False]})
    with pytest.raises(ValueError, match="no control group"):
        L.campaign_uplift(outcomes)
    with pytest.raises(ValueError, match="True/False"):
        L.campaign_uplift(pd.DataFrame({"group": ["treatment", "control"], "purchased": [2, 0]}))


def test_course_campaign_reproduces_the_observed_rates():
    from opskit.datasets import load_answer_key, load_campaign, load_transactions

    outcomes = L.campaign_outcomes(load_campaign(), load_transactions())
    key = load_answer_key()["campaign"]
    row = L.campaign_uplift(outcomes).iloc[0]
    assert row["n_treatment"] == key["treated"] and row["n_control"] == key["control"]
    assert row["rate_treatment"] == pytest.approx(key["observed_rate_treatment"], abs=5e-5)
    assert row["rate_control"] == pytest.approx(key["observed_rate_control"], abs=5e-5)
    assert row["ci_low"] < key["true_effect_on_treated"] < row["ci_high"]


def test_campaign_window_includes_both_ends():
    tx = _tx([("a", 10), ("b", 40), ("c", 41)])
    campaign = pd.DataFrame({"customer_id": ["a", "b", "c"], "group": ["treatment", "treatment", "control"],
                             "send_date": AS_OF - pd.Timedelta(days=40), "window_end": AS_OF - pd.Timedelta(days=10),
                             "coupon_value": [50.0, 50.0, 0.0]})
    out = L.campaign_outcomes(campaign, tx)
    assert out["purchased"].tolist() == [True, True, False]


# ---- 6. KPIs ---------------------------------------------------------------------------------------------------------
def test_kpis_by_hand():
    tx = _tx([("a", 10), ("a", 20), ("b", 50), ("c", 200), ("c", 500), ("d", 190), ("d", 60), ("e", 800)])
    k = L.lifecycle_kpis(tx, as_of=AS_OF, cac=100.0, gross_margin=0.5, ltv_months=12, reactivation_window=90)
    # last 365 days: a 2 orders, b 1, c 1, d 2 → 2 of 4 repeat
    assert k.loc["repeat_rate", "value"] == pytest.approx(0.5)
    assert k.loc["active_members", "value"] == 3  # a, b, d bought in the last 90 days
    # sleeping at t0 = AS_OF − 90: c (110 days) and d (100 days); only d buys in the window
    react = k.attrs["reactivation"]
    assert react.loc["sleeping", ["cohort", "reactivated"]].tolist() == [2, 1]
    assert k.loc["reactivation_rate", "value"] == pytest.approx(0.5)
    # 12-month LTV: members first buying ≥ 12 months ago: c (500 → 200: two orders of 100) and e (100) → mean 150
    assert k.attrs["ltv"] == pytest.approx(0.5 * 150.0)
    assert k.loc["ltv_cac", "value"] == pytest.approx(0.75)
    assert k["definition"].str.contains("/").all()
    with pytest.raises(ValueError, match="cac"):
        L.lifecycle_kpis(tx, as_of=AS_OF, cac=0)


def test_integer_keys_give_the_same_stages_as_text_ids():
    # The report passes integer customer and order keys, which take a faster grouping path; stages must not change.
    import opskit.datasets as ds

    tx = ds.load_transactions()
    tx = tx[tx["customer_id"].notna() & (tx["kind"] == "sale") & (tx["store_id"] == "S02")].reset_index(drop=True)
    customer_key, customers = pd.factorize(tx["customer_id"])
    order_key, _ = pd.factorize(tx["order_id"])
    keyed = tx.assign(customer_key=customer_key, order_key=order_key)
    by_text = L.assign_stages(tx, as_of="2025-06-30", amount_col="amount")
    by_key = L.assign_stages(keyed, as_of="2025-06-30", customer_col="customer_key", order_col="order_key",
                             amount_col="amount")
    by_key.index = pd.Index(customers[by_key.index.to_numpy()], dtype="str", name="customer_id")
    pd.testing.assert_frame_equal(by_key.sort_index(), by_text.sort_index(), check_names=False)
