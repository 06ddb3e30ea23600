"""Headless simulation: K bins' firmware on the MicroPython unix port for N simulated days.

    python -m host_tools.sim --days 2 --bins 1 --seed 1 --json r.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from host_tools.broker import Broker
from host_tools.dispatch import COLLECT_BEFORE_PCT, CrewSettings, afternoon_text, parse_afternoon
from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.figures import dump, finish
from host_tools.sim.harness import drain as _drain
from host_tools.sim.network.proxy import Proxy
from host_tools.sim.observe.subscriber import Subscriber
from host_tools.sim.report import build_raw


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m host_tools.sim",
                                description=__doc__.split("\n")[0])
    p.add_argument("--days", type=float, default=None,
                   help="simulated days (default 2; with --vdev 30)")
    p.add_argument("--bins", type=int, default=1, help="number of bins (default 1)")
    p.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    p.add_argument("--start", default=None,
                   help="start date YYYY-MM-DD, 00:00 local time (default: today)")
    p.add_argument("--broker", default=None, metavar="HOST:PORT",
                   help="use this broker instead of starting one")
    p.add_argument("--mode", choices=["fast", "faithful"], default="fast",
                   help="fast: one process per bin; faithful: a new process per wake")
    p.add_argument("--speed", type=float, default=None,
                   help="virtual seconds per wall second (default: as fast as possible)")
    p.add_argument("--tls", action="store_true",
                   help="bins use MQTT over TLS (test CA made with openssl) via the proxy")
    p.add_argument("--commands-every", type=int, default=0, metavar="N",
                   help="send each bin a command every N telemetry messages it delivered")
    p.add_argument("--sensors", default="a02yyuw",
                   help="level sensors fitted, comma-separated: a02yyuw, maxbotix, hcsr04")
    p.add_argument("--scenario", choices=["default", "sensing", "outages", "faults"],
                   default="default",
                   help="sensing: -15..+45 C season, condensation, sensor faults, a fire "
                        "and a knock-over on a seeded schedule (world/sensing.py); outages: "
                        "broker down for hours, modem hangs, registration denied, coverage "
                        "lost mid-publish (world/outages.py); faults: power cuts inside "
                        "flash writes and at random moments, wakes that hang until the "
                        "watchdog (faults.py; implies --mode faithful)")
    p.add_argument("--dispatch", choices=["fixed", "threshold", "forecast"], default=None,
                   help="crews dispatched from what the broker knows (host_tools/dispatch) "
                        "instead of the world's own rounds: fixed (every bin every 2 days), "
                        "threshold (last report at the threshold), forecast (the bins' own "
                        "forecasts)")
    p.add_argument("--threshold", type=float, default=60.0,
                   help="dispatch threshold, %% fill: the threshold policy's trigger and the "
                        "line below which a collection is premature (default 60, the field's "
                        "usual per-bin threshold)")
    p.add_argument("--collect-before", type=float, default=COLLECT_BEFORE_PCT, metavar="PCT",
                   help="forecast dispatch: a bin is emptied before its own forecast says it "
                        "reaches this fill (default %(default)g; 100: the rim; lower: fewer "
                        "overflows, emptier bins at collection)")
    p.add_argument("--afternoon", default=None, metavar="HH-HH|none",
                   help="forecast dispatch: an afternoon round in this window for the bins "
                        "left in the morning that now would pass their fill before the next "
                        f"morning's first stops (default {afternoon_text(CrewSettings())}; "
                        "none: one route a day)")
    p.add_argument("--fleet", choices=["uniform", "field"], default="uniform",
                   help="uniform: every bin gets the same waste; field: most bins fill in "
                        "days, a few busy ones in hours (world/waste.py FIELD_*)")
    p.add_argument("--lat", type=float, default=37.7, help="latitude, degrees (default 37.7)")
    p.add_argument("--panel-w", type=float, default=20.0, help="solar panel watts (default 20)")
    p.add_argument("--panel-tilt", type=float, default=20.0,
                   help="panel tilt from horizontal, facing south, degrees (default 20)")
    p.add_argument("--battery-ah", type=float, default=12.0,
                   help="12.8 V LiFePO4 battery capacity, Ah (default 12)")
    p.add_argument("--first-bin", type=int, default=0, metavar="N",
                   help="number the bins from N+1 (a shard of a bigger fleet: each bin gets "
                        "the world it has in the whole fleet; the observer counts only "
                        "these bins' messages)")
    p.add_argument("--json", dest="json_path", default=None, metavar="FILE",
                   help="write the JSON report here (-: to stdout, the summary to stderr)")
    p.add_argument("--parts-json", dest="parts_path", default=None, metavar="FILE",
                   help="also write the report with its totals and means as sums and counts "
                        "(host_tools/sim/figures.py): what the shards of a fleet add up")
    p.add_argument("--live", action="store_true", help="show the live bin view")
    p.add_argument("--vdev", action="store_true",
                   help="a virtual bin for technicians: the world behind a virtual device on "
                        "a pty, in real time unless --speed; prints the port and what to do "
                        "next (host_tools/sim/vdev.py)")
    p.add_argument("--workdir", default=None, help="per-bin flash folders (default build/sim)")
    args = p.parse_args(argv)
    if args.days is None:
        args.days = 30.0 if args.vdev else 2.0
    if args.start is not None:
        try:
            dt.date.fromisoformat(args.start)
        except ValueError as e:
            p.error(f"--start {args.start}: {e}")
    if not 50.0 <= args.collect_before <= 100.0:
        p.error(f"--collect-before {args.collect_before:g}: a fill from 50 to 100 % "
                "(the bins forecast up to the rim, 100)")
    try:
        args.afternoon = parse_afternoon(args.afternoon)
    except ValueError as e:
        p.error(f"--afternoon {args.afternoon}: {e}")
    return args


# Set (to anything but "0") by the test suite and the benchmarks: a run must then name its
# start date, so that a verdict does not depend on the day it is given.
REQUIRE_START_ENV = "BIN_SIM_REQUIRE_START"


class StartDateRequired(ValueError):
    pass


def start_epoch(date: str | None) -> float:
    """00:00 site time (UTC+9) of date YYYY-MM-DD; no date: today, unless the environment
    asks every run to name its date (REQUIRE_START_ENV)."""
    kst = dt.timezone(dt.timedelta(hours=9))
    if date:
        d = dt.date.fromisoformat(date)
    elif os.environ.get(REQUIRE_START_ENV, "0") not in ("", "0"):
        raise StartDateRequired(
            f"no start date: with {REQUIRE_START_ENV} set (tests, benchmarks) every run "
            "names its start date (--start YYYY-MM-DD), so that its verdict is the same "
            "on any day")
    else:
        d = dt.datetime.now(kst).date()
    return dt.datetime(d.year, d.month, d.day, tzinfo=kst).timestamp()


class Progress:
    """A progress bar on a terminal, plain lines when redirected."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.last_line = 0.0

    def __call__(self, sim, subscriber) -> None:
        total = sim.end_ms - sim.start_ms
        done = max(0, sim.virtual_now_ms() - sim.start_ms)
        frac = min(1.0, done / total) if total else 1.0
        wakes = sum(b.vbin.counters.wakes for b in sim.bins.values())
        reports = subscriber.count("telemetry")
        text = (f"day {done / 86400000:6.2f}/{total / 86400000:g}  wakes {wakes:6d}  "
                f"reports {reports:6d}")
        if self.tty:
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r[{bar:<30}] {text}")
            if frac >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
        elif time.monotonic() - self.last_line >= 5 or frac >= 1.0:
            self.stream.write(f"sim: {frac * 100:5.1f}%  {text}\n")
            self.stream.flush()
            self.last_line = time.monotonic()


