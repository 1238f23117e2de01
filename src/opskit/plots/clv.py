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
    data_range = getattr(model, "data_range_", None) or {}
    if (max_frequency is None and "max_frequency" not in data_range) or (max_recency is None and "max_T" not in data_range):
        raise clv.CLVDataError(
            clv._msg("模型不是在数据上拟合的: 请给出 max_frequency 和 max_recency",
                     "the model was not fitted on data: give max_frequency and max_recency")
        )
    max_frequency = int(max_frequency if max_frequency is not None else data_range["max_frequency"])
    max_recency = float(max_recency if max_recency is not None else data_range["max_T"])
    recency = np.arange(0, int(np.floor(max_recency)) + 1, dtype="float64")
    frequency = np.arange(0, max_frequency + 1, dtype="float64")
    rr, ff = np.meshgrid(recency, frequency, indexing="ij")
    frame = pd.DataFrame({"frequency": ff.ravel(), "recency": rr.ravel(), "T": max_recency})
    impossible = (frame["frequency"] == 0) & (frame["recency"] > 0)  # no repeat purchase means recency 0
    frame.loc[impossible, "recency"] = 0.0
    return frame, impossible.to_numpy().reshape(rr.shape), recency, frequency, max_recency


_UNIT_NAMES = {"D": ("天", "days"), "W": ("周", "weeks"), "M": ("个月", "months")}


def _unit_names(model) -> tuple[str, str]:
    """The model's time unit in words ("天", "days"); generic words for multiplied or unknown units."""
    unit = getattr(model, "time_unit_", None) or {}
    if unit.get("freq") in _UNIT_NAMES and float(unit.get("freq_multiplier", 1) or 1) == 1:
        return _UNIT_NAMES[unit["freq"]]
    return "个时间单位", "time units"


def _matrix(values, impossible, recency, frequency, title, bar_label, ax, cmap):
    ax = _axes(ax)
    data = np.ma.masked_array(values.reshape(impossible.shape), mask=impossible)
    image = ax.imshow(data, aspect="auto", origin="upper", cmap=cmap, interpolation="nearest",
                      extent=(frequency[0] - 0.5, frequency[-1] + 0.5, recency[-1] + 0.5, recency[0] - 0.5))
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label(bar_label)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(label("历史回购次数 (frequency)", "repeat purchases (frequency)"))
    ax.set_ylabel(label("末次购买时的顾客年龄 (recency)", "age at last purchase (recency)"))
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
    zh_unit, en_unit = _unit_names(model)
    title = label(f"未来 {horizon:g} {zh_unit}的预期购买次数", f"expected purchases in the next {horizon:g} {en_unit}")
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
    title = label("仍活跃的概率 P(alive)", "probability still active")
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


def plot_cumulative_tracking(tracking: pd.DataFrame, calibration_period=None, *, x: str = "period", ax=None):
    """Cumulative repeat transactions over time, actual vs expected (:func:`opskit.clv.cumulative_tracking`),
    with a dotted line at the end of calibration if given.

    Parameters
    ----------
    calibration_period : float or date-like, optional
        End of calibration, in the units of the x axis (a ``period`` number, or a date when ``x="date"``).
    x : {"period", "date"}
        Plot against the model's time units or against calendar dates (clearer for daily models).

    Examples
    --------
    >>> plot_cumulative_tracking(tracking, calibration_period=39)  # doctest: +SKIP
    >>> plot_cumulative_tracking(tracking, "2024-12-31", x="date")  # doctest: +SKIP
    """
    if x not in ("period", "date"):
        raise clv.CLVDataError(clv._msg("x 必须是 'period' 或 'date'", "x must be 'period' or 'date', got {x!r}", x=x))
    clv._require_columns(tracking, [x, "actual", "predicted"], "tracking")
    ax = _axes(ax)
    ax.plot(tracking[x], tracking["actual"], label=label("实际", "actual"))
    ax.plot(tracking[x], tracking["predicted"], linestyle="--", label=label("模型", "model"))
    if calibration_period is not None:
        where = pd.Timestamp(calibration_period) if x == "date" else calibration_period
        ax.axvline(where, color="grey", linestyle=":", label=label("校准期结束", "end of calibration"))
    if x == "date":
        ax.set_xlabel(label("日期", "date"))
        ax.figure.autofmt_xdate()
    else:
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
    ax.set_title(label("各十分位平均 CLV" + suffix.replace("(", "(区间 "), "mean CLV by decile" + suffix.replace("(", "(band ")))
    return ax


