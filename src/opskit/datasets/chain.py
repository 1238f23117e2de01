"""Loaders for the shipped chain dataset in ``datasets/`` (typed, cached, returned as copies).

The data folder is found by walking up from this package to the first folder holding ``datasets/manifest.json``;
set the environment variable ``OPSKIT_DATA_DIR`` to point elsewhere (e.g. a trainer's regenerated copy).

Examples
--------
>>> from opskit.datasets import load_orders, load_transactions
>>> orders = load_orders()
>>> tx = load_transactions()
>>> tx["kind"].value_counts().index[0]
'sale'
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from opskit import schema
from opskit.datasets.simulate import CATEGORIES, CHANNEL_CODES, GENDERS, TIERS, _STORES
from opskit.i18n import Text

DATA_ENV = "OPSKIT_DATA_DIR"
STORE_IDS = tuple(s[0] for s in _STORES)
CITIES = tuple(sorted({s[2] for s in _STORES}))
MESSY_FILES = ("pos_export.csv", "online_shop_export.csv", "wechat_export.csv", "defects.json")
GROUND_TRUTH_TABLES = {"members": "members_truth.csv", "campaign": "campaign_truth.csv"}

_STORE = pd.CategoricalDtype(list(STORE_IDS))
_CHANNEL = pd.CategoricalDtype(list(CHANNEL_CODES))
_CITY = pd.CategoricalDtype(list(CITIES))
_KIND = pd.CategoricalDtype([schema.SALE, schema.RETURN])
_CATEGORY = pd.CategoricalDtype(list(CATEGORIES))
_PROMO = pd.CategoricalDtype(["年货节", "换季清仓", "618", "双11", "唤醒券"])
_TIER = pd.CategoricalDtype(list(TIERS), ordered=True)
_GENDER = pd.CategoricalDtype(list(GENDERS))
_FORMAT = pd.CategoricalDtype(["mall", "street"])
_GROUP = pd.CategoricalDtype(["treatment", "control"])

# file -> (read_csv dtypes, datetime columns with their exact format, categorical columns)
_TABLES: dict[str, tuple[dict, dict, dict]] = {
    "stores.csv": (
        {"store_id": "str", "store_name": "str", "city": "str", "format": "str", "area_m2": "int64", "staff": "int64"},
        {"opened": "%Y-%m-%d"},
        {"store_id": _STORE, "city": _CITY, "format": _FORMAT},
    ),
    "store_targets.csv": (
        {"store_id": "str", "sales_target": "float64"},
        {"month": "%Y-%m-%d"},
        {"store_id": _STORE},
    ),
    "members.csv": (
        {"customer_id": "str", "join_store_id": "str", "join_channel": "str", "gender": "str", "birth_year": "int64",
         "city": "str", "surname": "str", "phone": "str", "tier": "str"},
        {"join_date": "%Y-%m-%d"},
        {"join_store_id": _STORE, "join_channel": _CHANNEL, "gender": _GENDER, "city": _CITY, "tier": _TIER},
    ),
    "orders.csv": (
        {"order_id": "str", "customer_id": "str", "store_id": "str", "channel": "str", "units": "int64",
         "list_amount": "float64", "discount_amount": "float64", "amount": "float64", "promo": "str"},
        {"order_time": "%Y-%m-%d %H:%M:%S"},
        {"store_id": _STORE, "channel": _CHANNEL, "promo": _PROMO},
    ),
    "order_lines.csv": (
        {"order_id": "str", "line_no": "int64", "line_type": "str", "sku": "str", "category": "str",
         "quantity": "int64", "list_price": "float64", "unit_price": "float64", "amount": "float64"},
        {"line_time": "%Y-%m-%d %H:%M:%S"},
        {"line_type": _KIND, "category": _CATEGORY},
    ),
    "footfall.csv": (
        {"store_id": "str", "passers_by": "int64", "visitors": "int64", "pos_orders": "int64",
         "staff_hours": "float64"},
        {"date": "%Y-%m-%d"},
        {"store_id": _STORE},
    ),
    "campaign.csv": (
        {"campaign_id": "str", "customer_id": "str", "group": "str", "coupon_value": "float64"},
        {"send_date": "%Y-%m-%d", "window_end": "%Y-%m-%d"},
        {"group": _GROUP},
    ),
    "ground_truth/members_truth.csv": (
        {"customer_id": "str", "prospect": "bool", "lam": "float64", "p_drop": "float64", "nu": "float64",
         "joined_in_calibration": "bool", "alive_at_calibration_end": "boolean", "calibration_orders": "int64",
         "holdout_orders": "int64", "holdout_natural_orders": "int64", "holdout_spend": "float64"},
        {"dropout_date": "%Y-%m-%d"},
        {},
    ),
    "ground_truth/campaign_truth.csv": (
        {"customer_id": "str", "group": "str", "natural_purchase": "bool", "coupon_purchase": "bool",
         "purchased": "bool"},
        {},
        {"group": _GROUP},
    ),
}


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def data_dir() -> Path:
    """The folder holding the shipped dataset (``$OPSKIT_DATA_DIR`` or the repo's ``datasets/``).

    Raises
    ------
    FileNotFoundError
        If no folder with a ``manifest.json`` is found.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if not (path / "manifest.json").is_file():
            raise FileNotFoundError(str(Text(
                f"环境变量 {DATA_ENV}={env} 指向的文件夹里没有 manifest.json",
                f"{DATA_ENV}={env} does not point to a dataset folder (no manifest.json there)",
            )))
        return path
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "datasets"
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError(str(Text(
        f"找不到课程数据文件夹 datasets/ (含 manifest.json); 请设置 {DATA_ENV} 或运行 python -m opskit.datasets.build",
        f"cannot find the course datasets/ folder (with manifest.json); set {DATA_ENV} or run "
        "python -m opskit.datasets.build",
    )))


def _check_name(name: str, allowed) -> str:
    if name not in allowed:
        raise _error(f"未知名称 {name!r}; 可选: {', '.join(allowed)}",
                     f"unknown name {name!r}; choose one of: {', '.join(allowed)}")
    return name


def parse_table(path: Path | str, name: str) -> pd.DataFrame:
    """Read one shipped CSV (UTF-8 with BOM) with explicit dtypes; ``name`` is its path inside ``datasets/``."""
    dtypes, dates, categories = _TABLES[_check_name(name, tuple(_TABLES))]
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=dtypes, keep_default_na=False,
                        na_values={c: [""] for c in [*dtypes, *dates] if dtypes.get(c) not in ("bool",)})
    for col, fmt in dates.items():
        frame[col] = pd.to_datetime(frame[col], format=fmt)
    for col, dtype in categories.items():
        values = frame[col]
        unknown = values.notna() & ~values.isin(dtype.categories)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0]) + 2  # +1 header, +1 one-based
            raise _error(f"{name} 第 {row} 行: 列 {col} 的值 {values[unknown].iloc[0]!r} 无法识别",
                         f"{name} line {row}: unknown value {values[unknown].iloc[0]!r} in column {col}")
        frame[col] = values.astype(dtype)
    return frame


