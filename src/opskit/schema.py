"""Canonical column names and code lists shared by the data layer and every method module.

The *transactions* frame is the hand-over between the data layer (``opskit.datasets``, ``opskit.collect``) and the
methods (``rfm``, ``clv``, ``lifecycle``, ``compass``). One row per event:

- a **sale**: one checkout (order); ``kind == "sale"``, positive ``units`` and ``amount`` (paid, after discount);
- a **return**: an item-level refund booked later against an earlier order; ``kind == "return"``, the original
  ``order_id``, the return's own ``order_time``, negative ``units`` and ``amount``.

A return never removes a purchase event: the sale row stays. ``customer_id`` is missing (``<NA>``) for walk-in
non-member orders.
"""

from __future__ import annotations

from opskit.i18n import Text

CUSTOMER_ID = "customer_id"
ORDER_ID = "order_id"
ORDER_TIME = "order_time"
STORE_ID = "store_id"
CHANNEL = "channel"
UNITS = "units"
AMOUNT = "amount"
KIND = "kind"

TRANSACTION_COLUMNS: tuple[str, ...] = (ORDER_ID, ORDER_TIME, CUSTOMER_ID, STORE_ID, CHANNEL, KIND, UNITS, AMOUNT)

SALE, RETURN = "sale", "return"
KINDS = {SALE: Text("销售", "sale"), RETURN: Text("退货", "return")}

CHANNELS = {
    "pos": Text("门店POS", "store POS"),
    "mini_program": Text("小程序商城", "mini-program shop"),
    "wecom_group": Text("企微社群", "WeCom community group"),
}
