"""Compass charts: the radar of KPI ratios against a benchmark, and the waterfall of the gap attribution.

Two renderings of the same pictures:

- matplotlib (:func:`plot_compass_radar`, :func:`plot_gap_waterfall`) for notebooks and slides: they take the
  tidy frames of :mod:`opskit.compass` and return Axes;
- SVG strings (:func:`radar_svg`, :func:`waterfall_svg`) for the compass app, which redraws on every slider move:
  building a small SVG takes well under a millisecond, a matplotlib PNG about a hundred.

Examples
--------
>>> from opskit.compass import compass_cube
>>> cube = compass_cube()                                                   # doctest: +SKIP
>>> plot_compass_radar(cube.radar("S03", "2025-05", "peers"));             # doctest: +SKIP
>>> plot_gap_waterfall(cube.attribution("S03", "2025-05", "target"));      # doctest: +SKIP
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from opskit.i18n import label

__all__ = ["plot_compass_radar", "plot_gap_waterfall", "radar_svg", "waterfall_svg"]

GOOD, BAD, NEUTRAL, BENCH = "#2a9d8f", "#e76f51", "#8d99ae", "#264653"
RADAR_MAX = 1.6  # ratios above this are drawn at the rim (the value is still in the label)
RADAR_MIN = 0.4


def _check(frame: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} 缺少列 / is missing column(s): {', '.join(missing)}")


def _radius(ratio: float) -> float:
    """Ratio → radius in [0, 1]; the benchmark (ratio 1) sits at 0.5."""
    if not np.isfinite(ratio):
        return 0.0
    r = min(max(ratio, RADAR_MIN), RADAR_MAX)
    return (r - RADAR_MIN) / (RADAR_MAX - RADAR_MIN)


def plot_compass_radar(radar: pd.DataFrame, ax=None, title: str | None = None):
    """The compass: each KPI's ratio to the benchmark on its own spoke; the dashed ring is the benchmark (= 1).

    Parameters
    ----------
    radar : DataFrame
        ``label`` and ``ratio`` (actual ÷ benchmark, > 1 better), e.g. :meth:`opskit.compass.CompassCube.radar`.
    ax : polar Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> ax = plot_compass_radar(pd.DataFrame({"label": ["a", "b", "c"], "ratio": [1.2, 0.7, 1.0]}))
    """
    import matplotlib.pyplot as plt

    _check(radar, ("label", "ratio"), "radar")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 7.5), subplot_kw={"projection": "polar"})
    n = len(radar)
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ratios = radar["ratio"].to_numpy(dtype="float64")
    radii = np.array([_radius(r) for r in ratios])
    closed = np.r_[angles, angles[:1]]
    ax.plot(closed, np.full(n + 1, _radius(1.0)), ls="--", lw=2, color=BENCH, label=label("对标", "benchmark"))
    ax.plot(closed, np.r_[radii, radii[:1]], lw=2.5, color=GOOD, label=label("本店", "this store"))
    ax.fill(closed, np.r_[radii, radii[:1]], color=GOOD, alpha=0.18)
    colours = [NEUTRAL if not np.isfinite(r) else (GOOD if r >= 1 else BAD) for r in ratios]
    ax.scatter(angles, radii, s=70, c=colours, zorder=3)
    ax.set_ylim(0, 1)
    ax.set_yticks([_radius(x) for x in (0.6, 1.0, 1.4)])
    ax.set_yticklabels(["0.6", "1.0", "1.4"], fontsize=9, color="#555555")
    ax.set_xticks(angles)
    names = [f"{lab}\n{'n/a' if not np.isfinite(r) else f'{r:.2f}'}" for lab, r in zip(radar["label"], ratios)]
    ax.set_xticklabels(names, fontsize=10)
    ax.tick_params(axis="x", pad=14)
    ax.set_title(title or label("店铺罗盘: 指标 ÷ 对标", "store compass: KPI ÷ benchmark"), pad=28, fontsize=14)
    ax.legend(loc="upper right", bbox_to_anchor=(1.18, 1.12), fontsize=10, frameon=False)
    return ax


def plot_gap_waterfall(attribution: pd.DataFrame, ax=None, title: str | None = None):
    """Waterfall from benchmark sales to actual sales: one bar per factor's yuan (LMDI allocation).

    Parameters
    ----------
    attribution : DataFrame
        From :func:`opskit.compass.gap_attribution`: ``label``, ``actual``, ``benchmark``, ``yuan``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from opskit.compass import gap_attribution
    >>> a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.3)
    >>> b = dict(visitors=900, conversion=0.3, asp=300, upt=1.4, omni=1.3)
    >>> ax = plot_gap_waterfall(gap_attribution(a, b))
    """
    import matplotlib.pyplot as plt

    _check(attribution, ("label", "actual", "benchmark", "yuan"), "attribution")
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 5.5))
    bench = float(np.prod(attribution["benchmark"]))
    actual = float(np.prod(attribution["actual"]))
    names = ["对标销售额\nbenchmark"] + [lab.replace(" ", "\n", 1) for lab in attribution["label"]]
    names.append("实际销售额\nactual")
    level = bench
    ax.bar(0, bench, color=BENCH, width=0.6)
    ax.text(0, bench, f"{bench:,.0f}", ha="center", va="bottom", fontsize=11)
    for i, value in enumerate(attribution["yuan"], start=1):
        bottom = level if value >= 0 else level + value
        ax.bar(i, abs(value), bottom=bottom, color=GOOD if value >= 0 else BAD, width=0.6)
        ax.text(i, max(level, level + value), f"{value:+,.0f}", ha="center", va="bottom", fontsize=11)
        level += value
    last = len(names) - 1
    ax.bar(last, actual, color=GOOD if actual >= bench else BAD, width=0.6)
    ax.text(last, actual, f"{actual:,.0f}", ha="center", va="bottom", fontsize=11)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=11)
    low = min(bench, actual, *(bench + np.cumsum(attribution["yuan"])))
    ax.set_ylim(max(0.0, low * 0.8), max(bench, actual) * 1.08)
    ax.set_ylabel(label("销售额 (元)", "sales (yuan)"), fontsize=11)
    ax.yaxis.set_major_formatter(lambda x, _pos: f"{x:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or label("差距拆解: 对标 → 实际", "gap attribution: benchmark → actual"), fontsize=14)
    return ax


# ---------------------------------------------------------------------------------------------------------------------
# SVG renderings for the widget
# ---------------------------------------------------------------------------------------------------------------------
def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


def radar_svg(radar: pd.DataFrame, size: int = 420, title: str = "") -> str:
    """The radar as an inline SVG string (same geometry as :func:`plot_compass_radar`).

    Examples
    --------
    >>> import pandas as pd
    >>> radar_svg(pd.DataFrame({"label": ["a", "b", "c"], "ratio": [1.2, 0.7, float("nan")]})).startswith("<svg")
    True
    """
    _check(radar, ("label", "ratio"), "radar")
    width, height = size + 320, size + 40
    cx, cy, rmax = width / 2, height / 2 + 8, size / 2 - 20
    n = len(radar)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="opskit-radar" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif">']
    if title:
        parts.append(f'<text x="{cx:.0f}" y="16" text-anchor="middle" font-size="15" font-weight="bold">'
                     f'{_esc(title)}</text>')
    for ring in (0.6, 1.0, 1.4):
        r = _radius(ring) * rmax
        dash = ' stroke-dasharray="6,4" stroke-width="2"' if ring == 1.0 else ' stroke-width="1"'
        colour = BENCH if ring == 1.0 else "#cccccc"
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="none" stroke="{colour}"{dash}/>')
        parts.append(f'<text x="{cx + 3:.1f}" y="{cy - r - 2:.1f}" font-size="10" fill="#777">{ring:.1f}</text>')
    points = []
    for i, (name, ratio) in enumerate(zip(radar["label"], radar["ratio"].to_numpy(dtype="float64"))):
        angle = math.pi / 2 - 2 * math.pi * i / n  # clockwise from the top
        ux, uy = math.cos(angle), -math.sin(angle)
        parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{cx + ux * rmax:.1f}" y2="{cy + uy * rmax:.1f}" '
                     'stroke="#dddddd"/>')
        r = _radius(ratio) * rmax
        px, py = cx + ux * r, cy + uy * r
        points.append(f"{px:.1f},{py:.1f}")
        colour = NEUTRAL if not np.isfinite(ratio) else (GOOD if ratio >= 1 else BAD)
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{colour}"/>')
        lx, ly = cx + ux * (rmax + 16), cy + uy * (rmax + 16)
        anchor = "middle" if abs(ux) < 0.3 else ("start" if ux > 0 else "end")
        value = "n/a" if not np.isfinite(ratio) else f"{ratio:.2f}"
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" font-size="12">{_esc(name)}'
                     f'<tspan x="{lx:.1f}" dy="14" fill="{colour}" font-weight="bold">{value}</tspan></text>')
    parts.append(f'<polygon points="{" ".join(points)}" fill="{GOOD}" fill-opacity="0.18" stroke="{GOOD}" '
                 'stroke-width="2.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def waterfall_svg(attribution: pd.DataFrame, width: int = 640, height: int = 300, title: str = "") -> str:
    """The gap waterfall as an inline SVG string (same bars as :func:`plot_gap_waterfall`).

    Examples
    --------
    >>> from opskit.compass import gap_attribution
    >>> a = dict(visitors=1000, conversion=0.2, asp=300, upt=1.5, omni=1.3)
    >>> waterfall_svg(gap_attribution(a, a)).count("<rect")
    7
    """
    _check(attribution, ("label", "actual", "benchmark", "yuan"), "attribution")
    bench = float(np.prod(attribution["benchmark"]))
    actual = float(np.prod(attribution["actual"]))
    yuan = attribution["yuan"].to_numpy(dtype="float64")
    levels = bench + np.r_[0.0, np.cumsum(yuan)]
    low = max(0.0, min(bench, actual, *levels) * 0.8)
    high = max(bench, actual, *levels) * 1.08
    top, bottom, left = 34, 52, 16
    plot_h = height - top - bottom
    n = len(yuan) + 2
    step = (width - 2 * left) / n

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="opskit-waterfall" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif">']
    if title:
        parts.append(f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="15" font-weight="bold">'
                     f'{_esc(title)}</text>')
    bars = [("对标 benchmark", low, bench, BENCH, f"{bench:,.0f}")]
    for name, value, start in zip(attribution["label"], yuan, levels[:-1]):
        bars.append((str(name), min(start, start + value), max(start, start + value), GOOD if value >= 0 else BAD,
                     f"{value:+,.0f}"))
    bars.append(("实际 actual", low, actual, GOOD if actual >= bench else BAD, f"{actual:,.0f}"))
    for i, (name, lo, hi, colour, text) in enumerate(bars):
        x = left + i * step + step * 0.15
        w = step * 0.7
        h = max(y(lo) - y(hi), 1.0)
        parts.append(f'<rect x="{x:.1f}" y="{y(hi):.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + w / 2:.1f}" y="{y(hi) - 5:.1f}" text-anchor="middle" font-size="12">'
                     f'{_esc(text)}</text>')
        zh, _, en = name.partition(" ")
        parts.append(f'<text x="{x + w / 2:.1f}" y="{height - bottom + 18:.1f}" text-anchor="middle" '
                     f'font-size="12">{_esc(zh)}<tspan x="{x + w / 2:.1f}" dy="15" fill="#555">{_esc(en)}</tspan>'
                     "</text>")
    parts.append(f'<line x1="{left}" y1="{y(bench):.1f}" x2="{width - left}" y2="{y(bench):.1f}" stroke="{BENCH}" '
                 'stroke-dasharray="4,4"/>')
    parts.append("</svg>")
    return "".join(parts)
