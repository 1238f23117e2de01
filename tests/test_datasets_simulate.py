"""simulate_chain at small sizes: determinism, argument checks and structural invariants."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from opskit.datasets import ChainParams, simulate_chain, transactions_from
from opskit.datasets import build


@pytest.fixture(scope="module")
def small():
    return simulate_chain(seed=11, n_members=600)


def test_same_seed_gives_identical_bytes_and_other_seeds_differ():
    first = build.render_files(seed=11, n_members=300)
    again = build.render_files(seed=11, n_members=300)
    other = build.render_files(seed=12, n_members=300)
    assert first == again
    assert first["orders.csv"] != other["orders.csv"]
    assert first["stores.csv"] == other["stores.csv"]


@pytest.mark.parametrize("kwargs", [{"n_members": -1}, {"n_members": 10}, {"n_members": 2.5}, {"seed": -3},
                                    {"seed": "abc"}, {"n_members": True}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=" / "):  # bilingual: "中文 / English"
        simulate_chain(**kwargs)


def test_tables_and_invariants(small):
    expected = {"stores", "store_targets", "members", "orders", "order_lines", "footfall", "campaign",
                "members_truth", "campaign_truth", "store_truth", "params"}
    assert set(small) == expected
    orders, lines = small["orders"], small["order_lines"]
    assert orders["order_id"].is_unique and orders["order_time"].is_monotonic_increasing
    assert orders["order_time"].min() >= pd.Timestamp("2023-01-01")
    assert lines["line_time"].max() < pd.Timestamp("2025-07-01")
    assert set(orders["channel"]) <= {"pos", "mini_program", "wecom_group"}
    hours = orders.loc[orders["channel"] == "pos", "order_time"].dt.hour
    assert hours.between(10, 21).all()  # stores open 10:00-22:00
    tx = transactions_from(orders, lines)
    assert list(tx.columns) == ["order_id", "order_time", "customer_id", "store_id", "channel", "kind", "units",
                                "amount"]
    truth = small["members_truth"]
    assert truth.loc[truth["prospect"], "lam"].isna().all() and truth.loc[~truth["prospect"], "lam"].gt(0).all()


def test_dropout_means_no_more_natural_purchases(small):
    orders = small["orders"]
    truth = small["members_truth"].set_index("customer_id")
    campaign_buyers = set(small["campaign_truth"].query("coupon_purchase")["customer_id"])
    last = orders.dropna(subset=["customer_id"]).groupby("customer_id")["order_time"].max().dt.normalize()
    dropped = truth["dropout_date"].dropna()
    natural = dropped.index.difference(list(campaign_buyers))
    assert (last.reindex(natural) == dropped.reindex(natural)).all()  # the dropout day is the last purchase


def test_walkin_share_parameter_is_respected():
    tables = simulate_chain(seed=5, n_members=800, params=ChainParams(member_sales_share=0.5))
    orders = tables["orders"]
    share = orders.loc[orders["customer_id"].notna(), "amount"].sum() / orders["amount"].sum()
    assert 0.45 <= share <= 0.55


def test_simulated_latent_traits_follow_their_distributions():
    tables = simulate_chain(seed=21, n_members=4000)
    truth = tables["members_truth"].dropna(subset=["lam"])
    p = ChainParams()
    assert truth["lam"].mean() == pytest.approx(p.r / p.alpha, rel=0.08)
    assert truth["p_drop"].mean() == pytest.approx(p.a / (p.a + p.b), rel=0.08)
    # Gamma-Gamma: the average order of a member is p/nu; over all member orders the mean is p*gamma/(q-1).
    orders = tables["orders"].dropna(subset=["customer_id"])
    assert orders["amount"].mean() == pytest.approx(p.p_gg * p.gamma / (p.q - 1), rel=0.12)
    # Attributes are independent of the latent traits.
    members = tables["members"].merge(tables["members_truth"], on="customer_id").dropna(subset=["lam"])
    assert abs(np.corrcoef(members["birth_year"], members["lam"])[0, 1]) < 0.05


def test_import_stays_light():
    code = ("import sys, opskit, opskit.datasets; "
            "print(','.join(m for m in ('lifetimes', 'matplotlib', 'seaborn', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
