"""opskit.compass: KPI definitions on a hand-made chain, exact gap attribution, benchmarks, n/a reasons, what-if."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from opskit import compass as cp
from opskit.i18n import Text


# --- a tiny chain whose every KPI can be worked out by hand ------------------------------------------------------------
def _tx(rows):
    return pd.DataFrame(rows, columns=["order_id", "order_time", "customer_id", "store_id", "channel", "kind", "units",
                                       "amount"]).assign(order_time=lambda f: pd.to_datetime(f["order_time"]))


@pytest.fixture()
def tiny():
    transactions = _tx([
        ("o0", "2024-09-20 12:00", "M3", "A", "pos", "sale", 1, 80.0),   # M3 sleeping at 2025-01-01 (103 days)
        ("o9", "2024-09-25 12:00", "M4", "A", "pos", "sale", 1, 60.0),   # M4 sleeping (98 days), never comes back
        ("o8", "2024-12-20 12:00", "M5", "A", "pos", "sale", 1, 70.0),   # M5 recent: not a sleeper
        ("o1", "2025-01-05 10:00", "M1", "A", "pos", "sale", 2, 200.0),
        ("o2", "2025-01-06 10:00", "M1", "A", "pos", "sale", 1, 100.0),
        ("o3", "2025-01-07 10:00", None, "A", "pos", "sale", 3, 300.0),  # walk-in
        ("o4", "2025-01-08 10:00", "M2", "A", "mini_program", "sale", 1, 400.0),
        ("o3", "2025-01-10 10:00", None, "A", "pos", "return", -1, -100.0),
        ("o5", "2025-01-20 10:00", "M3", "B", "pos", "sale", 1, 50.0),   # M3 wakes up, at the other store
    ])
    days = pd.date_range("2025-01-01", "2025-01-31", freq="D")
    footfall = pd.concat([
        pd.DataFrame({"date": days, "store_id": "A", "passers_by": 100, "visitors": 10, "pos_orders": 0,
                      "staff_hours": 8.0}),
        pd.DataFrame({"date": days, "store_id": "B", "passers_by": 50, "visitors": 0, "pos_orders": 0,
                      "staff_hours": 8.0}),
    ], ignore_index=True)
    members = pd.DataFrame({
        "customer_id": ["M1", "M2", "M3", "M4", "M5"],
        "join_date": pd.to_datetime(["2025-01-05", "2024-06-01", "2024-01-01", "2024-01-01", "2025-01-31"]),
        "join_store_id": ["A", "A", "A", "A", "B"],
    })
    stores = pd.DataFrame({"store_id": ["A", "B"], "store_name": ["甲店", "乙店"], "area_m2": [100, 50],
                           "staff": [2, 1], "opened": pd.to_datetime(["2020-01-01", "2020-01-01"])})
    targets = pd.DataFrame({"store_id": ["A"], "month": pd.to_datetime(["2025-01-01"]), "sales_target": [1000.0]})
    return transactions, footfall, members, stores, targets


def _row(table, store, period):
    return table.set_index(["store_id", "period"]).loc[(store, period)]


def test_kpis_by_hand(tiny):
    table = cp.kpi_table(*tiny, ["2025-01"])
    a = _row(table, "A", "2025-01")
    assert a["sales"] == 1000 and a["pos_sales"] == 600 and a["pos_orders"] == 3 and a["pos_units"] == 6
    assert a["visitors"] == 310 and a["passers_by"] == 3100
    assert a["entry_rate"] == pytest.approx(0.1)
    assert a["conversion"] == pytest.approx(3 / 310)
    assert a["atv"] == pytest.approx(200) and a["asp"] == pytest.approx(100) and a["upt"] == pytest.approx(2)
    assert a["omni"] == pytest.approx(1000 / 600)
    assert a["returns"] == pytest.approx(100) and a["net_sales"] == pytest.approx(900)
    assert a["member_share"] == pytest.approx(0.7)
    assert a["repeat_rate"] == pytest.approx(0.5)          # M1 twice, M2 once
    assert a["new_members"] == 1                            # M1 (M5 joined at B)
    assert a["active_members"] == 3                         # M1, M2 and M5 (bought 2024-12-20, within 90 days)
    assert a["sleepers_t0"] == 2 and a["sleepers_woken"] == 1  # M3 came back (at B), M4 did not
    assert a["reactivation_rate"] == pytest.approx(0.5)
    assert a["attainment"] == pytest.approx(1.0) and a["progress_gap"] == pytest.approx(0.0)
    assert a["sales_per_m2"] == pytest.approx(1000 / 100 / 31)
    assert a["sales_per_hour"] == pytest.approx(1000 / 248)
    factors = np.prod([a[f] for f in cp.FACTORS])
    assert factors == pytest.approx(a["sales"], rel=1e-12)
    assert _row(table, "B", "2025-01")["new_members"] == 1


def test_month_to_date(tiny):
    table = cp.kpi_table(*tiny, ["2025-01-06"])
    a = _row(table, "A", "2025-01-06")
    assert a["sales"] == 300 and a["days"] == 6
    assert a["attainment"] == pytest.approx(0.3)            # MTD sales ÷ the full month's target
    assert a["progress_gap"] == pytest.approx(0.3 - 6 / 31)
    cube = cp.CompassCube(table)
    bench = cube.benchmark("A", "2025-01-06", "target")      # no peers with visitors: B has none
    assert not bench.available and "peer" in bench.reason.en


def test_zero_visitors_missing_target_and_no_history_are_na_with_reasons(tiny):
    table = cp.kpi_table(*tiny, ["2025-01"])
    b = _row(table, "B", "2025-01")
    assert math.isnan(b["conversion"]) and math.isnan(b["attainment"])
    assert cp.na_reason(b, "conversion").en.startswith("no visitors")
    assert "no target" in cp.na_reason(b, "attainment").en
    assert "comparison period 2024-01" in cp.na_reason(b, "yoy").en
    assert cp.na_reason(b, "member_share") is None
    cube = cp.CompassCube(table, tiny[3])
    shown = cube.kpis("B", "2025-01").set_index("key")
    assert shown.loc["conversion", "display"] == "n/a" and shown.loc["conversion", "reason"]
    assert not cube.benchmark("B", "2025-01", "target").available
    assert not cube.benchmark("B", "2025-01", "last_year").available
    assert cube.benchmark("B", "2025-01", "peers").available  # store A is a peer ...
    with pytest.raises(cp.CompassNA) as info:                  # ... but B's own factors cannot be split
        cube.attribution("B", "2025-01", "peers")
    assert "actual factor(s) visitors, conversion" in str(info.value)
    with pytest.raises(cp.CompassNA, match="no target"):
        cube.attribution("B", "2025-01", "target")


def test_bad_input_names_the_problem(tiny):
    transactions, footfall, members, stores, targets = tiny
    with pytest.raises(ValueError, match="footfall is missing column.*visitors"):
        cp.kpi_table(transactions, footfall.drop(columns="visitors"), members, stores, targets)
    bad = pd.concat([transactions, _tx([("x", "2025-01-02", None, "Z9", "pos", "sale", 1, 1.0)])])
    with pytest.raises(ValueError, match="unknown store id.*Z9"):
        cp.kpi_table(bad, footfall, members, stores, targets)
    with pytest.raises(ValueError, match="duplicate store-month: A 2025-01"):
        cp.kpi_table(transactions, footfall, members, stores, pd.concat([targets, targets]))
    with pytest.raises(ValueError, match="kind must be sale or return"):
        cp.kpi_table(transactions.assign(kind="refund"), footfall, members, stores, targets)
    with pytest.raises(ValueError, match="cannot read period"):
        cp.parse_period("May 2025x")
    cube = cp.CompassCube(cp.kpi_table(*tiny, ["2025-01"]))
    with pytest.raises(ValueError, match="unknown store id 'S99'"):
        cube.row("S99", "2025-01")
    with pytest.raises(ValueError, match="period 2025-03 is not in the compass"):
        cube.row("A", "2025-03")


# --- exact attribution -------------------------------------------------------------------------------------------------
def test_attribution_terms_add_up_exactly_on_the_course_data():
    cube = cp.compass_cube()
    checked = 0
    for store in cube.stores:
        for period in ("2024-05", "2025-05", cp.COURSE_MTD):
            for kind in cp.BENCHMARKS:
                bench = cube.benchmark(store, period, kind)
                if not bench.available:
                    continue
                att = cube.attribution(store, period, kind)
                actual = float(cube.row(store, period)["sales"])
                assert abs(att["log_ratio"].sum() - math.log(actual / bench.sales)) < 1e-12
                assert att["yuan"].sum() == pytest.approx(actual - bench.sales, rel=1e-9, abs=1e-6)
                checked += 1
    assert checked > 50


def test_gap_attribution_by_hand_and_equal_sales():
    a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.0)
    b = dict(visitors=800, conversion=0.25, asp=300, upt=1.5, omni=1.0)
    att = cp.gap_attribution(a, b).set_index("factor")
    assert att.loc["visitors", "log_ratio"] == pytest.approx(math.log(1.25))
    assert att.loc["conversion", "log_ratio"] == pytest.approx(math.log(0.8))
    # Same sales, different mix: the yuan terms are ± and still add up to 0.
    assert att["yuan"].sum() == pytest.approx(0, abs=1e-9)
    assert att.loc["visitors", "yuan"] == pytest.approx(90_000 * math.log(1.25))
    assert cp.weak_point(att.reset_index()).key == "conversion"
    assert cp.weak_point(cp.gap_attribution(a, a)).key is None
    with pytest.raises(cp.CompassNA, match="conversion"):
        cp.gap_attribution({**a, "conversion": 0.0}, b)


def test_member_split_adds_up():
    split = cp.member_split(100.0, 70.0, 120.0, 0.5)
    assert split["gap"].sum() == pytest.approx(-20.0)
    assert split.set_index("segment").loc["member", "gap"] == pytest.approx(10.0)


# --- benchmarks on the course data ------------------------------------------------------------------------------------
def test_benchmarks_on_the_course_data():
    cube = cp.compass_cube()
    target = cube.benchmark("S02", "2025-05", "target")
    row = cube.row("S02", "2025-05")
    assert target.sales == pytest.approx(row["target_month"])
    assert np.prod(list(target.factors.values())) == pytest.approx(row["target_month"], rel=1e-12)
    peers = cube.benchmark("S02", "2025-05", "peers")
    others = cube.table.xs("2025-05", level="period").drop(index="S02")
    assert peers.factors["conversion"] == pytest.approx(others["conversion"].median())
    last = cube.benchmark("S02", "2025-05", "last_year")
    assert last.sales == pytest.approx(cube.row("S02", "2024-05")["sales"])
    mtd = cube.benchmark("S02", cp.COURSE_MTD, "target")
    assert mtd.sales == pytest.approx(cube.row("S02", "2025-06")["target_month"] * 15 / 30)


def test_store_opened_mid_period_s08():
    cube = cp.compass_cube()
    may24 = cube.row("S08", "2024-05")
    assert bool(may24["partial"]) and may24["days_open"] == 14
    assert "partial period" in cp.na_reason(may24, "conversion").en
    # A partial store is nobody's peer, and not its own "same period last year".
    assert "S08" not in cube._peers("2024-05", "S01").index
    bench = cube.benchmark("S08", "2025-05", "last_year")
    assert not bench.available and "2024-05" in bench.reason.en
    assert math.isnan(cube.row("S08", "2025-05")["yoy"])
    assert not cube.benchmark("S08", "2024-05", "last_year").available


def test_planted_store_is_found_from_the_data():
    from opskit.datasets import load_answer_key

    planted = load_answer_key()["weak_store"]  # trainer-only answer key
    cube = cp.compass_cube()
    worst = cube.ranking("2025-05", "attainment")["store_id"].iloc[-1]
    assert worst == planted["store_id"]
    assert cube.weak_point(worst, "2025-05", "target").key == planted["factor"]
    assert cube.weak_point(worst, "2025-05", "peers").key == planted["factor"]


# --- what-if and prescriptions ---------------------------------------------------------------------------------------
def test_what_if():
    a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.0)
    b = dict(visitors=1000, conversion=0.25, asp=300, upt=1.5, omni=1.0)
    base = cp.what_if(a, b, {}, target=100_000)
    assert base["projected_sales"] == pytest.approx(90_000) and base["attainment"] == pytest.approx(0.9)
    result = cp.what_if(a, b, {"conversion": 25}, target=100_000)
    assert result["projected_sales"] == pytest.approx(112_500)
    assert result["projected_attainment"] == pytest.approx(1.125)
    assert result["gap"] == pytest.approx(-22_500) and result["projected_gap"] == pytest.approx(0, abs=1e-6)
    assert result["weak_point"] is None and base["weak_point"] == "conversion"
    assert math.isnan(cp.what_if(a, b, {"upt": 10})["projected_attainment"])
    with pytest.raises(ValueError, match="unknown factor"):
        cp.what_if(a, b, {"footfall": 5})
    with pytest.raises(ValueError, match="invalid"):
        cp.what_if(a, b, {"upt": -100})


def test_prescriptions_follow_the_course():
    assert cp.prescriptions("upt")["action"].tolist() == ["styling_addon", "bundle_offer"]
    conv = set(cp.prescriptions("conversion")["action"])
    assert {"fitting_room_service", "staff_coaching"} <= conv
    assert {"follow_up_90", "activation_list"} <= set(cp.prescriptions("repeat_rate")["action"])
    assert {"community_activity", "reactivation_campaign"} <= set(cp.prescriptions("visitors")["action"])
    for factor in cp.FACTORS:
        frame = cp.prescriptions(factor)
        assert len(frame) >= 1 and frame["zh"].str.len().gt(0).all() and frame["en"].str.len().gt(0).all()
    assert "搭配销售" in cp.ACTIONS["styling_addon"][1].zh and "连带推荐" in cp.ACTIONS["styling_addon"][1].zh
    with pytest.raises(ValueError, match="unknown KPI"):
        cp.prescriptions("happiness")


def test_registry_covers_the_issue_and_is_bilingual():
    wanted = {"客流量", "进店人数", "进店率", "成交率", "客单价", "件单价", "连带率", "坪效", "人效", "会员消费占比",
              "会员复购率", "新会员数", "活跃会员数", "沉睡唤醒率", "达成率", "时间进度差", "同比", "环比"}
    registry = cp.kpi_registry()
    assert wanted <= set(registry["zh"])
    assert list(registry.columns) == ["key", "zh", "en", "unit", "group", "definition", "formula", "higher_is_better"]
    for kpi in cp.KPIS.values():
        assert isinstance(kpi.definition, Text) and kpi.definition.zh and kpi.definition.en and kpi.formula
    assert cp.KPIS["conversion"].format(float("nan")) == "n/a"


def test_import_is_light_and_quiet():
    code = ("import sys, warnings; warnings.simplefilter('error'); import opskit.compass; "
            "bad = [m for m in ('matplotlib', 'ipywidgets', 'lifetimes', 'seaborn') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_pandas_warnings_when_building(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = cp.kpi_table(*tiny, ["2025-01", "2025-01-10"])
    assert table["requested"].sum() == 4
