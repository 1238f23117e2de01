"""The shipped chain dataset: files, loaders, internal consistency, privacy and the planted findings."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import opskit.datasets as ds
from opskit import schema
from opskit.datasets import build

DATA = ds.data_dir()
MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))

# Mainland-China mobile prefixes allocated to carriers (incl. virtual operators and IoT). 154 is deliberately absent.
ALLOCATED_PREFIXES = (
    [str(p) for p in range(130, 140)]
    + [str(p) for p in range(145, 150)]
    + [str(p) for p in range(150, 154)]
    + [str(p) for p in range(155, 160)]
    + ["162", "165", "166", "167"]
    + [str(p) for p in range(170, 179)]
    + [str(p) for p in range(180, 190)]
    + [str(p) for p in range(190, 200)]
)
# A phone-like value: optional +86, then 1xx, 4 digits or ****, 4 digits, with optional spaces or dashes between.
PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z_])(?:\+?86[ -]?)?(1\d\d)[ -]?(?:\d{4}|\*{4})[ -]?\d{4}(?![0-9])")
ENCODINGS = {"messy/pos_export.csv": "gbk", "messy/wechat_export.csv": "utf-8"}


@pytest.fixture(scope="module")
def orders():
    return ds.load_orders()


@pytest.fixture(scope="module")
def lines():
    return ds.load_order_lines()


@pytest.fixture(scope="module")
def tx():
    return ds.load_transactions()


# --- files ----------------------------------------------------------------------------------------------------------
def test_manifest_matches_files_and_size_budget():
    total = 0
    for path, entry in MANIFEST["files"].items():
        data = (DATA / path).read_bytes()
        assert len(data) == entry["bytes"], path
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
        total += len(data)
        if path.endswith(".csv"):
            text = data.decode(ENCODINGS.get(path, "utf-8-sig"))
            assert text.count("\n") == entry["rows"] + 1, path  # header + rows, each ending in \n
            assert "\r" not in text, path
    assert total < 25_000_000
    messy = sum(e["bytes"] for p, e in MANIFEST["files"].items() if p.startswith("messy/"))
    assert messy < 3_000_000


def test_learner_csvs_have_bom_and_messy_encodings():
    for path in MANIFEST["files"]:
        data = (DATA / path).read_bytes()
        if path in ENCODINGS:
            assert not data.startswith(b"\xef\xbb\xbf"), path
            data.decode(ENCODINGS[path])  # decodes cleanly
        elif path.endswith(".csv"):
            assert data.startswith(b"\xef\xbb\xbf"), path
    with pytest.raises(UnicodeDecodeError):
        (DATA / "messy/pos_export.csv").read_bytes().decode("utf-8")


def test_rebuild_is_byte_identical_to_shipped_files():
    files = build.render_files(seed=MANIFEST["seed"], n_members=MANIFEST["n_members"])
    assert sorted(files) == sorted([*MANIFEST["files"], "manifest.json"])
    assert build.drifted(files, DATA) == []


def test_check_mode_reports_drift(tmp_path, capsys):
    files = build.render_files(seed=3, n_members=200)
    build.write_files(files, tmp_path)
    assert build.main(["--check", "--out", str(tmp_path), "--seed", "3", "--members", "200"]) == 0
    (tmp_path / "stores.csv").write_bytes(files["stores.csv"].replace(b"S01", b"S99"))
    assert build.main(["--check", "--out", str(tmp_path), "--seed", "3", "--members", "200"]) == 1
    assert "stores.csv" in capsys.readouterr().out


def test_readme_documents_every_column_of_every_csv():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for path, formats in build.FORMATS.items():
        section = readme.split(f"### {path}")
        assert len(section) == 2, f"README has no section for {path}"
        table = section[1].split("\n### ")[0].split("\n## ")[0]
        for column in formats:
            assert re.search(rf"^\| {re.escape(column)} \|", table, re.M), f"{path}: column {column} undocumented"
    assert "154" in readme and "BOM" in readme


def test_learner_facing_text_does_not_reveal_the_planted_store():
    key = ds.load_answer_key()
    weak = key["weak_store"]["store_id"]
    weak_name = ds.load_stores().set_index("store_id").loc[weak, "store_name"]
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert weak not in readme and weak_name not in readme
    assert not re.search(r"weak|短板|planted", readme, re.I)
    for path in ["stores.csv", "store_targets.csv", "footfall.csv", "orders.csv"]:
        header = (DATA / path).read_text(encoding="utf-8-sig").splitlines()[0]
        assert "weak" not in header and "conversion" not in header


# --- loaders --------------------------------------------------------------------------------------------------------
def test_loader_dtypes(orders, lines, tx):
    assert list(tx.columns) == list(schema.TRANSACTION_COLUMNS)
    assert tx["order_time"].dtype.kind == "M" and tx["customer_id"].dtype == "str"
    for col in ["store_id", "channel", "kind"]:
        assert isinstance(tx[col].dtype, pd.CategoricalDtype), col
    assert list(tx["channel"].cat.categories) == list(schema.CHANNELS)
    assert orders["units"].dtype == "int64" and orders["amount"].dtype == "float64"
    assert isinstance(lines["category"].dtype, pd.CategoricalDtype)
    members = ds.load_members()
    for col in ["join_store_id", "join_channel", "gender", "city", "tier"]:
        assert isinstance(members[col].dtype, pd.CategoricalDtype), col
    assert members["tier"].cat.ordered and list(members["tier"].cat.categories) == ["普卡", "银卡", "金卡"]
    assert members["join_date"].dtype.kind == "M" and members["phone"].dtype == "str"
    assert ds.load_footfall()["date"].dtype.kind == "M"
    assert ds.load_targets()["month"].dtype.kind == "M"
    assert ds.load_campaign()["send_date"].dtype.kind == "M"
    truth = ds.load_ground_truth()
    assert truth["alive_at_calibration_end"].dtype == "boolean" and truth["lam"].dtype == "float64"
    assert ds.load_ground_truth("campaign")["purchased"].dtype == bool
    assert ds.load_stores()["opened"].dtype.kind == "M"
    # No column silently became all-missing through a dtype mismatch.
    for frame in (orders, lines, members, truth):
        assert not frame.isna().all().any()


def test_loaders_return_independent_copies():
    first = ds.load_orders()
    first.loc[0, "amount"] = -1.0
    assert ds.load_orders().loc[0, "amount"] > 0


def test_bad_arguments_raise_bilingual_value_errors():
    with pytest.raises(ValueError, match="未知.*unknown"):
        ds.messy_path("pos.xlsx")
    with pytest.raises(ValueError, match="unknown name"):
        ds.load_ground_truth("stores")
    with pytest.raises(ValueError, match="n_members"):
        ds.simulate_chain(n_members=-5)
    with pytest.raises(ValueError, match="seed"):
        ds.simulate_chain(seed=-1)
    assert ds.messy_path("pos_export.csv").is_file()


def test_data_dir_env_override_and_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("OPSKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="OPSKIT_DATA_DIR"):
        ds.data_dir()
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    assert ds.data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="stores.csv"):
        ds.load_stores()


def test_bad_file_content_names_file_line_and_column(tmp_path):
    text = (DATA / "stores.csv").read_text(encoding="utf-8-sig").replace("S03,", "S3x,", 1)
    (tmp_path / "stores.csv").write_text(text, encoding="utf-8-sig")
    with pytest.raises(ValueError, match=r"stores.csv.*4.*store_id"):
        ds.chain.parse_table(tmp_path / "stores.csv", "stores.csv")


# --- consistency ----------------------------------------------------------------------------------------------------
def _cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype="float64") * 100).astype(np.int64)


def test_order_lines_sum_to_orders_to_the_cent(orders, lines):
    sales = lines[lines["line_type"] == "sale"]
    per_order = pd.Series(_cents(sales["amount"]), index=sales["order_id"].to_numpy()).groupby(level=0).sum()
    assert per_order.index.nunique() == len(orders)
    assert (per_order.reindex(orders["order_id"]).to_numpy() == _cents(orders["amount"])).all()
    units = sales.groupby("order_id")["quantity"].sum().reindex(orders["order_id"]).to_numpy()
    assert (units == orders["units"].to_numpy()).all()
    list_value = pd.Series(_cents(sales["list_price"]) * sales["quantity"].to_numpy(), index=sales["order_id"])
    list_value = list_value.groupby(level=0).sum().reindex(orders["order_id"]).to_numpy()
    assert (list_value == _cents(orders["list_amount"])).all()
    assert (_cents(orders["list_amount"]) - _cents(orders["discount_amount"]) == _cents(orders["amount"])).all()
    assert (orders["discount_amount"] >= 0).all() and (orders["amount"] > 0).all()


def test_returns_are_partial_later_and_keep_the_purchase(orders, lines):
    sales = lines[lines["line_type"] == "sale"]
    rets = lines[lines["line_type"] == "return"]
    assert 0.05 <= len(rets) / len(sales) <= 0.08
    assert (rets["quantity"] < 0).all() and (rets["amount"] < 0).all()
    sale_time = orders.set_index("order_id")["order_time"]
    delay = rets["line_time"].to_numpy() - sale_time.reindex(rets["order_id"]).to_numpy()
    assert (delay > np.timedelta64(0, "s")).all() and (delay <= np.timedelta64(31, "D")).all()
    sold = sales.groupby("order_id")["quantity"].sum()
    returned = -rets.groupby("order_id")["quantity"].sum()
    assert (returned <= sold.reindex(returned.index) - 1).all()  # at least one item kept
    # Each returned line matches a sale line of the same order and SKU, with no more units than were sold.
    key = ["order_id", "sku"]
    merged = rets.groupby(key)["quantity"].sum().to_frame("ret").join(sales.groupby(key)["quantity"].sum())
    assert merged["quantity"].notna().all() and (-merged["ret"] <= merged["quantity"]).all()


def test_transactions_consistent_with_orders_and_lines(orders, lines, tx):
    sales = tx[tx["kind"] == "sale"]
    rets = tx[tx["kind"] == "return"]
    assert len(sales) == len(orders) and set(sales["order_id"]) == set(orders["order_id"])
    assert _cents(sales["amount"]).sum() == _cents(orders["amount"]).sum()
    assert _cents(rets["amount"]).sum() == _cents(lines.loc[lines["line_type"] == "return", "amount"]).sum()
    assert (rets["units"] < 0).all() and (rets["amount"] < 0).all() and (sales["amount"] > 0).all()
    assert set(rets["order_id"]) <= set(orders["order_id"])
    first = rets.merge(orders[["order_id", "order_time", "customer_id", "store_id"]], on="order_id")
    assert (first["order_time_x"] > first["order_time_y"]).all()
    assert first["customer_id_x"].fillna("-").equals(first["customer_id_y"].fillna("-"))
    assert tx["order_time"].is_monotonic_increasing


def test_footfall_matches_pos_orders_and_is_ordered(orders):
    foot = ds.load_footfall()
    stores = ds.load_stores().set_index("store_id")
    pos = orders[orders["channel"] == "pos"]
    counted = pos.groupby([pos["order_time"].dt.normalize(), "store_id"], observed=True).size()
    got = foot.set_index(["date", "store_id"])["pos_orders"]
    assert counted.index.isin(got.index).all()  # no POS order outside a footfall row
    assert (got.reindex(counted.index).to_numpy() == counted.to_numpy()).all()
    assert got.sum() == len(pos)
    assert (foot["passers_by"] >= foot["visitors"]).all() and (foot["visitors"] >= foot["pos_orders"]).all()
    opened = stores["opened"].reindex(foot["store_id"].astype(str)).to_numpy()
    assert (foot["date"].to_numpy() >= np.maximum(opened, np.datetime64("2023-01-01"))).all()
    late = stores[stores["opened"] > "2024-01-01"]
    assert len(late) == 1  # one store opens mid-period: a partial first month
    first_day = foot.loc[foot["store_id"] == late.index[0], "date"].min()
    assert first_day == late["opened"].iloc[0]
    assert not foot.duplicated(["date", "store_id"]).any()
    weekend = foot["date"].dt.day_of_week >= 5
    assert foot.loc[weekend, "visitors"].mean() > 1.1 * foot.loc[~weekend, "visitors"].mean()


def test_member_share_and_channels(orders):
    member = orders["customer_id"].notna()
    share = orders.loc[member, "amount"].sum() / orders["amount"].sum()
    assert 0.55 <= share <= 0.70
    assert orders.loc[~member, "channel"].eq("pos").all()
    upt = orders["units"].sum() / len(orders)
    assert 1.5 <= upt <= 2.0
    assert 400 <= orders["amount"].mean() <= 600


def test_members_and_prospects(orders):
    members = ds.load_members()
    truth = ds.load_ground_truth()
    assert members["customer_id"].is_unique and members["phone"].is_unique
    assert members["phone"].str.fullmatch(r"154\d{8}").all()
    buyers = set(orders["customer_id"].dropna())
    prospects = set(truth.loc[truth["prospect"], "customer_id"])
    assert buyers.isdisjoint(prospects) and buyers | prospects == set(members["customer_id"])
    assert 0.07 <= len(prospects) / len(members) <= 0.13
    first = orders.dropna(subset=["customer_id"]).groupby("customer_id")["order_time"].min().dt.normalize()
    join = members.set_index("customer_id")["join_date"].reindex(first.index)
    assert (first == join).all()  # buyers sign up at their first purchase
    assert members["join_date"].max() > pd.Timestamp("2025-01-01")  # some join in the holdout
    assert set(members["tier"].unique()) == {"普卡", "银卡", "金卡"}


def test_tiers_follow_trailing_twelve_month_net_spend(tx):
    members = ds.load_members().set_index("customer_id")
    window = tx[(tx["order_time"] >= "2024-07-01") & tx["customer_id"].notna()]
    spend = window.groupby("customer_id")["amount"].sum().reindex(members.index, fill_value=0.0)
    expected = np.where(spend >= 3000, "金卡", np.where(spend >= 1000, "银卡", "普卡"))
    assert (members["tier"].astype(str).to_numpy() == expected).all()


def test_targets_cover_every_open_store_month():
    targets = ds.load_targets()
    stores = ds.load_stores()
    assert (targets["sales_target"] > 0).all() and not targets.duplicated(["store_id", "month"]).any()
    assert targets["month"].min() == pd.Timestamp("2023-01-01") and targets["month"].max() == pd.Timestamp("2025-06-01")
    late = stores.loc[stores["opened"].idxmax()]
    assert targets.loc[targets["store_id"] == late["store_id"], "month"].min() == late["opened"].to_period("M").start_time


# --- planted findings -----------------------------------------------------------------------------------------------
def test_planted_store_is_unique_worst_on_conversion_and_misses_targets(orders):
    key = ds.load_answer_key()["weak_store"]
    weak = key["store_id"]
    assert key["factor"] == "conversion"
    foot = ds.load_footfall()
    total = foot.groupby("store_id", observed=True)[["visitors", "pos_orders"]].sum()
    conversion = total["pos_orders"] / total["visitors"]
    assert conversion.idxmin() == weak and conversion.drop(weak).min() > 1.3 * conversion[weak]
    monthly = foot.assign(month=foot["date"].dt.to_period("M")).groupby(["month", "store_id"], observed=True)[
        ["visitors", "pos_orders"]].sum()
    monthly_conv = (monthly["pos_orders"] / monthly["visitors"]).unstack()
    worst_months = (monthly_conv.idxmin(axis=1) == weak).mean()
    assert worst_months >= 0.8
    # The other compass factors of the weak store are ordinary (within the peers' range).
    by_store = orders.groupby("store_id", observed=True).agg(units=("units", "sum"), n=("order_id", "size"),
                                                               sales=("amount", "sum"))
    upt = by_store["units"] / by_store["n"]
    atv = by_store["sales"] / by_store["n"]
    assert upt.drop(weak).min() <= upt[weak] <= upt.drop(weak).max()
    assert atv.drop(weak).min() <= atv[weak] <= atv.drop(weak).max()
    # ... and the store misses its targets because of it.
    month = orders["order_time"].dt.to_period("M").dt.start_time
    actual = orders.assign(month=month).groupby(["store_id", "month"], observed=True)["amount"].sum()
    targets = ds.load_targets().set_index(["store_id", "month"])["sales_target"]
    attainment = (actual / targets.reindex(actual.index)).groupby(level=0, observed=True).mean()
    assert attainment.idxmin() == weak and attainment[weak] < 0.7 and attainment.drop(weak).min() > 0.85


def test_campaign_is_randomised_with_a_real_effect(tx):
    campaign = ds.load_campaign()
    assert campaign["customer_id"].is_unique and (campaign["send_date"] < campaign["window_end"]).all()
    share = (campaign["group"] == "treatment").mean()
    assert 0.75 <= share <= 0.85
    assert (campaign.loc[campaign["group"] == "control", "coupon_value"] == 0).all()
    assert (campaign.loc[campaign["group"] == "treatment", "coupon_value"] > 0).all()
    send = campaign["send_date"].iloc[0]
    sales = tx[(tx["kind"] == "sale") & tx["customer_id"].notna()]
    last = sales[sales["order_time"] < send].groupby("customer_id")["order_time"].max().dt.normalize()
    sleep = (send - last.reindex(campaign["customer_id"])).dt.days
    assert sleep.between(91, 180).all()  # everyone was sleeping at the send date
    window = sales[(sales["order_time"] >= send) & (sales["order_time"] < campaign["window_end"].iloc[0]
                                                    + pd.Timedelta(days=1))]
    bought = campaign["customer_id"].isin(window["customer_id"])
    truth = ds.load_ground_truth("campaign").set_index("customer_id").reindex(campaign["customer_id"])
    assert (truth["purchased"].to_numpy() == bought.to_numpy()).all()
    rate = bought.groupby(campaign["group"].to_numpy()).mean()
    assert rate["treatment"] > rate["control"]
    assert ds.load_answer_key()["campaign"]["true_effect_on_treated"] > 0.02


# --- privacy --------------------------------------------------------------------------------------------------------
def test_every_phone_like_value_uses_the_unallocated_154_block():
    assert "154" not in ALLOCATED_PREFIXES
    found = 0
    for path in MANIFEST["files"]:
        text = (DATA / path).read_bytes().decode(ENCODINGS.get(path, "utf-8-sig"))
        for match in PHONE_LIKE.finditer(text):
            found += 1
            assert match.group(1) == "154", f"{path}: {match.group(0)!r}"
            assert match.group(1) not in ALLOCATED_PREFIXES
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for match in PHONE_LIKE.finditer(readme):
        assert match.group(1) == "154", match.group(0)
    assert found > 12_000  # the scan really sees the phones (members + exports)


def test_phone_scanner_catches_every_export_format():
    samples = ["13812345678", "+86 139 1234 5678", "186-1234-5678", "137 1234 5678", " +8615012345678 ",
               "188****5678"]
    for sample in samples:
        match = PHONE_LIKE.search(f"x,{sample},y")
        assert match and match.group(1) in ALLOCATED_PREFIXES, sample
    assert PHONE_LIKE.search("O00012345,45748,1743437429") is None


def test_no_truth_leaks_into_learner_tables():
    lam = set(ds.load_ground_truth().columns) - {"customer_id"}
    for frame in (ds.load_members(), ds.load_orders(), ds.load_campaign()):
        assert not lam & set(frame.columns)
    assert Path(ds.messy_path("defects.json")).parent.name == "messy"
