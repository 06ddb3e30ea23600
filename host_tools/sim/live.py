"""Live terminal view of a running simulation (``python -m host_tools.sim --live``).

On a terminal: a full-screen view of the first bin (alternate screen, redrawn in place; a
compact line per further bin when there are several), sized for 80x24 and using the rows of
a taller one for events. Keys: space pauses and resumes, + and - double and halve the
speed, Ctrl-C stops the run. Redirected: one plain status line every few seconds. Plain
ANSI, no curses.

The view only reads the simulation: it never advances a world, so a live run gives the same
results as a headless one. "True" figures are the world's as of its last step (at the bin's
latest wake or sensor read); "reported" figures are from the last telemetry on the broker.
"""

from __future__ import annotations

import atexit
import datetime as dt
import math
import os
import shutil
import sys
import time
from collections import deque
from dataclasses import dataclass, field

from host_tools.site import SITE_TZ as KST  # the site's clock, shown as KST

PLAIN_EVERY_S = 5.0
EVENTS_SHOWN = 6           # at least, on an 80x24 screen; a taller one shows more
EVENTS_KEPT = 60
SPEEDS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3000, 6000, 12000, 30000)

ESC = "\x1b["
ALT_ON, ALT_OFF = ESC + "?1049h", ESC + "?1049l"
CURSOR_OFF, CURSOR_ON = ESC + "?25l", ESC + "?25h"
HOME, CLEAR_EOL, CLEAR_BELOW, CLEAR_ALL = ESC + "H", ESC + "K", ESC + "J", ESC + "2J"
BOLD, NORMAL = ESC + "1m", ESC + "0m"


@dataclass
class _Seen:
    """What the broker has delivered for one bin."""
    telemetry: dict | None = None
    reports: int = 0
    events: deque = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))


def _clock(ts: float, fmt: str = "%a %m-%d %H:%M") -> str:
    return dt.datetime.fromtimestamp(ts, KST).strftime(fmt)


def _span(s: float) -> str:
    """A duration in words: 45 s, 17 min, 3 h 05 min, 2 d 4 h."""
    s = abs(s)
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s // 60:.0f} min"
    if s < 86400:
        return f"{s // 3600:.0f} h {s % 3600 // 60:02.0f} min"
    return f"{s // 86400:.0f} d {s % 86400 // 3600:.0f} h"


def _pct(x) -> str:
    return "  --  " if x is None else f"{x:5.1f}%"


def _event_text(p: dict) -> str:
    code = str(p.get("ev", "?"))
    if "before" in p and "after" in p:
        detail = f"{p['before']:.1f}% -> {p['after']:.1f}%"
    elif "detail" in p:
        detail = str(p["detail"])
    else:
        detail = " ".join(f"{k}={v}" for k, v in p.items() if k not in ("v", "ts", "ev"))
    return f"{code:<12} {detail}"


def _faults(flags) -> str:
    """A report's fault bits in the monitor's words (binview.FLAGS)."""
    from host_tools.binview import FLAGS

    if not flags:
        return "none"
    return ", ".join(t for bit, t in FLAGS.items() if flags & bit) or f"flags {flags}"


