"""RFM charts: segment sizes against revenue share, the R×F score heatmap, the Pareto curve.

Each function takes the tidy output of :mod:`opskit.rfm`, draws with seaborn, accepts ``ax=`` and returns the Axes.
Labels are bilingual (:func:`opskit.i18n.label`); :mod:`opskit.plots` sets a Chinese-capable font list on import.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> from opskit.rfm import pareto_curve
>>> from opskit.plots.rfm import plot_pareto
>>> ax = plot_pareto(pareto_curve(pd.DataFrame({"net_spend": [70.0, 20.0, 5.0, 5.0]})))
>>> ax.get_xlabel()[:4]
'客户占比'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.i18n import Text, label
from opskit.rfm import pareto_curve

__all__ = ["plot_segment_sizes", "plot_rf_heatmap", "plot_pareto"]


def _error(zh: str, en: str) -> ValueError:
    return ValueError(Text(zh, en).render("both"))


def _axes(ax, figsize: tuple[float, float]):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def plot_segment_sizes(summary: pd.DataFrame, ax=None, *, palette: str | list | None = None):
    """Paired horizontal bars per segment: share of customers next to share of revenue.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`opskit.rfm.segment_summary` (``label``, ``customer_share``, ``revenue_share``).
    ax : matplotlib Axes, optional
    palette : optional
        A seaborn palette for the two bars.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from opskit.rfm import segment_customers, segment_summary
    >>> rfm = pd.DataFrame({"recency": [5, 200], "frequency": [4, 1], "monetary": [3000.0, 80.0],
    ...                     "net_spend": [3000.0, 80.0]})
    >>> ax = plot_segment_sizes(segment_summary(segment_customers(rfm)))
    >>> len(ax.get_yticklabels())
    8
    """
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    missing = [c for c in ("label", "customer_share", "revenue_share") if c not in summary.columns]
    if missing:
        raise _error(f"汇总表缺少列 {missing}(用 segment_summary 生成)",
                     f"the summary lacks column(s) {missing} (make it with segment_summary)")
    measures = {"customer_share": label("客户占比", "customers"), "revenue_share": label("销售额占比", "revenue")}
    long = summary.melt(id_vars="label", value_vars=list(measures), var_name="measure", value_name="share")
    long["measure"] = long["measure"].map(measures)
    long["share"] = long["share"].astype("float64").fillna(0.0)
    ax = _axes(ax, (8, 0.45 * len(summary) + 1.5))
    sns.barplot(data=long, y="label", x="share", hue="measure", orient="h", ax=ax, palette=palette,
                order=list(summary["label"]), hue_order=list(measures.values()))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label("占比", "share"))
    ax.set_ylabel(label("客户分群", "segment"))
    ax.set_title(label("各分群的客户占比与销售额占比", "Share of customers and of revenue by segment"))
    ax.legend(title=None, loc="lower right")
    return ax


def plot_rf_heatmap(
    scored: pd.DataFrame,
    value: str = "customers",
    ax=None,
    *,
    bins: int | None = None,
    revenue_col: str = "net_spend",
    cmap: str = "Blues",
):
    """Heatmap of R score (rows, most recent on top) × F score (columns): customers or revenue per cell.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`opskit.rfm.rfm_scores` (or of ``segment_customers`` with a score scheme).
    value : {"customers", "revenue"}
        Count customers, or sum ``revenue_col``.
    ax : matplotlib Axes, optional
    bins : int, optional
        Grid size; default the larger of 5 and the highest score present. Empty cells show 0.
    revenue_col, cmap : str

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> scored = pd.DataFrame({"r_score": [5, 1], "f_score": [4, 1], "net_spend": [900.0, 50.0]})
    >>> ax = plot_rf_heatmap(scored, "revenue")
    >>> [t.get_text() for t in ax.get_yticklabels()][0]
    '5'
    """
    import seaborn as sns

    if value not in ("customers", "revenue"):
        raise _error(f"value={value!r} 无效，可选 'customers' 或 'revenue'",
                     f"invalid value={value!r}; choose 'customers' or 'revenue'")
    needed = ["r_score", "f_score"] + ([revenue_col] if value == "revenue" else [])
    missing = [c for c in needed if c not in scored.columns]
    if missing:
        raise _error(f"缺少列 {missing}: 先用 opskit.rfm.rfm_scores 计算分数",
                     f"missing column(s) {missing}: compute scores with opskit.rfm.rfm_scores first")
    top = int(max(bins or 5, scored["r_score"].max(), scored["f_score"].max()))
    levels = list(range(1, top + 1))
    if value == "customers":
        grid = scored.groupby(["r_score", "f_score"]).size()
        fmt, bar = "d", label("客户数", "customers")
    else:
        grid = scored.groupby(["r_score", "f_score"])[revenue_col].sum()
        fmt, bar = ",.0f", label("销售额", "revenue")
    full = pd.MultiIndex.from_product([levels[::-1], levels], names=["r_score", "f_score"])
    matrix = grid.reindex(full, fill_value=0).unstack("f_score")
    matrix = matrix.loc[levels[::-1], levels]
    if value == "customers":
        matrix = matrix.astype("int64")
    ax = _axes(ax, (6, 5))
    sns.heatmap(matrix, annot=True, fmt=fmt, cmap=cmap, ax=ax, cbar_kws={"label": bar}, linewidths=0.5)
    ax.set_xlabel(label("F 分数(频率)", "F score (frequency)"))
    ax.set_ylabel(label("R 分数(5 = 最近)", "R score (5 = most recent)"))
    ax.set_title(label("R×F 分数矩阵", "R × F score grid") + f" · {bar}")
    return ax


def plot_pareto(curve: pd.DataFrame, ax=None, *, mark: float | None = 0.2, value_col: str = "net_spend"):
    """The Pareto curve: cumulative share of revenue against the top share of customers.

    Parameters
    ----------
    curve : DataFrame
        Output of :func:`opskit.rfm.pareto_curve`, or an RFM table (the curve is then computed from ``value_col``).
    ax : matplotlib Axes, optional
    mark : float or None
        Mark the revenue share of this top share of customers (default the top 20 %).

    Returns
    -------
    matplotlib Axes
    """
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    if not {"customer_share", "revenue_share"} <= set(curve.columns):
        curve = pareto_curve(curve, value_col)
    ax = _axes(ax, (6, 4.5))
    sns.lineplot(data=curve, x="customer_share", y="revenue_share", ax=ax,
                 label=label("累计销售额占比", "cumulative revenue share"))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=label("完全平均", "perfect equality"))
    if mark is not None:
        share = float(np.interp(mark, curve["customer_share"], curve["revenue_share"]))
        ax.axvline(mark, color="tab:red", linewidth=1, linestyle=":")
        # One language per line: on one line the bilingual note runs past the right edge of a 6-inch chart.
        note = Text(f"前 {mark:.0%} 客户贡献 {share:.0%}", f"top {mark:.0%} of customers bring {share:.0%}")
        ax.annotate(
            note.render(sep="\n"),
            xy=(mark, share),
            # Right of the mark on the left half, left of it on the right half, below the curve.
            xytext=(mark + 0.05 if mark <= 0.5 else mark - 0.05, max(share - 0.2, 0.05)),
            ha="left" if mark <= 0.5 else "right",
            arrowprops={"arrowstyle": "->", "color": "tab:red"},
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(label("客户占比(按消费额从高到低)", "share of customers (highest spend first)"))
    ax.set_ylabel(label("销售额占比", "share of revenue"))
    ax.set_title(label("帕累托曲线", "Pareto curve"))
    ax.legend(loc="lower right")
    return ax

