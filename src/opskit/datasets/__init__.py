"""The course datasets: the simulated clothing chain shipped in ``datasets/``, and CDNOW from the lifetimes package.

Examples
--------
>>> from opskit.datasets import load_transactions, load_stores
>>> tx = load_transactions()          # one row per sale / return event
>>> stores = load_stores()            # S01 .. S08
"""

from opskit.datasets.cdnow import cdnow_path, load_cdnow
from opskit.datasets.chain import (
    clear_cache,
    data_dir,
    load_answer_key,
    load_campaign,
    load_footfall,
    load_ground_truth,
    load_members,
    load_order_lines,
    load_orders,
    load_stores,
    load_targets,
    load_transactions,
    messy_path,
    overview,
    transactions_from,
)
from opskit.datasets.simulate import ChainParams, simulate_chain

__all__ = [
    "ChainParams",
    "cdnow_path",
    "clear_cache",
    "data_dir",
    "load_answer_key",
    "load_campaign",
    "load_cdnow",
    "load_footfall",
    "load_ground_truth",
    "load_members",
    "load_order_lines",
    "load_orders",
    "load_stores",
    "load_targets",
    "load_transactions",
    "messy_path",
    "overview",
    "simulate_chain",
    "transactions_from",
]
