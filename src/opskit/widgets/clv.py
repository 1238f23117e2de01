"""CLV explorer: pick a customer, a horizon in months and a monthly discount rate; see P(alive), expected purchases
and CLV update.

A thin shell over :func:`opskit.clv.customer_card` (a pure function a learner can call in a cell). It never shows a
traceback: an error becomes a message in the widget, and ``state["error"]`` holds it for tests.

Examples
--------
>>> explorer = clv_explorer(summary, bgnbd, gamma_gamma)    # doctest: +SKIP
>>> layout, controls = explorer                              # display layout in a notebook # doctest: +SKIP
>>> controls["horizon"].value = 24                           # doctest: +SKIP
>>> explorer.state["card"]["clv"]                            # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from opskit import clv
from opskit.i18n import Text, label

__all__ = ["CLVExplorer", "clv_explorer", "card_html"]

_UNIT_NAMES = {"D": Text("天", "days"), "W": Text("周", "weeks"), "M": Text("月", "months")}


def _unit_text(card: dict[str, Any]) -> str:
    freq, _, multiplier = str(card["time_unit"]).partition("/")
    name = _UNIT_NAMES.get(freq)
    if name is None:
        return label("模型时间单位", "model time units")
    if multiplier not in ("", "1", "1.0"):
        return str(Text(f"{multiplier} {name.zh}", f"× {multiplier} {name.en}"))
    return str(name)


def card_html(card: dict[str, Any]) -> str:
    """Render :func:`opskit.clv.customer_card` output as a small bilingual HTML table."""
    unit = _unit_text(card)
    rows = [
        (label("顾客", "customer"), html.escape(str(card["customer_id"]))),
        (label("回购次数", "repeat purchases (frequency)"), f"{card['frequency']}"),
        (label("首购到末次购买", "first to last purchase (recency)"), f"{card['recency']:.1f} {unit}"),
        (label("首购至今", "since first purchase (T)"), f"{card['T']:.1f} {unit}"),
    ]
    if card.get("monetary_value") is not None:
        rows.append((label("历史平均回购客单价", "mean repeat spend so far"), f"{card['monetary_value']:,.2f}"))
    rows += [
        (label("仍活跃概率 P(alive)", "probability still active, P(alive)"), f"{card['p_alive']:.1%}"),
        (label(f"未来 {card['months']} 个月预期购买次数", f"expected purchases, next {card['months']} months"),
         f"{card['expected_purchases']:.2f}"),
    ]
    if card.get("clv") is not None:
        rows += [
            (label("预期客单价", "expected spend per purchase"), f"{card['expected_avg_spend']:,.2f}"),
            (label(f"CLV ({card['months']} 个月, 月折现率 {card['monthly_discount_rate']:.1%})",
                   f"CLV ({card['months']} months, monthly discount {card['monthly_discount_rate']:.1%})"),
             f"<b>{card['clv']:,.2f}</b>"),
        ]
    body = "".join(f"<tr><td>{name}</td><td style='text-align:right'>{value}</td></tr>" for name, value in rows)
    return f"<table class='opskit-clv-card'>{body}</table>"


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'>⚠ {html.escape(message)}</div>"


@dataclass
class CLVExplorer:
    """The explorer's layout, its controls (by name) and the last displayed state. Unpacks as (layout, controls)."""

    layout: Any
    controls: dict[str, Any]
    state: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter((self.layout, self.controls))


def _default_ids(summary, bgnbd, gamma_gamma, top: int, months: int, rate: float) -> list:
    scores = clv.predict_customers(summary, bgnbd, gamma_gamma, months=months, monthly_discount_rate=rate)
    column = "clv" if "clv" in scores.columns else "expected_purchases"
    return list(scores[column].sort_values(ascending=False, kind="stable").index[:top])


def clv_explorer(
    summary: pd.DataFrame,
    bgnbd: clv.BGNBDModel,
    gamma_gamma: clv.GammaGammaModel | None = None,
    customer_ids: list | None = None,
    *,
    top: int = 20,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
) -> CLVExplorer:
    """Build the CLV explorer.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`opskit.clv.summary_from_transactions` (columns frequency, recency, T, monetary_value).
    bgnbd, gamma_gamma : fitted models
        Without ``gamma_gamma`` the card shows no spend or CLV.
    customer_ids : list, optional
        Customers offered in the picker; default the ``top`` customers by CLV (or by expected purchases).
    months, monthly_discount_rate : int, float
        Initial horizon (months) and monthly discount rate.

    Returns
    -------
    CLVExplorer
        ``layout`` (a VBox to display), ``controls`` (``customer``, ``horizon``, ``discount``, ``card``,
        ``message``) and ``state`` (``card``: the dict shown, ``error``: the message or None).
    """
    import ipywidgets as widgets

    state: dict[str, Any] = {"card": None, "error": None}
    try:
        ids = list(customer_ids) if customer_ids is not None else _default_ids(
            summary, bgnbd, gamma_gamma, top, months, monthly_discount_rate)
    except Exception as err:  # noqa: BLE001  the widget shows errors instead of raising them
        ids, state["error"] = [], str(err)
    customer = widgets.Dropdown(options=[(str(i), i) for i in ids], value=ids[0] if ids else None,
                                description=label("顾客", "customer"))
    horizon = widgets.IntSlider(value=months, min=1, max=60, step=1, description=label("月数", "months"))
    discount = widgets.FloatSlider(value=monthly_discount_rate, min=0.0, max=0.05, step=0.001, readout_format=".3f",
                                   description=label("月折现率", "monthly discount"))
    card = widgets.HTML()
    message = widgets.HTML(_error_html(state["error"]) if state["error"] else "")
    controls = {"customer": customer, "horizon": horizon, "discount": discount, "card": card, "message": message}

    def update(_change=None) -> None:
        try:
            if customer.value is None:
                raise ValueError(str(Text("没有可选的顾客", "there is no customer to show")))
            result = clv.customer_card(summary, bgnbd, gamma_gamma, customer.value, months=int(horizon.value),
                                       monthly_discount_rate=float(discount.value))
        except Exception as err:  # noqa: BLE001  never a traceback in the UI; keep the last good card visible
            state["error"] = str(err)
            message.value = _error_html(str(err))
            return
        state["card"], state["error"] = result, None
        card.value = card_html(result)
        message.value = ""

    for control in (customer, horizon, discount):
        control.observe(update, names="value")
    if ids:
        update()
    elif state["error"] is None:
        state["error"] = str(Text("没有可选的顾客", "there is no customer to show"))
        message.value = _error_html(state["error"])
    layout = widgets.VBox([widgets.HBox([customer, horizon, discount]), message, card])
    return CLVExplorer(layout, controls, state)
