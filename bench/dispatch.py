"""Dispatch benchmark: the three crew policies side by side on the same seeded field-like
fleet (most bins fill in days, a few busy ones in hours), and the forecast policy three
times more with one route a day (no afternoon round) and other fills to keep the bins from
(`forecast100`: the rim; `forecast96`: 96 %; `forecast_am`: 98 %, the policy as it shipped
before the afternoon round). Adds `dispatch_<run>_<key>` to build/bench.json (read,
modify, write: other keys are kept); `--runs` re-measures only the runs named.

    .venv/bin/python bench/dispatch.py [--bins 100] [--days 30] [--seed 1] [--runs forecast]
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
# every simulator run names its start date (host_tools.sim.__main__.REQUIRE_START_ENV): the
# same world whatever the day the benchmark is run
os.environ["BIN_SIM_REQUIRE_START"] = "1"
# run name -> (policy, --collect-before, --afternoon); None: the simulator's default
RUNS = {"fixed": ("fixed", None, None), "threshold": ("threshold", None, None),
        "forecast": ("forecast", None, None),
        "forecast100": ("forecast", 100.0, "none"), "forecast96": ("forecast", 96.0, "none"),
        "forecast_am": ("forecast", 98.0, "none")}
FORECASTS = [r for r, (policy, _, _) in RUNS.items() if policy == "forecast"]
# each forecast run's goals (the policy as it ships keeps the first key it was given)
GOALS_KEY = {r: "dispatch_goals" if r == "forecast" else f"dispatch_{r}_goals" for r in FORECASTS}
KEYS = ("collections", "premature_collections_pct", "empty_collections_pct",
        "mean_fill_at_collection_pct", "overflow_collections_pct", "overflow_hours",
        "truck_km", "crew_minutes", "forecast_mae_h", "forecast_bias_h", "forecast_pairs",
        "firmware_errors",
        "wall_s")
START = "2025-06-02"   # a Monday


def one(run: str, bins: int, days: float, seed: int, work: Path) -> dict:
    policy, before, afternoon = RUNS[run]
    report = work / f"{run}.json"
    cmd = [sys.executable, "-m", "host_tools.sim", "--bins", str(bins), "--days", str(days),
           "--seed", str(seed), "--start", START, "--fleet", "field", "--dispatch", policy,
           "--workdir", str(work / f"flash-{run}"), "--json", str(report)]
    if before is not None:
        cmd += ["--collect-before", str(before)]
    if afternoon is not None:
        cmd += ["--afternoon", afternoon]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=max(1800, bins * days * 10))
    if not report.exists():
        raise SystemExit(f"dispatch {run} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return json.loads(report.read_text())


def goals(res: dict, run: str = "forecast") -> dict:
    """The service goals for a forecast policy run against the fixed one."""
    f = {k: res.get(f"dispatch_{run}_{k}") for k in KEYS}
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
    p.add_argument("--runs", default=",".join(RUNS),
                   help="comma-separated runs to (re)measure; the others' keys in the JSON are "
                        "kept (default: all, %(default)s)")
    args = p.parse_args()
    todo = [r.strip() for r in args.runs.split(",") if r.strip()]
    unknown = [r for r in todo if r not in RUNS]
    if unknown or not todo:
        p.error(f"--runs: {', '.join(unknown) or 'none given'} (runs: {', '.join(RUNS)})")
    out = Path(args.out)
    world = (f"{args.bins} bins x {args.days:g} days, seed {args.seed}, field fleet, "
             f"from {START}")
    if out.exists() and len(todo) < len(RUNS):
        was = json.loads(out.read_text()).get("dispatch_world")
        if was not in (None, world):
            raise SystemExit(f"{out} holds runs of another world ({was}): measure every run "
                             "(no --runs) or give another --out")
    t0 = time.monotonic()
    found = {}
    # the bins' flash folders in RAM where there is a tmpfs (as bench/fleet.py: every wake
    # writes its state, and on a disk file system that is kernel time, not the bins')
    ram = RAM if RAM.is_dir() and os.access(RAM, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-", dir=ram) as tmp, \
            ThreadPoolExecutor(len(todo)) as pool:
        # the runs side by side: one simulator process does not fill two cores
        runs = {r: pool.submit(one, r, args.bins, args.days, args.seed, Path(tmp))
                for r in todo}
        found = {r: f.result() for r, f in runs.items()}
    res = json.loads(out.read_text()) if out.exists() else {}
    for run, rep in found.items():
        for k in KEYS:
            res[f"dispatch_{run}_{k}"] = rep.get(k)
        res[f"dispatch_{run}_fills_pct"] = rep.get("dispatch_fills_pct")
        res[f"dispatch_{run}_afternoon"] = rep.get("dispatch_afternoon")
        res[f"dispatch_{run}_afternoon_collections"] = rep.get("afternoon_collections")
        if run in FORECASTS:
            res[f"dispatch_{run}_collect_before_pct"] = rep.get("dispatch_collect_before_pct")
        res["dispatch_threshold_pct"] = rep.get("dispatch_threshold_pct")
    res["dispatch_world"] = world
    for run in FORECASTS:
        if all(f"dispatch_{r}_collections" in res for r in (run, "fixed")):
            res[GOALS_KEY[run]] = goals(res, run)
    res["dispatch_command_s"] = round(time.monotonic() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    shown = [r for r in RUNS if f"dispatch_{r}_collections" in res]
    print(f"{'':34}" + "".join(f"{r:>12}" for r in shown))
    for k in KEYS + ("afternoon", "afternoon_collections"):
        print(f"{k:34}" + "".join(f"{str(res.get(f'dispatch_{r}_{k}')):>12}" for r in shown))
    for run in FORECASTS:
        if GOALS_KEY[run] in res:
            print(f"goals ({run}):",
                  ", ".join(f"{k}={v}" for k, v in res[GOALS_KEY[run]].items()))
    errors = sum(found[r].get("firmware_errors") or 0 for r in found)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
