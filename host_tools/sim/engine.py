"""Runs K firmware instances on the MicroPython unix port against their worlds in virtual
time. One process per bin (fast mode: it lives for the whole run; faithful mode: a new
process per wake, as a deep sleep resets the chip). Global virtual time advances in order:
a sleeping bin wakes only when no awake bin is still behind its wake time."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.broker import die_with_parent
from host_tools.paths import ROOT, compiled_micropypath, micropypath, micropython_cmd
from host_tools.sim.device import Control, VirtualBin
from host_tools.sim.lookahead import ROWS as AHEAD_ROWS
from host_tools.sim.lookahead import Window
from host_tools.sim.world.bin import BinWorld, WorldSettings
from host_tools.site import SITE_UTC_OFFSET_MIN

_SETPRIV = shutil.which("setpriv")
HUNG_WALL_S = 60.0     # an awake bin silent this long (wall time) is killed as hung
MAX_DEATHS = 5         # consecutive process deaths before a bin is given up


@contextlib.contextmanager
def _sigint_held():
    """Hold a Ctrl-C back while a child is started and recorded: a KeyboardInterrupt between
    fork and `b.proc = ...` would leave a process that close() does not know about."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending and callable(previous):
            previous(signal.SIGINT, None)


@dataclass
class SimConfig:
    bins: int = 1
    days: float = 2.0
    seed: int = 1
    start_s: float | None = None      # epoch seconds of the first moment: every run names
                                       # its start (the world differs day by day)
    mode: str = "fast"                 # fast | faithful
    speed: float | None = None         # virtual seconds per wall second (None: flat out)
    workdir: Path = field(default_factory=lambda: ROOT / "build" / "sim")
    settings: WorldSettings = field(default_factory=WorldSettings)
    config: dict = field(default_factory=dict)    # firmware config.json overrides
    provision: dict = field(default_factory=dict)  # more flash files: name -> bytes (ca.der)
    heapsize: str | None = None
    root: Path = ROOT                  # where boot.py, main.py and firmware/ are
    external: bool = False             # the bins' firmware is started by someone else (a
                                       # virtual device on a pty): never spawn processes
    device_root: Path | None = None    # one provisioned device folder (a deploy's target):
                                       # firmware, identity and config as deployed
    compiled: bool = True              # the firmware runs from .mpy (paths.compiled_...);
                                       # False: from source, compiled at every import
    lookahead: bool = True             # a steady loop's samples answered ahead (fewer round
                                       # trips, the same world: lookahead.py)
    first_bin: int = 0                 # the bins' indices start here: this simulation is a
                                       # shard of a bigger fleet (bin-0501... from 500), each
                                       # bin the same world as in the whole fleet

    def bin_ids(self) -> list[str]:
        return [f"bin-{i + 1:04d}" for i in range(self.first_bin, self.first_bin + self.bins)]


class _Conn:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.bin: BinState | None = None
        self.posting = False               # running a posted request: it gets no reply
        self.owed: tuple[int, str] | None = None   # a posted request's control word: the
                                                   # reply to the next request instead


@dataclass
class BinState:
    vbin: VirtualBin
    flash: Path
    proc: subprocess.Popen | None = None
    conn: _Conn | None = None
    status: str = "starting"  # starting|awake|resetting|sleeping|exiting|done|dead
    t_ms: int = 0                      # latest virtual time seen from this bin
    wake_ms: int = 0                   # when sleeping: when to wake
    deferred: bool = False             # fast mode: the deepsleep reply is held back
    last_wall: float = 0.0
    deaths: int = 0
    ahead: Window | None = None        # the rows the board may still be reading


