"""opskit.customers: the customer profile table (客户档案)."""

from __future__ import annotations

import pandas as pd
import pytest

import opskit.datasets as ds
from opskit.customers import PROFILE_COLUMNS, customer_profiles, tier_from_spend
from opskit.privacy import PHONE_IN_TEXT


def _tx():
    return pd.DataFrame({
        "order_id": ["A", "B", "C", "B", "D", "E"],
        "order_time": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-03-01", "2025-02-10", "2025-03-02",
                                      "2025-03-03"]),
        "customer_id": ["M1", "M1", "M2", "M1", None, "M1"],
        "store_id": ["S02", "S01", "S01", "S01", "S01", "S02"],
        "channel": ["pos", "mini_program", "pos", "mini_program", "pos", "pos"],
        "kind": ["sale", "sale", "sale", "return", "sale", "sale"],
        "units": [1, 2, 1, -1, 1, 1],
        "amount": [300.0, 500.0, 1200.0, -200.0, 99.0, 100.0],
    })


def test_one_row_per_customer_with_the_documented_columns():
    table = customer_profiles(_tx())
    assert list(table.columns) == list(PROFILE_COLUMNS)
    m1 = table.set_index("customer_id").loc["M1"]
    assert m1["orders"] == 3 and m1["returns"] == 1 and m1["net_spend"] == pytest.approx(700.0)
    assert m1["first_purchase"] == pd.Timestamp("2025-01-05") and m1["last_purchase"] == pd.Timestamp("2025-03-03")
    assert m1["channels"] == "pos+mini_program"
    assert m1["home_store"] == "S02"  # 2 orders at S02, 1 at S01
    assert table["customer_id"].tolist() == ["M1", "M2"]  # the walk-in is not a customer


def test_members_add_prospects_tier_join_date_and_break_home_store_ties():
    members = pd.DataFrame({"customer_id": ["M1", "M2", "M3"], "join_date": pd.to_datetime(["2024-01-01"] * 3),
                            "join_store_id": ["S01", "S03", "S04"], "tier": ["金卡", "普卡", "普卡"],
                            "phone": ["15400000001", "15400000002", "15400000003"]})
    tx = _tx()
    tx.loc[5, "store_id"] = "S01"  # now M1: 2 orders at S01, 1 at S02
    table = customer_profiles(tx, members, phone="masked").set_index("customer_id")
    assert table.loc["M3", "orders"] == 0 and table.loc["M3", "home_store"] == "S04"
    assert table.loc["M1", "tier"] == "金卡" and table.loc["M1", "member_since"] == pd.Timestamp("2024-01-01")
    assert table.loc["M1", "home_store"] == "S01"
    assert not PHONE_IN_TEXT.search(table.to_csv()) and table.loc["M2", "phone"] == "154****0002"
    no_prospects = customer_profiles(tx, members, include_prospects=False)
    assert "M3" not in set(no_prospects["customer_id"])
    with pytest.raises(ValueError, match="raw phones are never given"):
        customer_profiles(tx, members, phone="raw")


def test_tier_is_computed_from_trailing_spend_when_members_have_none():
    assert tier_from_spend(pd.Series([0.0, 1000.0, 2999.99, 3000.0])).tolist() == ["普卡", "银卡", "银卡", "金卡"]
    table = customer_profiles(_tx(), as_of="2025-03-01").set_index("customer_id")
    assert table.loc["M2", "tier"] == "银卡" and table.loc["M1", "orders"] == 2  # E (03-03) is after as_of


def test_course_data_tier_rule_is_reproduced():
    tx, members = ds.load_transactions(), ds.load_members()
    computed = customer_profiles(tx, members.drop(columns="tier"), as_of="2025-06-30").set_index("customer_id")
    given = members.set_index("customer_id")["tier"].astype(str)
    assert (computed["tier"].reindex(given.index) == given).all()
    assert len(computed) == len(members)


def test_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="amount"):
        customer_profiles(_tx().drop(columns="amount"))
