"""Live dashboard of every bin seen on a broker: fill, forecast full, battery, signal,
faults, last seen, and the latest alerts (full, sensor, fire, tilt, motor, modem, energy).
Works against the simulator and against any real broker.

    python -m host_tools.monitor --broker 127.0.0.1:1883 [--sort fill] [--once]
    keys: f fill  c forecast  b battery  s last seen  i id  r reverse  q quit

Times are the site's (KST). Ages ("seen") count from the wall clock, or from the bins'
own clock (the newest report) when watching a simulation (--clock; the header says which).
Battery and signal come with each report, which the broker does not keep: --once listens
a few seconds (--listen) for them, and shows -- for a bin that did not report meanwhile.
"""

from __future__ import annotations

import os
import select
import sys
import time

from host_tools.binview import ALERTS, BinView, Fleet, choose_clock, event_text, parse_broker
from host_tools.helptext import parser
from host_tools.site import SITE_TZ_NAME, local

SORTS = {
    "fill": (lambda v: -1 if v.fill is None else v.fill, True),
    "forecast": (lambda v: v.forecast_full or float("inf"), False),
    "battery": (lambda v: v.battery_mv or 0, False),
    "seen": (lambda v: v.last_seen or 0, False),
    "id": (lambda v: v.bin_id, False),
}
KEYS = {"f": "fill", "c": "forecast", "b": "battery", "s": "seen", "i": "id"}
KEYS_LINE = "keys: f fill  c forecast  b battery  s seen  i id  r reverse  q quit"
ALERTS_SHOWN = 5      # the live view keeps room for this many alerts below the table


def _clock(ts: float | None, now: float) -> str:
    """A forecast time: weekday and time within three days of now, else the date."""
    if not ts:
        return "--"
    d = local(ts)
    return d.strftime("%a %H:%M") if abs(ts - now) < 3 * 86400 else d.strftime("%m-%d")


def _age(ts: float | None, now: float) -> str:
    if not ts:
        return "--"
    s = max(0, now - ts)
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h" if s < 2 * 86400 else f"{s / 86400:.1f} d"


def table(views: list[BinView], sort: str, reverse: bool, now: float, width: int = 80,
          limit: int | None = None, clock: str = "wall clock") -> list[str]:
    """The header and one row per bin (the first `limit`), each at most `width` long."""
    key, desc = SORTS[sort]
    rows = sorted(views, key=key, reverse=desc != reverse)
    w = min(14, max([3] + [len(v.bin_id) for v in views]))
    lines = [f"{len(views)} bins, sorted by {sort}{' (reversed)' if reverse else ''}"
             f"    {local(now):%a %Y-%m-%d %H:%M} {SITE_TZ_NAME}",
             f"ages: {clock}",
             f"{'bin':<{w}} {'fill':>6} {'':<5} {'full at':>9} {'batt':>6} {'sig':>4} "
             f"{'state':<7} {'seen':>7}  faults (past 24h)"]
    for v in rows[:limit]:
        fill = "--" if v.fill is None else f"{v.fill:5.1f}%"
        bar = "" if v.fill is None else "#" * max(0, min(5, int(v.fill / 20)))
        batt = "--" if v.battery_mv is None else f"{v.battery_mv / 1000:5.2f}V"
        sig = "--" if v.signal_dbm is None else f"{v.signal_dbm}"
        line = (f"{v.bin_id:<{w}} {fill:>6} {bar:<5} {_clock(v.forecast_full, now):>9} "
                f"{batt:>6} {sig:>4} {v.status:<7} {_age(v.last_seen, now):>7}  "
                f"{v.faults(now)}")
        lines.append(_fit(line, width))
    return [_fit(ln, width) for ln in lines[:3]] + lines[3:]


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[:width - 1] + "~"


def alerts(views: list[BinView]) -> list[tuple[float, str, str, str]]:
    """(ts, bin, event code, what it means) of every alert the bins sent, newest first."""
    out = [(ts or 0, v.bin_id, ev, event_text(d))
           for v in views for ts, ev, d in v.events if ev in ALERTS]
    return sorted(out, key=lambda a: (-a[0], a[1]))


def alert_lines(views: list[BinView], now: float, width: int = 80,
                limit: int | None = None) -> list[str]:
    found = alerts(views)
    day = sum(1 for ts, *_ in found if now - 86400 <= ts <= now)
    head = (f"alerts, newest first ({SITE_TZ_NAME}): {day} in the 24 h before now"
            if found else "alerts: none heard yet (the broker keeps no events, only states)")
    w = min(14, max([3] + [len(v.bin_id) for v in views]))
    lines = [_fit(head, width)]
    for ts, bin_id, ev, text in found[:limit]:
        when = local(ts).strftime("%a %m-%d %H:%M") if ts else "--"
        lines.append(_fit(f"{when}  {bin_id:<{w}}  {ev:<12} {text}", width))
    return lines


