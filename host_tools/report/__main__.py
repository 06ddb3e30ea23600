"""PNG plots of a simulation: each bin's run at a glance, one figure per bin (the first 10).

    python -m host_tools.sim --days 30 --seed 1 --start 2026-06-01 --json r.json
    python -m host_tools.report r.json --out build/plots

Top to bottom, on one time axis (the site's time, KST: days, and hours on short runs): fill
as reported against the world's truth, with the compactions, the crew's collections and the
full alerts; the events the bin sent; battery state of charge and solar power; the telemetry
the bin sent each day. The title gives that bin's own figures (reports delivered, compactions,
collections, hours over the rim, mean fill error).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from host_tools.helptext import parser  # noqa: E402
from host_tools.site import SITE_TZ, SITE_TZ_NAME, local  # noqa: E402

# the events panel, top to bottom (others follow in name order)
EVENT_ORDER = ("full", "fire", "tilt", "sensor_fault", "sensor_ok", "motor_fault",
               "modem_fault", "energy_level", "reset", "compacted", "collected")
EVENT_COLORS = {"full": "tab:red", "fire": "darkred", "tilt": "tab:brown",
                "sensor_fault": "tab:orange", "sensor_ok": "gold", "motor_fault": "black",
                "modem_fault": "tab:pink", "energy_level": "olive", "reset": "tab:purple",
                "compacted": "tab:green", "collected": "tab:blue"}
LABELLED_DAYS = 12    # daily bars carry their report count up to this many days
STROKE_GAP_S = 120    # motor runs closer than this are one compaction (out, back, a retry)


def compactions(strokes: list) -> list[float]:
    """Start times of the compactions: the motor's runs grouped (a stroke out and back)."""
    starts: list[float] = []
    last_end = None
    for t, dur in sorted(strokes):
        if last_end is None or t - last_end > STROKE_GAP_S:
            starts.append(t)
        last_end = t + dur
    return starts


def fill_error_pct(s: dict) -> float | None:
    """Mean |reported - true| fill of this bin's delivered reports (the world's truth at the
    first wake at or after the reading, capped at 120 % as the report's figure is)."""
    times = [t for t, _ in s["truth"]]
    errs = []
    for t, f, *_ in s["reported"]:
        if t is None or f is None:
            continue
        i = bisect.bisect_left(times, t)
        if i < len(times):
            errs.append(abs(f - min(120.0, s["truth"][i][1])))
    return round(sum(errs) / len(errs), 2) if errs else None


def over_rim_h(s: dict, rim_pct: float = 100.0) -> float:
    """Hours the world's fill was over the rim (a step between the truth's points)."""
    pts = s["truth"]
    over = sum(t1 - t0 for (t0, f0), (t1, _) in zip(pts, pts[1:], strict=False) if f0 > rim_pct)
    return round(over / 3600, 1)


