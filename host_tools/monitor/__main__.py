"""Live dashboard of every bin seen on a broker: fill, forecast full, battery, signal,
faults, last seen. Works against the simulator and against any real broker.

    python -m host_tools.monitor --broker 127.0.0.1:1883 [--sort fill]
    keys: f fill  c forecast  b battery  s last seen  i id  r reverse  q quit
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import select
import sys
import time

from host_tools.binview import BinView, Fleet, parse_broker

KST = dt.timezone(dt.timedelta(hours=9))
SORTS = {
    "fill": (lambda v: -1 if v.fill is None else v.fill, True),
    "forecast": (lambda v: v.forecast_full or float("inf"), False),
    "battery": (lambda v: v.battery_mv or 0, False),
    "seen": (lambda v: v.last_seen or 0, False),
    "id": (lambda v: v.bin_id, False),
}
KEYS = {"f": "fill", "c": "forecast", "b": "battery", "s": "seen", "i": "id"}


def _clock(ts: float | None, now: float) -> str:
    if not ts:
        return "--"
    d = dt.datetime.fromtimestamp(ts, KST)
    return d.strftime("%H:%M") if abs(ts - now) < 20 * 3600 else d.strftime("%m-%d %H:%M")


def _age(ts: float | None, now: float) -> str:
    if not ts:
        return "never"
    s = max(0, now - ts)
    return f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h"


def table(views: list[BinView], sort: str, reverse: bool, now: float, width: int = 80,
          limit: int | None = None) -> list[str]:
    key, desc = SORTS[sort]
    rows = sorted(views, key=key, reverse=desc != reverse)
    lines = [f"{len(views)} bins  sorted by {sort}{' (reversed)' if reverse else ''}  "
             f"{dt.datetime.fromtimestamp(now, KST):%Y-%m-%d %H:%M} KST",
             f"{'bin':<12} {'fill':>6} {'':<10} {'full at':>11} {'batt':>6} {'sig':>5} "
             f"{'state':<7} {'seen':>7}  faults"]
    for v in rows[:limit]:
        fill = "--" if v.fill is None else f"{v.fill:5.1f}%"
        bar = "" if v.fill is None else "#" * min(10, int(v.fill / 10))
        batt = "--" if v.battery_mv is None else f"{v.battery_mv / 1000:5.2f}V"
        sig = "--" if v.signal_dbm is None else f"{v.signal_dbm}"
        line = (f"{v.bin_id:<12} {fill:>6} {bar:<10} {_clock(v.forecast_full, now):>11} "
                f"{batt:>6} {sig:>5} {v.status:<7} {_age(v.last_seen, now):>7}  {v.faults()}")
        lines.append(line[:width])
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.monitor",
                                description=__doc__.split("\n")[0])
    p.add_argument("--broker", default="127.0.0.1:1883", help="HOST:PORT (default %(default)s)")
    p.add_argument("--sort", choices=sorted(SORTS), default="fill")
    p.add_argument("--once", action="store_true", help="print the table once and exit")
    p.add_argument("--interval", type=float, default=1.0, help="refresh period, seconds")
    args = p.parse_args(argv)
    host, port = parse_broker(args.broker)
    try:
        fleet = Fleet(host, port, client_id=f"monitor-{os.getpid()}").start()
    except RuntimeError as e:
        print(f"monitor: {e}", file=sys.stderr)
        return 2
    sort, reverse = args.sort, False
    tty = sys.stdout.isatty() and sys.stdin.isatty() and not args.once
    old = None
    try:
        if args.once:
            fleet.settle()
            print("\n".join(table(fleet.snapshot(), sort, reverse, time.time())))
            return 0
        if tty:
            import termios
            import tty as ttymod

            old = termios.tcgetattr(sys.stdin)
            ttymod.setcbreak(sys.stdin)
            sys.stdout.write("\x1b[?1049h\x1b[?25l")
        while True:
            now = time.time()
            size = os.get_terminal_size() if tty else os.terminal_size((80, 24))
            lines = table(fleet.snapshot(), sort, reverse, now, size.columns, size.lines - 3)
            if tty:
                sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines) +
                                 "\n\nkeys: f fill  c forecast  b battery  s seen  i id  "
                                 "r reverse  q quit")
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
    except KeyboardInterrupt:
        return 0
    finally:
        if old is not None:
            import termios

            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, old)
            sys.stdout.write("\x1b[?25h\x1b[?1049l")
            sys.stdout.flush()
        fleet.stop()


if __name__ == "__main__":
    sys.exit(main())