class LiveView:
    def __init__(self, sim, subscriber, stream=None, broker: str | None = None, keys=None):
        self.sim = sim
        self.sub = subscriber
        self.out = stream or sys.stdout
        self.broker = broker
        self.tty = self.out.isatty() and os.environ.get("TERM") != "dumb"
        self.keys = None          # a terminal's keys, one at a time (cbreak, no echo)
        self._tty_saved = None
        keys = sys.stdin if keys is None and stream is None else keys
        if self.tty and keys is not None and keys.isatty():
            import termios
            import tty

            try:
                self._tty_saved = termios.tcgetattr(keys.fileno())
                tty.setcbreak(keys.fileno())
                self.keys = keys
            except (OSError, termios.error):
                self._tty_saved = None
        enc = (getattr(self.out, "encoding", None) or "").lower().replace("-", "")
        self.utf = enc.startswith("utf")
        self.seen: dict[str, _Seen] = {b: _Seen() for b in sim.bins}
        self.n_seen = 0
        self.last_plain = -math.inf
        self.size = (0, 0)
        self.closed = False
        self.opened = False
        if self.tty:
            self._write(ALT_ON + CURSOR_OFF + CLEAR_ALL)
            self.opened = True
        elif broker:
            self._write(f"sim: broker {broker} (python -m host_tools.monitor --broker "
                        f"{broker})\n")
        atexit.register(self.close)

    # input ------------------------------------------------------------------------------
    def _collect(self) -> None:
        """Take up what the observer received since the last update."""
        with self.sub.lock:
            new = self.sub.messages[self.n_seen:]
            self.n_seen += len(new)
        for m in new:
            if m.retain or m.kind not in ("telemetry", "event"):
                continue
            p = m.json()
            if not isinstance(p, dict):
                continue
            seen = self.seen.setdefault(m.bin_id, _Seen())
            if m.kind == "telemetry":
                seen.reports += 1
                if seen.telemetry is None or p.get("ts", 0) >= seen.telemetry.get("ts", 0):
                    seen.telemetry = p
            else:
                seen.events.append(p)

    # output -----------------------------------------------------------------------------
    def _read_keys(self) -> None:
        """Space: pause/resume; + / -: the next speed up or down (SPEEDS)."""
        import select

        if self.keys is None:
            return
        try:
            while select.select([self.keys], [], [], 0)[0]:
                k = os.read(self.keys.fileno(), 1)
                if not k:
                    return
                self.key(k.decode(errors="replace"))
        except (OSError, ValueError):
            self.keys = None

    def key(self, k: str) -> None:
        sim = self.sim
        if k in (" ", "p"):
            sim.pace(paused=not sim.paused)
        elif k in ("+", "=", "-", "_"):
            now = sim.cfg.speed or SPEEDS[-1]
            if k in ("+", "="):
                nxt = next((s for s in SPEEDS if s > now), now)
            else:
                nxt = next((s for s in reversed(SPEEDS) if s < now), now)
            sim.pace(speed=float(nxt))

    def update(self, sim=None) -> None:
        if self.closed:
            return
        self.sim = sim or self.sim
        self._read_keys()
        self._collect()
        if self.tty:
            self._draw()
        elif time.monotonic() - self.last_plain >= PLAIN_EVERY_S:
            self._write(self.status_line() + "\n")
            self.last_plain = time.monotonic()

    def close(self) -> None:
        """Leave the screen as it was; safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        if self._tty_saved is not None and self.keys is not None:
            import termios

            try:
                termios.tcsetattr(self.keys.fileno(), termios.TCSADRAIN, self._tty_saved)
            except (OSError, termios.error, ValueError):
                pass
        try:
            self._collect()
        except Exception:  # the observer may already be gone; the terminal comes first
            pass
        end = ""
        if self.opened:
            end = NORMAL + CURSOR_ON + ALT_OFF
        try:
            self._write(end + self.status_line() + "\n")
        except Exception:
            if end:
                self._write(end)

    def _write(self, s: str) -> None:
        try:
            self.out.write(s)
            self.out.flush()
        except (OSError, ValueError):  # terminal gone (hang-up) or stream closed
            pass

    # figures ----------------------------------------------------------------------------
    def _now_s(self) -> float:
        return min(self.sim.virtual_now_ms(), self.sim.end_ms) / 1000

    def _days(self) -> tuple[int, int, float]:
        total = self.sim.end_ms - self.sim.start_ms
        done = max(0, min(self.sim.virtual_now_ms(), self.sim.end_ms) - self.sim.start_ms)
        n_days = max(1, math.ceil(total / 86400000))
        day = min(n_days, int(done // 86400000) + 1)
        return day, n_days, (done / total if total else 1.0)

    def _bar(self, pct, width: int) -> str:
        full, empty = ("\u2588", "\u2591") if self.utf else ("#", ".")
        if pct is None:
            return " " * width
        n = round(min(100.0, max(0.0, pct)) / 100 * width)
        return full * n + empty * (width - n)

    def _forecast(self, tel: dict | None, now: float) -> str:
        if tel is None:
            return "waiting for the first report"
        f = tel.get("fcst")
        if not f:
            return "none (not filling fast enough to tell)"
        rel = f"in {_span(f - now)}" if f >= now else f"{_span(now - f)} ago"
        return f"{_clock(f)}  ({rel})"

    def status_line(self) -> str:
        """One plain line: for redirected output and for the normal screen at the end."""
        now = self._now_s()
        day, n_days, _ = self._days()
        bin_id, b = next(iter(self.sim.bins.items()))
        w = b.vbin.world
        seen = self.seen.get(bin_id) or _Seen()
        tel = seen.telemetry
        rep = "--" if tel is None or tel.get("fill") is None else f"{tel['fill']:.1f}%"
        age = "none" if tel is None else _span(now - tel.get("ts", now)) + " ago"
        who = f"{bin_id} (+{len(self.sim.bins) - 1}) " if len(self.sim.bins) > 1 else ""
        return (f"sim {_clock(now, '%m-%d %H:%M')} KST day {day}/{n_days} {who}"
                f"fill {w.waste.fill_pct():.1f}% (rep {rep}) {w.power.voltage():.2f} V "
                f"{w.power.soc * 100:.0f}% sun {w.power.solar_w(now):.1f} W "
                f"cmp {w.ram.strokes} coll {len(w.collections)} last {age}")

    def screen(self, rows: int = 24, cols: int = 80) -> list[str]:
        """The full view as lines of plain text (no escapes), at most rows x cols."""
        now = self._now_s()
        day, n_days, frac = self._days()
        bins = list(self.sim.bins.items())
        bin_id, b = bins[0]
        w = b.vbin.world
        seen = self.seen.get(bin_id) or _Seen()
        tel = seen.telemetry
        speed = f"x{self.sim.cfg.speed:g}" if self.sim.cfg.speed else "flat out"
        if getattr(self.sim, "paused", False):
            speed = "PAUSED " + speed
        deg = "\u00b0C" if self.utf else " C"
        bar_w = max(10, min(40, cols - 40))

        title = f" {bin_id}  solar compactor bin, simulated"
        lines = [f"{title}{speed:>{max(1, cols - 2 - len(title))}}"]
        clock = _clock(now, "%a %Y-%m-%d %H:%M:%S KST")
        prog = f"day {day} of {n_days}  [{self._bar(frac * 100, 12)}] {frac * 100:3.0f}%"
        lines.append(f" {clock}{prog:>{max(1, cols - 3 - len(clock))}}")
        lines.append("")

        true_fill = w.waste.fill_pct()
        rep_fill = None if tel is None else tel.get("fill")
        lines.append(f" fill  true      [{self._bar(true_fill, bar_w)}] {_pct(true_fill)}")
        note = ""
        if tel is not None and tel.get("dist") is not None:
            note = f"  {tel['dist']} mm"
        lines.append(f"       reported  [{self._bar(rep_fill, bar_w)}] {_pct(rep_fill)}{note}")
        lines.append(f" forecast full   {self._forecast(tel, now)}")
        lines.append("")

        p = w.power
        lines.append(f" battery  {p.voltage():5.2f} V  SOC {p.soc * 100:5.1f}%"
                     f"      solar now {p.solar_w(now):5.1f} W")
        if tel is None:
            lines.append(" reported energy --   signal --   faults --")
        else:
            rssi = tel.get("rssi")
            sig = "--" if rssi is None else f"{rssi} dBm"
            lines.append(f" reported energy {tel.get('elvl') or '--'}   signal {sig}   "
                         f"faults {_faults(tel.get('flags'))}")
        ram = w.ram
        if ram.at_home(w.t):
            ram_s = "home"
        elif ram.at_end(w.t):
            ram_s = "at the end of its stroke"
        else:
            ram_s = {-1: "moving down", 1: "moving up"}.get(ram.direction(), "stopped mid-stroke")
        door = "OPEN" if w.door.is_open(w.t) else "closed"
        lock = ", locked" if getattr(w.door, "bolt", False) else ""
        lines.append(f" door {door}{lock}   ram {ram_s}")
        lines.append(f" compactions {w.ram.strokes:<5d} collections {len(w.collections):<5d}"
                     f" reports {seen.reports:<6d} wakes {b.vbin.counters.wakes}")
        if tel is None:
            lines.append(" last report     none yet")
        else:
            ts = tel.get("ts", now)
            vb = tel.get("vbat")
            extra = f"  seq {tel.get('seq')}"
            if vb:
                extra += f", {vb / 1000:.2f} V"
            if tel.get("temp") is not None:
                extra += f", {tel['temp']:.1f}{deg}"
            lines.append(f" last report     {_clock(ts, '%H:%M')}, {_span(now - ts)} ago{extra}")

        others = bins[1:]
        if others:
            room = rows - len(lines) - 4 - min(3, EVENTS_SHOWN)
            lines.append("")
            shown = others[:max(1, room - 1)]
            for oid, ob in shown:
                lines.append(self._bin_line(oid, ob, now))
            if len(shown) < len(others):
                lines.append(f"   ... and {len(others) - len(shown)} more bins")

        if self.broker:
            lines.append(f" broker {self.broker}  (python -m host_tools.monitor --broker "
                         f"{self.broker})")
        lines.append("")
        lines.append(" recent events")
        room = max(0, rows - len(lines) - 2)
        evs = [(bid, e) for bid, s in self.seen.items() for e in s.events]
        evs.sort(key=lambda x: x[1].get("ts", 0))
        evs = evs[-room:] if room else []
        if not evs:
            lines.append("   (none yet)")
        for bid, e in evs:
            who = f"{bid} " if others else ""
            lines.append(f"   {_clock(e.get('ts', 0))}  {who}{_event_text(e)}")

        lines += [""] * max(0, rows - 1 - len(lines))
        lines = lines[:rows - 1]
        lines.append(" keys: space pause/resume  + faster  - slower   Ctrl-C stops the run"
                     if self.keys is not None else " Ctrl-C stops the run")
        return [ln[:cols - 1] for ln in lines]

    def _bin_line(self, bin_id: str, b, now: float) -> str:
        w = b.vbin.world
        s = self.seen.get(bin_id) or _Seen()
        tel = s.telemetry
        rep = "  -- " if tel is None or tel.get("fill") is None else f"{tel['fill']:4.0f}%"
        age = "--" if tel is None else _span(now - tel.get("ts", now))
        return (f" {bin_id}  fill {w.waste.fill_pct():4.0f}% rep {rep}  "
                f"{w.power.voltage():5.2f} V {w.power.soc * 100:3.0f}%  cmp {w.ram.strokes:<3d}"
                f" coll {len(w.collections):<3d} last {age}")

    def _draw(self) -> None:
        size = shutil.get_terminal_size((80, 24))
        cols, rows = max(40, size.columns), max(12, size.lines)
        lines = self.screen(rows, cols)
        head = HOME
        if (cols, rows) != self.size:
            head = CLEAR_ALL + HOME
            self.size = (cols, rows)
        body = [BOLD + lines[0] + NORMAL + CLEAR_EOL] + [ln + CLEAR_EOL for ln in lines[1:]]
        self._write(head + "\n".join(body) + CLEAR_BELOW)
