"""A virtual bin for technicians: the simulated world (waste, sensors, motor, door, sun,
battery, modem, broker) behind a virtual device on a pty, in real time.

    python -m host_tools.sim --vdev --seed 1 --start 2026-12-02     (or: make vdev)

Deploy the firmware to the port it prints, connect with mpremote or a serial terminal, and
use the helpers as at a bin (status(), calibrate_empty('yes'), motor_test('yes'), log()).
The chip boots whatever is in its flash at power-on (deploy.vdev_rom); a deploy's reset,
vdev_reset() or Ctrl-D at its REPL power-cycles it. Ctrl-C here stops everything.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from host_tools.broker import Broker
from host_tools.deploy.virtual import VirtualDevice
from host_tools.paths import BUILD, ROOT
from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.network.proxy import Proxy
from host_tools.sim.observe.subscriber import Subscriber
from host_tools.site import SITE_UTC_OFFSET_MIN

BIN_ID = "bin-0001"


def _rel(path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def steps(port: str, broker: str) -> str:
    """What to do next, as the virtual bin prints it."""
    return f"""virtual bin {BIN_ID} on {port} (broker {broker}), the simulated world behind it

  deploy:   .venv/bin/python -m host_tools.deploy --port {port} --device {BIN_ID} \\
                --broker {broker} --set utc_offset_min={SITE_UTC_OFFSET_MIN}
  connect:  .venv/bin/mpremote connect {port} resume      (Ctrl-] leaves)
            or: picocom -b 115200 {port}
  at the REPL (Ctrl-C stops the app first): help(), status(), calibrate_empty('yes'),
            motor_test('yes'), log()
  watch:    .venv/bin/python -m host_tools.monitor --broker {broker}
  stop:     Ctrl-C here (the world, the broker and the device stop together)
"""


def run(args, start_s: float) -> int:
    """The virtual bin until Ctrl-C (or the end of --days of virtual time)."""
    broker = proxy = sub = dev = None
    sim = None
    th = None
    try:
        if args.broker:
            host, port = args.broker.rsplit(":", 1)
            upstream = (host, int(port))
        else:
            broker = Broker().start()
            upstream = (broker.host, broker.port)
        proxy = Proxy(upstream).start()
        sub = Subscriber(*upstream, client_id=f"vdev-observer-{args.seed}").start()
        cfg = SimConfig(days=args.days, seed=args.seed, start_s=start_s, external=True,
                        speed=args.speed or 1.0, workdir=BUILD / "vdev")
        if args.workdir:
            cfg.workdir = Path(args.workdir)
        sim = Simulation(cfg, proxy.address, upstream[1])
        th = threading.Thread(target=sim.run, daemon=True)
        th.start()
        b = sim.bins[BIN_ID]
        env = {"BIN_SIM": f"unix:{sim.addr}", "BIN_SIM_ID": BIN_ID}
        dev = VirtualDevice(b.flash, env=env, rom=True).start()
        print(steps(_rel(Path(dev.port)), f"{upstream[0]}:{upstream[1]}"), flush=True)
        while th.is_alive():
            if dev.proc is not None and dev.proc.poll() is not None:
                # the interpreter exited (a deploy's reset, vdev_reset(), Ctrl-D): power on
                print("vdev: power-cycled; the chip boots what is in its flash", flush=True)
                dev.stop()
                dev.start()
            time.sleep(0.2)
        print("vdev: the simulated days are over (--days)", file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        print("\nvdev: stopped; the device, the world and the broker are down", file=sys.stderr)
        return 130
    finally:
        if dev:
            dev.stop()
        if sim:
            sim.request_stop()
        if th:
            th.join(10)
        if sub:
            sub.stop()
        if proxy:
            proxy.stop()
        if broker:
            broker.stop()