class Simulation:
    def __init__(self, cfg: SimConfig, net_addr: tuple[str, int], broker_port: int):
        if cfg.start_s is None:
            raise ValueError("SimConfig.start_s is not set: a simulation names its start "
                             "(host_tools.sim.__main__.start_epoch('YYYY-MM-DD'))")
        self.cfg = cfg
        self.net_addr = net_addr
        self.broker_port = broker_port
        self.start_ms = int(cfg.start_s * 1000)
        self.end_ms = self.start_ms + int(cfg.days * 86400 * 1000)
        self.sel = selectors.DefaultSelector()
        # the sim boards connect over a Unix-domain socket (half the round-trip cost of
        # loopback TCP); its folder is short-named because socket paths are limited
        self._sockdir = tempfile.mkdtemp(prefix="binsim-")
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(os.path.join(self._sockdir, "board.sock"))
        self.lsock.listen(256)
        self.lsock.setblocking(False)
        self.sel.register(self.lsock, selectors.EVENT_READ, None)
        self.addr = self.lsock.getsockname()
        self.bins: dict[str, BinState] = {}
        self.boot_watchers: list = []   # f(bin state, t_ms) at every boot (ota_report.py)
        self.wall_start = 0.0
        self.paused = False
        self._pace: tuple[float, float] | None = None   # (virtual ms, wall s) of a change
        self.requests = 0
        # look-ahead (lookahead.py): windows opened, rows answered, rows the boards read,
        # windows gone back on (not every row read), windows ended before an interrupt
        self.ahead = {"windows": 0, "rows": 0, "read": 0, "rewinds": 0, "cut": 0}
        self._mpypath = compiled_micropypath(cfg.root) \
            if cfg.compiled and not cfg.external else None
        self._dirty = True
        self._stop_requested = False
        self.stopping = False
        # an outside actor at given virtual times (a dispatched crew): every bin is asleep
        # up to that time, none has woken after it; hook.next_ms(t) / hook(sim, t_ms)
        self.hook = None
        self._hook_ms: int | None = None
        cfg.workdir.mkdir(parents=True, exist_ok=True)
        for i, bin_id in enumerate(cfg.bin_ids(), start=cfg.first_bin):
            if cfg.device_root is not None:
                ident = json.loads((cfg.device_root / "identity.json").read_text())
                bin_id = ident["id"]
            world = BinWorld(cfg.seed, i, cfg.start_s, cfg.settings)
            vbin = VirtualBin(bin_id, i, world, cfg.seed, cfg.mode, net_addr)
            if cfg.device_root is not None:
                self.bins[bin_id] = BinState(vbin, cfg.device_root, t_ms=self.start_ms,
                                             wake_ms=self.start_ms, status="sleeping")
                continue
            flash = cfg.workdir / bin_id
            if flash.exists():
                shutil.rmtree(flash)
            flash.mkdir(parents=True)
            (flash / "identity.json").write_text(json.dumps({"id": bin_id}))
            # the world's clock is Korean local time (UTC+9): the fill-rate profile's hours
            conf = {"broker_host": "127.0.0.1", "broker_port": broker_port,
                    "utc_offset_min": SITE_UTC_OFFSET_MIN,
                    "pack_prior_pct": 13,   # this compactor's packing, as installed
                    "battery_wh": round(cfg.settings.battery_ah * 12.8)}   # as installed
            conf.update(cfg.config)
            (flash / "config.json").write_text(json.dumps(conf))
            for name, data in cfg.provision.items():
                (flash / name).write_bytes(data)
            self.bins[bin_id] = BinState(vbin, flash, t_ms=self.start_ms,
                                         wake_ms=self.start_ms, status="sleeping")

    # processes ----------------------------------------------------------------------------
    def _spawn(self, b: BinState) -> None:
        env = dict(os.environ)
        env.update({"MICROPYPATH": self._mpypath or micropypath(self.cfg.root),
                    "BIN_SIM": f"unix:{self.addr}", "BIN_SIM_ID": b.vbin.bin_id})
        # dies with the simulator (PR_SET_PDEATHSIG) by setpriv where there is one: a
        # preexec_fn would make every start fork the whole simulator instead of vfork
        cmd = [_SETPRIV, "--pdeathsig", "TERM", "--"] if _SETPRIV else []
        cmd += micropython_cmd()
        if self.cfg.heapsize:
            cmd += ["-X", f"heapsize={self.cfg.heapsize}"]
        cmd += ["-c", f"import board.simrom as rom\nrom.run({str(self.cfg.root) + '/'!r})"]
        # Own session: a terminal's Ctrl-C reaches only the simulator, which then kills the
        # whole group (close()), whatever it is doing.
        with open(b.flash / "console.log", "ab") as log, _sigint_held():
            b.proc = subprocess.Popen(cmd, cwd=b.flash, env=env, stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True,
                                      preexec_fn=None if _SETPRIV else die_with_parent)
        b.status = "starting"
        b.last_wall = time.monotonic()

    def _kill(self, b: BinState) -> None:
        if b.proc and b.proc.poll() is None:
            try:
                os.killpg(b.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            b.proc.wait()
        if b.conn:
            self._drop(b.conn)

    # wire ---------------------------------------------------------------------------------
    def _send(self, conn: _Conn, t_ms: int, result=None, control: str | None = None) -> None:
        if conn.posting:
            if control is not None and conn.owed is None:
                conn.owed = (t_ms, control)
            return
        msg = [t_ms, result] if control is None else [t_ms, None, control]
        try:
            conn.sock.sendall(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
        except OSError:
            pass

    def _drop(self, conn: _Conn) -> None:
        self._dirty = True
        try:
            self.sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        b = conn.bin
        if b is not None and b.conn is conn:
            b.conn = None
            self._on_disconnect(b)

    def _on_disconnect(self, b: BinState) -> None:
        b.deferred = False      # a deep-sleep reply held back for it has no one to reach
        if b.ahead is not None:    # gone while reading rows: the world as it last heard
            b.ahead.settle(0)
            b.ahead = None
        if b.proc:
            try:
                b.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill(b)
        b.proc = None
        if b.status == "exiting":          # faithful mode: the process ended its deep sleep
            b.status = "sleeping"
            b.deaths = 0
        elif b.status == "cut":            # killed by an injected power cut or hang
            b.status = "sleeping"
        elif b.status == "done":
            pass
        elif not self.stopping:            # died while awake: the hardware watchdog resets it
            b.deaths += 1
            b.vbin.counters.crashes += 1
            b.vbin.on_reset(b.t_ms, "watchdog")
            if b.deaths >= MAX_DEATHS:
                b.status = "dead"
            else:
                b.status = "sleeping"
                b.wake_ms = b.t_ms + 1000

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.buf += data
        while True:
            i = conn.buf.find(b"\n")
            if i < 0:
                return
            line = bytes(conn.buf[:i])
            del conn.buf[:i + 1]
            try:
                req = json.loads(line)
                if not (isinstance(req, list) and req and isinstance(req[0], str)):
                    raise ValueError("not a request")
            except ValueError as e:
                self._garbled(conn, line, e)
                return
            self._request(conn, req)

    def _garbled(self, conn: _Conn, line: bytes, why: Exception) -> None:
        """A line that is no request: the board's link is broken (its interpreter died
        half-way through a line). Its process is stopped and counted as a crash, as a
        watchdog would reset a board that stopped making sense; the simulation goes on."""
        b = conn.bin
        name = b.vbin.bin_id if b else "a board"
        sys.stderr.write(f"sim: {name} sent a garbled request ({why}: {line[:80]!r}); "
                         "its board is reset\n")
        b_log = b.flash / "console.log" if b else None
        if b_log is not None:
            with open(b_log, "a") as f:
                f.write(f"\nsim: garbled request from the board ({why}): {line[:200]!r}\n")
        if b is not None and b.conn is conn:
            self._kill(b)
        else:
            self._drop(conn)

    def _request(self, conn: _Conn, req: list) -> None:
        op = req[0]
        if op[0] == "~":        # posted (docs/sim-protocol.md): runs now, answers nothing
            if conn.owed is None:
                conn.posting = True
                try:
                    self._request(conn, [op[1:], *req[1:]])
                finally:
                    conn.posting = False
            return
        if conn.owed is not None and op != "hello":   # what a posted request ended in
            t_owed, word = conn.owed
            conn.owed = None
            self._send(conn, t_owed, control=word)
            return
        t_ms, args = int(req[1]), req[2:]
        self.requests += not conn.posting    # round trips
        if op == "hello":
            b = self.bins.get(args[0])
            if b is None:
                self._send(conn, t_ms, control=f"err:unknown bin {args[0]!r}")
                return
            if b.conn is not None and b.conn is not conn:
                # the board reconnected (Ctrl-C cut a request short): the old connection and
                # any reply held back for it are void
                b.deferred = False
                old, b.conn = b.conn, None
                old.bin = None
                self._drop(old)
                b.status = "awake"
            conn.bin = b
            b.conn = conn
            self._send(conn, b.wake_ms, {})
            return
        b = conn.bin
        if b is None:
            self._send(conn, t_ms, control="err:hello first")
            return
        b.last_wall = time.monotonic()
        if b.ahead is not None:     # the look-ahead ends: the world as after the rows read
            n = int(args[0]) if op == "ahead" else 0
            self.ahead["read"] += min(n, len(b.ahead.rows))
            self.ahead["rewinds"] += n < len(b.ahead.rows)
            t_last = b.ahead.settle(n)
            b.ahead = None
            if t_last is not None:
                b.t_ms = max(b.t_ms, t_last)
        if op == "ahead":
            return
        if b.status == "exiting":      # the chip is off or resetting: nothing more runs
            self._send(conn, b.t_ms, control="exit")
            return
        if b.status == "resetting" and op != "boot":
            self._send(conn, b.t_ms, control="reset:watchdog")
            return
        faults = getattr(b.vbin, "faults", None)
        if faults is not None and op != "boot":    # --scenario faults (faults.py)
            act = faults.on_request(b.vbin, op, args)
            if act is not None:
                self._fault(b, conn, act, t_ms)
                return
        if op == "boot":
            b.status = "awake"
            t_ms = max(t_ms, b.wake_ms)
            b.t_ms = t_ms
            for f in self.boot_watchers:
                f(b, t_ms)
            info = b.vbin.on_boot(t_ms, args[0] if args else None)
            info["cache"] = not self.cfg.external   # no hand at the REPL: inputs sampled
            info["ahead"] = AHEAD_ROWS if self._ahead_on(b) else 0
            self._send(conn, t_ms, info)
            return
        b.t_ms = max(b.t_ms, t_ms)
        if op == "deepsleep":
            self._dirty = True
            if b.vbin.wdt_timeout_ms is None:   # no watchdog armed: safe mode's own sleep
                b.vbin.counters.safe_mode_entries += 1
            if faults is not None:
                faults.watch.at_sleep(b.flash)
            b.wake_ms = b.vbin.on_sleep(b.t_ms, int(args[0]))
            b.status = "sleeping"
            if self.cfg.mode == "fast":
                b.deferred = True
            else:
                b.status = "exiting"
                self._send(conn, b.t_ms, control="exit")
            return
        if op == "reset":      # machine.reset() from the firmware
            self._dirty = True
            b.vbin.on_reset(b.t_ms, "soft")
            self._hold_or_exit(b, b.t_ms + 100)
            return
        if op in ("halt", "crash"):
            self._dirty = True
            # main.py returned or raised: the board sits in the REPL until its watchdog fires
            b.vbin.counters.crashes += op == "crash"
            wdt = b.vbin.wdt_timeout_ms
            if wdt is None:      # no watchdog running: safe mode, the REPL waits
                b.vbin.counters.safe_mode_entries += op == "halt"
                b.status = "dead"
                self._send(conn, b.t_ms, control="exit")
                return
            t_reset = b.vbin.wdt_fed_ms + wdt
            b.vbin.on_reset(t_reset, "watchdog")
            b.t_ms = max(b.t_ms, t_reset)
            self._hold_or_exit(b, t_reset)
            return
        steps = None
        if op == "sample" and args and isinstance(args[0], list):
            steps, args = args[0], args[1:]     # look-ahead: the loop's next instants
        try:
            t_after, result = b.vbin.handle(op, t_ms, args)
        except Control as c:
            if c.word.startswith("reset:"):    # watchdog, brownout
                t_reset = c.t_ms or t_ms
                b.vbin.on_reset(t_reset, c.word[6:])
                self._hold_or_exit(b, t_reset)
                return
            self._send(conn, t_ms, control=c.word)
            return
        b.t_ms = max(b.t_ms, t_after)
        if steps is not None:
            rows = []
            if self._ahead_on(b):
                b.ahead = Window(b.vbin, t_ms, steps[:AHEAD_ROWS], args)
                rows = b.ahead.rows
                self.ahead["windows"] += 1
                self.ahead["rows"] += len(rows)
                self.ahead["cut"] += b.ahead.cut
                if not rows:
                    b.ahead = None
            result = [result, rows]
        self._send(conn, t_after, result)

    def _ahead_on(self, b: BinState) -> bool:
        """Look-ahead: not by hand at the REPL (time stands still between commands), nor
        with faults injected (they count requests, and a cut must find the world where the
        firmware died)."""
        return self.cfg.lookahead and not self.cfg.external and b.vbin.faults is None

    def _fault(self, b: BinState, conn: _Conn, act: tuple, t_ms: int) -> None:
        """An injected fault (faults.py): the answer to a flash write, or the process dies
        where it stands (SIGKILL) in a power cut or a hang the watchdog ends."""
        if act[0] == "reply":
            self._send(conn, max(b.t_ms, t_ms), act[1])
            return
        self._dirty = True
        b.t_ms = max(b.t_ms, t_ms)
        vbin = b.vbin
        if act[0] == "hang":
            t_reset = vbin.wdt_fed_ms + vbin.wdt_timeout_ms
            b.t_ms = max(b.t_ms, t_reset)
            vbin.on_reset(b.t_ms, "watchdog")
            b.wake_ms = b.t_ms
        else:
            b.wake_ms = vbin.faults.power_cut(vbin, b.t_ms)
        b.status = "cut"
        b.deferred = False
        self._kill(b)
        b.status = "sleeping"
        vbin.faults.watch.after_interrupt(b.flash, "power cut" if act[0] == "cut"
                                          else "watchdog reset", b.t_ms)

    def _hold_or_exit(self, b: BinState, t_ms: int) -> None:
        """A reset: fast mode restarts in the same process, faithful mode in a new one."""
        self._dirty = True
        b.wake_ms = t_ms
        if self.cfg.mode == "fast":
            b.status = "resetting"
            self._send(b.conn, t_ms, control="reset:watchdog")
        else:
            b.status = "exiting"
            self._send(b.conn, t_ms, control="exit")

    # scheduling ---------------------------------------------------------------------------
    def virtual_now_ms(self) -> int:
        times = [b.t_ms if b.status in ("awake", "starting", "resetting") else b.wake_ms
                 for b in self.bins.values() if b.status not in ("done", "dead")]
        return min(times) if times else self.end_ms

    def _paced_limit_ms(self) -> float:
        """How far virtual time may go: with --speed, in step with the wall clock since the
        start (or since the last change of pace); paused, where it was paused."""
        v0, w0 = self._pace or (self.start_ms, self.wall_start)
        if self.paused:
            return v0
        if not self.cfg.speed:
            return float("inf")
        return v0 + (time.monotonic() - w0) * self.cfg.speed * 1000

    def pace(self, speed: float | None = None, paused: bool | None = None) -> None:
        """Change the speed (virtual seconds per wall second) or pause/resume, from the
        thread that runs the simulation (a live view's keys). Bins awake finish their wake;
        no bin wakes while paused."""
        limit = self._paced_limit_ms()
        if limit == float("inf"):
            limit = self.virtual_now_ms()
        self._pace = (limit, time.monotonic())
        if speed is not None:
            self.cfg.speed = speed
        if paused is not None:
            self.paused = paused
        self._dirty = True

    def set_hook(self, hook) -> None:
        """hook(sim, t_ms) runs at the virtual times hook.next_ms(after_ms) gives (None:
        no more), with every bin asleep and no wake at or after t_ms started yet."""
        self.hook = hook
        self._hook_ms = hook.next_ms(self.start_ms - 1)

    def _hook_due(self) -> bool:
        return (self._hook_ms is not None and self._hook_ms < self.end_ms
                and self._hook_ms <= self._paced_limit_ms())

    def _schedule(self) -> None:
        while True:
            active = [b for b in self.bins.values()
                      if b.status in ("awake", "starting", "exiting", "resetting")]
            if not active and self._hook_due() and all(
                    b.wake_ms >= self._hook_ms for b in self.bins.values()
                    if b.status == "sleeping"):
                t_hook = self._hook_ms
                self.hook(self, t_hook)
                self._hook_ms = self.hook.next_ms(t_hook)
            started = self._wake_due(active)
            if started or active or not self._hook_due():
                return

    def _wake_due(self, active: list) -> int:
        """Wakes the sleepers that are due; returns how many."""
        started = 0
        behind = min((b.t_ms for b in active), default=float("inf"))
        limit = self._paced_limit_ms()
        if self._hook_ms is not None and self._hook_ms < self.end_ms:
            limit = min(limit, self._hook_ms - 1)   # wakes at the hook's time wait for it
        due = min(behind, limit)
        # only the sleepers that may wake now are sorted (a fleet has thousands asleep)
        sleepers = sorted((b for b in self.bins.values()
                           if b.status == "sleeping" and b.wake_ms <= due),
                          key=lambda b: b.wake_ms)
        for b in sleepers:
            if b.wake_ms > behind or b.wake_ms > limit:
                break
            if b.wake_ms >= self.end_ms:
                self._finish(b)
                continue
            b.status = "starting"
            started += 1
            b.t_ms = b.wake_ms
            if b.deferred:
                b.deferred = False
                self._send(b.conn, b.wake_ms, None)
            elif b.proc is None and not self.cfg.external:
                self._spawn(b)
            behind = min(behind, b.wake_ms)
        return started

    def _finish(self, b: BinState) -> None:
        b.vbin.world.advance(self.end_ms / 1000)
        b.status = "done"
        if b.deferred and b.conn:
            b.deferred = False
            self._send(b.conn, b.t_ms, control="exit")

    def _check_hung(self) -> None:
        if self.cfg.external:   # a technician's REPL may sit idle as long as it likes
            return
        self._dirty = True
        now = time.monotonic()
        for b in self.bins.values():
            if b.status in ("awake", "starting", "resetting") \
                    and now - b.last_wall > HUNG_WALL_S:
                b.status = "exiting" if self.cfg.mode == "faithful" else b.status
                self._kill(b)

    def request_stop(self) -> None:
        """Ask run() (in another thread) to end at its next loop."""
        self._stop_requested = True

    def done(self) -> bool:
        return all(b.status in ("done", "dead") for b in self.bins.values())

    def run(self, on_progress=None, progress_every_s: float = 0.5) -> None:
        self.wall_start = time.monotonic()
        last_progress = 0.0
        last_hung_check = self.wall_start
        try:
            while not self._stop_requested:
                if self._dirty or self.cfg.speed or self.paused:
                    self._dirty = False   # only a bin going to sleep or away changes the plan
                    self._schedule()
                    if self.done():       # a bin is done or dead only after such a change
                        break
                timeout = 0.02 if self.cfg.speed or self.paused else 0.5
                for key, _ in self.sel.select(timeout=timeout):
                    if key.data is None:
                        s, _ = self.lsock.accept()
                        s.setblocking(True)
                        conn = _Conn(s)
                        self.sel.register(s, selectors.EVENT_READ, conn)
                    else:
                        self._read(key.data)
                now = time.monotonic()
                if now - last_hung_check > 5:
                    self._check_hung()
                    last_hung_check = now
                if on_progress and now - last_progress >= progress_every_s:
                    on_progress(self)
                    last_progress = now
            for b in self.bins.values():
                if b.proc:
                    try:
                        b.proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self._kill(b)
            if on_progress:
                on_progress(self)
        finally:
            self.close()

    def close(self) -> None:
        self.stopping = True
        for b in self.bins.values():
            self._kill(b)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()
        shutil.rmtree(self._sockdir, ignore_errors=True)

    # observations -------------------------------------------------------------------------
    def firmware_errors(self) -> int:
        n = 0
        for b in self.bins.values():
            log = b.flash / "console.log"
            if log.exists():
                n += log.read_text(errors="replace").count("Traceback (most recent call last)")
        return n
