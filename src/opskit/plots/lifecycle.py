"""Lifecycle charts: members per stage over time, and the stage-transition heatmap.

Each function takes the tidy output of :mod:`opskit.lifecycle`, accepts ``ax=`` and returns the Axes. Labels are
bilingual (:func:`opskit.i18n.label`).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> counts = pd.DataFrame({"prospect": [1, 1], "new": [2, 0], "active": [0, 2], "returned": [0, 0],
...                        "sleeping": [0, 0], "lost": [0, 0], "members": [3, 3]},
...                       index=pd.to_datetime(["2024-01-31", "2024-02-29"]))
>>> ax = plot_stage_counts(counts)
>>> len(ax.get_legend().get_texts())
6
"""

from __future__ import annotations

import pandas as pd

from opskit.i18n import Text, label
from opskit.lifecycle import STAGE_ORDER, STAGES

__all__ = ["STAGE_COLORS", "plot_stage_counts", "plot_transition_heatmap"]

STAGE_COLORS = {
    "prospect": "#b0b0b0",
    "new": "#6baed6",
    "active": "#2171b5",
    "returned": "#41ab5d",
    "sleeping": "#fd8d3c",
    "lost": "#cb181d",
}


def _error(zh: str, en: str) -> ValueError:
    return ValueError(Text(zh, en).render("both"))


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def plot_stage_counts(counts: pd.DataFrame, ax=None, *, share: bool = False, stages=STAGE_ORDER):
    """Stacked areas: members per stage at each snapshot (output of :func:`opskit.lifecycle.stage_counts_over_time`).

    Parameters
    ----------
    share : bool
        Shares of the members at each date instead of counts.
    stages : sequence of stage codes
        Which stages to draw, bottom to top.
    """
    from matplotlib.ticker import PercentFormatter

    missing = [s for s in stages if s not in counts.columns]
    if missing:
        raise _error(f"counts 缺少阶段列 {missing} (用 stage_counts_over_time 生成)",
                     f"counts lacks stage column(s) {missing} (make it with stage_counts_over_time)")
    data = counts[list(stages)].astype("float64")
    if share:
        data = data.div(data.sum(axis=1).where(lambda s: s > 0, 1), axis=0)
    ax = _axes(ax, (9, 4.5))
    ax.stackplot(data.index, *[data[s].to_numpy() for s in stages], labels=[str(STAGES[s]) for s in stages],
                 colors=[STAGE_COLORS[s] for s in stages], alpha=0.9)
    ax.set_xlim(data.index.min(), data.index.max())
    ax.set_ylabel(label("会员占比", "share of members") if share else label("会员数", "members"))
    ax.set_xlabel(label("快照日期", "snapshot date"))
    if share:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(label("各生命周期阶段的会员数", "Members by lifecycle stage"))
    handles, labels_ = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels_[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def plot_transition_heatmap(matrix: pd.DataFrame, ax=None, *, cmap: str = "Blues"):
    """Heatmap of a transition matrix (:func:`opskit.lifecycle.transition_matrix`): counts, or row shares when the
    matrix is normalised (all rows sum to 1 or 0)."""
    import seaborn as sns

    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise _error("需要 transition_matrix 的结果", "pass the output of transition_matrix")
    values = matrix.astype("float64")
    sums = values.sum(axis=1)
    is_share = bool((((sums - 1).abs() < 1e-9) | (sums == 0)).all())
    ax = _axes(ax, (8, 5.5))
    sns.heatmap(values, annot=True, fmt=".0%" if is_share else ",.0f", cmap=cmap, cbar=False, linewidths=0.5,
                linecolor="white", ax=ax, annot_kws={"fontsize": 9})
    ax.set_xlabel(matrix.columns.name or label("期末阶段", "stage after"))
    ax.set_ylabel(matrix.index.name or label("期初阶段", "stage before"))
    ax.set_title(label("阶段迁移矩阵", "Stage transitions") + (" (%)" if is_share else ""))
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    return ax