SERIES_MAX_BINS = 10   # the report carries per-bin time series (for plots) up to this size


def run(args) -> dict:
    cfg = SimConfig(bins=args.bins, days=args.days, seed=args.seed,
                    start_s=start_epoch(args.start), speed=args.speed,
                    mode="faithful" if args.scenario == "faults" else args.mode,
                    first_bin=getattr(args, "first_bin", 0))
    if args.workdir:
        cfg.workdir = Path(args.workdir)
    cfg.settings.lat, cfg.settings.panel_w = args.lat, args.panel_w
    cfg.settings.panel_tilt_deg, cfg.settings.battery_ah = args.panel_tilt, args.battery_ah
    cfg.settings.scenario = args.scenario
    cfg.settings.fleet = getattr(args, "fleet", "uniform")
    dispatch = getattr(args, "dispatch", None)
    if dispatch:
        cfg.settings.crew = "visits"
    cfg.settings.sensors = tuple(s.strip() for s in args.sensors.split(",") if s.strip())
    for s in cfg.settings.sensors:
        if s not in ("a02yyuw", "maxbotix", "hcsr04"):
            raise SystemExit(f"--sensors: unknown sensor {s!r} (a02yyuw, maxbotix, hcsr04)")
    broker = proxy = subscriber = view = ota = None
    try:
        if args.broker:
            host, port = args.broker.rsplit(":", 1)
            upstream = bins_to = (host, int(port))   # with --tls: a TLS port
        elif args.tls:
            from host_tools.tlsca import start_sim_tls_broker

            broker, bins_to = start_sim_tls_broker(cfg)
            upstream = (broker.host, broker.port)
        else:
            broker = Broker()
            broker.start()
            upstream = (broker.host, broker.port)
        proxy = Proxy(bins_to if args.tls else upstream).start()
        # the observer counts this simulation's bins (a shard of a fleet shares the broker)
        subscriber = Subscriber(*upstream, client_id=f"sim-observer-{args.seed}"
                                + (f"-{cfg.first_bin}" if cfg.first_bin else ""),
                                only=set(cfg.bin_ids()))
        subscriber.start()
        if args.commands_every:
            from host_tools.sim.delivery import Commander

            Commander(subscriber, args.commands_every)
        if args.scenario == "faults":
            from host_tools.sim.faults import ConfigChanger
            from host_tools.sim.ota_report import faults_rollout

            ConfigChanger(subscriber)
            ota = faults_rollout(cfg)   # a crashing update, then a good one
        sim = Simulation(cfg, proxy, upstream[1])   # each bin gets its path in the proxy
        if ota:
            ota.attach(sim, *upstream, subscriber)
        if dispatch:
            from host_tools.sim.crew import Crew

            sim.set_hook(Crew(dispatch, list(sim.bins), subscriber, proxy,
                              CrewSettings(threshold_pct=args.threshold,
                                           over_pct=args.collect_before,
                                           **args.afternoon)))
        if args.live:
            from host_tools.sim.live import LiveView

            view = LiveView(sim, subscriber, broker=f"{upstream[0]}:{upstream[1]}")
            on_progress = view.update
        else:
            prog = Progress()

            def on_progress(s):
                prog(s, subscriber)
        t0 = time.monotonic()
        sim.run(on_progress, progress_every_s=0.25 if args.live else 0.5)
        wall = time.monotonic() - t0
        _drain(proxy, subscriber)
        raw = build_raw(sim, subscriber, proxy, wall)
        if getattr(args, "parts_path", None):
            Path(args.parts_path).parent.mkdir(parents=True, exist_ok=True)
            Path(args.parts_path).write_text(json.dumps(dump(raw)) + "\n")
        report = finish(raw)
        if args.bins <= SERIES_MAX_BINS:
            from host_tools.sim.series import build_series

            report["series"] = build_series(sim, subscriber)
    finally:
        # sim.run() has already killed the bins' processes (its own finally)
        if view:
            view.close()
        if ota:
            ota.stop()
        if subscriber:
            subscriber.stop()
        if proxy:
            proxy.stop()
        if broker:
            broker.stop()
    return report