def plot_customer_timelines(
    transactions: pd.DataFrame,
    customer_ids: list,
    calibration_end,
    holdout_end=None,
    *,
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    kind_col: str = "kind",
    ax=None,
):
    """One line per customer: her purchase days up to ``calibration_end`` and, if ``holdout_end`` is given, after it.

    The picture behind frequency, recency and T: ● first purchase, ● repeat purchases (frequency = their number,
    same-day purchases merged), the line from the first purchase to ``calibration_end`` is T, and the last repeat
    purchase marks recency. Holdout purchases are drawn as hollow circles. Only ``"sale"`` rows are purchases.
    Each label gives the customer id with her frequency (x), recency (t_x) and T in days.

    Examples
    --------
    >>> plot_customer_timelines(tx, ["M000001", "M000002"], "2024-12-31", "2025-06-30")  # doctest: +SKIP
    """
    clv._require_columns(transactions, [customer_col, time_col], "transactions")
    ids = list(customer_ids)
    if not ids:
        raise clv.CLVDataError(clv._msg("customer_ids 不能为空", "customer_ids must not be empty"))
    rows = transactions[transactions[customer_col].isin(ids)]
    if kind_col in rows.columns:
        rows = rows[rows[kind_col].astype(str) == "sale"]
    missing = [i for i in ids if i not in set(rows[customer_col])]
    if missing:
        raise clv.CLVDataError(
            clv._msg("这些顾客没有购买记录: {ids}", "these customers have no purchases: {ids}", ids=missing)
        )
    cal_end = clv._timestamp(calibration_end, "calibration_end").normalize()
    end = clv._timestamp(holdout_end, "holdout_end").normalize() if holdout_end is not None else cal_end
    days = pd.DataFrame({"c": rows[customer_col].to_numpy(),
                         "day": pd.to_datetime(rows[time_col]).dt.normalize().to_numpy()}).drop_duplicates()
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 1.5 + 0.9 * len(ids)))
    labels = []
    for position, customer in enumerate(ids):
        own = np.sort(days.loc[days["c"] == customer, "day"].to_numpy())
        calibration = own[own <= cal_end.to_datetime64()]
        holdout = own[(own > cal_end.to_datetime64()) & (own <= end.to_datetime64())]
        y = len(ids) - 1 - position
        if len(calibration):
            first = pd.Timestamp(calibration[0])
            ax.hlines(y, first, cal_end, color="0.6", linewidth=1.5)
            ax.plot([first], [y], "o", color="C0", markersize=8)
            ax.plot(calibration[1:], np.full(len(calibration) - 1, y), "o", color="C1", markersize=8)
            frequency = len(calibration) - 1
            recency = (pd.Timestamp(calibration[-1]) - first).days
            age = (cal_end - first).days
            ax.annotate(f"x = {frequency}, t_x = {recency}, T = {age}", (first, y), xytext=(0, 9),
                        textcoords="offset points", fontsize="small", color="0.25")
        else:
            ax.annotate(label("校准期内未购买", "no purchase in calibration"), (cal_end, y), xytext=(-4, 9),
                        textcoords="offset points", fontsize="small", color="0.25", ha="right")
        labels.append(str(customer))
        if len(holdout):
            ax.plot(holdout, np.full(len(holdout), y), "o", markerfacecolor="none", color="C2", markersize=8)
    ax.axvline(cal_end, color="black", linestyle=":", linewidth=1)
    if holdout_end is not None:
        ax.axvspan(cal_end, end, color="0.93", zorder=0)
    ax.set_yticks(np.arange(len(ids))[::-1], labels)
    ax.set_ylim(-0.6, len(ids) + 0.4)  # room above the top line for the legend
    ax.set_xlabel(label("日期", "date"))
    ax.set_title(label("顾客购买时间线", "purchase timelines"))
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="none", color="C0", label=label("首购", "first purchase")),
        Line2D([], [], marker="o", linestyle="none", color="C1", label=label("回购", "repeat purchase")),
        Line2D([], [], marker="o", linestyle="none", markerfacecolor="none", color="C2",
               label=label("验证期购买", "holdout purchase")),
        Line2D([], [], color="black", linestyle=":", label=label("校准期结束", "end of calibration")),
    ]
    shown = handles if holdout_end is not None else handles[:2] + handles[3:]
    ax.legend(handles=shown, loc="upper left", ncol=2, fontsize="small", frameon=False)
    ax.figure.autofmt_xdate()
    return ax