def _n(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def bin_figures(s: dict) -> dict:
    """The bin's own figures: from the simulator (`figures` in its series), else as near as
    its series give them (a report written before the series carried them)."""
    f = dict(s.get("figures") or {})
    f.setdefault("telemetry_received", len(s["reported"]))
    f.setdefault("compactions", len(compactions(s["strokes"])))
    f.setdefault("collections_true", len(s["collections"]))
    f.setdefault("overflow_hours", over_rim_h(s))
    if "fill_abs_error_mean_pct" not in f:
        f["fill_abs_error_mean_pct"] = fill_error_pct(s)
    return f


def _hours(h: float) -> str:
    return f"{h * 60:.0f} min" if 0 < h < 1 else f"{h:g} h"


def bin_title(bin_id: str, s: dict, days: float | None) -> str:
    """Two lines: the bin and its period; that bin's own figures."""
    start = f"{local(s['truth'][0][0]):%Y-%m-%d}" if s["truth"] else "?"
    span = f"{days:g} days" if days is not None else "the run"
    f = bin_figures(s)
    err = f["fill_abs_error_mean_pct"]
    figures = [_n(f["telemetry_received"], "report") + " delivered",
               _n(f["compactions"], "compaction"),
               _n(f["collections_true"], "collection"),
               f"{_hours(f['overflow_hours'])} over the rim",
               "mean |fill error| " + ("--" if err is None else f"{err:g} %")]
    return f"{bin_id}: {span} from {start} ({SITE_TZ_NAME})\n" + "  ·  ".join(figures)


def _t(ts: float) -> dt.datetime:
    return local(ts)


def _time_axis(ax, span_days: float) -> None:
    """Days as the major ticks (weekday and date), hours as minor ones on short runs."""
    if span_days <= 4.5:
        ax.xaxis.set_major_locator(mdates.DayLocator(tz=SITE_TZ))
        ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=[6, 12, 18], tz=SITE_TZ))
        ax.xaxis.set_minor_formatter(mdates.DateFormatter("%H:%M", tz=SITE_TZ))
    elif span_days <= 16:
        ax.xaxis.set_major_locator(mdates.DayLocator(tz=SITE_TZ))
        ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=[12], tz=SITE_TZ))
    else:
        ax.xaxis.set_major_locator(mdates.WeekdayLocator(byweekday=mdates.MO, tz=SITE_TZ))
        ax.xaxis.set_minor_locator(mdates.DayLocator(tz=SITE_TZ))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a\n%m-%d", tz=SITE_TZ))
    ax.tick_params(axis="x", which="minor", labelsize=7, colors="0.35")
    ax.tick_params(axis="x", which="major", labelsize=9, length=7)
    ax.set_xlabel(f"{SITE_TZ_NAME} (UTC+9)", fontsize=9)


def _fill_panel(ax, s: dict, full_pct: float) -> None:
    if s["truth"]:
        ax.plot([_t(t) for t, _ in s["truth"]], [f for _, f in s["truth"]], color="0.55",
                lw=1.2, label="true fill (world)")
    rep = [(t, f) for t, f, *_ in s["reported"] if t is not None and f is not None]
    if rep:
        ax.plot([_t(t) for t, _ in rep], [f for _, f in rep], ".", ms=3.5,
                color="tab:blue", label="reported fill")
    ax.axhline(full_pct, ls="--", lw=0.8, color="tab:red")
    ax.text(0.001, full_pct + 1.5, f"full alert {full_pct:g} %", color="tab:red",
            fontsize=8, transform=ax.get_yaxis_transform())
    for i, t in enumerate(compactions(s["strokes"])):
        ax.axvline(_t(t), ymin=0, ymax=0.06, color="tab:green", lw=1.2,
                   label="compaction (motor ran)" if i == 0 else None)
    for i, (t, _f) in enumerate(s["collections"]):
        ax.axvline(_t(t), color="tab:blue", lw=1.0, alpha=0.7, ls=":",
                   label="emptied by the crew" if i == 0 else None)
    full = [t for t, ev in s["events"] if ev == "full" and t is not None]
    if full:
        ax.plot([_t(t) for t in full], [full_pct] * len(full), "v", color="tab:red", ms=7,
                label="full alert sent")
    ax.set_ylabel("fill, % of depth")
    ax.set_ylim(0, max(110, max((f for _, f in s["truth"]), default=0) + 5))
    ax.legend(loc="upper left", fontsize=8, ncol=5, framealpha=0.9)
    ax.grid(alpha=0.3)


def _events_panel(ax, s: dict) -> None:
    counts = Counter(ev for t, ev in s["events"] if t is not None)
    kinds = [k for k in EVENT_ORDER if k in counts] + \
        sorted(k for k in counts if k not in EVENT_ORDER)
    kinds.reverse()     # the first kind on top
    for i, kind in enumerate(kinds):
        pts = [_t(t) for t, ev in s["events"] if ev == kind and t is not None]
        ax.plot(pts, [i] * len(pts), "|", ms=10, mew=2,
                color=EVENT_COLORS.get(kind, "tab:gray"))
    ax.set_yticks(range(len(kinds)), [f"{k} ({counts[k]})" for k in kinds], fontsize=8)
    ax.set_ylim(-0.7, max(1, len(kinds)) - 0.3)
    if not kinds:
        ax.text(0.5, 0.5, "no events delivered", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="0.4")
    ax.set_ylabel("events sent", fontsize=9)
    ax.grid(alpha=0.3, axis="x")


