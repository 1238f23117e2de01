"""Benchmark the compass app's update time (target: median ≤ 50 ms per control change).

Not a test: speed is measured here, never asserted in CI. The script builds the course KPI cube once (timed
separately: it is paid when the app opens), then times the Python side of one update, i.e. from setting a control's
``.value`` to the state and all HTML/SVG outputs being ready, for

1. slider moves (what-if only: the most frequent interaction),
2. store / benchmark / period changes the app has not seen yet (cold: benchmark, attribution, radar computed),
3. the same changes seen before (warm: served from the per-choice cache),

and, for comparison, the same two pictures drawn with matplotlib and encoded as PNG (the approach the SVG replaced).

Usage::

    .venv/bin/python benchmarks/bench_compass.py
    .venv/bin/python benchmarks/bench_compass.py --json compass-bench.json
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import platform
import statistics
import time


def _stats(samples: list[float]) -> dict:
    ms = sorted(s * 1000 for s in samples)
    return {"n": len(ms), "median_ms": statistics.median(ms), "p90_ms": ms[int(0.9 * (len(ms) - 1))],
            "max_ms": ms[-1]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from opskit.compass import BENCHMARKS, _course_cube
    from opskit.widgets.compass import compass_app

    start = time.perf_counter()
    cube = _course_cube()
    build = time.perf_counter() - start

    app = compass_app(cube, store="S04", period="2025-05")
    slider_times = []
    for factor, value in itertools.product(app.sliders, [5, 10, -5, 15, 0, 20, -10, 0]):
        t0 = time.perf_counter()
        app.sliders[factor].value = value
        slider_times.append(time.perf_counter() - t0)

    periods = [p for p in cube.periods if p >= "2024-07"]
    choices = list(itertools.product(cube.stores, periods, BENCHMARKS))
    cold, warm = [], []
    for timings in (cold, warm):
        for store, period, kind in choices:
            t0 = time.perf_counter()
            app.store.value, app.period.value, app.benchmark.value = store, period, kind
            # Three assignments may trigger up to three refreshes; time one refresh of the final choice as well.
            timings.append(time.perf_counter() - t0)
    one_cold = []
    app._cache.clear()
    for store, period, kind in choices[:60]:
        app.store.unobserve(app.refresh, names="value")
        app.period.unobserve(app.refresh, names="value")
        app.benchmark.unobserve(app.refresh, names="value")
        app.store.value, app.period.value, app.benchmark.value = store, period, kind
        for control in (app.store, app.period, app.benchmark):
            control.observe(app.refresh, names="value")
        t0 = time.perf_counter()
        app.refresh()
        one_cold.append(time.perf_counter() - t0)

    from opskit.plots.compass import plot_compass_radar, plot_gap_waterfall
    import matplotlib.pyplot as plt

    png = []
    for store in cube.stores[:4]:
        t0 = time.perf_counter()
        fig = plt.figure(figsize=(12, 5))
        plot_compass_radar(cube.radar(store, "2025-05", "target"), ax=fig.add_subplot(1, 2, 1, projection="polar"))
        plot_gap_waterfall(cube.attribution(store, "2025-05", "target"), ax=fig.add_subplot(1, 2, 2))
        fig.savefig(io.BytesIO(), format="png", dpi=90)
        plt.close(fig)
        png.append(time.perf_counter() - t0)

    result = {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "cube_build_s": build,
        "cube_rows": int(len(cube.table)),
        "slider_update": _stats(slider_times),
        "picker_change_cold_3_controls": _stats(cold),
        "picker_change_warm_3_controls": _stats(warm),
        "one_refresh_cold": _stats(one_cold),
        "matplotlib_png_redraw": _stats(png),
    }
    print(f"cube build: {build:.2f} s ({result['cube_rows']} store-period rows)")
    for key in ("slider_update", "picker_change_cold_3_controls", "picker_change_warm_3_controls", "one_refresh_cold",
                "matplotlib_png_redraw"):
        s = result[key]
        print(f"{key:32s} n={s['n']:4d}  median {s['median_ms']:7.2f} ms  p90 {s['p90_ms']:7.2f} ms  "
              f"max {s['max_ms']:7.2f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
