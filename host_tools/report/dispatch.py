"""Fill at collection, one histogram per dispatch policy (PNG).

    python bench/dispatch.py --bins 100 --days 30        # or any --out JSON
    python -m host_tools.report.dispatch build/bench.json --out build/plots/dispatch-fills.png
    python -m host_tools.sim --dispatch forecast --seed 1 --start 2025-06-02 --json r.json
    python -m host_tools.report.dispatch r.json --out build/plots/dispatch-fills.png

Reads the bench's `dispatch_<policy>_fills_pct` (the world's true fill at each crew visit)
and the policy figures beside them, or one simulator or fleet run's `dispatch_fills_pct`
and figures (a run with --dispatch).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from host_tools.helptext import parser  # noqa: E402
from host_tools.site import local  # noqa: E402

# the bench's runs: the three policies, then the forecast policy with one route a day (up
# to the rim, with a wider margin, and as it shipped before the afternoon round)
POLICIES = ("fixed", "threshold", "forecast", "forecast100", "forecast96", "forecast_am")
COLORS = {"fixed": "0.45", "threshold": "tab:orange", "forecast": "tab:blue",
          "forecast100": "tab:cyan", "forecast96": "tab:purple", "forecast_am": "tab:brown"}


RUN_KEYS = ("collections", "mean_fill_at_collection_pct", "premature_collections_pct",
            "overflow_collections_pct", "truck_km", "afternoon_collections")


def from_run(report: dict) -> dict:
    """One simulator or fleet run's report (with --dispatch) in the bench's form: its figures
    under dispatch_<policy>_*, and a title naming its world."""
    policy = report.get("dispatch")
    if policy not in POLICIES or report.get("dispatch_fills_pct") is None:
        raise ValueError("no dispatch_fills_pct in this file: give the report of a run with "
                         "--dispatch (python -m host_tools.sim or host_tools.fleet --json), "
                         "or bench/dispatch.py's JSON")
    out = {f"dispatch_{policy}_{k}": report.get(k) for k in RUN_KEYS}
    out[f"dispatch_{policy}_fills_pct"] = report["dispatch_fills_pct"]
    out[f"dispatch_{policy}_afternoon"] = report.get("dispatch_afternoon")
    if policy == "forecast":
        out["dispatch_forecast_collect_before_pct"] = report.get("dispatch_collect_before_pct")
    out["dispatch_threshold_pct"] = report.get("dispatch_threshold_pct")
    world = [f"{report.get('bins', '?')} bins x {report.get('days', 0):g} days",
             f"seed {report.get('seed', '?')}"]
    series = report.get("series") or {}
    starts = [s["truth"][0][0] for s in series.values() if s.get("truth")]
    if starts:
        world.append(f"from {local(min(starts)):%Y-%m-%d}")
    out["dispatch_world"] = ", ".join(world) + " (one run)"
    return out


def plot(bench: dict, out: Path, threshold_pct: float | None = None) -> Path:
    if not any(bench.get(f"dispatch_{p}_fills_pct") for p in POLICIES) \
            and "dispatch_fills_pct" in bench:
        bench = from_run(bench)
    if threshold_pct is None:
        threshold_pct = bench.get("dispatch_threshold_pct") or 60.0
    have = [p for p in POLICIES if bench.get(f"dispatch_{p}_fills_pct")]
    if not have:
        raise ValueError("no crew visits in this file (dispatch_<policy>_fills_pct from "
                         "bench/dispatch.py, or dispatch_fills_pct from a run with --dispatch)")
    fig, axes = plt.subplots(len(have), 1, figsize=(8, 2.3 * len(have) + 0.6), sharex=True,
                             squeeze=False)
    bins = list(range(0, 125, 5))
    for ax, p in zip(axes[:, 0], have, strict=True):
        fills = [min(f, 122) for f in bench[f"dispatch_{p}_fills_pct"]]
        ax.hist(fills, bins=bins, color=COLORS[p], edgecolor="white")
        ax.axvline(threshold_pct, color="tab:green", ls="--", lw=1)
        ax.axvline(10, color="0.3", ls=":", lw=1)
        ax.axvline(100, color="tab:red", ls="--", lw=1)
        g = {k: bench.get(f"dispatch_{p}_{k}") for k in
             ("collections", "mean_fill_at_collection_pct", "premature_collections_pct",
              "overflow_collections_pct", "truck_km")}
        name = p
        if bench.get(f"dispatch_{p}_collect_before_pct"):
            pm = bench.get(f"dispatch_{p}_afternoon")
            name = f"{p} (kept under {bench[f'dispatch_{p}_collect_before_pct']:g} %" + \
                (f", afternoon round {pm}" if pm and pm != "none" else "") + ")"
        n = g["collections"]
        visits = "? collections" if n is None else f"{n} collection{'s' if n != 1 else ''}"
        ax.set_title(f"{name}: {visits}, mean fill "
                     f"{g['mean_fill_at_collection_pct']} %, premature "
                     f"{g['premature_collections_pct']} %, overflowing "
                     f"{g['overflow_collections_pct']} %, {g['truck_km']} km",
                     fontsize=9, loc="left")
        ax.set_ylabel("collections")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    ax = axes[-1, 0]
    # fills over 120 % are counted in the last bar
    ax.set_xticks([*range(0, 120, 20), 122.5], [*map(str, range(0, 120, 20)), ">=120"])
    ax.set_xlabel(f"true fill when the crew emptied the bin, %  (dashed: threshold "
                  f"{threshold_pct:g} %, full 100 %; dotted: empty 10 %)")
    if bench.get("dispatch_world"):
        fig.suptitle(bench["dispatch_world"], fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv=None) -> int:
    p = parser("python -m host_tools.report.dispatch", __doc__)
    p.add_argument("bench", help="bench/dispatch.py's JSON, or a run's report with --dispatch")
    p.add_argument("--out", default="build/plots/dispatch-fills.png", metavar="PNG",
                   help="the file to write (default: %(default)s)")
    p.add_argument("--threshold", type=float, default=None, metavar="PCT",
                   help="dispatch threshold line, %% (default: from the file, else 60)")
    args = p.parse_args(argv)
    try:
        data = json.loads(Path(args.bench).read_text())
    except (OSError, ValueError) as e:
        print(f"report: cannot read {args.bench}: {e}", file=sys.stderr)
        return 2
    try:
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object (a report)")
        print(plot(data, Path(args.out), args.threshold))
    except ValueError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
