"""The sim-board link when a board dies half-way through a line (a MemoryError inside
json.dump at a small -X heapsize): the board never sends half a request, and the simulator
treats a garbled line as that board's crash, never as its own."""

from __future__ import annotations

import socket

from host_tools.sim.engine import SimConfig, Simulation, _Conn

from ..conftest import run_on_unix_port

START_S = 1_780_239_600     # 2026-06-01 in Korea

_PUT = """
import io, json
from board.simlink import Conn


class Unconnected(Conn):        # no simulator: only the posted-request buffer
    def _open(self):
        pass


class OutOfMemory:              # json.dump runs out of heap half-way through the line
    def __repr__(self):
        raise MemoryError("memory allocation failed")


c = Unconnected("unix:none", "bin-0001")
c._put(["~pin_set", 5, "led", 1])
try:
    c._put(["~uart_write", 6, "level0", OutOfMemory()])
except MemoryError:
    pass
c._put(["~wdt_feed", 7])
c._put(("rtc_set", 8), b"00ff")
p = c._posted
lines = p.getvalue()[:p.tell()].decode().splitlines()
print([json.loads(ln) for ln in lines])
"""


def test_a_failed_post_leaves_no_half_line(tmp_path):
    script = tmp_path / "put.py"
    script.write_text(_PUT)
    r = run_on_unix_port(script, cwd=tmp_path)
    assert r.returncode == 0, r.out
    assert r.out.strip() == ("[['~pin_set', 5, 'led', 1], ['~wdt_feed', 7], "
                             "['~rtc_set', 8, '00ff']]"), r.out


def test_a_garbled_line_is_the_boards_crash(tmp_path):
    cfg = SimConfig(workdir=tmp_path, external=True, start_s=START_S, days=0.1)
    sim = Simulation(cfg, ("127.0.0.1", 9), 1883)
    ours, theirs = socket.socketpair()
    try:
        b = next(iter(sim.bins.values()))
        b.flash.mkdir(parents=True, exist_ok=True)
        conn = _Conn(ours)
        conn.bin, b.conn, b.status = b, conn, "awake"
        sim.sel.register(ours, 1, conn)
        # half a posted pin write, then the next request on the same line
        theirs.sendall(b'["~pin_set", 1780239600000, "mo["sample", 1780239600000, "vbat"]\n')
        sim._read(conn)
        assert b.conn is None and b.vbin.counters.crashes == 1
        assert b.status == "sleeping"          # reset as by its watchdog, woken again
        assert "garbled request from the board" in (b.flash / "console.log").read_text()
        assert theirs.recv(100) == b""        # the board's link is closed
    finally:
        theirs.close()
        sim.close()
