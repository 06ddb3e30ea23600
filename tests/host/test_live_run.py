"""`python -m host_tools.sim --live` on a real pseudo-terminal: the view draws, and a Ctrl-C
ends the run with status 130, the terminal restored and nothing left running (bins'
MicroPython processes and the broker live in sessions of their own, so the terminal's SIGINT
never reaches them: the simulator has to stop them)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SCREEN_WAIT_S = 60     # generous upper bounds, only to fail instead of hanging
EXIT_WAIT_S = 20


def _proc(pid: int, name: str) -> str | None:
    try:
        if name == "cwd":
            return os.readlink(f"/proc/{pid}/cwd")
        return Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace")
    except OSError:  # gone, or not ours to look at
        return None


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _identity(pid: int) -> tuple[int, str] | None:
    """(pid, start time): a pid that was reused by an unrelated process does not match."""
    stat = _proc(pid, "stat")
    if stat is None:
        return None
    return pid, stat.rsplit(")", 1)[1].split()[19]


def _children(parent: int) -> dict[int, str]:
    out = {}
    for pid in _pids():
        stat = _proc(pid, "stat")
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            out[pid] = (_proc(pid, "cmdline") or "").replace("\0", " ")
    return out


def _in_workdir(workdir: Path, cmdline: bool = True) -> list[int]:
    """Processes running inside the workdir (or naming it on their command line)."""
    me, w = os.getpid(), str(workdir)
    found = []
    for pid in _pids():
        if pid == me:
            continue
        cwd = _proc(pid, "cwd") or ""
        cmd = (_proc(pid, "cmdline") or "") if cmdline else ""
        if cwd == w or cwd.startswith(w + "/") or w in cmd:
            found.append(pid)
    return found


def _read(fd: int, timeout: float) -> bytes | None:
    """Some output, b"" if none yet, None once the terminal's other side has closed."""
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return b""
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: every process holding the slave side has exited
        return None
    return data or None


@pytest.mark.timeout(120)
def test_live_view_draws_and_ctrl_c_stops_everything(tmp_path):
    workdir = tmp_path / "work"
    cmd = [sys.executable, "-m", "host_tools.sim", "--live", "--days", "2", "--speed", "3000",
           "--seed", "1", "--start", "2026-12-02", "--workdir", str(workdir)]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"

    pid, fd = pty.fork()
    if pid == 0:  # the child: a session of its own on the pty, as in a terminal window
        try:
            os.chdir(ROOT)
            os.execve(sys.executable, cmd, env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    raw = b""
    status = None
    try:
        # 1. the view comes up with the virtual clock and both fill figures
        deadline = time.monotonic() + SCREEN_WAIT_S
        shown = False
        while time.monotonic() < deadline:
            data = _read(fd, 0.2)
            if data is None:
                break
            raw += data
            text = ANSI.sub("", raw[-8000:].decode(errors="replace"))
            if (re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST", text)
                    and re.search(r"day \d of 2", text)
                    and re.search(r"reported\s+\[[^\]]*\]\s+\d+\.\d%", text)
                    and "battery" in text):
                shown = True
                break
        screen = ANSI.sub("", raw.decode(errors="replace"))
        assert shown, f"the live view never showed the clock and fill:\n{screen[-3000:]}"
        assert b"\x1b[?1049h" in raw, "the view did not switch to the alternate screen"
        # the monitor can attach from a second terminal: the broker's address is shown
        assert re.search(r"broker 127\.0\.0\.1:\d+ +\(python -m host_tools\.monitor", screen)
        assert "space pause/resume" in screen and "door " in screen and "signal" in screen

        # 1b. space pauses the run, and says so; space again resumes it
        os.write(fd, b" ")
        deadline = time.monotonic() + SCREEN_WAIT_S
        while "PAUSED" not in ANSI.sub("", raw[-4000:].decode(errors="replace")) \
                and time.monotonic() < deadline:
            raw += _read(fd, 0.2) or b""
        assert "PAUSED" in ANSI.sub("", raw[-4000:].decode(errors="replace"))
        os.write(fd, b" ")

        # what this run started: the broker and the bins' processes (in their own sessions)
        kids = _children(pid)
        brokers = {p: c for p, c in kids.items() if "mosquitto" in c}
        assert brokers, f"no broker among the simulator's children: {kids}"
        conf = re.search(r"-c (\S+mosquitto\.conf)", next(iter(brokers.values())))
        assert conf, brokers
        bins = _in_workdir(workdir, cmdline=False)
        assert bins, "no bin process found running in the workdir"
        started = {_identity(p) for p in [*kids, *bins]} - {None}

        # 2. Ctrl-C, as the terminal sends it: SIGINT to the foreground process group only
        os.killpg(os.getpgid(pid), signal.SIGINT)
        deadline = time.monotonic() + EXIT_WAIT_S
        while status is None and time.monotonic() < deadline:
            data = _read(fd, 0.1)
            raw += data or b""
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            elif data is None:
                time.sleep(0.1)
        while data := _read(fd, 0.2):  # the rest of its output, if any
            raw += data
        assert status is not None, "the simulator did not exit after Ctrl-C"
    finally:
        if status is None:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        os.close(fd)

    out = ANSI.sub("", raw.decode(errors="replace"))
    assert os.waitstatus_to_exitcode(status) == 130, out[-2000:]
    assert "sim: interrupted" in out, out[-2000:]
    # the terminal is given back: normal screen, cursor visible
    tail = raw[raw.rindex(b"\x1b[?1049h"):]
    assert b"\x1b[?1049l" in tail and b"\x1b[?25h" in tail

    # 3. nothing of this run is left
    alive = {_identity(p) for p, _ in started} - {None}
    assert not (alive & started), f"still running after Ctrl-C: {sorted(alive & started)}"
    assert _in_workdir(workdir) == [], "a process still runs in the workdir"
    left = [p for p in _pids() if conf.group(1) in (_proc(p, "cmdline") or "")]
    assert left == [], f"the broker ({conf.group(1)}) is still running: {left}"
    assert not Path(conf.group(1)).exists(), "the broker's temporary folder was not removed"
