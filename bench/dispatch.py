"""Dispatch benchmark: the three crew policies side by side on the same seeded field-like
fleet (most bins fill in days, a few busy ones in hours). Adds `dispatch_<policy>_<key>`
to build/bench.json (read, modify, write: other keys are kept).

    .venv/bin/python bench/dispatch.py [--bins 100] [--days 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench.json"
RAM = Path("/dev/shm")
POLICIES = ("fixed", "threshold", "forecast")
KEYS = ("collections", "premature_collections_pct", "empty_collections_pct",
        "mean_fill_at_collection_pct", "overflow_collections_pct", "overflow_hours",
        "truck_km", "crew_minutes", "forecast_mae_h", "forecast_bias_h", "forecast_pairs",
        "firmware_errors",
        "wall_s")
START = "2025-06-02"   # a Monday


def one(policy: str, bins: int, days: float, seed: int, work: Path) -> dict:
    report = work / f"{policy}.json"
    cmd = [sys.executable, "-m", "host_tools.sim", "--bins", str(bins), "--days", str(days),
           "--seed", str(seed), "--start", START, "--fleet", "field", "--dispatch", policy,
           "--workdir", str(work / f"flash-{policy}"), "--json", str(report)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=max(1800, bins * days * 10))
    if not report.exists():
        raise SystemExit(f"dispatch {policy} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return json.loads(report.read_text())


def goals(res: dict) -> dict:
    """The service goals for the forecast policy against the fixed one."""
    f = {k: res.get(f"dispatch_forecast_{k}") for k in KEYS}
    x = {k: res.get(f"dispatch_fixed_{k}") for k in KEYS}

    def le(v, lim):
        return v is not None and v <= lim

    return {
        "premature_le_10": le(f["premature_collections_pct"], 10),
        "empty_le_2": le(f["empty_collections_pct"], 2),
        "mean_fill_ge_80": (f["mean_fill_at_collection_pct"] or 0) >= 80,
        "overflow_collections_le_1": le(f["overflow_collections_pct"], 1),
        "collections_30pct_fewer_than_fixed": bool(x["collections"]) and
        f["collections"] <= 0.7 * x["collections"],
        "fewer_overflow_hours_than_fixed": f["overflow_hours"] < x["overflow_hours"],
        "overflow_hours_not_above_fixed": f["overflow_hours"] <= x["overflow_hours"],
        "forecast_mae_le_12h": le(f["forecast_mae_h"], 12),
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bins", type=int, default=100)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=str(OUT), help="bench JSON to update (default %(default)s)")
    args = p.parse_args()
    out = Path(args.out)
    t0 = time.monotonic()
    found = {}
    # the bins' flash folders in RAM where there is a tmpfs (as bench/fleet.py: every wake
    # writes its state, and on a disk file system that is kernel time, not the bins')
    ram = RAM if RAM.is_dir() and os.access(RAM, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-", dir=ram) as tmp, \
            ThreadPoolExecutor(len(POLICIES)) as pool:
        # the three runs side by side: one simulator process does not fill two cores
        runs = {p: pool.submit(one, p, args.bins, args.days, args.seed, Path(tmp))
                for p in POLICIES}
        found = {p: f.result() for p, f in runs.items()}
    res = json.loads(out.read_text()) if out.exists() else {}
    for policy, rep in found.items():
        for k in KEYS:
            res[f"dispatch_{policy}_{k}"] = rep.get(k)
        res[f"dispatch_{policy}_fills_pct"] = rep.get("dispatch_fills_pct")
    res["dispatch_threshold_pct"] = found["forecast"].get("dispatch_threshold_pct")
    res["dispatch_world"] = (f"{args.bins} bins x {args.days:g} days, seed {args.seed}, "
                             f"field fleet, from {START}")
    res["dispatch_goals"] = goals(res)
    res["dispatch_command_s"] = round(time.monotonic() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{'':34}" + "".join(f"{p:>12}" for p in POLICIES))
    for k in KEYS:
        print(f"{k:34}" + "".join(f"{str(res[f'dispatch_{p}_{k}']):>12}" for p in POLICIES))
    print("goals (forecast policy):", ", ".join(f"{k}={v}" for k, v in
                                               res["dispatch_goals"].items()))
    errors = sum(found[p].get("firmware_errors") or 0 for p in POLICIES)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
