"""Fill at collection, one histogram per dispatch policy (PNG).

    python bench/dispatch.py --bins 100 --days 30        # or any --out JSON
    python -m host_tools.report.dispatch build/bench.json --out build/plots/dispatch-fills.png

Reads `dispatch_<policy>_fills_pct` (the world's true fill at each crew visit) and the
policy figures beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# the bench's runs: the three policies, then the forecast policy with one route a day (up
# to the rim, with a wider margin, and as it shipped before the afternoon round)
POLICIES = ("fixed", "threshold", "forecast", "forecast100", "forecast96", "forecast_am")
COLORS = {"fixed": "0.45", "threshold": "tab:orange", "forecast": "tab:blue",
          "forecast100": "tab:cyan", "forecast96": "tab:purple", "forecast_am": "tab:brown"}


def plot(bench: dict, out: Path, threshold_pct: float | None = None) -> Path:
    if threshold_pct is None:
        threshold_pct = bench.get("dispatch_threshold_pct") or 60.0
    have = [p for p in POLICIES if bench.get(f"dispatch_{p}_fills_pct")]
    if not have:
        raise ValueError("no dispatch_<policy>_fills_pct in this file")
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
            name = f"{p} (<{bench[f'dispatch_{p}_collect_before_pct']:g} %" + \
                (f", pm {pm}" if pm and pm != "none" else "") + ")"
        ax.set_title(f"{name}: {g['collections']} collections, mean fill "
                     f"{g['mean_fill_at_collection_pct']} %, premature "
                     f"{g['premature_collections_pct']} %, overflowing "
                     f"{g['overflow_collections_pct']} %, {g['truck_km']} km",
                     fontsize=9, loc="left")
        ax.set_ylabel("collections")
        ax.grid(alpha=0.3)
    ax = axes[-1, 0]
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
    p = argparse.ArgumentParser(prog="python -m host_tools.report.dispatch",
                                description=__doc__.split("\n")[0])
    p.add_argument("bench", help="JSON with dispatch_<policy>_* keys (bench/dispatch.py)")
    p.add_argument("--out", default="build/plots/dispatch-fills.png")
    p.add_argument("--threshold", type=float, default=None,
                   help="dispatch threshold line, %% (default: from the file, else 60)")
    args = p.parse_args(argv)
    try:
        print(plot(json.loads(Path(args.bench).read_text()), Path(args.out), args.threshold))
    except ValueError as e:
        print(f"report: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
