"""The compass app (店铺分析罗盘): store, period and benchmark pickers, what-if sliders, live radar and waterfall.

A thin shell over :mod:`opskit.compass` (pure functions on a KPI cube computed once) and the SVG charts of
:mod:`opskit.plots.compass`. Every update only looks up the cube and draws two small SVGs, so it stays well under
50 ms (see ``benchmarks/bench_compass.py``). It never shows a traceback: anything that cannot be computed (a
benchmark that does not exist for this store, a factor with no data) becomes a message, and the rest of the panel
stays as it was.

Examples
--------
>>> app = compass_app()                         # doctest: +SKIP
>>> app.layout                                  # doctest: +SKIP
>>> app.store.value = "S03"                     # doctest: +SKIP
>>> app.sliders["upt"].value = 10               # doctest: +SKIP
>>> app.state["weak_point"], app.state["projected_sales"]  # doctest: +SKIP
"""

from __future__ import annotations

import html

import pandas as pd

from opskit.compass import (
    BENCHMARKS,
    FACTORS,
    KPIS,
    CompassCube,
    CompassNA,
    compass_cube,
)
from opskit.i18n import Text, label
from opskit.plots.compass import BAD, GOOD, radar_svg, waterfall_svg

__all__ = ["CompassApp", "compass_app", "INSTRUCTIONS"]

INSTRUCTIONS = Text(
    "<b>怎么用罗盘</b><ol>"
    "<li>选门店、期间和对标 (目标 / 同类门店中位数 / 去年同期)。</li>"
    "<li>看雷达: 虚线圈 = 对标 (1.0), 红点 = 低于对标的指标。</li>"
    "<li>看瀑布图: 从对标销售额到实际销售额, 每根柱子是一个因子贡献的金额 (元)。最红最长的那根就是<b>短板</b>。</li>"
    "<li>拖动“假如”滑块: 某个因子提升几个百分点, 预计销售额和达成率会怎样?</li>"
    "<li>对照下面的处方, 写一周行动计划。</li></ol>",
    "<b>How to use the compass</b><ol>"
    "<li>Pick a store, a period and a benchmark (target / peer median / same period last year).</li>"
    "<li>Read the radar: the dashed ring is the benchmark (1.0); red dots are KPIs below it.</li>"
    "<li>Read the waterfall: from benchmark sales to actual sales, one bar per factor in yuan. The longest red bar "
    "is the <b>weak point</b>.</li>"
    "<li>Move the what-if sliders: if a factor improves by a few percent, what happens to sales and attainment?</li>"
    "<li>Read the prescriptions below and draft a one-week action plan.</li></ol>",
)


def _money(value: float) -> str:
    if pd.isna(value):
        return "n/a"
    return f"-¥{-value:,.0f}" if value < 0 else f"¥{value:,.0f}"


def _instructions_html() -> str:
    from opskit.i18n import get_language

    lang = get_language()
    parts = [INSTRUCTIONS.zh] if lang == "zh" else [INSTRUCTIONS.en] if lang == "en" else [INSTRUCTIONS.zh,
                                                                                           INSTRUCTIONS.en]
    return '<div style="font-size:14px;line-height:1.45">' + "".join(parts) + "</div>"


def _pct(value: float, signed: bool = False) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


