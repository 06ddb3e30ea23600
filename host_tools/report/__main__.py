"""PNG plots of a simulation: a month of one bin at a glance.

    python -m host_tools.sim --days 30 --json r.json
    python -m host_tools.report r.json --out build/plots

One figure per bin (the first 10): fill as reported vs the world's truth with compaction
strokes, collections and full alerts; battery state of charge and solar power; bytes on air
per day and the events the bin sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

KST = dt.timezone(dt.timedelta(hours=9))
EVENT_COLORS = {"full": "tab:red", "compacted": "tab:green", "collected": "tab:blue",
                "sensor_fault": "tab:orange", "motor_fault": "black", "reset": "tab:purple"}


def _t(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, KST)


def plot_bin(bin_id: str, s: dict, report: dict, out: Path, full_pct: float = 85.0) -> Path:
    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(12, 8.5), sharex=True,
                                        gridspec_kw={"height_ratios": [3, 1.4, 1.4]})
    # fill ----------------------------------------------------------------------------------
    if s["truth"]:
        ax1.plot([_t(t) for t, _ in s["truth"]], [f for _, f in s["truth"]], color="0.55",
                 lw=1.2, label="true fill (world)")
    rep = [(t, f) for t, f, *_ in s["reported"] if t is not None and f is not None]
    if rep:
        ax1.plot([_t(t) for t, _ in rep], [f for _, f in rep], ".", ms=3.5,
                 color="tab:blue", label="reported fill")
    ax1.axhline(full_pct, ls="--", lw=0.8, color="tab:red")
    ax1.text(0.001, full_pct + 1.5, f"full alert {full_pct:g} %", color="tab:red",
             fontsize=8, transform=ax1.get_yaxis_transform())
    for i, (t, _dur) in enumerate(s["strokes"]):
        ax1.axvline(_t(t), ymin=0, ymax=0.05, color="tab:green", lw=1,
                    label="compaction stroke" if i == 0 else None)
    for i, (t, _f) in enumerate(s["collections"]):
        ax1.axvline(_t(t), color="tab:blue", lw=0.8, alpha=0.5, ls=":",
                    label="collection (crew)" if i == 0 else None)
    full = [t for t, ev in s["events"] if ev == "full"]
    if full:
        ax1.plot([_t(t) for t in full], [full_pct] * len(full), "v", color="tab:red", ms=7,
                 label="full alert sent")
    ax1.set_ylabel("fill, % of depth")
    ax1.set_ylim(0, max(110, max((f for _, f in s["truth"]), default=0) + 5))
    ax1.legend(loc="upper left", fontsize=8, ncol=3, framealpha=0.9)
    ax1.grid(alpha=0.3)
    err = report.get("fill_abs_error_mean_pct")
    ax1.set_title(f"{bin_id}: {report.get('days')} days from "
                  f"{_t(s['truth'][0][0]).date() if s['truth'] else '?'}  ·  "
                  f"{report.get('telemetry_received')} reports delivered  ·  "
                  f"mean |fill error| {err} %", fontsize=11)
    # power ---------------------------------------------------------------------------------
    if s["power"]:
        ts = [_t(p[0]) for p in s["power"]]
        ax2.plot(ts, [p[1] for p in s["power"]], color="tab:green", lw=1.2,
                 label="battery SOC")
        ax2.set_ylim(0, 105)
        ax2.set_ylabel("SOC %")
        ax2b = ax2.twinx()
        ax2b.fill_between(ts, [p[3] for p in s["power"]], color="gold", alpha=0.4, lw=0,
                          label="solar W")
        ax2b.set_ylabel("solar W")
        ax2.set_zorder(ax2b.get_zorder() + 1)
        ax2.patch.set_visible(False)
        ax2.legend(loc="lower left", fontsize=8)
        ax2b.legend(loc="lower right", fontsize=8)
    ax2.grid(alpha=0.3)
    # bytes and events ----------------------------------------------------------------------
    per_day = Counter()
    for t, _f, nbytes in s["reported"]:
        if t is not None:
            per_day[_t(t).date()] += nbytes
    if per_day:
        days = sorted(per_day)
        ax3.bar([dt.datetime.combine(d, dt.time(12), KST) for d in days],
                [per_day[d] / 1000 for d in days], width=0.8, color="0.7",
                label="telemetry payload kB/day")
        ax3.set_ylabel("kB / day")
    ax3c = ax3.twinx()
    kinds = sorted({ev for _, ev in s["events"]})
    for i, kind in enumerate(kinds):
        pts = [_t(t) for t, ev in s["events"] if ev == kind and t is not None]
        ax3c.plot(pts, [i] * len(pts), "|", ms=12, mew=2,
                  color=EVENT_COLORS.get(kind, "tab:gray"))
    ax3c.set_yticks(range(len(kinds)), kinds, fontsize=8)
    ax3c.set_ylim(-0.8, max(1, len(kinds)) - 0.2)
    ax3.legend(loc="upper left", fontsize=8)
    ax3.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d", tz=KST))
    ax3.grid(alpha=0.3)
    fig.tight_layout()
    path = out / f"{bin_id}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.report",
                                description=__doc__.split("\n")[0])
    p.add_argument("report", help="JSON written by python -m host_tools.sim --json")
    p.add_argument("--out", default="build/plots", help="folder for the PNG files")
    args = p.parse_args(argv)
    report = json.loads(Path(args.report).read_text())
    series = report.get("series")
    if not series:
        print("report: no time series in this report (runs of more than 10 bins carry "
              "figures only)", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for bin_id in sorted(series)[:10]:
        print(plot_bin(bin_id, series[bin_id], report, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
