"""The customer profile table (客户档案): one row per customer, built from the canonical transactions.

This is the data-in layer's hand-over to the methods: tiering, lifecycle and the compass all start from "who bought
what, when, where". The table carries **no phone numbers** by default; ``phone="masked"`` adds a display mask and
``phone="pseudonym"`` a keyed pseudonym (:mod:`opskit.privacy`), never the raw number.

Columns
-------
``customer_id``; ``first_purchase`` and ``last_purchase`` (times of the first and last sale); ``orders`` (sale
events; returns do not un-happen a visit); ``returns`` (return events); ``net_spend`` (sales + negative returns, yuan);
``channels`` (channel codes used, in the order of :data:`opskit.schema.CHANNELS`, joined by ``+``); ``home_store``
(the store with the most sale orders; ties go to the member's join store, then the smaller store id); ``tier``
(from the member table, else from trailing-12-month net spend); ``member_since`` (join date, <NA> for non-members).

Examples
--------
>>> import pandas as pd
>>> tx = pd.DataFrame({
...     "order_id": ["A", "B", "C", "B"],
...     "order_time": pd.to_datetime(["2025-01-05", "2025-02-01", "2025-03-01", "2025-02-10"]),
...     "customer_id": ["M1", "M1", "M2", "M1"],
...     "store_id": ["S01", "S02", "S01", "S02"],
...     "channel": ["pos", "mini_program", "pos", "mini_program"],
...     "kind": ["sale", "sale", "sale", "return"],
...     "units": [1, 2, 1, -1],
...     "amount": [300.0, 500.0, 1200.0, -200.0],
... })
>>> customer_profiles(tx)[["customer_id", "orders", "net_spend", "channels", "tier"]]
  customer_id  orders  net_spend          channels tier
0          M1       2      600.0  pos+mini_program   普卡
1          M2       1     1200.0               pos   银卡
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit import schema
from opskit.i18n import Text

TIER_THRESHOLDS: dict[str, float] = {"普卡": 0.0, "银卡": 1_000.0, "金卡": 3_000.0}
"""Tier by trailing-12-month net spend (yuan): the lower bound of each tier (the course chain's rule)."""

PROFILE_COLUMNS = ("customer_id", "first_purchase", "last_purchase", "orders", "returns", "net_spend", "channels",
                   "home_store", "tier", "member_since")
LABELS = {
    "customer_id": Text("客户编号", "customer id"),
    "first_purchase": Text("首次购买", "first purchase"),
    "last_purchase": Text("最近购买", "last purchase"),
    "orders": Text("订单数", "orders"),
    "returns": Text("退货次数", "returns"),
    "net_spend": Text("净消费额", "net spend"),
    "channels": Text("使用渠道", "channels used"),
    "home_store": Text("常去门店", "home store"),
    "tier": Text("会员等级", "tier"),
    "member_since": Text("入会日期", "member since"),
}


def _error(zh: str, en: str) -> ValueError:
    return ValueError(str(Text(zh, en)))


def tier_from_spend(spend: pd.Series, thresholds: dict[str, float] | None = None) -> pd.Series:
    """Tier names from net spend: the highest tier whose lower bound the spend reaches.

    >>> import pandas as pd
    >>> tier_from_spend(pd.Series([0.0, 999.99, 1000.0, 5000.0])).tolist()
    ['普卡', '普卡', '银卡', '金卡']
    """
    table = TIER_THRESHOLDS if thresholds is None else thresholds
    names = sorted(table, key=table.get)
    bounds = [table[n] for n in names]
    position = np.searchsorted(np.asarray(bounds), spend.fillna(0).to_numpy(dtype="float64"), side="right") - 1
    return pd.Series(np.asarray(names, dtype=object)[np.maximum(position, 0)], index=spend.index, dtype="str")


def customer_profiles(
    transactions: pd.DataFrame,
    members: pd.DataFrame | None = None,
    *,
    as_of: str | pd.Timestamp | None = None,
    include_prospects: bool = True,
    tier_thresholds: dict[str, float] | None = None,
    phone: str | None = None,
    pseudonymizer=None,
) -> pd.DataFrame:
    """One row per customer: first and last purchase, orders, net spend, channels, home store, tier, member since.

    Parameters
    ----------
    transactions : DataFrame
        The canonical transactions (:mod:`opskit.schema`). Rows without a ``customer_id`` (walk-ins) are counted out.
    members : DataFrame, optional
        Member master data (``customer_id``, ``join_date``, ``join_store_id``, ``tier``, ``phone``).
    as_of : date, optional
        Only transactions up to this day count. Default: all.
    include_prospects : bool, default True
        Add members who never bought (潜客), with ``orders == 0``.
    tier_thresholds : dict, optional
        For customers without a member tier: tier from trailing-12-month net spend to ``as_of`` (default
        :data:`TIER_THRESHOLDS`).
    phone : {None, "masked", "pseudonym"}
        Add a ``phone`` column from ``members``: masked (``154****5678``) or pseudonymised; never raw.
    pseudonymizer : opskit.privacy.Pseudonymizer, optional
        For ``phone="pseudonym"`` (default: ``Pseudonymizer()``, see :mod:`opskit.privacy` for the key).

    Returns
    -------
    DataFrame
        Sorted by ``customer_id``, columns :data:`PROFILE_COLUMNS` (+ ``phone``).
    """
    needed = {schema.CUSTOMER_ID, schema.ORDER_TIME, schema.KIND, schema.AMOUNT, schema.STORE_ID, schema.CHANNEL}
    missing = sorted(needed - set(transactions.columns))
    if missing:
        raise _error(f"transactions 缺少列 {missing}; 现有列: {list(transactions.columns)}",
                     f"transactions is missing columns {missing}; columns: {list(transactions.columns)}")
    if phone not in (None, "masked", "pseudonym"):
        raise _error(f"phone 应为 None、'masked' 或 'pseudonym', 你的是 {phone!r} (不提供原始手机号)",
                     f"phone must be None, 'masked' or 'pseudonym', got {phone!r} (raw phones are never given)")
    tx = transactions[transactions[schema.CUSTOMER_ID].notna()]
    end = None
    if as_of is not None:
        end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        tx = tx[tx[schema.ORDER_TIME] < end]
    kind = tx[schema.KIND].astype(str)
    customer = tx[schema.CUSTOMER_ID].astype(str)
    sales = tx[kind == schema.SALE]
    sale_customer = customer[kind == schema.SALE]

    grouped = tx.groupby(customer, sort=True)
    table = pd.DataFrame({
        "net_spend": grouped[schema.AMOUNT].sum().round(2),
        "returns": (kind == schema.RETURN).groupby(customer, sort=True).sum(),
    })
    by_sale = sales.groupby(sale_customer, sort=True)
    table["first_purchase"] = by_sale[schema.ORDER_TIME].min()
    table["last_purchase"] = by_sale[schema.ORDER_TIME].max()
    table["orders"] = by_sale[schema.ORDER_ID].nunique() if schema.ORDER_ID in sales else by_sale.size()
    channel_order = {c: i for i, c in enumerate(schema.CHANNELS)}
    used = tx.assign(_c=customer, _ch=tx[schema.CHANNEL].astype(str))[["_c", "_ch"]].drop_duplicates()
    used = used.assign(_rank=used["_ch"].map(channel_order).fillna(len(channel_order)))
    used = used.sort_values(["_c", "_rank", "_ch"])
    table["channels"] = used.groupby("_c")["_ch"].agg("+".join)

    # Home store: most sale orders; ties to the join store, then the smaller id.
    join_store = pd.Series(dtype="str")
    if members is not None and "join_store_id" in members:
        join_store = pd.Series(members["join_store_id"].astype(str).to_numpy(),
                               index=members["customer_id"].astype(str))
    counts = (sales.assign(_c=sale_customer, _s=sales[schema.STORE_ID].astype(str))
              .groupby(["_c", "_s"]).size().rename("n").reset_index())
    counts = counts[counts["_s"].notna() & (counts["_s"] != "nan")]
    counts["_join"] = (counts["_s"] == counts["_c"].map(join_store)).astype(int)
    counts = counts.sort_values(["_c", "n", "_join", "_s"], ascending=[True, False, False, True])
    table["home_store"] = counts.drop_duplicates("_c").set_index("_c")["_s"]

    if members is not None:
        ids = members["customer_id"].astype(str)
        if include_prospects:
            table = table.reindex(table.index.union(pd.Index(ids)))
        table["member_since"] = pd.Series(pd.to_datetime(members["join_date"]).to_numpy(), index=ids) \
            if "join_date" in members else pd.NaT
        if "tier" in members:
            table["tier"] = pd.Series(members["tier"].astype(str).to_numpy(), index=ids)
        table["home_store"] = table["home_store"].fillna(join_store.reindex(table.index))
    else:
        table["member_since"] = pd.NaT
    if "tier" not in table or table["tier"].isna().any():
        horizon = (end if end is not None else tx[schema.ORDER_TIME].max().normalize() + pd.Timedelta(days=1)) \
            if len(tx) else pd.Timestamp.now()
        recent = tx[tx[schema.ORDER_TIME] >= horizon - pd.DateOffset(years=1)]
        spend = recent.groupby(recent[schema.CUSTOMER_ID].astype(str))[schema.AMOUNT].sum().reindex(table.index)
        computed = tier_from_spend(spend, tier_thresholds)
        table["tier"] = table["tier"].fillna(computed) if "tier" in table else computed

    table["orders"] = table["orders"].fillna(0).astype("int64")
    table["returns"] = table["returns"].fillna(0).astype("int64")
    table["net_spend"] = table["net_spend"].fillna(0.0).astype("float64")
    table["channels"] = table["channels"].fillna("").astype("str")
    table["home_store"] = table["home_store"].astype("str")
    table["tier"] = table["tier"].astype("str")
    table.index.name = "customer_id"
    out = table.reset_index()[list(PROFILE_COLUMNS)]
    out["customer_id"] = out["customer_id"].astype("str")
    if phone is not None:
        if members is None or "phone" not in members:
            raise _error("phone= 需要带 phone 列的 members 表", "phone= needs members with a phone column")
        phones = pd.Series(members["phone"].to_numpy(), index=members["customer_id"].astype(str))
        phones = phones.reindex(out["customer_id"])
        if phone == "masked":
            from opskit.privacy import mask_phone

            out["phone"] = mask_phone(phones).to_numpy()
        else:
            from opskit.privacy import Pseudonymizer

            out["phone"] = (pseudonymizer or Pseudonymizer())(phones).to_numpy()
    return out
