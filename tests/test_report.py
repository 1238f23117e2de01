"""opskit report: the method layer, the HTML and work lists, the `opskit report` command, bad input, privacy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import opskit.datasets as ds
from opskit import cli, schema
from opskit.privacy import assert_no_phones
from opskit.report import (
    ExportSpec,
    build_report,
    is_standard_export,
    minimum_detectable_uplift,
    read_standard_export,
    sample_size_per_group,
    validate_transactions,
)
from opskit.report import method
from opskit.report.pipeline import OutputExistsError

STANDARD = list(schema.TRANSACTION_COLUMNS)


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[STANDARD].copy()
    out["order_time"] = out["order_time"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return out


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    """Two stores of the demo chain from 2024 on, in the standard layout (a quick, realistic store export)."""
    tx = ds.load_transactions()
    tx = tx[tx["store_id"].isin(["S01", "S02"]) & (tx["order_time"] >= "2024-01-01")]
    path = tmp_path_factory.mktemp("exports") / "store_export.csv"
    _text(tx).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _assert_outputs_clean(folder: Path) -> None:
    files = sorted(folder.iterdir())
    assert {p.name for p in files} >= {"report.html", "follow_up.csv", "activation.csv", "cleaning_summary.csv",
                                       "quarantine.csv"}
    for path in files:
        assert_no_phones(path.read_text(encoding="utf-8-sig"), where=path.name)


# ----------------------------------------------------------------------------------------------------------------
# A/B test sample size
# ----------------------------------------------------------------------------------------------------------------
def _reference_n(p1: float, p2: float, alpha: float, power: float, k: float) -> float:
    from scipy.stats import norm

    pbar = (p1 + k * p2) / (1 + k)
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    return (za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / k)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / k)) ** 2 \
        / (p2 - p1) ** 2


@pytest.mark.parametrize("p1, uplift, k", [(0.10, 0.03, 1), (0.25, 0.05, 1), (0.10, 0.03, 4), (0.30, -0.05, 1),
                                           (0.05, 0.02, 9)])
def test_sample_size_matches_the_two_proportion_formula(p1, uplift, k):
    n_control, n_treatment = sample_size_per_group(p1, uplift, ratio=k)
    expected = _reference_n(p1, p1 + uplift, 0.05, 0.8, k)
    assert n_control == math.ceil(expected - 1e-9)
    assert n_treatment == math.ceil(k * n_control - 1e-9)


def test_sample_size_textbook_value_and_direction():
    # 10% → 13%, α 5% two-sided, power 80%: 1,774 per group (Fleiss, no continuity correction)
    assert sample_size_per_group(0.10, 0.03) == (1774, 1774)
    assert sample_size_per_group(0.10, 0.06)[0] < sample_size_per_group(0.10, 0.03)[0]
    assert sample_size_per_group(0.10, 0.03, power=0.9)[0] > 1774
    assert sample_size_per_group(0.10, 0.03, two_sided=False)[0] < 1774


@pytest.mark.parametrize("kwargs", [dict(baseline=0, uplift=0.1), dict(baseline=0.9, uplift=0.2),
                                    dict(baseline=0.1, uplift=0), dict(baseline=0.1, uplift=0.03, ratio=0),
                                    dict(baseline=0.1, uplift=0.03, alpha=1.5)])
def test_sample_size_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="/"):
        sample_size_per_group(**kwargs)


def test_minimum_detectable_uplift_inverts_the_sample_size():
    n_c, n_t = sample_size_per_group(0.12, 0.04, ratio=3)
    mde = minimum_detectable_uplift(0.12, n_c, n_t)
    assert mde == pytest.approx(0.04, abs=5e-4)
    assert minimum_detectable_uplift(0.12, 4 * n_c, 4 * n_t) < mde


# ----------------------------------------------------------------------------------------------------------------
# Reading and validation
# ----------------------------------------------------------------------------------------------------------------
def _raw_rows() -> pd.DataFrame:
    rows = [
        ("A1", "2025-03-01 10:00:00", "M1", "S1", "pos", "sale", "2", "300.00"),        # kept
        ("A1", "2025-03-01 10:00:00", "M1", "S1", "pos", "sale", "2", "300.00"),        # exact duplicate
        ("A1", "2025-03-05 12:00:00", "M1", "S1", "pos", "return", "-1", "-150.00"),    # kept (a return)
        ("", "2025-03-02 10:00:00", "M2", "S1", "pos", "sale", "1", "99.00"),           # missing order id
        ("A3", "2025/13/45", "M2", "S1", "pos", "sale", "1", "99.00"),                  # bad date
        ("A4", "2025-03-02 11:00:00", "M2", "S1", "pos", "sale", "1", "abc"),           # bad amount
        ("A5", "2025-03-02 12:00:00", "M2", "S1", "pos", "gift", "1", "99.00"),         # unknown kind
        ("A6", "2025-03-02 13:00:00", "M2", "S1", "tmall", "sale", "1", "99.00"),       # unknown channel
        ("A7", "2025-03-02 14:00:00", "M2", "S1", "pos", "sale", "0", "99.00"),         # zero units
        ("A8", "2025-03-02 15:00:00", "M2", "S1", "pos", "sale", "1", "-99.00"),        # sign mismatch
        ("A9", "2025-03-03", " M3 ", "S2", " POS ", "Sale", "1", "50"),                 # kept: date only, spaces
        ("B1", "2025-03-04 09:00:00", "", "S2", "mini_program", "sale", "3", "450.5"),  # kept: walk-in
    ]
    return pd.DataFrame(rows, columns=STANDARD)


def test_validation_accounts_for_every_row_with_a_reason():
    tx, report = validate_transactions(_raw_rows(), "raw.csv")
    assert report.is_balanced()
    summary = report.summary.iloc[0]
    assert (summary["rows_in"], summary["kept"], summary["merged"], summary["quarantined"]) == (12, 4, 1, 7)
    reasons = dict(zip(report.quarantine["row"], report.quarantine["reason"]))
    assert reasons == {5: "missing_order_id", 6: "bad_date", 7: "bad_amount", 8: "unknown_status",
                       9: "unknown_channel", 10: "zero_units", 11: "sign_mismatch"}
    assert report.quarantine.set_index("row").loc[7, "value"] == "abc"
    assert report.merged.iloc[0][["row", "duplicate_of"]].tolist() == [3, 2]
    assert tx["customer_id"].tolist() == ["M1", "M1", "M3", np.nan] or tx["customer_id"].isna().sum() == 1
    cleaned = tx.set_index("order_id")
    assert cleaned.loc["A9", "customer_id"] == "M3" and cleaned.loc["A9", "channel"] == "pos"
    assert cleaned.loc["A9", "order_time"] == pd.Timestamp("2025-03-03")
    assert pd.isna(cleaned.loc["B1", "customer_id"])
    assert tx["amount"].sum() == pytest.approx(300 - 150 + 50 + 450.5)


def test_validation_quarantines_rows_after_the_as_of_date():
    tx, report = validate_transactions(_raw_rows(), "raw.csv", as_of="2025-03-03")
    assert "future_date" in set(report.quarantine["reason"])
    assert tx["order_time"].max() < pd.Timestamp("2025-03-04")


def test_read_standard_export_quarantines_unparsable_numbers(tmp_path):
    path = tmp_path / "export.csv"
    _raw_rows().to_csv(path, index=False)
    assert is_standard_export(path)
    tx, report = read_standard_export(path, chunksize=5)  # several chunks, a bad number in one of them
    assert report.is_balanced()
    assert report.summary.iloc[0]["kept"] == 4
    assert "bad_amount" in set(report.quarantine["reason"])


def test_standard_layout_detection(tmp_path):
    messy = ds.messy_path("pos_export.csv")
    assert not is_standard_export(messy)
    other = tmp_path / "other.csv"
    other.write_text("order_id,amount\nA,1\n", encoding="utf-8")
    assert not is_standard_export(other)
    assert ExportSpec.parse("exports/pos.csv:pos") == ExportSpec(Path("exports/pos.csv"), "pos")
    assert ExportSpec.parse("C:/exports/pos.csv").channel is None


# ----------------------------------------------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    return build_report(out=tmp_path_factory.mktemp("demo") / "report", progress=False)


def test_demo_report_is_complete_self_contained_and_phone_free(demo_report):
    folder = demo_report.folder
    _assert_outputs_clean(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 4
    assert "data:image/svg+xml;base64," in page  # the compass waterfall
    for remote in ("http://", "https://", "<script", "<link"):
        assert remote not in page
    assert "客户运营报告" in page and "Customer operations report" in page
    assert "短板" in page  # compass section with the weak point
    analysis = demo_report.analysis
    assert len(analysis.findings) >= 5
    assert analysis.stage_summary["members"].sum() == ds.load_members().shape[0]


def test_demo_report_work_lists_match_the_method(demo_report):
    from opskit.lifecycle import activation_list, assign_stages

    folder = demo_report.folder
    activation = pd.read_csv(folder / "activation.csv", encoding="utf-8-sig")
    stages = assign_stages(ds.load_transactions(), ds.load_members(), as_of="2025-06-30")
    expected = stages.index[stages["days_since_last"] > 90]
    assert sorted(activation["customer_id"]) == sorted(expected)
    assert activation["rank"].tolist() == list(range(1, len(activation) + 1))
    follow_up = pd.read_csv(folder / "follow_up.csv", encoding="utf-8-sig")
    assert set(follow_up["status"]) <= {"today", "upcoming"}
    assert set(follow_up["customer_id"]) <= set(stages.index[stages["days_since_last"] <= 90])
    cleaning = pd.read_csv(folder / "cleaning_summary.csv", encoding="utf-8-sig")
    assert cleaning["balanced"].eq("✓").all()


def test_messy_exports_report_via_the_command(tmp_path, capsys):
    out = tmp_path / "messy"
    argv = ["report", f"{ds.messy_path('pos_export.csv')}:pos",
            f"{ds.messy_path('online_shop_export.csv')}:mini_program",
            f"{ds.messy_path('wechat_export.csv')}:wecom_group", "--out", str(out), "--no-progress"]
    assert cli.main(argv) == 0
    _assert_outputs_clean(out)
    summary = pd.read_csv(out / "cleaning_summary.csv", encoding="utf-8-sig")
    assert {"pos_export.csv", "online_shop_export.csv", "wechat_export.csv"} <= set(summary["file"])
    assert summary["balanced"].eq("✓").all()
    quarantine = pd.read_csv(out / "quarantine.csv", encoding="utf-8-sig")
    assert len(quarantine) == int(summary.loc[summary["file"] == "total", "quarantined"].iloc[0])
    captured = capsys.readouterr()
    assert "report.html" in captured.out


def test_input_text_is_escaped_in_the_html(tmp_path, small_export):
    frame = pd.read_csv(small_export, dtype=str, keep_default_na=False)
    frame["store_id"] = frame["store_id"].replace({"S01": "<script>alert(1)</script>"})
    frame["customer_id"] = frame["customer_id"].replace({frame["customer_id"].iloc[-1]: "<img src=x onerror=alert(2)>"})
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    footfall = ds.load_footfall()
    footfall = footfall[footfall["store_id"].isin(["S01", "S02"])].copy()
    footfall["store_id"] = footfall["store_id"].astype(str).replace({"S01": "<script>alert(1)</script>"})
    foot_path = tmp_path / "footfall.csv"
    footfall.to_csv(foot_path, index=False)
    result = build_report([path], footfall=foot_path, out=tmp_path / "out", progress=False)
    page = (result.folder / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_customer_ids_that_are_phones_are_pseudonymised(tmp_path, small_export, monkeypatch):
    monkeypatch.setenv("OPSKIT_PSEUDONYM_KEY", "test-key")
    frame = pd.read_csv(small_export, dtype=str, keep_default_na=False)
    ids = sorted({c for c in frame["customer_id"] if c})
    phones = {c: f"154{i:08d}" for i, c in enumerate(ids)}
    frame["customer_id"] = frame["customer_id"].map(lambda c: phones.get(c, c))
    path = tmp_path / "phones.csv"
    frame.to_csv(path, index=False)
    result = build_report([path], out=tmp_path / "out", progress=False)
    _assert_outputs_clean(result.folder)
    activation = pd.read_csv(result.folder / "activation.csv", encoding="utf-8-sig")
    assert activation["customer_id"].str.startswith("P-").all()
    assert any("假名" in str(note) for note in result.notes)


def test_footfall_for_unknown_stores_is_reported(tmp_path, small_export, capsys):
    footfall = ds.load_footfall()
    footfall = footfall[footfall["store_id"].isin(["S01", "S02", "S05"])]
    foot_path = tmp_path / "footfall.csv"
    footfall.to_csv(foot_path, index=False)
    out = tmp_path / "out"
    code = cli.main(["report", str(small_export), "--footfall", str(foot_path), "--out", str(out), "--no-progress"])
    assert code == 0
    err = capsys.readouterr().err
    assert "S05" in err and "not in the orders" in err
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "S05" in page


# ----------------------------------------------------------------------------------------------------------------
# Bad input and the output folder
# ----------------------------------------------------------------------------------------------------------------
def test_existing_output_folder_is_never_overwritten_without_force(tmp_path, small_export, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("my own notes", encoding="utf-8")
    assert cli.main(["report", str(small_export), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "--force" in err and "already exists" in err
    assert (out / "report.html").read_text(encoding="utf-8") == "my own notes"
    with pytest.raises(OutputExistsError):
        build_report([small_export], out=out, progress=False)
    assert cli.main(["report", str(small_export), "--out", str(out), "--force", "--no-progress"]) == 0
    assert "my own notes" not in (out / "report.html").read_text(encoding="utf-8")


def test_only_returns_fails_with_a_clear_message(tmp_path, capsys):
    rows = _raw_rows().iloc[[2]]  # a single return
    path = tmp_path / "returns.csv"
    rows.to_csv(path, index=False)
    out = tmp_path / "out"
    assert cli.main(["report", str(path), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "only returns" in err and "只有退货" in err
    assert not out.exists()


def test_no_usable_rows_fails_with_a_clear_message(tmp_path, capsys):
    rows = _raw_rows().iloc[3:10]  # every row quarantined
    path = tmp_path / "bad.csv"
    rows.to_csv(path, index=False)
    assert cli.main(["report", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    assert "no usable rows" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(STANDARD) + "\n", encoding="utf-8")
    assert cli.main(["report", str(empty), "--out", str(tmp_path / "out2"), "--no-progress"]) == 1
    assert "bad.csv" not in capsys.readouterr().err


def test_missing_file_and_usage_errors(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 1
    assert "nope.csv" in capsys.readouterr().err
    assert cli.main(["report", "--as-of", "not-a-date", "--out", str(tmp_path / "o")]) == 2
    assert "--as-of" in capsys.readouterr().err
    assert cli.main(["report", "--bogus"]) == 2


def test_factorize_strings_equals_pandas_also_on_a_hash_collision(monkeypatch):
    rng = np.random.default_rng(7)
    ids = np.array([f"O{i:010d}" for i in rng.integers(0, 50_000, 200_000)], dtype=object)
    ids[::7], ids[::11] = None, np.nan
    for values in (ids, np.array(["b", "a", None, "b"], dtype=object), np.array(["中文", "a"] * 60_000, dtype=object)):
        codes, uniques = method.factorize_strings(values)
        expected_codes, expected_uniques = pd.factorize(values, use_na_sentinel=True)
        assert codes.tolist() == expected_codes.tolist() and list(uniques) == list(expected_uniques)
    # Every id hashing alike (a collision): the exact fallback gives the same answer.
    monkeypatch.setattr(pd.util, "hash_array", lambda values, categorize=False: np.zeros(len(values), "uint64"))
    codes, uniques = method.factorize_strings(ids)
    expected_codes, expected_uniques = pd.factorize(ids, use_na_sentinel=True)
    assert codes.tolist() == expected_codes.tolist() and list(uniques) == list(expected_uniques)


def test_an_export_split_over_two_files_gives_the_same_customers(tmp_path, small_export):
    frame = pd.read_csv(small_export, dtype=str, keep_default_na=False)
    first, second = tmp_path / "part1.csv", tmp_path / "part2.csv"
    half = len(frame) // 2
    frame.iloc[:half].to_csv(first, index=False)
    frame.iloc[half:].to_csv(second, index=False)
    whole = build_report([small_export], out=tmp_path / "whole", progress=False).analysis
    parts = build_report([first, second], out=tmp_path / "parts", progress=False).analysis
    assert parts.transactions["customer_id"].dtype == "str"  # ids from both files as text, then unified
    pd.testing.assert_frame_equal(parts.segments.sort_index(), whole.segments.sort_index(), check_like=True)
    assert parts.overview["customers"] == whole.overview["customers"]


def test_compass_waterfall_shows_the_store_furthest_behind_its_target(demo_report):
    import base64
    import re

    table = demo_report.analysis.compass["table"]
    furthest = table.sort_values("attainment").iloc[0]["store_id"]
    page = (demo_report.folder / "report.html").read_text(encoding="utf-8")
    (svg,) = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page)
    assert f"{furthest} · {demo_report.analysis.compass['period']}" in base64.b64decode(svg).decode("utf-8")
