"""The technician's shell on a virtual device: the unix port behind a pty, its peripherals
served by the simulator, driven with mpremote and once by typing at the REPL."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time

import pytest

from host_tools.deploy.virtual import VirtualDevice
from host_tools.paths import micropypath
from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.network.proxy import Proxy
from host_tools.sim.observe.subscriber import Subscriber


@pytest.fixture
def bench(broker, tmp_path):
    """A simulated bin whose firmware is whatever the virtual device's REPL runs."""
    proxy = Proxy((broker.host, broker.port)).start()
    sub = Subscriber(broker.host, broker.port, client_id="t-shell").start()
    cfg = SimConfig(days=30, seed=4, workdir=tmp_path / "sim", external=True,
                    start_s=1_790_000_000)
    sim = Simulation(cfg, proxy.address, broker.port)
    th = threading.Thread(target=sim.run, daemon=True)
    th.start()
    b = sim.bins["bin-0001"]
    env = {"BIN_SIM": f"unix:{sim.addr}", "BIN_SIM_ID": "bin-0001",
           "MICROPYPATH": micropypath()}
    dev = VirtualDevice(b.flash, env=env).start()
    try:
        yield sim, b.vbin, dev, sub
    finally:
        dev.stop()
        sim.request_stop()
        th.join(10)
        sub.stop()
        proxy.stop()


def mpremote(dev: VirtualDevice, code: str) -> str:
    r = subprocess.run([sys.executable, "-m", "mpremote", "connect", dev.port, "resume", "exec",
                        "from shell import *\n" + code], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stdout, r.stdout
    return r.stdout


@pytest.mark.timeout(180)
def test_helpers_through_mpremote(bench):
    sim, vbin, dev, sub = bench
    out = mpremote(dev, "status()")
    lines = out.rstrip("\n").splitlines()
    assert all(len(line) <= 80 for line in lines), out
    for word in ("bin-0001", "fill", "battery", "solar", "queue", "last rep", "faults"):
        assert word in out, (word, out)

    # the motor test refuses with the door open and the bridge never moves
    vbin.door_forced = True
    out = mpremote(dev, "motor_test('yes')")
    assert "Refused: the door is open" in out
    assert vbin.motor.intervals == [] and vbin.motor.on_since is None
    vbin.door_forced = None
    out = mpremote(dev, "motor_test('no')")
    assert "Cancelled" in out and vbin.world.ram.strokes == 0
    out = mpremote(dev, "motor_test('yes')")
    assert "Stroke: ok" in out, out
    assert vbin.world.ram.strokes == 1 and vbin.world.ram.at_home(vbin.world.t)

    # config is validated as a whole and saved atomically
    out = mpremote(dev, "config(wake_s=5)")
    assert "Not saved: wake_s must be an integer in 60..86400" in out
    out = mpremote(dev, "config(wake_s=600)")
    assert "Saved: wake_s=600" in out
    assert json.loads((dev.root / "config.json").read_text())["wake_s"] == 600

    # a report on demand reaches the broker
    out = mpremote(dev, "report_now()")
    assert "Reported." in out
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not sub.count("telemetry"):
        time.sleep(0.05)
    assert sub.count("telemetry") == 1
    out = mpremote(dev, "sensors(2)\nlog(5)\nmodem('AT')\nhelp()")
    assert "no reading" not in out.splitlines()[1]
    assert "AT" in out and "OK" in out
    assert "status()" in out and "motor_test()" in out
    # technician actions are in the log
    out = mpremote(dev, "log(8)")
    assert "technician: motor test: ok (peak" in out and "technician: config saved" in out, out


@pytest.mark.timeout(120)
def test_typing_at_the_repl(bench):
    """A technician's terminal: type at the REPL prompt, read the screen."""
    _, _, dev, _ = bench
    fd = os.open(dev.port, os.O_RDWR | os.O_NOCTTY)
    screen = b""

    def read_until(token: bytes, timeout_s: float = 30) -> bytes:
        nonlocal screen
        deadline = time.monotonic() + timeout_s
        while token not in screen and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                screen += os.read(fd, 4096)
        return screen

    try:
        os.write(fd, b"\r")   # a terminal sends CR for Enter
        assert b">>> " in read_until(b">>> ")
        os.write(fd, b"from shell import *\r")
        os.write(fd, b"status()\r")
        out = read_until(b"strokes")
        text = out.decode(errors="replace")
        assert "fill" in text and "battery" in text and "strokes" in text, text
        # asking is a sentence, never a prompt that waits (mpremote exec would hang on it)
        os.write(fd, b"motor_test()\r")
        assert b"motor_test('yes')" in read_until(b"motor_test('yes')")
        os.write(fd, b"motor_test('no')\r")
        assert b"Cancelled." in read_until(b"Cancelled.")
        assert b"Traceback" not in screen
        # the console ends lines with CR LF, as a board's UART REPL does
        assert b"\n" not in screen.replace(b"\r\n", b""), screen
    finally:
        os.close(fd)