@lru_cache(maxsize=32)
def _cached(directory: str, name: str) -> pd.DataFrame:
    path = Path(directory) / name
    if not path.is_file():
        raise FileNotFoundError(str(Text(f"缺少数据文件 {path}", f"missing data file {path}")))
    return parse_table(path, name)


def _load(name: str) -> pd.DataFrame:
    return _cached(str(data_dir()), name).copy()


def load_stores() -> pd.DataFrame:
    """The 8 stores: ``store_id``, ``store_name``, ``city``, ``format`` (mall/street), ``area_m2``, ``staff``,
    ``opened``.

    Examples
    --------
    >>> load_stores()["store_id"].tolist()[:2]
    ['S01', 'S02']
    """
    return _load("stores.csv")


def load_targets() -> pd.DataFrame:
    """Monthly sales targets per store: ``store_id``, ``month`` (first day of the month), ``sales_target`` (yuan)."""
    return _load("store_targets.csv")


def load_members() -> pd.DataFrame:
    """Member master data: one row per member card (``customer_id``), with join date, store, channel, profile,
    fake phone (154 block) and tier at the data end date."""
    return _load("members.csv")


def load_orders() -> pd.DataFrame:
    """One row per checkout (sales only): ``order_id``, ``order_time``, ``customer_id`` (NaN for walk-ins),
    ``store_id``, ``channel``, ``units``, ``list_amount``, ``discount_amount``, ``amount`` (paid), ``promo``."""
    return _load("orders.csv")


def load_order_lines() -> pd.DataFrame:
    """Item lines of every order: sale lines and later ``return`` lines (negative ``quantity`` and ``amount``)."""
    return _load("order_lines.csv")


def load_footfall() -> pd.DataFrame:
    """Daily store traffic: ``passers_by`` (客流量), ``visitors`` (进店人数), ``pos_orders``, ``staff_hours``."""
    return _load("footfall.csv")


def load_campaign() -> pd.DataFrame:
    """The reactivation campaign's assignment table (treatment/control); outcomes are computed from the orders."""
    return _load("campaign.csv")


def load_ground_truth(table: str = "members") -> pd.DataFrame:
    """Trainer-only ground truth: ``"members"`` (λ, p, ν, alive, dropout, holdout orders) or ``"campaign"``
    (potential outcomes of the reactivation campaign). Store-level truth is in :func:`load_answer_key`."""
    return _load("ground_truth/" + GROUND_TRUTH_TABLES[_check_name(table, tuple(GROUND_TRUTH_TABLES))])


def load_answer_key() -> dict:
    """Trainer-only answer key (true parameters, planted findings, campaign effect) as a dict."""
    path = data_dir() / "ground_truth" / "answer_key.json"
    return json.loads(path.read_text(encoding="utf-8"))


