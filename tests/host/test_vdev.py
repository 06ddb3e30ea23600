"""The README's technician recipe, as a technician runs it: `python -m host_tools.sim --vdev`
(make vdev) brings up a virtual bin with the simulated world behind it on a pty, the deploy
tool flashes it, and mpremote drives the helpers. Every line the console sends ends in
CR LF (a board's UART REPL), and every helper answers in sentences."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from host_tools.paths import ROOT

# mpremote's own words when it could not get hold of the REPL (the port was opening, or the
# device was busy printing): a technician runs the command again, and so does the test
_NO_HOLD = ("could not enter raw repl", "Input/output error", "TransportError")


def _mpremote(port: str, code: str, tries: int = 3) -> str:
    for _ in range(tries):
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "resume",
                            "exec", code], capture_output=True, timeout=90)
        err = r.stderr.decode(errors="replace")
        if r.returncode == 0 or not any(w in err for w in _NO_HOLD):
            break
        time.sleep(1)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0, out + err
    # the console's lines end in CR LF: no bare LF reaches the terminal
    assert b"\n" not in r.stdout.replace(b"\r\n", b""), r.stdout
    assert "Traceback" not in out, out
    return out.replace("\r\n", "\n")


@pytest.fixture
def vdev(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "host_tools.sim", "--vdev", "--seed", "1", "--start",
         "2026-12-02", "--speed", "10", "--workdir", str(tmp_path / "vdev")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        head = ""
        deadline = time.monotonic() + 60
        while "stop:" not in head and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            head += line
        m = re.search(r"on (\S+\.tty) \(broker (127\.0\.0\.1:\d+)\)", head)
        assert m, head + proc.stderr.read()
        port = m.group(1)
        yield (port if os.path.isabs(port) else str(ROOT / port)), m.group(2), head, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)      # Ctrl-C stops the world, broker, device
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.timeout(300)
def test_technician_recipe_on_a_virtual_bin(vdev):
    port, broker, head, proc = vdev
    for step in ("deploy:", "connect:", "mpremote connect", "stop:"):
        assert step in head, head
    # a blank board: no firmware yet, and the REPL says so
    out = _mpremote(port, "print('alive')")
    assert "alive" in out
    r = subprocess.run([sys.executable, "-m", "host_tools.deploy", "--port", port,
                        "--device", "bin-0001", "--broker", broker,
                        "--set", "utc_offset_min=540"], cwd=ROOT,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "device reset; the new firmware is starting" in r.stdout, r.stdout
    # the chip boots the deployed firmware; mpremote's Ctrl-C stops the app (service mode)
    out = ""
    deadline = time.monotonic() + 60
    while "strokes" not in out and time.monotonic() < deadline:
        try:
            out = _mpremote(port, "status()")
        except AssertionError:
            time.sleep(1)        # the device was power-cycling: the port comes back
    assert "bin-0001" in out and "UTC+09:00" in out, out
    assert "0 compactions" in out, out

    out = _mpremote(port, "calibrate_empty()")
    assert "Measured" in out and "calibrate_empty('yes')" in out and "Saved" not in out
    out = _mpremote(port, "calibrate_empty('yes')")
    assert "Saved: empty_mm = " in out, out
    out = _mpremote(port, "motor_test('yes')")
    assert re.search(r"Stroke: ok \(peak \d+ mA, \d+ ms, 0 jams\)", out), out
    out = _mpremote(port, "status()")
    assert "1 compactions" in out, out
    out = _mpremote(port, "log()")
    assert "technician: calibrate_empty: empty_mm" in out, out
    assert "technician: motor test: ok" in out, out
    assert "times UTC+09:00" in out, out
    out = _mpremote(port, "modem('AT+CSQ')")
    assert "= signal" in out or "= no signal" in out, out
    # `import main` typed at the REPL: a sentence, not a traceback
    out = _mpremote(port, "import main")
    assert "Deep sleep for" in out and "Service mode" in out, out
    assert proc.poll() is None
