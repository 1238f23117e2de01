"""Regenerate the shipped dataset: ``python -m opskit.datasets.build [--out DIR] [--check]``.

Every file is rendered to bytes in memory with explicit formatting (fixed decimals, ISO dates, ``\\n`` line ends,
sorted rows, UTF-8 with BOM for the learner CSVs), so the same seed gives byte-identical files on any machine.
``--check`` regenerates without writing and exits 1, listing the files that drifted.

Examples
--------
>>> files = render_files(seed=5, n_members=300)
>>> "orders.csv" in files and files["orders.csv"][:3] == b"\\xef\\xbb\\xbf"
True
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from opskit.datasets import simulate as sim
from opskit.datasets.chain import data_dir, transactions_from
from opskit.datasets.messy import make_messy_exports
from opskit.i18n import Text

DEFAULT_SEED = 2025
DEFAULT_N_MEMBERS = 12_000
BOM = "\ufeff"
DATETIME = "%Y-%m-%d %H:%M:%S"
DATE = "%Y-%m-%d"

# Column formats per learner file: "date", "datetime", "money" (2 decimals), "float:N", "int", "bool", "str".
FORMATS: dict[str, dict[str, str]] = {
    "stores.csv": {"store_id": "str", "store_name": "str", "city": "str", "format": "str", "area_m2": "int",
                   "staff": "int", "opened": "date"},
    "store_targets.csv": {"store_id": "str", "month": "date", "sales_target": "money"},
    "members.csv": {"customer_id": "str", "join_date": "date", "join_store_id": "str", "join_channel": "str",
                    "gender": "str", "birth_year": "int", "city": "str", "surname": "str", "phone": "str",
                    "tier": "str"},
    "orders.csv": {"order_id": "str", "order_time": "datetime", "customer_id": "str", "store_id": "str",
                   "channel": "str", "units": "int", "list_amount": "money", "discount_amount": "money",
                   "amount": "money", "promo": "str"},
    "order_lines.csv": {"order_id": "str", "line_no": "int", "line_type": "str", "line_time": "datetime",
                        "sku": "str", "category": "str", "quantity": "int", "list_price": "money",
                        "unit_price": "money", "amount": "money"},
    "footfall.csv": {"date": "date", "store_id": "str", "passers_by": "int", "visitors": "int",
                     "pos_orders": "int", "staff_hours": "float:1"},
    "campaign.csv": {"campaign_id": "str", "customer_id": "str", "group": "str", "send_date": "date",
                     "window_end": "date", "coupon_value": "money"},
    "ground_truth/members_truth.csv": {
        "customer_id": "str", "prospect": "bool", "lam": "float:8", "p_drop": "float:8", "nu": "float:8",
        "joined_in_calibration": "bool", "alive_at_calibration_end": "bool", "dropout_date": "date",
        "calibration_orders": "int", "holdout_orders": "int", "holdout_natural_orders": "int",
        "holdout_spend": "money"},
    "ground_truth/campaign_truth.csv": {"customer_id": "str", "group": "str", "natural_purchase": "bool",
                                        "coupon_purchase": "bool", "purchased": "bool"},
}
_SOURCE = {
    "stores.csv": "stores", "store_targets.csv": "store_targets", "members.csv": "members", "orders.csv": "orders",
    "order_lines.csv": "order_lines", "footfall.csv": "footfall", "campaign.csv": "campaign",
    "ground_truth/members_truth.csv": "members_truth", "ground_truth/campaign_truth.csv": "campaign_truth",
}
MESSY_ENCODINGS = {"messy/pos_export.csv": "gbk", "messy/online_shop_export.csv": "utf-8-sig",
                   "messy/wechat_export.csv": "utf-8"}


def _format_column(values: pd.Series, kind: str) -> np.ndarray:
    missing = values.isna().to_numpy()
    if kind == "str":
        out = values.astype(object).where(~missing, "").astype(str).to_numpy()
    elif kind in ("date", "datetime"):
        out = values.dt.strftime(DATE if kind == "date" else DATETIME).to_numpy(dtype=object)
    elif kind == "int":
        out = values.to_numpy(dtype="int64").astype(str)
    elif kind == "bool":
        out = np.where(values.fillna(False).to_numpy(dtype=bool), "true", "false")
    elif kind == "money" or kind.startswith("float:"):
        decimals = 2 if kind == "money" else int(kind.split(":")[1])
        numbers = values.to_numpy(dtype="float64")
        if decimals == 2:  # exact: via integer cents
            cents = np.round(np.nan_to_num(numbers) * 100).astype(np.int64)
            out = np.array([f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in cents.tolist()])
        else:
            out = np.array([f"{v:.{decimals}g}" if decimals >= 6 else f"{v:.{decimals}f}"
                            for v in np.nan_to_num(numbers).tolist()])
    else:  # pragma: no cover - programming error
        raise KeyError(kind)
    out = out.astype(object)
    out[missing] = ""
    return out


def to_csv_bytes(frame: pd.DataFrame, formats: dict[str, str] | None = None, encoding: str = "utf-8-sig") -> bytes:
    """Render a frame as CSV bytes with explicit formatting (``formats=None``: already all strings)."""
    if formats is not None:
        if list(frame.columns) != list(formats):
            raise ValueError(f"columns {list(frame.columns)} differ from the format spec {list(formats)}")
        frame = pd.DataFrame({c: _format_column(frame[c], k) for c, k in formats.items()})
    text = frame.to_csv(index=False, lineterminator="\n")
    return text.encode(encoding)


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def answer_key(tables: dict[str, pd.DataFrame], seed: int, n_members: int) -> dict:
    """Trainer-only summary: true parameters, planted weak store, campaign effect, tier rule, calendar."""
    params = dict(zip(tables["params"]["name"], tables["params"]["value"]))
    store_truth = tables["store_truth"]
    weak = store_truth[store_truth["weak"]].iloc[0]
    peers = store_truth[~store_truth["weak"]]
    ct = tables["campaign_truth"]
    treated = ct[ct["group"] == "treatment"]
    control = ct[ct["group"] == "control"]
    truth = tables["members_truth"]
    buyers = truth[~truth["prospect"]]
    p = sim.ChainParams()
    return {
        "seed": seed,
        "n_members": n_members,
        "calendar": {"start": str(sim.START.date()), "calibration_end": str(sim.CALIBRATION_END.date()),
                     "holdout_start": str(sim.HOLDOUT_START.date()), "end": str(sim.END.date()),
                     "time_unit": "day", "membership_programme_launch": str(sim.START.date())},
        "parameters": {
            "bgnbd": {"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b,
                      "note": "lambda ~ Gamma(shape r, rate alpha) per day; p ~ Beta(a, b)"},
            "gamma_gamma": {"p": p.p_gg, "q": p.q, "gamma": p.gamma,
                            "note": "nu ~ Gamma(shape q, rate gamma); order value ~ Gamma(shape p, rate nu)",
                            "mean_order_value": p.p_gg * p.gamma / (p.q - 1)},
            "other": {k: v for k, v in params.items() if k not in ("r", "alpha", "a", "b", "p_gg", "q", "gamma")},
            "realised": {"mean_lambda_per_year": round(float(buyers["lam"].mean() * 365), 4),
                         "mean_p_drop": round(float(buyers["p_drop"].mean()), 4),
                         "buyers": int(len(buyers)), "prospects": int(truth["prospect"].sum())},
        },
        "stores_truth": [
            {"store_id": str(r.store_id), "traffic": round(float(r.traffic), 3),
             "conversion": round(float(r.conversion), 3), "entry_rate": round(float(r.entry_rate), 3)}
            for r in store_truth.itertuples()
        ],
        "weak_store": {
            "store_id": str(weak["store_id"]),
            "factor": str(weak["weak_factor"]),
            "factor_zh": "成交率",
            "true_conversion": round(float(weak["conversion"]), 3),
            "peer_median_conversion": round(float(peers["conversion"].median()), 3),
            "story": "客流正常 (traffic is normal), 成交率低 (low conversion) -> 长期达成率约 55%; 客单价与连带率正常",
            "targets_rule": "target = store-month sales x max(peer median conversion / store conversion, 1) x ~1.06",
        },
        "campaign": {
            "campaign_id": sim.CAMPAIGN_ID,
            "send_date": str(sim.CAMPAIGN_SEND.date()),
            "window_end": str(sim.CAMPAIGN_WINDOW_END.date()),
            "eligibility": f"members whose last purchase was {sim.CAMPAIGN_SLEEP_DAYS[0]}-"
                           f"{sim.CAMPAIGN_SLEEP_DAYS[1]} days before the send date",
            "assignment": f"random, {sim.CAMPAIGN_TREATED_SHARE:.0%} treatment",
            "coupon_value": sim.CAMPAIGN_COUPON,
            "designed_effect": "each treated member independently makes one extra coupon purchase in the window "
                               f"with probability {sim.CAMPAIGN_COUPON_RESPONSE}",
            "treated": int(len(treated)),
            "control": int(len(control)),
            "observed_rate_treatment": round(float(treated["purchased"].mean()), 4),
            "observed_rate_control": round(float(control["purchased"].mean()), 4),
            "natural_rate_treatment": round(float(treated["natural_purchase"].mean()), 4),
            "true_effect_on_treated": round(
                float((treated["purchased"] & ~treated["natural_purchase"]).mean()), 4),
            "note": "true_effect_on_treated = share of treated who bought only because of the coupon (counterfactual "
                    "known from the simulation); the learners' estimate is observed treatment - control",
        },
        "tiers": {"rule": "trailing-12-month net spend (sales minus returns) at 2025-06-30",
                  "thresholds_yuan": dict(sim.TIER_THRESHOLDS)},
        "messy_scope": "see datasets/messy/defects.json",
    }


def render_files(seed: int = DEFAULT_SEED, n_members: int = DEFAULT_N_MEMBERS) -> dict[str, bytes]:
    """Every generated file of ``datasets/`` (path relative to it -> bytes), manifest included."""
    tables = sim.simulate_chain(seed=seed, n_members=n_members)
    files: dict[str, bytes] = {}
    rows: dict[str, int | None] = {}
    for path, formats in FORMATS.items():
        frame = tables[_SOURCE[path]]
        files[path] = to_csv_bytes(frame[list(formats)], formats)
        rows[path] = int(len(frame))
    files["ground_truth/answer_key.json"] = _json_bytes(answer_key(tables, seed, n_members))
    rows["ground_truth/answer_key.json"] = None
    tx = transactions_from(tables["orders"], tables["order_lines"])
    messy, defects = make_messy_exports(tables, tx, seed)
    for name, frame in messy.items():
        path = "messy/" + name
        files[path] = to_csv_bytes(frame, None, MESSY_ENCODINGS[path])
        rows[path] = int(len(frame))
    files["messy/defects.json"] = _json_bytes(defects)
    rows["messy/defects.json"] = None
    manifest = {
        "generator": "python -m opskit.datasets.build",
        "seed": seed,
        "n_members": n_members,
        "files": {
            path: {"rows": rows[path], "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for path, data in sorted(files.items())
        },
    }
    files["manifest.json"] = _json_bytes(manifest)
    return files


def drifted(files: dict[str, bytes], directory: Path) -> list[str]:
    """Paths whose bytes on disk differ from ``files`` (missing files count as drifted)."""
    out = []
    for path, data in sorted(files.items()):
        target = directory / path
        if not target.is_file() or target.read_bytes() != data:
            out.append(path)
    return out


def write_files(files: dict[str, bytes], directory: Path) -> None:
    for path, data in sorted(files.items()):
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _default_dir() -> Path:
    try:
        return data_dir()
    except FileNotFoundError:
        # First build: the repo's datasets/ folder next to src/.
        return Path(__file__).resolve().parents[3] / "datasets"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opskit.datasets.build",
                                     description="Regenerate (or --check) the course dataset.")
    parser.add_argument("--out", type=Path, default=None, help="target folder (default: the repo's datasets/)")
    parser.add_argument("--check", action="store_true", help="verify the files on disk; exit 1 if any drifted")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--members", type=int, default=DEFAULT_N_MEMBERS)
    args = parser.parse_args(argv)
    directory = args.out or _default_dir()
    files = render_files(seed=args.seed, n_members=args.members)
    if args.check:
        bad = drifted(files, directory)
        if bad:
            print(Text("以下文件与生成结果不一致:", "these files drifted from the generator:"))
            for path in bad:
                print(f"  {path}")
            return 1
        print(Text(f"{len(files)} 个文件全部一致 ({directory})", f"all {len(files)} files match ({directory})"))
        return 0
    write_files(files, directory)
    total = sum(len(b) for b in files.values())
    print(Text(f"已写入 {len(files)} 个文件, 共 {total / 1e6:.1f} MB -> {directory}",
               f"wrote {len(files)} files, {total / 1e6:.1f} MB -> {directory}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
