"""Today's collection list from the bins' retained states and forecasts.

    python -m host_tools.plan --broker 127.0.0.1:1883 [--threshold 85] [--csv plan.csv]
    python -m host_tools.plan --now 2026-12-04T03:00 ...   # plan as of then (KST)

A bin is on the list when its last reported fill is at or above the threshold, or when its
own forecast says it will pass the threshold before the route after the upcoming one (a bin
left off waits for that). The list is in order of when each bin passes the threshold: the
bins already over it first, the earliest reading first, then by their forecasts, the
earliest first. Each line says why the bin is on it; the bins left off are listed with the
reason. Times are the site's (KST); locations are km east and north of the depot, from the
site register (host_tools.dispatch.position). The CSV has the same columns, the time both as
Unix seconds (eta_unix) and as local time with its offset (eta_local).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import time

from host_tools.binview import Fleet, choose_clock, parse_broker
from host_tools.dispatch import CrewSettings, position
from host_tools.helptext import parser
from host_tools.plan import FULL_PCT, Stop, left_off, plan
from host_tools.site import SITE_TZ, SITE_TZ_NAME, local

CSV_COLUMNS = ["order", "bin_id", "fill_pct", "eta_unix", "eta_local", "east_km", "north_km",
               "why"]


def horizon(now: float, start_h: int) -> float:
    """Start of the route after the upcoming one: a bin left off the upcoming route waits
    until then."""
    return upcoming(now, start_h) + 86400


def upcoming(now: float, start_h: int) -> float:
    """Start of the next route (start_h:00 local time, after now)."""
    d = local(now)
    start = d.replace(hour=start_h, minute=0, second=0, microsecond=0)
    if start <= d:
        start += dt.timedelta(days=1)
    return start.timestamp()


def parse_now(text: str) -> float:
    """Unix seconds, or an ISO date/time (2026-12-04, 2026-12-04T05:30, 2026-12-04 05:30,
    with an offset or else in the site's time zone). Raises ValueError with a sentence."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        d = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a date and time such as 2026-12-04 or 2026-12-04T05:30 "
                         f"({SITE_TZ_NAME} unless it has an offset), or Unix seconds") from None
    return (d if d.tzinfo else d.replace(tzinfo=SITE_TZ)).timestamp()


def locate(bin_id: str) -> tuple[float, float]:
    """(km east, km north) of the depot, from the site register."""
    east, north = position(bin_id, CrewSettings().area_km)
    return round(east, 2), round(north, 2)


def _passes(s: Stop, threshold: float) -> str:
    if s.eta is None:
        return "--"
    return "over it now" if s.fill is not None and s.fill >= threshold else \
        f"{local(s.eta):%a %m-%d %H:%M}"


def _fill(fill: float | None) -> str:
    return "--" if fill is None else f"{fill:5.1f}%"


def lines(stops: list[Stop], others: list, n_views: int, now: float, clock: str,
          start_h: int, threshold: float) -> list[str]:
    """What the planner prints: the list, in order, each bin with why; then the rest."""
    route, after = upcoming(now, start_h), horizon(now, start_h)
    out = [f"Route from {local(route):%a %Y-%m-%d %H:%M} {SITE_TZ_NAME}, planned at "
           f"{local(now):%a %m-%d %H:%M} ({clock}).",
           f"{len(stops)} of {n_views} bins to collect: at or over {threshold:g} % now, or "
           f"forecast to pass it before",
           f"the route after this one ({local(after):%a %m-%d %H:%M}). In order of when "
           f"each passes {threshold:g} %:",
           "the bins over it first (the earliest reading first), then by their own "
           "forecast.",
           f"{'#':>3}  {'bin':<12} {'fill':>6}  {'passes ' + format(threshold, 'g') + ' %':<15}"
           f" {'east km':>7} {'north km':>8}  why"]
    for i, s in enumerate(stops, 1):
        east, north = locate(s.bin_id)
        out.append(f"{i:>3}  {s.bin_id:<12} {_fill(s.fill):>6}  {_passes(s, threshold):<15}"
                   f" {east:>7.2f} {north:>8.2f}  {s.why}")
    if others:
        out.append(f"Not on this route ({len(others)}):")
        for bin_id, fill, why in others:
            out.append(f"     {bin_id:<12} {_fill(fill):>6}  {why}")
    out.append(f"Times in {SITE_TZ_NAME} (UTC+9); east/north: km from the depot.")
    return out


def write_csv(path: str, stops: list[Stop]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for i, s in enumerate(stops, 1):
            east, north = locate(s.bin_id)
            eta_local = "" if s.eta is None else local(s.eta).isoformat(timespec="minutes")
            w.writerow([i, s.bin_id, "" if s.fill is None else s.fill,
                        "" if s.eta is None else s.eta, eta_local, east, north, s.why])


def main(argv=None) -> int:
    p = parser("python -m host_tools.plan", __doc__)
    p.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT (default %(default)s)")
    p.add_argument("--threshold", type=float, default=FULL_PCT,
                   help="collect at this fill, %% (default %(default)g)")
    p.add_argument("--route-start", type=int, default=4, metavar="HOUR",
                   help=f"route start hour, {SITE_TZ_NAME} (default %(default)s)")
    p.add_argument("--now", default=None, metavar="WHEN",
                   help=f"plan as of this time: an ISO date/time ({SITE_TZ_NAME} unless it has "
                        "an offset) or Unix seconds (default: the wall clock, or the bins' "
                        "own when they run ahead of it, a simulation)")
    p.add_argument("--csv", default=None, metavar="FILE", help="also write the list as CSV here")
    args = p.parse_args(argv)
    now = None
    if args.now is not None:
        try:
            now = parse_now(args.now)
        except ValueError as e:
            p.error(f"--now {args.now}: {e}")
    if not 0 <= args.route_start <= 23:
        p.error(f"--route-start {args.route_start}: an hour from 0 to 23")
    if not 0 < args.threshold <= 120:
        p.error(f"--threshold {args.threshold:g}: a fill from above 0 to 120 %")
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
    if now is None:
        now, clock = choose_clock("auto", time.time(), fleet.newest_ts)
    else:
        clock = "--now"
    after = horizon(now, args.route_start)
    stops = plan(views, after, args.threshold)
    others = left_off(views, after, args.threshold)
    print("\n".join(lines(stops, others, len(views), now, clock, args.route_start,
                          args.threshold)))
    if args.csv:
        write_csv(args.csv, stops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
