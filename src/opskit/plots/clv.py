"""CLV charts that work on today's matplotlib and pandas; each returns its Axes and accepts ``ax=``.

lifetimes' own plots draw on ``plt.gca()``/new figures, ignore ``ax`` or break on matplotlib ≥ 3.8; these take the
opskit model objects and tables from :mod:`opskit.clv`, and label axes in both languages.

Examples
--------
>>> from opskit.plots.clv import plot_calibration_vs_holdout
>>> ax = plot_calibration_vs_holdout(calhold, bgnbd)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit import clv
from opskit.i18n import label


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def _grid(model, max_frequency: int | None, max_recency: float | None):
    model._require_fitted()
    max_frequency = int(max_frequency if max_frequency is not None else model.data_range_["max_frequency"])
    max_recency = float(max_recency if max_recency is not None else model.data_range_["max_T"])
    recency = np.arange(0, int(np.floor(max_recency)) + 1, dtype="float64")
    frequency = np.arange(0, max_frequency + 1, dtype="float64")
    rr, ff = np.meshgrid(recency, frequency, indexing="ij")
    frame = pd.DataFrame({"frequency": ff.ravel(), "recency": rr.ravel(), "T": max_recency})
    impossible = (frame["frequency"] == 0) & (frame["recency"] > 0)  # no repeat purchase means recency 0
    frame.loc[impossible, "recency"] = 0.0
    return frame, impossible.to_numpy().reshape(rr.shape), recency, frequency, max_recency


def _matrix(values, impossible, recency, frequency, title, bar_label, ax, cmap):
    ax = _axes(ax)
    data = np.ma.masked_array(values.reshape(impossible.shape), mask=impossible)
    image = ax.imshow(data, aspect="auto", origin="upper", cmap=cmap, interpolation="nearest",
                      extent=(frequency[0] - 0.5, frequency[-1] + 0.5, recency[-1] + 0.5, recency[0] - 0.5))
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label(bar_label)
    ax.set_xlabel(label("历史回购次数 (frequency)", "historical repeat purchases (frequency)"))
    ax.set_ylabel(label("最近一次购买时的顾客年龄 (recency)", "customer age at last purchase (recency)"))
    ax.set_title(title)
    return ax


def plot_frequency_recency_matrix(model, horizon: float = 1.0, *, max_frequency: int | None = None,
                                  max_recency: float | None = None, ax=None, cmap: str = "viridis"):
    """Expected purchases in the next ``horizon`` time units for each (frequency, recency), customers of age
    ``T = max_recency``. Cells that cannot occur (frequency 0 with recency > 0) are left blank.

    Examples
    --------
    >>> plot_frequency_recency_matrix(bgnbd, horizon=4)  # doctest: +SKIP
    """
    frame, impossible, recency, frequency, top = _grid(model, max_frequency, max_recency)
    values = model.expected_purchases(frame, horizon).to_numpy()
    title = label(f"未来 {horizon:g} 个时间单位的预期购买次数", f"expected purchases in the next {horizon:g} time units")
    return _matrix(values, impossible, recency, frequency, title,
                   label("预期购买次数", "expected purchases"), ax, cmap)


def plot_probability_alive_matrix(model, *, max_frequency: int | None = None, max_recency: float | None = None,
                                  ax=None, cmap: str = "magma"):
    """P(alive) for each (frequency, recency), customers of age ``T = max_recency``.

    Examples
    --------
    >>> plot_probability_alive_matrix(bgnbd)  # doctest: +SKIP
    """
    frame, impossible, recency, frequency, top = _grid(model, max_frequency, max_recency)
    values = model.p_alive(frame).to_numpy()
    title = label("顾客仍活跃的概率 P(alive)", "probability the customer is still active, P(alive)")
    return _matrix(values, impossible, recency, frequency, title, label("P(alive)", "P(alive)"), ax, cmap)


def period_transactions_table(summary: pd.DataFrame, model, max_frequency: int = 7, *,
                              frequency_col: str = "frequency", T_col: str = "T") -> pd.DataFrame:
    """Customers by number of repeat purchases, actual vs the model's expected count (Σ P(X(T_i) = n)).

    The model counts are analytic (no simulation), so they are deterministic. The last group is "≥ max".
    """
    clv._require_columns(summary, [frequency_col, T_col], "summary")
    x = np.minimum(summary[frequency_col].to_numpy(dtype="float64"), max_frequency).astype(np.int64)
    actual = np.bincount(x, minlength=max_frequency + 1).astype("float64")
    (ages,), counts = clv._unique_rows(summary[T_col].to_numpy(dtype="float64"))
    expected = np.array([np.sum(counts * model.probability_of_n_purchases(ages, n)) for n in range(max_frequency)])
    expected = np.append(expected, counts.sum() - expected.sum())
    labels = [str(n) for n in range(max_frequency)] + [f"{max_frequency}+"]
    return pd.DataFrame({"frequency": labels, "actual": actual, "model": expected})


def plot_period_transactions(summary: pd.DataFrame, model, max_frequency: int = 7, *, ax=None,
                             frequency_col: str = "frequency", T_col: str = "T"):
    """Bars: number of customers with 0, 1, 2, … repeat purchases, actual vs BG/NBD.

    Examples
    --------
    >>> plot_period_transactions(summary, bgnbd)  # doctest: +SKIP
    """
    table = period_transactions_table(summary, model, max_frequency, frequency_col=frequency_col, T_col=T_col)
    ax = _axes(ax)
    positions = np.arange(len(table))
    ax.bar(positions - 0.2, table["actual"], width=0.4, label=label("实际", "actual"))
    ax.bar(positions + 0.2, table["model"], width=0.4, label=label("模型", "model"))
    ax.set_xticks(positions, table["frequency"])
    ax.set_xlabel(label("回购次数", "number of repeat purchases"))
    ax.set_ylabel(label("顾客数", "customers"))
    ax.set_title(label("回购次数分布: 实际 vs 模型", "repeat purchases per customer: actual vs model"))
    ax.legend()
    return ax


def plot_calibration_vs_holdout(calhold: pd.DataFrame, model, max_frequency: int = 7, *, ax=None):
    """Mean holdout purchases by calibration frequency, actual vs predicted (:func:`opskit.clv.holdout_by_frequency`).

    Examples
    --------
    >>> plot_calibration_vs_holdout(calhold, bgnbd)  # doctest: +SKIP
    """
    table = clv.holdout_by_frequency(calhold, model, max_frequency)
    ax = _axes(ax)
    ax.plot(table.index, table["actual"], marker="o", label=label("实际", "actual"))
    ax.plot(table.index, table["predicted"], marker="s", linestyle="--", label=label("模型预测", "model"))
    ax.set_xticks(table.index, table["label"])
    ax.set_xlabel(label("校准期回购次数", "repeat purchases in calibration"))
    ax.set_ylabel(label("验证期平均购买次数", "mean purchases in holdout"))
    ax.set_title(label("验证期: 实际 vs 预测", "holdout: actual vs predicted"))
    ax.legend()
    return ax


def plot_cumulative_tracking(tracking: pd.DataFrame, calibration_period: float | None = None, *, ax=None):
    """Cumulative repeat transactions over time, actual vs expected (:func:`opskit.clv.cumulative_tracking`),
    with a dashed line at the end of calibration if given (in the table's ``period`` units).

    Examples
    --------
    >>> plot_cumulative_tracking(tracking, calibration_period=39)  # doctest: +SKIP
    """
    clv._require_columns(tracking, ["period", "actual", "predicted"], "tracking")
    ax = _axes(ax)
    ax.plot(tracking["period"], tracking["actual"], label=label("实际", "actual"))
    ax.plot(tracking["period"], tracking["predicted"], linestyle="--", label=label("模型", "model"))
    if calibration_period is not None:
        ax.axvline(calibration_period, color="grey", linestyle=":", label=label("校准期结束", "end of calibration"))
    ax.set_xlabel(label("时间 (模型时间单位)", "time (model time units)"))
    ax.set_ylabel(label("累计回购次数", "cumulative repeat transactions"))
    ax.set_title(label("累计回购追踪", "cumulative repeat-transaction tracking"))
    ax.legend()
    return ax


def plot_clv_deciles(band: pd.DataFrame, *, ax=None):
    """Mean CLV per decile with its bootstrap band (:func:`opskit.clv.clv_decile_band`).

    Examples
    --------
    >>> plot_clv_deciles(clv_decile_band(summary, bgnbd, gamma_gamma))  # doctest: +SKIP
    """
    clv._require_columns(band, ["decile", "clv_mean", "lower", "upper"], "band")
    ax = _axes(ax)
    error = np.vstack([band["clv_mean"] - band["lower"], band["upper"] - band["clv_mean"]])
    ax.bar(band["decile"], band["clv_mean"], yerr=np.clip(error, 0, None), capsize=3)
    ax.set_xticks(band["decile"])
    ax.set_xlabel(label("CLV 十分位 (1 = 最高)", "CLV decile (1 = top)"))
    ax.set_ylabel(label("平均 CLV", "mean CLV"))
    level = float(band["level"].iloc[0]) if "level" in band.columns else None
    suffix = f" ({level:.0%})" if level is not None else ""
    ax.set_title(label("各十分位平均 CLV 与不确定区间" + suffix, "mean CLV by decile with uncertainty band" + suffix))
    return ax