class CompassApp:
    """The compass app; build it with :func:`compass_app`.

    Attributes
    ----------
    layout : ipywidgets.Widget
        What to display.
    store, period, benchmark : ipywidgets widgets
        The pickers (values: a store id, a period label, a benchmark key of :data:`opskit.compass.BENCHMARKS`).
    sliders : dict
        One ``FloatSlider`` per factor of :data:`opskit.compass.FACTORS`: the what-if change in percent.
    state : dict
        What is shown: ``store``, ``period``, ``benchmark``, ``changes``, ``sales``, ``target``, ``attainment``,
        ``weak_point`` (factor key or None), ``weak_point_text``, ``projected_sales``, ``projected_attainment``,
        ``gap``, ``projected_gap``, ``actions`` (ids), ``attribution`` (DataFrame), ``radar`` (DataFrame),
        ``error`` (message or None).
    """

    def __init__(self, cube: CompassCube, *, store: str | None = None, period: str | None = None,
                 benchmark: str = "target", slider_range: tuple[float, float] = (-20.0, 30.0)):
        import ipywidgets as w

        self.cube = cube
        store = cube.check_store(store) if store is not None else cube.stores[0]
        full_months = [p for p in cube.periods if len(p) == 7]
        period = period if period is not None else (full_months[-2] if len(full_months) > 1 else cube.periods[-1])
        if period not in cube.periods:
            raise ValueError(str(Text(f"期间 {period} 不在罗盘中", f"period {period} is not in the compass")))
        if benchmark not in BENCHMARKS:
            raise ValueError(str(Text(f"未知对标 {benchmark!r}", f"unknown benchmark {benchmark!r}")))
        self.state: dict = {}
        self._cache: dict = {}
        style = {"description_width": "110px"}
        self.store = w.Dropdown(
            options=[(f"{s} {cube.store_names.get(s, s)}", s) for s in cube.stores], value=store,
            description=label("门店", "store"), style=style, layout=w.Layout(width="320px"))
        self.period = w.Dropdown(options=list(cube.periods), value=period, description=label("期间", "period"),
                                 style=style, layout=w.Layout(width="320px"))
        self.benchmark = w.RadioButtons(options=[(str(t), k) for k, t in BENCHMARKS.items()], value=benchmark,
                                        description=label("对标", "benchmark"), style=style,
                                        layout=w.Layout(width="440px"))
        self.sliders = {
            f: w.FloatSlider(value=0.0, min=slider_range[0], max=slider_range[1], step=1.0,
                             description=f"{KPIS[f].zh} %", readout_format="+.0f", continuous_update=False,
                             style=style, layout=w.Layout(width="420px"))
            for f in FACTORS
        }
        self.reset = w.Button(description=label("滑块归零", "reset sliders"), icon="undo",
                              layout=w.Layout(width="200px"))
        self.header = w.HTML()
        self.radar = w.HTML()
        self.waterfall = w.HTML()
        self.weak = w.HTML()
        self.projection = w.HTML()
        self.prescriptions = w.HTML()
        self.message = w.HTML()
        self.instructions = w.HTML(_instructions_html())
        controls = w.VBox([self.store, self.period, self.benchmark,
                           w.HTML(f"<b>{label('假如… 因子提升 (%)', 'what if… factor changes (%)')}</b>"),
                           *self.sliders.values(), self.reset, self.projection, self.instructions],
                          layout=w.Layout(width="460px", min_width="460px", flex="0 0 460px"))
        charts = w.VBox([self.header, self.message, self.weak, w.HBox([self.radar]), self.waterfall,
                         self.prescriptions])
        self.layout = w.HBox([controls, charts])
        self.layout.add_class("opskit-compass")
        for control in (self.store, self.period, self.benchmark, *self.sliders.values()):
            control.observe(self.refresh, names="value")
        self.reset.on_click(self._reset)
        self.refresh()

    # -- callbacks ----------------------------------------------------------------------------------------------------
    def _reset(self, _button=None) -> None:
        for slider in self.sliders.values():
            slider.unobserve(self.refresh, names="value")
            slider.value = 0.0
            slider.observe(self.refresh, names="value")
        self.refresh()

    def _static(self, store: str, period: str, kind: str) -> dict:
        """Everything that depends on the pickers only (not on the sliders), cached per choice."""
        key = (store, period, kind)
        if key not in self._cache:
            row = self.cube.row(store, period)
            part: dict = {"row": row, "error": None}
            try:
                part["attribution"] = self.cube.attribution(store, period, kind)
                part["radar"] = self.cube.radar(store, period, kind)
                part["prescriptions"] = self.cube.prescribe(store, period, kind)
                part["radar_svg"] = radar_svg(part["radar"], title=label("指标 ÷ 对标", "KPI ÷ benchmark"))
            except CompassNA as exc:
                part["error"] = exc.reason
            self._cache[key] = part
        return self._cache[key]

    def refresh(self, _change=None) -> None:
        """Recompute and redraw from the current control values (never raises)."""
        try:
            self._refresh()
        except Exception as exc:  # the widget must never show a traceback
            self.state["error"] = str(exc)
            self.message.value = self._message_html(Text(f"无法更新: {exc}", f"cannot update: {exc}"))

    def _message_html(self, text: Text) -> str:
        return (f'<div class="opskit-compass-message" style="color:{BAD};font-size:15px;padding:4px 0">'
                f"⚠ {html.escape(str(text))}</div>")

    def _refresh(self) -> None:
        store, period, kind = self.store.value, self.period.value, self.benchmark.value
        changes = {f: float(s.value) for f, s in self.sliders.items() if s.value != 0}
        part = self._static(store, period, kind)
        row = part["row"]
        target = row["target_month"]
        name = self.cube.store_names.get(store, store)
        self.state = {"store": store, "period": period, "benchmark": kind, "changes": changes,
                      "sales": float(row["sales"]), "target": float(target), "attainment": float(row["attainment"]),
                      "error": None}
        self.header.value = (
            f'<div style="font-size:18px"><b>{html.escape(store)} {html.escape(name)} · {html.escape(period)}</b> — '
            f"{label('销售额', 'sales')} <b>{_money(row['sales'])}</b> · {label('目标', 'target')} "
            f"{_money(target)} · {label('达成率', 'attainment')} <b>{_pct(row['attainment'])}</b> · "
            f"{label('时间进度差', 'time-progress gap')} {_pct(row['progress_gap'], signed=True)}</div>"
        )
        if row.get("partial", False):
            self.header.value += (f'<div style="color:#555">{Text("部分期间", "partial period")}: '
                                  f"{int(row['days_open'])}/{int(row['days'])} {Text('天营业', 'days open')}</div>")
        if part["error"] is not None:
            self.state.update(error=str(part["error"]), weak_point=None, weak_point_text="", projected_sales=float("nan"),
                              projected_attainment=float("nan"), actions=[], attribution=None, radar=None)
            self.message.value = self._message_html(part["error"])
            self.weak.value = ""
            self.radar.value = self.waterfall.value = self.prescriptions.value = ""
            self.projection.value = (f'<div class="opskit-projected">{label("预计销售额", "projected sales")}: '
                                     "n/a</div>")
            return
        self.message.value = ""
        from opskit.compass import weak_point, what_if

        attribution = part["attribution"]
        weak = weak_point(attribution)
        bench_factors = dict(zip(attribution["factor"], attribution["benchmark"]))
        actual_factors = dict(zip(attribution["factor"], attribution["actual"]))
        projection = what_if(actual_factors, bench_factors, changes, float(target))
        self.state.update(
            weak_point=weak.key, weak_point_text=str(weak.text), projected_sales=projection["projected_sales"],
            projected_attainment=projection["projected_attainment"], gap=projection["gap"],
            projected_gap=projection["projected_gap"], weak_point_after=projection["weak_point"],
            actions=part["prescriptions"]["action"].tolist(), attribution=attribution, radar=part["radar"],
        )
        colour = BAD if weak.key else GOOD
        self.weak.value = (f'<div class="opskit-weak" style="font-size:20px;color:{colour};padding:4px 0">'
                           f"<b>{html.escape(str(weak.text))}</b></div>")
        self.radar.value = part["radar_svg"]
        self.waterfall.value = waterfall_svg(
            attribution, title=label(f"差距拆解 ({BENCHMARKS[kind].zh} → 实际)", f"gap: {BENCHMARKS[kind].en} → "
                                     "actual"))
        self.projection.value = (
            f'<div class="opskit-projected" style="font-size:15px;line-height:1.5">'
            f"{label('预计销售额', 'projected sales')}: <b>{_money(projection['projected_sales'])}</b> "
            f"({projection['delta_sales']:+,.0f})<br>"
            f"{label('预计达成率', 'projected attainment')}: <b>{_pct(projection['projected_attainment'])}</b><br>"
            f"{label('与对标的差距', 'gap to benchmark')}: {_money(projection['gap'])} → "
            f"<b>{_money(projection['projected_gap'])}</b></div>"
        )
        items = "".join(f"<li><b>{html.escape(KPIS[r.for_kpi].zh)}</b> · {html.escape(r.zh)}<br>"
                        f'<span style="color:#555">{html.escape(r.en)}</span></li>'
                        for r in part["prescriptions"].itertuples())
        self.prescriptions.value = (f'<div class="opskit-prescriptions" style="font-size:14px">'
                                    f"<b>{label('处方 (行动建议)', 'prescriptions (actions)')}</b><ul>{items}</ul></div>")


def compass_app(cube: CompassCube | None = None, *, store: str | None = None, period: str | None = None,
                benchmark: str = "target") -> CompassApp:
    """Build the compass app (with the course data when no cube is given).

    Parameters
    ----------
    cube : CompassCube, optional
        From :func:`opskit.compass.compass_cube`; computed once and shared.
    store, period, benchmark : str, optional
        Initial choices (default: the first store, the second-to-last full month, the target).

    Examples
    --------
    >>> app = compass_app(store="S03", period="2025-05")      # doctest: +SKIP
    >>> app.benchmark.value = "peers"                          # doctest: +SKIP
    """
    return CompassApp(cube if cube is not None else compass_cube(), store=store, period=period, benchmark=benchmark)