def _interrupt_once(signum, frame):
    """First Ctrl-C: stop the run. Further ones are ignored so that the cleanup (killing
    the bins' processes and the broker) cannot itself be cut short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt_once)
    try:
        if args.vdev:
            from host_tools.sim import vdev

            return vdev.run(args, start_epoch(args.start))
        report = run(args)
    except StartDateRequired as e:
        print(f"python -m host_tools.sim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        lead = "" if args.live else "\n"
        print(f"{lead}sim: interrupted; bins, broker and proxy stopped", file=sys.stderr)
        return 130
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
    to_stdout = args.json_path == "-"
    if to_stdout:
        print(json.dumps(report, indent=1))
    elif args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(report, indent=1) + "\n")
    if not args.live:
        out = sys.stderr if to_stdout else sys.stdout
        print("\n".join(summary(report, args)), file=out)
        if not args.json_path:
            print("sim: --json FILE writes every figure (--json - to stdout)", file=out)
        elif not to_stdout:
            print(f"sim: every figure in {args.json_path}", file=out)
    return 0


def _n(k: int, word: str) -> str:
    return f"{k} {word}" if k == 1 else f"{k} {word}s"


def summary(r: dict, args) -> list[str]:
    """A few lines a person reads after a run; the JSON report has every figure."""
    pub, rec = r["telemetry_published"], r["telemetry_received"]
    tls = bool(getattr(args, "tls", False))
    if tls:    # the wire is opaque: the bins' sequence numbers say what was lost
        fate = "none lost" if not r["telemetry_lost"] else f"{r['telemetry_lost']} LOST"
    else:
        fate = "every report accounted for" if pub == rec else f"{pub - rec} MISSING"
    start = args.start or "today"
    lines = [
        f"sim: {_n(r['bins'], 'bin')} x {r['days']:g} days from {start} (seed {r['seed']}, "
        f"{r['mode']} mode) in {r['wall_s']:.1f} s; {_n(r['wakes'], 'wake')}",
        f"sim: {_n(rec, 'report')} delivered{'' if tls else f' of {pub} published'}: {fate};"
        f" {_n(r['events_received'], 'event')}; firmware errors {r['firmware_errors']}",
    ]
    fill = "no fill error measured" if r.get("fill_rmse_pct") is None else \
        f"fill error {r['fill_rmse_pct']} % RMSE (raw sensor {r['fill_rmse_naive_pct']} %)"
    lines.append(f"sim: {fill}; {_n(r['compactions'], 'compaction')}, "
                 f"{_n(r['collections_true'], 'collection')} "
                 f"({r['collections_detected']} detected), "
                 f"{r['overflow_hours']} overflow hours")
    use = r.get("energy_wh_per_day") or {}
    lines.append(f"sim: battery at least {r['battery_soc_min_pct']} %, "
                 f"{sum(use.values()):.2f} Wh/day used, {r['solar_wh_per_day']} Wh/day "
                 f"from the sun; {_n(r['modem_sessions'], 'modem session')}")
    if r.get("collections") is not None and "dispatch" in r:
        lines.append(f"sim: {r['dispatch']} dispatch: {_n(r['collections'], 'collection')},"
                     f" mean fill {r['mean_fill_at_collection_pct']} %, "
                     f"{r['truck_km']} truck km")
    return lines


if __name__ == "__main__":
    sys.exit(main())