def screen(views: list[BinView], sort: str, reverse: bool, now: float, clock: str,
           width: int, height: int) -> list[str]:
    """The live view: the table, then the latest alerts in the rows left (at least a few
    when there are any)."""
    n_alerts = len(alerts(views))
    keep = min(n_alerts, ALERTS_SHOWN) + 2 if n_alerts else 2
    rows = max(1, min(len(views), height - 3 - keep))
    lines = table(views, sort, reverse, now, width, rows, clock)
    room = height - len(lines) - 2
    return lines + [""] + alert_lines(views, now, width, max(0, room))


def main(argv=None) -> int:
    p = parser("python -m host_tools.monitor", __doc__)
    p.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT (default %(default)s)")
    p.add_argument("--sort", choices=sorted(SORTS), default="fill",
                   help="the table's order (default %(default)s; keys change it live)")
    p.add_argument("--once", action="store_true",
                   help="print the table and the alerts once and exit")
    p.add_argument("--listen", type=float, default=5.0, metavar="S",
                   help="--once: listen this long for reports (battery, signal) and alerts "
                        "after the retained states are in (default %(default)g s)")
    p.add_argument("--events", type=int, default=20, metavar="N",
                   help="--once: show the latest N alerts (default %(default)s)")
    p.add_argument("--clock", choices=["auto", "wall", "bins"], default="auto",
                   help="count ages from the wall clock or from the bins' own (the newest "
                        "report); auto: the bins' when they run ahead of or faster than the "
                        "wall clock (a simulation), or no bin reported for a day")
    p.add_argument("--interval", type=float, default=1.0,
                   help="refresh period, seconds (default %(default)g)")
    args = p.parse_args(argv)
    if args.listen < 0 or args.events < 0 or args.interval <= 0:
        p.error("--listen and --events must not be negative, --interval must be positive")
    host, port = parse_broker(args.broker)
    try:
        fleet = Fleet(host, port, client_id=f"monitor-{os.getpid()}").start()
    except RuntimeError as e:
        print(f"monitor: {e}", file=sys.stderr)
        return 2
    try:
        return _run(fleet, args)
    except KeyboardInterrupt:
        return 0
    finally:
        fleet.stop()


def _now(fleet: Fleet, mode: str) -> tuple[float, str]:
    return choose_clock(mode, time.time(), fleet.newest_ts, fleet.pace())


def _once(fleet: Fleet, args) -> int:
    fleet.settle()
    deadline = time.monotonic() + args.listen
    while time.monotonic() < deadline:
        views = fleet.snapshot()
        if views and all(v.battery_mv is not None for v in views):
            break
        time.sleep(0.1)
    views = fleet.snapshot()
    now, clock = choose_clock(args.clock, time.time(), fleet.newest_ts)
    lines = table(views, args.sort, False, now, clock=clock)
    unknown = sum(1 for v in views if v.battery_mv is None)
    if unknown:
        lines.append(f"(batt, sig: -- for {unknown} bin{'s' if unknown != 1 else ''} that "
                     f"sent no report in the {args.listen:g} s listened; --listen)")
    print("\n".join(lines + [""] + alert_lines(views, now, limit=args.events)))
    return 0


def _run(fleet: Fleet, args) -> int:
    if args.once:
        return _once(fleet, args)
    sort, reverse = args.sort, False
    tty = sys.stdout.isatty() and sys.stdin.isatty()
    fleet.settle(max_s=2.0)
    fleet.mark()
    old = None
    try:
        if tty:
            import termios
            import tty as ttymod

            old = termios.tcgetattr(sys.stdin)
            ttymod.setcbreak(sys.stdin)
            sys.stdout.write("\x1b[?1049h\x1b[?25l")
        while True:
            now, clock = _now(fleet, args.clock)
            size = os.get_terminal_size() if tty else os.terminal_size((80, 24))
            lines = screen(fleet.snapshot(), sort, reverse, now, clock, size.columns,
                           size.lines - 2)
            if tty:
                sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines) + "\n\n" + KEYS_LINE)
                sys.stdout.flush()
                r, _, _ = select.select([sys.stdin], [], [], args.interval)
                if r:
                    ch = sys.stdin.read(1)
                    if ch == "q":
                        return 0
                    if ch == "r":
                        reverse = not reverse
                    elif ch in KEYS:
                        sort, reverse = KEYS[ch], False
            else:
                print("\n".join(lines) + "\n", flush=True)
                time.sleep(max(args.interval, 5.0))
    finally:
        if old is not None:
            import termios

            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, old)
            sys.stdout.write("\x1b[?25h\x1b[?1049l")
            sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