def messy_path(name: str) -> Path:
    """Path of one messy export for lesson 01, e.g. ``messy_path("pos_export.csv")``."""
    return data_dir() / "messy" / _check_name(name, MESSY_FILES)


def transactions_from(orders: pd.DataFrame, order_lines: pd.DataFrame) -> pd.DataFrame:
    """The canonical transactions frame (``opskit.schema.TRANSACTION_COLUMNS``) from orders and order lines.

    One ``sale`` row per order, and one ``return`` row per (order, return time) with the original ``order_id``, the
    return's time and negative ``units`` and ``amount``. Sorted by time, order id, then kind (sale first).
    """
    sales = pd.DataFrame(
        {
            schema.ORDER_ID: orders["order_id"],
            schema.ORDER_TIME: orders["order_time"],
            schema.CUSTOMER_ID: orders["customer_id"],
            schema.STORE_ID: orders["store_id"],
            schema.CHANNEL: orders["channel"],
            schema.KIND: schema.SALE,
            schema.UNITS: orders["units"].astype("int64"),
            schema.AMOUNT: orders["amount"].astype("float64"),
        }
    )
    returns = order_lines[order_lines["line_type"] == schema.RETURN]
    cents = np.round(returns["amount"].to_numpy() * 100).astype(np.int64)
    grouped = (
        returns.assign(cents=cents)
        .groupby(["order_id", "line_time"], observed=True, sort=True)
        .agg(units=("quantity", "sum"), cents=("cents", "sum"))
        .reset_index()
    )
    header = orders.set_index("order_id")[["customer_id", "store_id", "channel"]]
    header = header.reindex(grouped["order_id"])
    rets = pd.DataFrame(
        {
            schema.ORDER_ID: grouped["order_id"].to_numpy(),
            schema.ORDER_TIME: grouped["line_time"].to_numpy(),
            schema.CUSTOMER_ID: header["customer_id"].to_numpy(),
            schema.STORE_ID: header["store_id"].to_numpy(),
            schema.CHANNEL: header["channel"].to_numpy(),
            schema.KIND: schema.RETURN,
            schema.UNITS: grouped["units"].to_numpy().astype("int64"),
            schema.AMOUNT: grouped["cents"].to_numpy() / 100.0,
        }
    )
    tx = pd.concat([sales, rets], ignore_index=True)
    tx[schema.CUSTOMER_ID] = tx[schema.CUSTOMER_ID].astype("str")
    tx[schema.ORDER_ID] = tx[schema.ORDER_ID].astype("str")
    tx[schema.STORE_ID] = tx[schema.STORE_ID].astype(_STORE)
    tx[schema.CHANNEL] = tx[schema.CHANNEL].astype(_CHANNEL)
    tx[schema.KIND] = tx[schema.KIND].astype(_KIND)
    tx = tx.sort_values([schema.ORDER_TIME, schema.ORDER_ID, schema.KIND], ignore_index=True)
    return tx[list(schema.TRANSACTION_COLUMNS)]


@lru_cache(maxsize=4)
def _cached_transactions(directory: str) -> pd.DataFrame:
    return transactions_from(_cached(directory, "orders.csv"), _cached(directory, "order_lines.csv"))


def load_transactions() -> pd.DataFrame:
    """The canonical transactions frame of :mod:`opskit.schema`, one row per sale and per return event.

    Examples
    --------
    >>> tx = load_transactions()
    >>> list(tx.columns) == list(schema.TRANSACTION_COLUMNS)
    True
    """
    return _cached_transactions(str(data_dir())).copy()


def clear_cache() -> None:
    """Forget cached frames (after regenerating the files in the same folder)."""
    _cached.cache_clear()
    _cached_transactions.cache_clear()


# What each learner-facing table holds, for the data tour.
_DESCRIPTIONS = {
    "stores.csv": ("门店", "stores"),
    "store_targets.csv": ("门店月度销售目标", "monthly sales targets per store"),
    "members.csv": ("会员档案", "members"),
    "orders.csv": ("订单 (每次结账一行)", "orders (one row per checkout)"),
    "order_lines.csv": ("订单明细 (含退货行)", "order lines (with return lines)"),
    "footfall.csv": ("门店每日客流", "daily store footfall"),
    "campaign.csv": ("唤醒活动分组", "reactivation campaign groups"),
}


def overview() -> pd.DataFrame:
    """One row per learner-facing table: its file, what it holds, rows, columns and size in KB (from the manifest).

    Examples
    --------
    >>> overview()["rows"].sum() > 0  # doctest: +SKIP
    True
    """
    import json

    manifest = json.loads((data_dir() / "manifest.json").read_text(encoding="utf-8"))["files"]
    rows = []
    for name, (zh, en) in _DESCRIPTIONS.items():
        dtypes, dates, _ = _TABLES[name]
        rows.append(
            {
                "file": name,
                "table": f"{zh} / {en}",
                "rows": manifest[name]["rows"],
                "columns": len(dtypes) + len(dates),
                "KB": round(manifest[name]["bytes"] / 1024),
            }
        )
    return pd.DataFrame(rows)
