"""RFM explorer: pick a scheme, a threshold method and an as-of date; see the segment table and chart update.

The widget is a thin shell over :mod:`opskit.rfm` and :mod:`opskit.plots.rfm`: every update calls the same pure
functions a learner calls in a cell. It never shows a traceback: a bad choice (say an as-of date before the first
purchase) becomes a message above the table, and the last good table stays visible.

Examples
--------
>>> explorer = rfm_explorer(transactions)  # doctest: +SKIP
>>> explorer.layout  # doctest: +SKIP
>>> explorer.threshold.value = "median"  # doctest: +SKIP
>>> explorer.state["summary"]  # doctest: +SKIP

Display ``explorer.layout`` in a notebook; ``explorer.state["summary"]`` is the DataFrame shown.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import warnings

import pandas as pd

from opskit.i18n import Text, label
from opskit.rfm import (
    BinsCollapsedWarning,
    cn8_thresholds,
    describe_thresholds,
    rfm_table,
    segment_customers,
    segment_summary,
)

__all__ = ["RFMExplorer", "rfm_explorer"]

_SCHEMES = {"cn8": Text("中国 8 类 RFM 模型", "Chinese 8-class RFM"), "rf10": Text("英文 R-F 10 类", "English R-F map (10)")}
_THRESHOLDS = {
    "mean": Text("均值", "mean"),
    "median": Text("中位数", "median"),
    "business": Text("业务标准(滑块)", "business rule (sliders)"),
}


def _image_output(figure) -> dict:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=90)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "<RFM chart>"},
        "metadata": {},
    }


def _summary_html(summary: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            label("分群", "segment"): summary["label"],
            label("客户数", "customers"): summary["customers"].map("{:,}".format),
            label("客户占比", "customer share"): summary["customer_share"].map("{:.1%}".format),
            label("销售额占比", "revenue share"): summary["revenue_share"].map(
                lambda v: "–" if pd.isna(v) else f"{v:.1%}"),
            label("人均消费", "avg spend"): summary["avg_spend"].map(lambda v: "–" if pd.isna(v) else f"{v:,.0f}"),
            label("平均间隔天数", "avg recency"): summary["avg_recency"].map(
                lambda v: "–" if pd.isna(v) else f"{v:,.0f}"),
            label("建议策略", "strategy"): summary["strategy"],
        }
    )
    return shown.to_html(index=False, escape=True, border=0, classes="opskit-rfm-summary")


class RFMExplorer:
    """The explorer's controls, outputs and last computed state. Build it with :func:`rfm_explorer`.

    Controls: ``scheme``, ``threshold``, ``r_days``, ``f_min``, ``m_min`` (business thresholds: 高 when recency ≤
    ``r_days``, frequency ≥ ``f_min``, monetary ≥ ``m_min``), ``as_of``. Outputs: ``message`` (errors and warnings),
    ``info`` (accounting and thresholds), ``table`` (HTML), ``chart`` (Output). ``state`` holds the inputs of the last
    update, its ``error`` (or None), ``notes`` (warnings), and the ``summary`` and ``segments`` DataFrames.
    """

    def __init__(self, transactions: pd.DataFrame, *, as_of=None, scheme: str = "cn8", threshold: str = "mean",
                 business: tuple[float, float, float] = (90, 3, 2000), **rfm_options) -> None:
        import ipywidgets as w

        self._transactions = transactions
        self._rfm_options = rfm_options
        self._cache: dict[pd.Timestamp | None, pd.DataFrame] = {}
        self.summary: pd.DataFrame | None = None
        self.state: dict = {"error": None, "notes": [], "summary": None, "segments": None}
        self.figure = None

        start_error = None
        try:
            default_rfm = self._rfm(pd.Timestamp(as_of) if as_of is not None else None)
            as_of_day = default_rfm.attrs["accounting"].as_of
            max_recency = int(default_rfm["recency"].max())
            max_frequency = int(default_rfm["frequency"].max())
            max_monetary = float(default_rfm["monetary"].max())
        except Exception as exc:  # shown in the UI, never as a traceback
            start_error, as_of_day, max_recency, max_frequency, max_monetary = exc, None, 365, 10, 10000.0

        style = {"description_width": "initial"}
        self.scheme = w.Dropdown(options=[(str(t), k) for k, t in _SCHEMES.items()], value=scheme,
                                 description=label("分群方案", "scheme"), style=style)
        self.threshold = w.Dropdown(options=[(str(t), k) for k, t in _THRESHOLDS.items()], value=threshold,
                                    description=label("高/低阈值", "threshold"), style=style)
        self.r_days = w.IntSlider(value=int(business[0]), min=0, max=max(max_recency, int(business[0]), 1), step=1,
                                  description=label("R ≤ 天", "R ≤ days"), style=style, continuous_update=False)
        self.f_min = w.IntSlider(value=int(business[1]), min=1, max=max(max_frequency, int(business[1]), 2), step=1,
                                 description=label("F ≥ 次", "F ≥ orders"), style=style, continuous_update=False)
        m_top = max(max_monetary, float(business[2]), 1.0)
        self.m_min = w.FloatSlider(value=float(business[2]), min=0.0, max=m_top, step=max(round(m_top / 200), 1),
                                   description=label("M ≥ 元", "M ≥ CNY"), style=style, continuous_update=False,
                                   readout_format=",.0f")
        self.as_of = w.DatePicker(value=as_of_day.date() if as_of_day is not None else None,
                                  description=label("截止日", "as-of date"), style=style)
        self.message = w.HTML()
        self.info = w.HTML()
        self.table = w.HTML()
        self.chart = w.Output()
        controls = w.VBox([w.HBox([self.scheme, self.threshold, self.as_of]),
                           w.HBox([self.r_days, self.f_min, self.m_min])])
        self.layout = w.VBox([controls, self.message, self.info, self.chart, self.table])

        for control in (self.scheme, self.threshold, self.r_days, self.f_min, self.m_min, self.as_of):
            control.observe(self.refresh, names="value")
        if start_error is not None:
            self._show_error(start_error)
            self._sync_enabled()
        else:
            self.refresh()

    # -- pure computation, cached per as-of date -------------------------------------------------------------------
    def _rfm(self, as_of: pd.Timestamp | None) -> pd.DataFrame:
        if as_of not in self._cache:
            self._cache[as_of] = rfm_table(self._transactions, as_of, **self._rfm_options)
        return self._cache[as_of]

    def _thresholds(self) -> str | dict:
        if self.threshold.value == "business":
            return {"recency": self.r_days.value, "frequency": self.f_min.value, "monetary": self.m_min.value}
        return self.threshold.value

    def _sync_enabled(self) -> None:
        is_cn8 = self.scheme.value == "cn8"
        self.threshold.disabled = not is_cn8
        for slider in (self.r_days, self.f_min, self.m_min):
            slider.disabled = not (is_cn8 and self.threshold.value == "business")

    def _show_error(self, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        self.state["error"] = text
        self.message.value = (
            f"<div style='color:#b00020'>⚠ {html.escape(str(Text('无法更新', 'cannot update')))}: "
            f"{html.escape(text)}</div>"
        )

    # -- the one callback ------------------------------------------------------------------------------------------
    def refresh(self, _change=None) -> None:
        """Recompute from the controls and update the outputs (called on every control change)."""
        self._sync_enabled()
        as_of = pd.Timestamp(self.as_of.value) if isinstance(self.as_of.value, dt.date) else None
        self.state.update(scheme=self.scheme.value, threshold=self.threshold.value, as_of=as_of,
                          business={"recency": self.r_days.value, "frequency": self.f_min.value,
                                    "monetary": self.m_min.value})
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", BinsCollapsedWarning)
                rfm = self._rfm(as_of)
                thresholds = self._thresholds()
                segments = segment_customers(rfm, self.scheme.value, thresholds=thresholds)
                summary = segment_summary(segments)
                figure = self._draw(summary)
        except Exception as exc:  # the UI shows a message instead of a traceback
            self._show_error(exc)
            return
        notes = [str(w.message) for w in caught if issubclass(w.category, BinsCollapsedWarning)]
        accounting = rfm.attrs["accounting"]
        info = [str(accounting.report())]
        if self.scheme.value == "cn8":
            resolved = cn8_thresholds(rfm, thresholds)
            info.append(str(describe_thresholds(resolved)))
            self.state["thresholds"] = resolved
        else:
            self.state["thresholds"] = None
        self.state.update(error=None, notes=notes, summary=summary, segments=segments, as_of=accounting.as_of,
                          customers=len(rfm))
        self.summary = summary
        self.message.value = "".join(f"<div style='color:#8a6d00'>ⓘ {html.escape(n)}</div>" for n in notes)
        self.info.value = "<br>".join(html.escape(line) for line in info)
        self.table.value = _summary_html(summary)
        self.figure = figure
        self.chart.outputs = (_image_output(figure),)

    def _draw(self, summary: pd.DataFrame):
        from matplotlib.figure import Figure

        from opskit.plots.rfm import plot_segment_sizes

        # A bare Figure (not pyplot): no global state, nothing displayed twice by the inline backend.
        figure = Figure(figsize=(8, 0.45 * len(summary) + 1.5))
        plot_segment_sizes(summary, ax=figure.subplots())
        return figure


def rfm_explorer(transactions: pd.DataFrame, *, as_of=None, scheme: str = "cn8", threshold: str = "mean",
                 business: tuple[float, float, float] = (90, 3, 2000), **rfm_options) -> RFMExplorer:
    """Build the RFM explorer for a transactions frame.

    Parameters
    ----------
    transactions : DataFrame
        The canonical transactions frame (:mod:`opskit.schema`).
    as_of : date-like, optional
        Initial as-of date; default the last member purchase day.
    scheme : {"cn8", "rf10"}
    threshold : {"mean", "median", "business"}
    business : (R days, F orders, M amount)
        Initial slider values for business thresholds.
    **rfm_options
        Passed to :func:`opskit.rfm.rfm_table` (``frequency=``, ``monetary=``, ``returns=``, column names).

    Returns
    -------
    RFMExplorer
        Display ``explorer.layout``; read ``explorer.state`` / ``explorer.summary``.
    """
    return RFMExplorer(transactions, as_of=as_of, scheme=scheme, threshold=threshold, business=business,
                       **rfm_options)
