"""Lifecycle explorer: move the stage thresholds and the as-of date, watch the stage counts move.

A thin shell over :func:`opskit.lifecycle.assign_stages` and :func:`opskit.lifecycle.stage_counts_over_time`: every
update calls the same pure functions a learner calls in a cell. It never shows a traceback: thresholds out of order
(sleeping ≥ lost) or an as-of date before the data become a message, and the last good table stays visible.

Examples
--------
>>> explorer = lifecycle_explorer(transactions, members)  # doctest: +SKIP
>>> explorer.layout  # doctest: +SKIP
>>> explorer.sleeping_after.value = 60  # doctest: +SKIP
>>> explorer.state["summary"]  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io

import pandas as pd

from opskit.i18n import Text, label
from opskit.lifecycle import StageRules, assign_stages, stage_counts_over_time, stage_summary

__all__ = ["LifecycleExplorer", "lifecycle_explorer"]


def _image_output(figure) -> dict:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=90)
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": "<lifecycle chart>"}}


def _summary_html(summary: pd.DataFrame) -> str:
    shown = pd.DataFrame({
        label("阶段", "stage"): summary["label"],
        label("会员数", "members"): summary["members"].map("{:,}".format),
        label("占比", "share"): summary["share"].map("{:.1%}".format),
    })
    return shown.to_html(index=False, escape=True, border=0, classes="opskit-lifecycle-summary")


class LifecycleExplorer:
    """Controls ``sleeping_after``, ``lost_after``, ``new_within`` (sliders), ``rule`` (fixed/personal) and
    ``as_of`` (date); outputs ``message``, ``table`` (HTML) and ``chart`` (stage counts over time). ``state`` holds
    the last inputs, ``error`` (or None), ``summary`` (stage counts at the as-of date) and ``counts`` (over time).
    Build it with :func:`lifecycle_explorer`."""

    def __init__(self, transactions: pd.DataFrame, members: pd.DataFrame | None = None, *, as_of=None,
                 rules: StageRules | None = None, start=None, chart: bool = True) -> None:
        import ipywidgets as w

        rules = rules or StageRules()
        self._tx, self._members, self._start, self._draw_chart = transactions, members, start, chart
        self.state: dict = {"error": None, "summary": None, "counts": None}
        self.summary: pd.DataFrame | None = None
        self.figure = None
        try:
            default_as_of = assign_stages(transactions, members, as_of, amount_col=None).attrs["as_of"]
        except Exception as exc:  # shown in the UI, never as a traceback
            default_as_of, start_error = None, exc
        else:
            start_error = None
        style = {"description_width": "initial"}
        slider = dict(style=style, continuous_update=False, step=5)
        self.sleeping_after = w.IntSlider(value=rules.sleeping_after, min=15, max=365,
                                          description=label("沉睡: d >", "sleeping: d >"), **slider)
        self.lost_after = w.IntSlider(value=rules.lost_after, min=30, max=730,
                                      description=label("流失: d >", "lost: d >"), **slider)
        self.new_within = w.IntSlider(value=rules.new_within, min=15, max=365,
                                      description=label("新客: 首购 ≤", "new: first ≤"), **slider)
        self.rule = w.ToggleButtons(options=[(label("固定阈值", "fixed"), "fixed"),
                                             (label("个人购买节奏", "personal"), "personal")],
                                    value=rules.rule, style=style)
        self.as_of = w.DatePicker(value=default_as_of.date() if default_as_of is not None else None,
                                  description=label("快照日", "as-of date"), style=style)
        self.message = w.HTML()
        self.rules_text = w.HTML()
        self.table = w.HTML()
        self.chart = w.Output()
        controls = w.VBox([w.HBox([self.sleeping_after, self.lost_after, self.new_within]),
                           w.HBox([self.rule, self.as_of])])
        self.layout = w.VBox([controls, self.message, self.rules_text, w.HBox([self.table, self.chart])])
        for control in (self.sleeping_after, self.lost_after, self.new_within, self.rule, self.as_of):
            control.observe(self.refresh, names="value")
        if start_error is not None:
            self._show_error(start_error)
        else:
            self.refresh()

    def _show_error(self, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        self.state["error"] = text
        self.message.value = (f"<div style='color:#b00020'>⚠ {html.escape(str(Text('无法更新', 'cannot update')))}: "
                              f"{html.escape(text)}</div>")

    def refresh(self, _change=None) -> None:
        """Recompute from the controls and update the outputs (the one callback)."""
        as_of = pd.Timestamp(self.as_of.value) if isinstance(self.as_of.value, dt.date) else None
        self.state.update(sleeping_after=self.sleeping_after.value, lost_after=self.lost_after.value,
                          new_within=self.new_within.value, rule=self.rule.value, as_of=as_of)
        try:
            rules = StageRules(sleeping_after=self.sleeping_after.value, lost_after=self.lost_after.value,
                               new_within=self.new_within.value, rule=self.rule.value)
            stages = assign_stages(self._tx, self._members, as_of, rules, amount_col=None)
            summary = stage_summary(stages)
            fixed = StageRules(sleeping_after=rules.sleeping_after, lost_after=rules.lost_after,
                               new_within=rules.new_within)
            counts = stage_counts_over_time(self._tx, self._members, self._start, stages.attrs["as_of"], fixed)
            figure = self._draw(counts) if self._draw_chart else None
        except Exception as exc:  # the UI shows a message instead of a traceback
            self._show_error(exc)
            return
        self.state.update(error=None, summary=summary, counts=counts, as_of=stages.attrs["as_of"])
        self.summary = summary
        self.message.value = ""
        note = "" if rules.rule == "fixed" else str(Text(" (趋势图按固定阈值)", " (trend chart uses the fixed rule)"))
        self.rules_text.value = html.escape(str(rules.describe()) + note)
        self.table.value = _summary_html(summary)
        if figure is not None:
            self.figure = figure
            self.chart.outputs = (_image_output(figure),)

    def _draw(self, counts: pd.DataFrame):
        from matplotlib.figure import Figure

        from opskit.plots.lifecycle import plot_stage_counts

        figure = Figure(figsize=(8, 3.8))  # a bare Figure: no pyplot state, nothing shown twice
        plot_stage_counts(counts, ax=figure.subplots())
        figure.tight_layout()
        return figure


def lifecycle_explorer(transactions: pd.DataFrame, members: pd.DataFrame | None = None, *, as_of=None,
                       rules: StageRules | None = None, start=None, chart: bool = True) -> LifecycleExplorer:
    """Build the lifecycle explorer.

    Parameters
    ----------
    transactions, members : DataFrame
        As for :func:`opskit.lifecycle.assign_stages`.
    as_of : date-like, optional
        Initial snapshot date (default the last purchase day).
    rules : StageRules, optional
        Initial thresholds.
    start : date-like, optional
        First snapshot of the trend chart.
    chart : bool
        Draw the trend chart (turn off for speed in tests).

    Returns
    -------
    LifecycleExplorer
        Display ``explorer.layout``; read ``explorer.state``.
    """
    return LifecycleExplorer(transactions, members, as_of=as_of, rules=rules, start=start, chart=chart)