def _power_panel(ax, s: dict) -> None:
    if not s["power"]:
        return
    ts = [_t(p[0]) for p in s["power"]]
    ax.plot(ts, [p[1] for p in s["power"]], color="tab:green", lw=1.2, label="battery SOC")
    ax.set_ylim(0, 105)
    ax.set_ylabel("SOC %")
    axb = ax.twinx()
    axb.fill_between(ts, [p[3] for p in s["power"]], color="gold", alpha=0.4, lw=0,
                     label="solar W")
    axb.set_ylabel("solar W")
    axb.set_ylim(0, max(1.0, max(p[3] for p in s["power"]) * 1.1))
    ax.set_zorder(axb.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.legend(loc="lower left", fontsize=8)
    axb.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)


def _daily_panel(ax, s: dict) -> None:
    """One bar per local day, from midnight to midnight: payload kB, with the report count."""
    kb, n = Counter(), Counter()
    for t, _f, nbytes in s["reported"]:
        if t is not None:
            day = _t(t).date()
            kb[day] += nbytes / 1000
            n[day] += 1
    days = sorted(kb)
    starts = [dt.datetime.combine(d, dt.time(0), SITE_TZ) for d in days]
    bars = ax.bar(starts, [kb[d] for d in days], width=0.96, align="edge", color="0.75")
    for bar, d in zip(bars, days, strict=True):
        if len(days) > LABELLED_DAYS:
            break       # no room: the bars alone
        ax.annotate(f"{_n(n[d], 'report')}, {kb[d]:.1f} kB",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=7, xytext=(0, 1),
                    textcoords="offset points")
    ax.set_ylim(0, max([1.0] + [kb[d] for d in days]) * 1.35)
    ax.set_ylabel("telemetry\nkB / day", fontsize=9)
    ax.grid(alpha=0.3, axis="y")


def figure_bin(bin_id: str, s: dict, report: dict, full_pct: float = 85.0) -> Figure:
    fig, (ax1, ax2, ax3, ax4) = plt.subplots(
        4, 1, figsize=(12, 9.5), sharex=True,
        gridspec_kw={"height_ratios": [3, 1.2, 1.3, 1.0]})
    _fill_panel(ax1, s, full_pct)
    ax1.set_title(bin_title(bin_id, s, report.get("days")), fontsize=11)
    _events_panel(ax2, s)
    _power_panel(ax3, s)
    _daily_panel(ax4, s)
    times = [t for t, _ in s["truth"]] or [p[0] for p in s["power"]]
    if times:
        first = local(times[0]).replace(hour=0, minute=0, second=0)
        ax4.set_xlim(first, _t(times[-1]) + dt.timedelta(hours=1))
        _time_axis(ax4, (times[-1] - times[0]) / 86400)
    fig.tight_layout()
    return fig


def plot_bin(bin_id: str, s: dict, report: dict, out: Path, full_pct: float = 85.0) -> Path:
    fig = figure_bin(bin_id, s, report, full_pct)
    path = out / f"{bin_id}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    p = parser("python -m host_tools.report", __doc__)
    p.add_argument("report", help="JSON written by python -m host_tools.sim --json")
    p.add_argument("--out", default="build/plots", metavar="DIR",
                   help="folder for the PNG files (default %(default)s)")
    args = p.parse_args(argv)
    try:
        report = json.loads(Path(args.report).read_text())
    except (OSError, ValueError) as e:
        print(f"report: cannot read {args.report}: {e}", file=sys.stderr)
        return 2
    series = report.get("series") if isinstance(report, dict) else None
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
