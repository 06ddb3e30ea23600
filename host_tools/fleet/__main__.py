"""Run a fleet of simulated bins against one broker in virtual time and account for every
report.

    python -m host_tools.fleet --bins 1000 --days 1 --seed 1 --start 2025-06-02 \
        [--broker HOST:PORT] [--json FILE]

Each bin is the real firmware on the MicroPython unix port (one process per bin); the
simulator keeps the fleet in step so that virtual time is the same for all of them. At the
end every telemetry report published on the wire is matched against what the broker
delivered to an independent subscriber. A big fleet is split over one simulator process per
core (--shards, shards.py), all on one broker, each observing its own bins.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from host_tools.dispatch import COLLECT_BEFORE_PCT, CrewSettings, afternoon_text
from host_tools.fleet.shards import default_shards, run_sharded
from host_tools.helptext import parser
from host_tools.sim.__main__ import parse_args as sim_args
from host_tools.sim.__main__ import run, start_epoch


def _n(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def _forecast_error(report: dict) -> str:
    pairs = report.get("forecast_pairs") or 0
    if not pairs or report.get("forecast_mae_h") is None:
        return "forecast error: no forecast yet (none made 42-54 h before a bin was full)"
    return f"forecast error {report['forecast_mae_h']} h ({_n(pairs, 'forecast')})"


def summary(report: dict, dispatch: str | None) -> list[str]:
    """The lines the fleet prints at the end of a run."""
    pub, rec = report["telemetry_published"], report["telemetry_received"]
    accounted = "every report accounted for" if pub == rec else f"{pub - rec} MISSING"
    split = f" ({report['shards']} simulator processes)" if report["shards"] > 1 else ""
    days = report["days"]
    lines = [f"fleet: {_n(report['bins'], 'bin')} x {days:g} day{'s' if days != 1 else ''} in "
             f"{report['wall_s']:.0f} s wall{split}; {_n(report['wakes'], 'wake')}; "
             f"telemetry published {pub}, delivered {rec}: {accounted}; "
             f"firmware errors {report['firmware_errors']}"]
    if dispatch:
        lines.append(
            f"fleet: {dispatch} dispatch: {_n(report['collections'], 'collection')}, mean "
            f"fill {report['mean_fill_at_collection_pct']} %, premature "
            f"{report['premature_collections_pct']} %, empty "
            f"{report['empty_collections_pct']} %, overflowing "
            f"{report['overflow_collections_pct']} %, {report['overflow_hours']} overflow "
            f"hours, {report['truck_km']} truck km, {_forecast_error(report)}")
    return lines


def main(argv=None) -> int:
    p = parser("python -m host_tools.fleet", __doc__)
    p.add_argument("--bins", type=int, default=100, help="number of bins (default 100)")
    p.add_argument("--days", type=float, default=1.0, help="simulated days (default 1)")
    p.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    p.add_argument("--start", default=None,
                   help="start date YYYY-MM-DD, 00:00 site time (default: today)")
    p.add_argument("--broker", default=None, metavar="HOST:PORT",
                   help="use this broker (default: start one)")
    p.add_argument("--json", dest="json_path", default=None, metavar="FILE",
                   help="write the report here (JSON)")
    p.add_argument("--workdir", default=None, metavar="DIR",
                   help="the bins' flash folders (default build/fleet)")
    p.add_argument("--dispatch", choices=["fixed", "threshold", "forecast"], default=None,
                   help="crews dispatched from the broker by this policy (host_tools.dispatch;"
                        " default: none, the world's own collection rounds)")
    p.add_argument("--threshold", type=float, default=None, metavar="PCT",
                   help="dispatch threshold, %% fill (default 60)")
    p.add_argument("--collect-before", type=float, default=None, metavar="PCT",
                   help="forecast dispatch: empty a bin before its forecast reaches this fill "
                        f"(default {COLLECT_BEFORE_PCT:g}; 100: the rim)")
    p.add_argument("--afternoon", default=None, metavar="HH-HH|none",
                   help="forecast dispatch: the afternoon round's window "
                        f"(default {afternoon_text(CrewSettings())}; none: one route a day)")
    p.add_argument("--fleet", choices=["uniform", "field"], default=None,
                   help="uniform (default): every bin gets the same waste; field: most bins "
                        "fill in days, a few busy ones in hours")
    p.add_argument("--shards", type=int, default=None, metavar="N",
                   help="simulator processes, each with its share of the bins (default: one "
                        "per core, at least 100 bins each; one with --dispatch)")
    args = p.parse_args(argv)
    try:
        start_epoch(args.start)
    except ValueError as e:
        p.error(str(e) if args.start is None else f"--start {args.start}: {e}")
    shards = args.shards if args.shards is not None else \
        (1 if args.dispatch else default_shards(args.bins))
    if shards < 1:
        p.error("--shards must be at least 1")
    if args.dispatch and shards > 1:
        p.error("--dispatch plans routes over every bin at once: it runs in one process "
                "(--shards 1)")
    forwarded = ["--days", str(args.days), "--seed", str(args.seed),
                 "--workdir", args.workdir or "build/fleet"]
    if args.start:
        forwarded += ["--start", args.start]
    if args.dispatch:
        forwarded += ["--dispatch", args.dispatch]
    if args.threshold is not None:
        forwarded += ["--threshold", str(args.threshold)]
    if args.collect_before is not None:
        forwarded += ["--collect-before", str(args.collect_before)]
    if args.afternoon is not None:
        forwarded += ["--afternoon", args.afternoon]
    if args.fleet:
        forwarded += ["--fleet", args.fleet]
    try:
        if shards > 1:
            report = run_sharded(forwarded, args.bins, shards, args.broker)
        else:
            report = run(sim_args(forwarded + ["--bins", str(args.bins)] +
                                  (["--broker", args.broker] if args.broker else [])))
            report["shards"] = 1
    except KeyboardInterrupt:
        print("\nfleet: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    print("\n".join(summary(report, args.dispatch)))
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(report, indent=1) + "\n")
    accounted = report["telemetry_published"] == report["telemetry_received"]
    return 0 if accounted and not report["firmware_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
