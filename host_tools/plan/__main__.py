"""Today's collection list from the bins' retained states and forecasts.

    python -m host_tools.plan --broker 127.0.0.1:1883 [--threshold 85] [--csv plan.csv]

A bin is on the list when its last reported fill is at or above the threshold, or when its
own forecast says it will pass the threshold before the next route after this one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import time

from host_tools.binview import Fleet, parse_broker
from host_tools.plan import FULL_PCT, plan

KST = dt.timezone(dt.timedelta(hours=9))


def horizon(now: float, start_h: int) -> float:
    """Start of the route after the upcoming one: a bin left off the upcoming route waits
    until then."""
    d = dt.datetime.fromtimestamp(now, KST)
    upcoming = d.replace(hour=start_h, minute=0, second=0, microsecond=0)
    if upcoming <= d:
        upcoming += dt.timedelta(days=1)
    return (upcoming + dt.timedelta(days=1)).timestamp()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.plan",
                                description=__doc__.split("\n")[0])
    p.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT (default %(default)s)")
    p.add_argument("--threshold", type=float, default=FULL_PCT, help="collect at this fill %%")
    p.add_argument("--route-start", type=int, default=4, help="route start hour, local time")
    p.add_argument("--now", type=float, default=None, help="Unix time to plan for")
    p.add_argument("--csv", default=None, help="also write the list as CSV here")
    args = p.parse_args(argv)
    host, port = parse_broker(args.broker)
    try:
        fleet = Fleet(host, port, client_id="collection-planner").start()
    except RuntimeError as e:
        print(f"plan: {e}", file=sys.stderr)
        return 2
    try:
        fleet.settle()
        views = fleet.snapshot()
    finally:
        fleet.stop()
    now = args.now if args.now is not None else time.time()
    stops = plan(views, horizon(now, args.route_start), args.threshold)
    print(f"{len(stops)} of {len(views)} bins to collect (threshold {args.threshold:g} %)")
    print(f"{'#':>3}  {'bin':<14} {'fill':>6}  why")
    for i, s in enumerate(stops, 1):
        fill = "--" if s.fill is None else f"{s.fill:5.1f}%"
        print(f"{i:>3}  {s.bin_id:<14} {fill:>6}  {s.why}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["order", "bin_id", "fill_pct", "eta_unix", "why"])
            for i, s in enumerate(stops, 1):
                w.writerow([i, s.bin_id, "" if s.fill is None else s.fill, s.eta or "", s.why])
    return 0


if __name__ == "__main__":
    sys.exit(main())
