"""Overview charts for the data tour."""

from __future__ import annotations

import pandas as pd

from opskit import schema
from opskit.i18n import Text, label

_GROUP_LABELS = {schema.CHANNEL: schema.CHANNELS, schema.KIND: schema.KINDS}


def monthly_sales(transactions: pd.DataFrame, by: str | None = "channel", ax=None):
    """Net sales per calendar month as stacked bars, one colour per value of ``by``.

    Parameters
    ----------
    transactions : DataFrame
        The canonical transactions frame (``opskit.schema``): returns are negative rows, so bars show net sales.
    by : str or None
        A column to split the bars by (``"channel"``, ``"store_id"``, …), or None for one bar per month.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from opskit import datasets
    >>> monthly_sales(datasets.load_transactions(), by="channel");  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    missing = [c for c in (schema.ORDER_TIME, schema.AMOUNT, by) if c and c not in transactions.columns]
    if missing:
        raise ValueError(str(Text(f"缺少列: {missing}", f"missing columns: {missing}")))
    month = transactions[schema.ORDER_TIME].dt.to_period("M").rename("month")
    if by:
        table = transactions.groupby([month, transactions[by]], observed=True)[schema.AMOUNT].sum().unstack(fill_value=0)
        names = _GROUP_LABELS.get(by, {})
        table = table.rename(columns=lambda code: str(names[code]) if code in names else str(code))
    else:
        table = transactions.groupby(month)[schema.AMOUNT].sum().to_frame(str(Text("净销售额", "net sales")))
    table = table / 10_000  # 万元: the unit Chinese retail reports use
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    table.index = table.index.strftime("%Y-%m")
    table.plot.bar(stacked=True, ax=ax, width=0.85)
    ax.set_xlabel(label("月份", "month"))
    ax.set_ylabel(label("净销售额 (万元)", "net sales (10k yuan)"))
    ax.set_title(label("每月净销售额", "Net sales per month"))
    step = max(1, len(table) // 15)
    for i, tick in enumerate(ax.get_xticklabels()):
        tick.set_visible(i % step == 0)
    ax.tick_params(axis="x", labelrotation=45)
    if by:
        ax.legend(title=label(*_legend_title(by)), frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _legend_title(by: str) -> tuple[str, str]:
    return {"channel": ("渠道", "channel"), "store_id": ("门店", "store"), "kind": ("类型", "kind")}.get(by, (by, by))
