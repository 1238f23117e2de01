"""opskit.rfm: the RFM table, scores, segment schemes and summaries, on hand-made frames with hand-computed answers."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from opskit import rfm as R
from opskit.i18n import set_language

NA = pd.NA


def make_tx(rows):
    """rows: (order_id, time, customer_id, kind, amount) → a canonical transactions frame."""
    frame = pd.DataFrame(rows, columns=["order_id", "order_time", "customer_id", "kind", "amount"])
    frame["order_time"] = pd.to_datetime(frame["order_time"])
    frame["customer_id"] = frame["customer_id"].astype("str")  # pandas 3 string dtype; NA stays missing
    frame["store_id"] = "S01"
    frame["channel"] = "pos"
    frame["units"] = np.where(frame["kind"] == "sale", 1, -1)
    return frame


# The hand-made case. As-of date 2024-06-30.
HAND = make_tx(
    [
        ("O1", "2024-06-30 10:00", "c1", "sale", 300.0),  # on the as-of day → R = 0
        ("O2", "2024-06-30 15:00", "c1", "sale", 200.0),  # same day, second order
        ("O3", "2024-05-01 12:00", "c1", "sale", 100.0),
        ("O1", "2024-07-02 09:00", "c1", "return", -50.0),  # return after the as-of date: excluded
        ("O4", "2024-01-01 11:00", "c2", "sale", 1000.0),
        ("O4", "2024-01-10 11:00", "c2", "return", -400.0),  # nets into M
        ("O5", "2024-06-01 18:00", "c3", "sale", 50.0),
        ("O6", "2024-07-15 18:00", "c3", "sale", 500.0),  # sale after the as-of date: excluded
        ("O9", "2024-03-01 10:00", "c4", "return", -30.0),  # c4 has a return only: no purchase
        ("W1", "2024-06-10 10:00", NA, "sale", 80.0),  # walk-in
        ("W2", "2024-06-11 10:00", "  ", "sale", 70.0),  # blank id counts as walk-in
        ("O7", "2023-12-31 23:59", "c5", "sale", 400.0),
    ]
)
AS_OF = "2024-06-30"


@pytest.fixture(autouse=True)
def both_languages():
    set_language("both")
    yield
    set_language("both")


def test_hand_made_rfm_defaults():
    table = R.rfm_table(HAND, AS_OF)
    assert list(table.index) == ["c1", "c2", "c3", "c5"]
    # Days counted by hand: c2 2024-01-01 → 06-30 is 30+29+31+30+31+29 = 181 (2024 is a leap year);
    # c3 06-01 → 06-30 = 29; c5 2023-12-31 (late evening, still that day) → 182.
    expected = pd.DataFrame(
        {"recency": [0, 181, 29, 182], "frequency": [3, 1, 1, 1], "monetary": [600.0, 600.0, 50.0, 400.0]},
        index=pd.Index(["c1", "c2", "c3", "c5"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(table[["recency", "frequency", "monetary"]], expected, check_index_type=False)
    assert table["recency"].dtype == "int64" and table["frequency"].dtype == "int64"
    assert table.loc["c1", "last_purchase"] == pd.Timestamp("2024-06-30")
    assert table.loc["c1", "first_purchase"] == pd.Timestamp("2024-05-01")


def test_accounting_counts_every_row():
    acc = R.rfm_table(HAND, AS_OF).attrs["accounting"]
    assert acc.rows_in == 12
    assert acc.excluded == {"missing_customer_id": 2, "after_as_of": 2, "return_ignored": 0, "no_sale_by_as_of": 1}
    assert acc.rows_used == 7
    assert acc.rows_used + sum(acc.excluded.values()) == acc.rows_in
    assert acc.orders_after_as_of == 1  # O6; the late return of O1 is not an order
    assert acc.customers == 4
    assert acc.as_of == pd.Timestamp("2024-06-30")
    frame = acc.to_frame()
    assert frame["rows"].sum() == 12 and frame.loc["missing_customer_id", "rows"] == 2
    report = acc.report().render("en")
    assert "12 rows in" in report and "7 used" in report and "walk-in" in report


def test_frequency_as_purchase_days_and_monetary_as_mean_per_order():
    table = R.rfm_table(HAND, AS_OF, frequency="days", monetary="mean")
    # c1: orders on 06-30 (two) and 05-01 → 2 days; net 600 over 3 orders → 200.
    assert table.loc["c1", "frequency"] == 2
    assert table.loc["c1", "monetary"] == pytest.approx(200.0)
    assert table.loc["c2", "monetary"] == pytest.approx(600.0)
    assert table.loc["c1", "orders"] == 3 and table.loc["c1", "purchase_days"] == 2


def test_returns_ignore_leaves_m_gross_and_counts_the_rows():
    table = R.rfm_table(HAND, AS_OF, returns="ignore")
    assert table.loc["c2", "monetary"] == pytest.approx(1000.0)
    acc = table.attrs["accounting"]
    # c2's return and c4's return are both left out as "ignored"; so c4 is no longer a "no sale" case.
    assert acc.excluded["return_ignored"] == 2
    assert acc.excluded["no_sale_by_as_of"] == 0
    assert acc.rows_used + sum(acc.excluded.values()) == 12


def test_returns_never_reduce_frequency():
    tx = make_tx([("A", "2024-01-01", "x", "sale", 100.0), ("A", "2024-01-05", "x", "return", -100.0),
                  ("B", "2024-02-01", "x", "sale", 80.0)])
    table = R.rfm_table(tx, "2024-03-01")
    assert table.loc["x", "frequency"] == 2  # the fully returned order still was a shopping trip
    assert table.loc["x", "monetary"] == pytest.approx(80.0)
    assert table.loc["x", "recency"] == 29  # from 02-01; the return is not a purchase


def test_default_as_of_is_last_member_purchase_day_and_time_of_day_is_ignored():
    assert R.rfm_table(HAND).attrs["accounting"].as_of == pd.Timestamp("2024-07-15")
    late = R.rfm_table(HAND, pd.Timestamp("2024-06-30 08:00"))  # O2 at 15:00 that day still counts
    assert late.loc["c1", "frequency"] == 3 and late.loc["c1", "recency"] == 0
    assert late.attrs["accounting"].as_of == pd.Timestamp("2024-06-30")  # the as-of date is a date


def test_timezone_aware_times():
    tx = HAND.assign(order_time=HAND["order_time"].dt.tz_localize("Asia/Shanghai"))
    table = R.rfm_table(tx, AS_OF)
    assert table.loc["c2", "recency"] == 181


def test_as_of_before_all_orders_is_a_clear_error():
    with pytest.raises(ValueError, match=r"2023-01-01.*before the first member purchase \(2023-12-31\)"):
        R.rfm_table(HAND, "2023-01-01")


def test_empty_input_raises():
    with pytest.raises(ValueError, match="empty"):
        R.rfm_table(HAND.iloc[0:0], AS_OF)


def test_only_walk_ins_raises():
    with pytest.raises(ValueError, match="identified customer"):
        R.rfm_table(HAND[HAND["order_id"].str.startswith("W")], AS_OF)


def test_single_customer():
    tx = make_tx([("A", "2024-01-01", "solo", "sale", 120.0), ("B", "2024-01-20", "solo", "sale", 80.0)])
    table = R.rfm_table(tx, "2024-01-31")
    assert table.to_dict("index")["solo"]["recency"] == 11
    assert (table.loc["solo", "frequency"], table.loc["solo", "monetary"]) == (2, 200.0)
    with pytest.warns(R.BinsCollapsedWarning):
        scores = R.rfm_scores(table)
    assert scores.loc["solo", "rfm_code"] == "111"  # one customer beats nobody
    with pytest.warns(R.BinsCollapsedWarning, match="separates nobody"):
        seg = R.segment_customers(table, "cn8")
    # Mean = its own value; strictly-better rules make everything 低.
    assert seg.loc["solo", "segment"] == "general_retain"


@pytest.mark.parametrize(
    ("column", "bad", "message"),
    [
        ("kind", "refund", r"must be 'sale' or 'return'.*\[3\]"),
        ("amount", np.nan, r"row\(s\) \[3\] have no amount"),
        ("order_time", pd.NaT, r"row\(s\) \[3\] have no time"),
    ],
)
def test_bad_values_name_the_row(column, bad, message):
    tx = HAND.copy()
    tx.loc[3, column] = bad
    with pytest.raises(ValueError, match=message):
        R.rfm_table(tx, AS_OF)


def test_wrong_sign_and_missing_column_and_bad_option():
    tx = HAND.copy()
    tx.loc[4, "amount"] = -1000.0
    with pytest.raises(ValueError, match=r"wrong sign.*\[4\]"):
        R.rfm_table(tx, AS_OF)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['amount'\]"):
        R.rfm_table(HAND.drop(columns="amount"), AS_OF)
    with pytest.raises(ValueError, match="frequency='visits'.*orders, days"):
        R.rfm_table(HAND, AS_OF, frequency="visits")
    tx = HAND.copy()
    tx.loc[0, "order_id"] = None
    with pytest.raises(ValueError, match=r"sale row\(s\) \[0\] have no order id"):
        R.rfm_table(tx, AS_OF)


def test_custom_column_names_and_string_times():
    tx = HAND.rename(columns={"customer_id": "member", "amount": "paid"})
    tx["order_time"] = tx["order_time"].dt.strftime("%Y-%m-%d %H:%M")
    table = R.rfm_table(tx, AS_OF, customer_col="member", amount_col="paid")
    assert table.index.name == "member" and table.loc["c2", "monetary"] == 600.0


# --------------------------------------------------------------------------------------------------------------------
# scores


def rfm_frame(recency, frequency, monetary):
    n = len(recency)
    return pd.DataFrame({"recency": recency, "frequency": frequency, "monetary": monetary,
                         "net_spend": monetary}, index=pd.Index([f"k{i:02d}" for i in range(n)], name="customer_id"))


def test_scores_without_ties_are_equal_quintiles_and_r_is_reversed():
    table = rfm_frame(list(range(10, 0, -1)), list(range(1, 11)), [float(v) for v in range(1, 11)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = R.rfm_scores(table)
    assert scores["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # recency 10 … 1: the most recent (1 day) gets 5.
    assert scores["r_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["rfm_code"].iloc[-1] == "555"


def test_tie_heavy_frequency_scores_and_warning():
    # 100 customers: 80 with F = 1, 12 with F = 2, 8 with F = 3.
    frequency = [1] * 80 + [2] * 12 + [3] * 8
    table = rfm_frame(list(range(100)), frequency, [float(v) for v in range(100)])
    with pytest.warns(R.BinsCollapsedWarning, match=r"F scores take only 2 distinct value\(s\) \[1, 5\]"):
        scores = R.rfm_scores(table)
    # min-rank: F = 1 beats nobody → 1; F = 2 beats 80 % → 1 + floor(5 × 0.8) = 5; F = 3 beats 92 % → 5.
    assert set(scores.loc[scores["frequency"] == 1, "f_score"]) == {1}
    assert set(scores.loc[scores["frequency"] > 1, "f_score"]) == {5}
    # average-rank: F = 1 sits at rank 40.5 → 1 + floor(5 × 39.5 / 100) = 2.
    with pytest.warns(R.BinsCollapsedWarning):
        averaged = R.rfm_scores(table, ties="average")
    assert set(averaged.loc[averaged["frequency"] == 1, "f_score"]) == {2}
    # explicit cut points for F instead: 1 → 1, 2 → 2, 3 → 3.
    with pytest.warns(R.BinsCollapsedWarning, match="F scores take only 3"):
        cut = R.rfm_scores(table, edges={"frequency": [2, 3, 4, 6]})
    assert cut.groupby("frequency")["f_score"].first().to_dict() == {1: 1, 2: 2, 3: 3}


def test_recency_edges_reaching_a_cut_is_the_better_side():
    table = rfm_frame([0, 30, 31, 90, 91, 400], [1, 2, 3, 4, 5, 6], [1.0, 2, 3, 4, 5, 6])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", R.BinsCollapsedWarning)
        scores = R.rfm_scores(table, edges={"recency": [30, 90, 180, 365]})
    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 1]


def test_score_argument_errors():
    table = rfm_frame([1, 2], [1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="from 2 to 9"):
        R.rfm_scores(table, bins=10)
    with pytest.raises(ValueError, match="4 strictly increasing"):
        R.rfm_scores(table, edges={"frequency": [3, 2, 4, 5]})
    with pytest.raises(ValueError, match=r"unknown dimension\(s\) \['visits'\]"):
        R.rfm_scores(table, edges={"visits": [1, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['monetary'\]"):
        R.rfm_scores(table.drop(columns="monetary"))


# --------------------------------------------------------------------------------------------------------------------
# cn8: every cell against the reference table (domain.md), written out here independently.

CN8_REFERENCE = {  # (R, F, M) → segment; R 高 = recent
    ("高", "高", "高"): "重要价值客户",
    ("高", "低", "高"): "重要发展客户",
    ("低", "高", "高"): "重要保持客户",
    ("低", "低", "高"): "重要挽留客户",
    ("高", "高", "低"): "一般价值客户",
    ("高", "低", "低"): "一般发展客户",
    ("低", "高", "低"): "一般保持客户",
    ("低", "低", "低"): "一般挽留客户",
}


@pytest.mark.parametrize(("cell", "expected"), list(CN8_REFERENCE.items()))
def test_cn8_every_cell_with_business_thresholds(cell, expected):
    # Business rule R ≤ 90 days, F ≥ 3, M ≥ 2000. One customer per cell, values chosen by hand on either side.
    values = {"recency": {"高": 10, "低": 200}, "frequency": {"高": 5, "低": 1}, "monetary": {"高": 5000.0, "低": 100.0}}
    rows = [[values[d][level] for d, level in zip(R.DIMENSIONS, c)] for c in CN8_REFERENCE]
    table = rfm_frame(*map(list, zip(*rows)))
    seg = R.segment_customers(table, "cn8", thresholds={"recency": 90, "frequency": 3, "monetary": 2000})
    row = seg.iloc[list(CN8_REFERENCE).index(cell)]
    assert (row["r_high"], row["f_high"], row["m_high"]) == tuple(level == "高" for level in cell)
    set_language("zh")
    assert row["segment_label"] == expected or str(R.SCHEMES["cn8"].labels[row["segment"]]) == expected


def test_cn8_map_matches_reference_table_exactly():
    set_language("zh")
    table = R.scheme_table("cn8")
    got = {tuple("高" if ch == "H" else "低" for ch in code): label for code, label in table["label"].items()}
    assert got == CN8_REFERENCE


def test_cn8_threshold_boundaries_business_inclusive_statistical_strict():
    # Exactly on the business cut-offs: reaching them counts as 高.
    table = rfm_frame([90, 91, 10], [3, 2, 3], [2000.0, 1999.0, 2000.0])
    seg = R.segment_customers(table, "cn8", thresholds={"R": 90, "F": 3, "M": 2000})
    assert seg["r_high"].tolist() == [True, False, True]
    assert seg["f_high"].tolist() == [True, False, True]
    assert seg["m_high"].tolist() == [True, False, True]
    # Exactly on the mean: strictly better than the centre is required, so the tie is 低.
    table = rfm_frame([10, 20, 30], [1, 2, 3], [100.0, 200.0, 300.0])  # means 20, 2, 200
    seg = R.segment_customers(table, "cn8", thresholds="mean")
    assert seg["r_high"].tolist() == [True, False, False]
    assert seg["f_high"].tolist() == [False, False, True]
    assert seg["m_high"].tolist() == [False, False, True]
    # (R高 F低 M低) 一般发展, (低 低 低) 一般挽留, (低 高 高) 重要保持
    assert seg["segment"].tolist() == ["general_develop", "general_retain", "important_keep"]


def test_cn8_median_with_most_f_equal_one_keeps_one_timers_low():
    frequency = [1] * 8 + [2, 4]
    table = rfm_frame(list(range(10)), frequency, [float(v) for v in range(10)])
    seg = R.segment_customers(table, "cn8", thresholds="median")
    assert seg.attrs["thresholds"]["frequency"] == {"method": "median", "value": 1.0, "rule": ">"}
    assert seg["f_high"].tolist() == [False] * 8 + [True, True]
    mixed = R.segment_customers(table, "cn8", thresholds={"recency": "median", "frequency": 2, "monetary": "mean"})
    assert mixed["f_high"].sum() == 2 and mixed.attrs["thresholds"]["frequency"]["rule"] == ">="


def test_cn8_threshold_errors():
    table = rfm_frame([1, 2], [1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"missing \['monetary'\]"):
        R.segment_customers(table, "cn8", thresholds={"recency": 90, "frequency": 3})
    with pytest.raises(ValueError, match="thresholds='mode'"):
        R.segment_customers(table, "cn8", thresholds="mode")
    with pytest.raises(ValueError, match="is invalid"):
        R.segment_customers(table, "cn8", thresholds={"recency": 90, "frequency": None, "monetary": 1})


def test_describe_thresholds():
    table = rfm_frame([10, 20, 30], [1, 2, 3], [100.0, 200.0, 300.0])
    text = R.describe_thresholds(R.cn8_thresholds(table, {"recency": 90, "frequency": "mean", "monetary": 2000}))
    assert text.en == (
        "R high: recency ≤ 90 (business rule); F high: frequency > 2 (mean); M high: monetary ≥ 2,000 (business rule)"
    )
    assert "R 高" in text.zh


# --------------------------------------------------------------------------------------------------------------------
# rf10: all 25 cells, expected grid typed out from domain.md (rows R = 5 … 1, columns F = 1 … 5).

RF10_GRID = """
R5: new_customers        potential_loyalists potential_loyalists champions       champions
R4: promising            potential_loyalists potential_loyalists loyal_customers loyal_customers
R3: about_to_sleep       about_to_sleep      need_attention      loyal_customers loyal_customers
R2: hibernating          hibernating         at_risk             at_risk         cant_lose_them
R1: hibernating          hibernating         at_risk             at_risk         cant_lose_them
"""
RF10_EXPECTED = {
    (int(line[1]), f): name
    for line in RF10_GRID.strip().splitlines()
    for f, name in enumerate(line.split(":")[1].split(), start=1)
}


def test_rf10_grid_is_complete():
    assert len(RF10_EXPECTED) == 25


@pytest.mark.parametrize(("cell", "expected"), sorted(RF10_EXPECTED.items()))
def test_rf10_every_cell(cell, expected):
    scored = rfm_frame([1], [1], [1.0]).assign(r_score=cell[0], f_score=cell[1], m_score=3)
    seg = R.segment_customers(scored, "rf10")
    assert seg["segment"].iloc[0] == expected


def test_rf10_covers_each_cell_once_and_needs_five_bins():
    assert sorted(R.SCHEMES["rf10"].cells) == sorted((r, f) for r in range(1, 6) for f in range(1, 6))
    assert len(set(R.SCHEMES["rf10"].cells.values())) == 10
    with pytest.raises(ValueError, match="bins must be 5"):
        R.segment_customers(rfm_frame([1, 2], [1, 2], [1.0, 2.0]), "rf10", bins=4)


def test_rf10_from_raw_rfm_computes_scores():
    table = rfm_frame(list(range(10, 0, -1)), list(range(1, 11)), [float(v) for v in range(1, 11)])
    seg = R.segment_customers(table, "rf10")
    assert seg["segment"].iloc[0] == "hibernating" and seg["segment"].iloc[-1] == "champions"


def test_unknown_scheme_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown segment scheme 'rfm11'; valid schemes: cn8, rf10"):
        R.segment_customers(rfm_frame([1], [1], [1.0]), "rfm11")


# --------------------------------------------------------------------------------------------------------------------
# custom maps


def test_custom_map_valid_and_used():
    scheme = R.custom_scheme({"[4-5]*": "recent", "[1-3][4-5]": "champions", "[1-3][1-3]": "others"},
                             strategies={"recent": "say thanks"})
    assert len(scheme.cells) == 25
    assert scheme.strategies["recent"].en == "say thanks"
    assert scheme.labels["champions"].zh == "冠军客户"  # a built-in name takes its bilingual label
    assert scheme.strategies["others"].en == "(no strategy given)"
    scored = rfm_frame([1, 1], [1, 1], [1.0, 1.0]).assign(r_score=[5, 2], f_score=[1, 5], m_score=[1, 1])
    seg = R.segment_customers(scored, scheme)
    assert seg["segment"].tolist() == ["recent", "champions"]


def test_custom_map_reports_uncovered_overlapping_and_unreadable_cells():
    with pytest.raises(ValueError, match=r"cells not covered: \['11', '12'.*\(10 in all\)"):
        R.custom_scheme({"[3-5]*": "a"})
    with pytest.raises(ValueError, match=r"mapped more than once: \['55'\]"):
        R.custom_scheme({"[1-5][1-4]": "a", "[1-5]5": "b", "55": "c"})
    with pytest.raises(ValueError, match=r"unreadable cell key\(s\) \['6\*', 'x1'\]"):
        R.custom_scheme({"6*": "a", "x1": "b", "[1-5]*": "c"})
    with pytest.raises(ValueError, match=r"not in the map: \['vip'\]"):
        R.custom_scheme({"**": "all"}, strategies={"vip": "x"})


def test_custom_high_low_map():
    mapping = {"H**": "recent", "L*H": "big spenders gone", "L*L": "others"}
    scheme = R.custom_scheme(mapping)
    assert scheme.kind == "high_low" and len(scheme.cells) == 8
    table = rfm_frame([1, 100, 100], [1, 3, 1], [10.0, 900.0, 5.0])
    seg = R.segment_customers(table, mapping, thresholds={"recency": 30, "frequency": 2, "monetary": 500})
    assert seg["segment"].tolist() == ["recent", "big spenders gone", "others"]


# --------------------------------------------------------------------------------------------------------------------
# summaries


def test_segment_summary_by_hand():
    # Business thresholds R ≤ 90, F ≥ 3, M ≥ 2000.
    table = rfm_frame([10, 20, 200, 300], [5, 4, 1, 1], [3000.0, 5000.0, 100.0, 900.0])
    seg = R.segment_customers(table, "cn8", thresholds={"recency": 90, "frequency": 3, "monetary": 2000})
    summary = R.segment_summary(seg)
    assert list(summary.index) == list(R.SCHEMES["cn8"].keys)  # every segment, in order
    top = summary.loc["important_value"]
    assert top["customers"] == 2 and top["customer_share"] == 0.5
    assert top["revenue"] == 8000.0 and top["revenue_share"] == pytest.approx(8000 / 9000)
    assert top["avg_spend"] == 4000.0 and top["avg_recency"] == 15.0 and top["avg_frequency"] == 4.5
    low = summary.loc["general_retain"]
    assert low["customers"] == 2 and low["avg_spend"] == 500.0 and low["avg_recency"] == 250.0
    empty = summary.loc["important_develop"]
    assert empty["customers"] == 0 and empty["revenue_share"] == 0 and np.isnan(empty["avg_spend"])
    assert summary["customer_share"].sum() == pytest.approx(1.0)
    assert summary["revenue_share"].sum() == pytest.approx(1.0)
    assert "VIP" in summary.loc["important_value", "strategy"]


def test_strategies_cover_every_segment_in_both_languages():
    for name, scheme in R.SCHEMES.items():
        for key in scheme.keys:
            text = R.segment_strategy(key, name)
            assert text.zh and text.en and text.zh != text.en
    assert "频" in R.segment_strategy("important_develop").zh  # raise frequency
    assert "win back" in R.segment_strategy("重要挽留客户").en
    assert "let go" in R.segment_strategy("general_retain").en
    assert "cross-sell" in R.segment_strategy("general_value").en
    with pytest.raises(ValueError, match="has no segment 'vip'"):
        R.segment_strategy("vip")


def test_pareto_curve_and_top_share():
    table = rfm_frame([1] * 5, [1] * 5, [10.0, 50.0, 20.0, 10.0, 10.0])
    curve = R.pareto_curve(table)
    assert curve["customer_share"].tolist() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert curve["revenue_share"].tolist() == pytest.approx([0.0, 0.5, 0.7, 0.8, 0.9, 1.0])
    assert R.revenue_share_of_top(table, 0.2) == pytest.approx(0.5)
    assert R.revenue_share_of_top(table, 0.3) == pytest.approx(0.6)  # halfway between 0.5 and 0.7
    with pytest.raises(ValueError, match="sums to 0"):
        R.pareto_curve(table.assign(net_spend=0.0))


def test_value_tiers_shares_and_ties():
    table = rfm_frame([1] * 10, [1] * 10, [float(v) for v in range(10, 0, -1)])
    tiers = R.value_tiers(table)
    assert tiers["value_tier"].tolist() == ["high"] * 2 + ["mid"] * 3 + ["low"] * 5
    tied = R.value_tiers(table.assign(monetary=[10.0, 9, 9, 7, 6, 5, 4, 3, 2, 1]))
    assert tied["value_tier"].tolist()[:3] == ["high", "high", "high"]  # a tie at the boundary goes up
    custom = R.value_tiers(table, (0.1, 0.3))
    assert custom["value_tier"].value_counts().to_dict() == {"low": 7, "mid": 2, "high": 1}
    set_language("zh")
    assert R.value_tiers(table)["value_tier_label"].iloc[0] == "高价值"
    with pytest.raises(ValueError, match="0 < a < b < 1"):
        R.value_tiers(table, (0.5, 0.2))


# --------------------------------------------------------------------------------------------------------------------
# hygiene


def test_pipeline_emits_no_future_or_deprecation_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        table = R.rfm_table(HAND, AS_OF)
        for scheme in ("cn8", "rf10"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", R.BinsCollapsedWarning)
                R.segment_summary(R.segment_customers(table, scheme))
        R.value_tiers(table)
        R.pareto_curve(table)


def test_input_frame_is_not_modified():
    before = HAND.copy()
    R.rfm_table(HAND, AS_OF, returns="ignore")
    pd.testing.assert_frame_equal(HAND, before)


def test_import_rfm_stays_light():
    code = "import sys, opskit.rfm; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("lifetimes", "seaborn", "matplotlib", "ipywidgets", "scipy"):
        assert f"'{heavy}'" not in loaded, heavy


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(R, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15 and result.failed == 0
