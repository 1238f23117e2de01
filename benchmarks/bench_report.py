"""Benchmark ``opskit report`` on a large export (target: 10M transactions in ≤ 60 s and ≤ 4 GB peak memory).

Not a test: speed is measured here, never asserted in CI. The script

1. generates a synthetic export in the opskit standard layout (the eight columns of :mod:`opskit.schema`, UTF-8 CSV)
   once, into a cache folder (default ``~/.cache/opskit-bench``; reused on later runs);
2. runs ``python -m opskit.cli report EXPORT --out DIR --force`` in a **child process** and measures its wall time
   and its peak resident memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest child's peak RSS);
3. checks that the report and the work lists were written and that they hold no raw phone number;
4. times the reference in the same run, a plain ``pandas.read_csv`` of the export, and prints the ratio.

Usage::

    .venv/bin/python benchmarks/bench_report.py                        # 10,000,000 rows
    .venv/bin/python benchmarks/bench_report.py --rows 1000000         # quicker check
    .venv/bin/python benchmarks/bench_report.py --json report-bench.json

The synthetic chain: 40 stores, three channels, 2 years (2023-2024), a pool of ``rows / 5`` members, 30 % walk-in
sales without a member id, 5 % of rows partial returns booked 1-20 days after their sale (same order id).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHUNK = 1_000_000
DAYS = 730


def _chunk(rng: np.random.Generator, n: int, first_order: int, day_from: int, day_to: int, members: int
           ) -> pd.DataFrame:
    """``n`` rows (sales and their partial returns) dated between two day offsets from 2023-01-01."""
    n_returns = n // 20
    n_sales = n - n_returns
    start = np.datetime64("2023-01-01T00:00:00")
    seconds = np.sort(rng.integers(day_from * 86_400, day_to * 86_400, n_sales))
    when = start + seconds.astype("timedelta64[s]")
    member_no = rng.integers(1, members + 1, n_sales)
    customer = np.char.add("M", np.char.zfill(member_no.astype(str), 7)).astype(object)
    customer[rng.random(n_sales) < 0.3] = ""  # walk-ins: no member id
    order = np.char.add("O", np.char.zfill(np.arange(first_order, first_order + n_sales).astype(str), 10))
    units = rng.integers(1, 5, n_sales)
    amount = np.round(units * rng.gamma(4.0, 60.0, n_sales), 2)
    store = np.char.add("S", np.char.zfill(rng.integers(1, 41, n_sales).astype(str), 2))
    channel = rng.choice(np.array(["pos", "mini_program", "wecom_group"]), n_sales, p=[0.7, 0.2, 0.1])
    returned = rng.choice(n_sales, n_returns, replace=False)
    return_when = when[returned] + rng.integers(86_400, 20 * 86_400, n_returns).astype("timedelta64[s]")
    frame = pd.DataFrame({
        "order_id": np.concatenate([order, order[returned]]),
        "order_time": np.concatenate([when, return_when]),
        "customer_id": np.concatenate([customer, customer[returned]]),
        "store_id": np.concatenate([store, store[returned]]),
        "channel": np.concatenate([channel, channel[returned]]),
        "kind": np.array(["sale"] * n_sales + ["return"] * n_returns),
        "units": np.concatenate([units, -np.ones(n_returns, dtype="int64")]),
        "amount": np.concatenate([amount, -np.round(amount[returned] / units[returned], 2)]),
    })
    return frame.sort_values(["order_time", "order_id"], kind="stable", ignore_index=True)


def synthetic_export(rows: int, folder: Path, seed: int = 2025) -> Path:
    """Write (once) a synthetic standard-layout export of ``rows`` rows; returns its path."""
    path = folder / f"synthetic_{rows}_{seed}.csv"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    members = max(rows // 5, 10)
    chunks = max(1, -(-rows // CHUNK))
    partial = path.with_suffix(".part")
    with partial.open("w", encoding="utf-8", newline="") as out:
        first_order, written = 0, 0
        for i in range(chunks):
            n = min(CHUNK, rows - written)
            frame = _chunk(rng, n, first_order, DAYS * i // chunks, DAYS * (i + 1) // chunks, members)
            frame["order_time"] = frame["order_time"].dt.strftime("%Y-%m-%d %H:%M:%S")
            frame.to_csv(out, index=False, header=(i == 0), float_format="%.2f")
            first_order += n
            written += n
            print(f"  generated {written:,} / {rows:,} rows", file=sys.stderr, flush=True)
    partial.rename(path)
    return path


def run_report(export: Path, out: Path) -> dict:
    """Run the report in a child process; wall time, peak RSS of the child, exit code."""
    command = [sys.executable, "-m", "opskit.cli", "report", str(export), "--out", str(out), "--force",
               "--as-of", "2024-12-31"]
    env = dict(os.environ, OPSKIT_LANGUAGE="both")
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return {"exit_code": done.returncode, "wall_s": round(wall, 2), "peak_rss_gib": round(peak_kib / 2**20, 3),
            "stderr_tail": done.stderr[-1500:], "stdout_tail": done.stdout[-1500:]}


def run_reference(export: Path) -> float:
    """The reference in the same run: a plain ``pandas.read_csv`` of the export in a child process (wall seconds).
    No report on pandas can be faster than reading its input once; the ratio says how much the method adds."""
    code = f"import pandas as pd; pd.read_csv({str(export)!r}, dtype=str, keep_default_na=False)"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "opskit-bench")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    export = synthetic_export(args.rows, args.cache)
    generate = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        figures = run_report(export, out)
        if figures["exit_code"] == 0:
            from opskit.privacy import assert_no_phones

            written = sorted(p.name for p in out.iterdir())
            for path in out.iterdir():
                if path.suffix in (".html", ".csv"):
                    assert_no_phones(path.read_text(encoding="utf-8-sig"), where=path.name)
            figures["files"] = written
            figures["html_kib"] = round((out / "report.html").stat().st_size / 1024, 1)
    reference = run_reference(export)
    figures.update(reference_read_csv_s=round(reference, 2), ratio_to_reference=round(figures["wall_s"] / reference, 2))
    figures.update(rows=args.rows, export_mib=round(export.stat().st_size / 2**20, 1),
                   generate_s=round(generate, 1), python=platform.python_version(), pandas=pd.__version__,
                   cpus=os.cpu_count(), target="wall ≤ 60 s, peak RSS ≤ 4 GiB")
    print(json.dumps({k: v for k, v in figures.items() if not k.endswith("_tail")}, indent=1))
    if figures["exit_code"] != 0:
        print(figures["stderr_tail"], file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
