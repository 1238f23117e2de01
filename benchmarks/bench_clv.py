"""Benchmark opskit.clv against lifetimes in the same run (not a test: speed is measured here, not asserted in CI).

Simulates customers from the BG/NBD process (vectorised, fixed seed; CDNOW's published parameters, 78 weeks, first
purchases spread over 12 weeks: about 2.8 transactions per customer), then times

1. the per-customer summary: ``opskit.clv.summary_from_transactions`` vs
   ``lifetimes.utils.summary_data_from_transaction_data`` (both must give identical frames), and
2. the BG/NBD fit: opskit's weighted fit on unique (frequency, recency, T) rows (including building those rows) vs
   lifetimes' ``BetaGeoFitter.fit`` row by row (parameters must agree to 1e-4 relative).

Usage::

    .venv/bin/python benchmarks/bench_clv.py                    # 1,000,000 customers (minutes on 2 cores)
    .venv/bin/python benchmarks/bench_clv.py --customers 20000  # quick check
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np
import pandas as pd

from opskit import clv


def _timed(function, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="number of simulated customers")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--freq", choices=["D", "W"], default="W", help="summary period (both libraries)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing (the best is kept)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    lifetimes = clv.import_lifetimes()
    start = time.perf_counter()
    tx, _ = clv.simulate_bgnbd_transactions(args.customers, seed=args.seed)
    simulate_s = time.perf_counter() - start
    print(f"simulated {args.customers:,} customers, {len(tx):,} transactions in {simulate_s:.1f} s", flush=True)

    ours_s, ours = _timed(lambda: clv.summary_from_transactions(tx, freq=args.freq), args.repeat)
    print(f"opskit summary      {ours_s:8.2f} s", flush=True)

    def lifetimes_summary():
        with clv._lifetimes_guard():
            return lifetimes.utils.summary_data_from_transaction_data(
                tx, "customer_id", "order_time", monetary_value_col="amount", freq=args.freq)

    theirs_s, theirs = _timed(lifetimes_summary, args.repeat)
    print(f"lifetimes summary   {theirs_s:8.2f} s", flush=True)
    pd.testing.assert_frame_equal(ours, theirs.sort_index(), check_names=False, rtol=1e-10)

    weighted_s, weighted = _timed(lambda: clv.fit_bgnbd(ours), args.repeat)
    print(f"opskit weighted fit {weighted_s:8.2f} s ({weighted.n_unique_rows_:,} unique rows)", flush=True)

    def row_by_row():
        fitter = lifetimes.BetaGeoFitter()
        with clv._lifetimes_guard():
            return fitter.fit(ours["frequency"], ours["recency"], ours["T"])

    rows_s, rows = _timed(row_by_row, args.repeat)
    print(f"lifetimes row fit   {rows_s:8.2f} s", flush=True)
    rel = np.max(np.abs(weighted.params_.to_numpy() / rows.params_.to_numpy() - 1))

    results = {
        "customers": args.customers,
        "transactions": len(tx),
        "freq": args.freq,
        "summary_opskit_s": round(ours_s, 3),
        "summary_lifetimes_s": round(theirs_s, 3),
        "summary_speedup": round(theirs_s / ours_s, 1),
        "fit_opskit_weighted_s": round(weighted_s, 3),
        "fit_lifetimes_rows_s": round(rows_s, 3),
        "fit_speedup": round(rows_s / weighted_s, 1),
        "unique_rows": weighted.n_unique_rows_,
        "max_relative_param_difference": float(f"{rel:.2e}"),
        "params": {k: round(float(v), 6) for k, v in weighted.params_.items()},
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
    }
    print(json.dumps(results, indent=2))
    ok = results["summary_speedup"] >= 8 and results["fit_speedup"] >= 8 and rel <= 1e-4
    print("targets (≥ 8× each, params within 1e-4; set for 1,000,000 customers):", "met" if ok else "NOT met")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
