"""Fault injection for `--scenario faults`, decided from the seed and judged from outside the
firmware.

Power cuts. With the scenario on, the sim board reports every flash write to the simulator
before making it (firmware/fsutil.put, firmware/board/simflash.py): path and length. The
simulator may answer with a cut at byte k (0..n): the firmware writes those k bytes and the
process is killed with SIGKILL (no finally block runs, RTC memory is lost, the modem loses
power). k = 0 is what LittleFS does to an unclosed file (its new data is not committed); a
tear after k > 0 bytes is harsher than the device, never easier; k = n lands between the
write and the rename that would commit it. Other cuts come at a random request of a boot,
between two operations. Power returns after 1-20 s and the bin boots with cause power_on.

Hangs. The modem or the data path may stop answering in a way no timeout catches (a UART or
socket call that never returns): at the n-th modem UART or network request of a wake, the
simulator lets the armed watchdog fire (its timeout after the last feed) and kills the
process there; the bin boots with cause watchdog.

After every cut and hang the simulator reads the bin's flash folder while the process is
dead (FlashWatch): every JSON file must parse, none may vanish, the state may not go back
to an older generation than the one at the last finished wake, and the report queue may
hold damage only in its last record (the write in flight). Each interruption that leaves
anything else counts in `corrupt_state_after_cut`. Every report seen waiting in the queue
must reach the broker in the end; a report received twice must have been waiting in the
queue when an interruption came after the network model had seen it published (PUBACK
lost with the power: at-least-once delivery, the same bytes), and no telemetry sequence
number may arrive with two different payloads (a report made anew).

The scenario's updates (one that crashes on boot and must be rolled back, then a good one)
are host_tools/sim/ota_report.faults_rollout, started beside this by the CLI.
"""

from __future__ import annotations

import json
import random
import struct
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CUT_WRITE_P = 0.15          # each flash write: the power fails inside it
CUT_RANDOM_P = 0.5          # each boot: the power fails at a random request...
CUT_RANDOM_REQUESTS = 80    # ...among its first this many
HANG_P = 0.15               # each boot: a modem or network call never returns...
HANG_GAP_BOOTS = 8          # ...at most once in this many boots (three in a row = safe mode)
HANG_REQUESTS = (1, 25)     # ...at this modem or network request of the wake
HANG_OPS = ("uart_read", "uart_write", "uart_any", "uart_readline", "uart_xfer", "net_route")
OFF_MS = (1000, 20000)      # the power comes back after
# files that may never vanish (boots.json may: no file is a count of 0, and boot.py deletes
# it on purpose when it rolls an update back)
STATE_FILES = ("state.json", "config.json", "identity.json")


# --- the report queue as it is on flash (format: firmware/outbox.py) --------------------

@dataclass
class Queue:
    live: list[tuple[str, bytes]] = field(default_factory=list)   # (kind, payload)
    tag: int = 0
    damaged_mid: bool = False    # a damaged record with a good one after it
    torn_tail: bool = False


def read_queue(data: bytes) -> Queue:
    q = Queue()
    live: list[int] = []
    bodies: dict[int, bytes] = {}
    batch: list[int] = []
    off = 0
    bad = False
    while off + 8 <= len(data):
        magic, t, n, crc = struct.unpack_from("<BBHI", data, off)
        body = data[off + 8:off + 8 + n]
        ok = magic == 0xA5 and n <= 4096 and len(body) == n \
            and zlib.crc32(body, zlib.crc32(data[off + 1:off + 4])) == crc
        if not ok:
            bad = True
            batch = []
            off += 1
            continue
        if bad:
            q.damaged_mid = True
            bad = False
        if t not in (ord("r"), ord("C")) and batch:
            batch = []
        if t == ord("R"):
            live.append(off)
        elif t == ord("r"):
            batch.append(off)
        elif t == ord("C"):
            if n >= 4:
                q.tag = struct.unpack_from("<I", body)[0]
            live.extend(batch)
            batch = []
        elif t in (ord("K"), ord("D")):
            k = body[0] | body[1] << 8 if n >= 2 else 0
            del live[:k]
        bodies[off] = body
        off += 8 + n
    q.torn_tail = bad or off < len(data) or bool(batch)
    for o in live:
        body = bodies[o]
        i = body.find(b" ")
        q.live.append((body[:i].decode(errors="replace"), body[i + 1:]))
    return q


# --- what the flash holds after an interruption ---------------------------------------

@dataclass
class FlashWatch:
    """The bin's flash folder read by the simulator at each finished wake and after each
    interruption (the process is dead then: nothing is half-way through a call)."""
    ever_live: dict[bytes, str] = field(default_factory=dict)   # payload -> kind
    interrupts: list[tuple[float, set]] = field(default_factory=list)  # (wall, queued)
    state_gen: int = -1          # gen of state.json at the last finished wake
    present: set[str] = field(default_factory=set)
    corrupt: int = 0
    problems: list[str] = field(default_factory=list)

    def _queue(self, folder: Path) -> Queue:
        p = folder / "outbox.q"
        q = read_queue(p.read_bytes()) if p.exists() else Queue()
        for kind, payload in q.live:
            self.ever_live.setdefault(payload, kind)
        return q

    def at_sleep(self, folder: Path) -> None:
        self._queue(folder)
        st = _json(folder / "state.json")
        if isinstance(st, dict) and isinstance(st.get("gen"), int):
            self.state_gen = st["gen"]
        self.present |= {n for n in STATE_FILES if (folder / n).exists()}

    def after_interrupt(self, folder: Path, what: str, t_ms: int) -> None:
        bad = []
        for p in sorted(folder.glob("*.json")):
            d = _json(p)
            if not isinstance(d, dict):
                bad.append(f"{p.name} unreadable")
        for name in sorted(self.present):
            if not (folder / name).exists():
                bad.append(f"{name} lost")
        st = _json(folder / "state.json")
        if isinstance(st, dict):
            if st.get("ver") != 1 or not isinstance(st.get("gen"), int):
                bad.append("state.json not a state")
            elif st["gen"] < self.state_gen:
                bad.append(f"state.json went back from gen {self.state_gen} to {st['gen']}")
        q = self._queue(folder)
        if q.damaged_mid:
            bad.append("outbox.q damaged before its last record")
        self.interrupts.append((time.monotonic(), {payload for _, payload in q.live}))
        self.present |= {n for n in STATE_FILES if (folder / n).exists()}
        if bad:
            self.corrupt += 1
            if len(self.problems) < 20:
                self.problems.append(f"{what} at {t_ms // 1000}: " + "; ".join(bad))


def _json(p: Path):
    try:
        return json.loads(p.read_bytes())
    except (OSError, ValueError):
        return None


# --- the injector, one per bin ----------------------------------------------------------

class Faults:
    def __init__(self, seed: int, index: int):
        self.rng = random.Random(f"{seed}:{index}:faults")
        self.watch = FlashWatch()
        self.boots = 0
        self.requests = 0
        self.kill_at: int | None = None
        self.hang_at: int | None = None
        self.last_hang_boot = -HANG_GAP_BOOTS
        self.flash_writes = 0
        self.cuts_in_writes = 0
        self.cuts_torn = 0           # 0 < k < n: part of the write reached flash
        self.cuts_before_commit = 0  # k = n: written, not yet renamed or followed
        self.cuts_random = 0
        self.hangs = 0
        self.cut_paths: Counter = Counter()

    def on_boot(self) -> None:
        self.boots += 1
        self.requests = 0
        rng = self.rng
        self.kill_at = rng.randint(1, CUT_RANDOM_REQUESTS) if rng.random() < CUT_RANDOM_P \
            else None
        self.hang_at = None
        if self.boots - self.last_hang_boot >= HANG_GAP_BOOTS and rng.random() < HANG_P:
            self.hang_at = rng.randint(*HANG_REQUESTS)

    def on_request(self, vbin, op: str, args: list):
        """None (the request goes on), ("reply", k) for a flash write, ("cut",) or
        ("hang",)."""
        if op == "flash":
            self.flash_writes += 1
            n = int(args[1])
            if self.rng.random() < CUT_WRITE_P:
                r = self.rng.random()   # the ends get their own share: nothing, or all
                k = n if r < 0.1 else 0 if r < 0.2 else self.rng.randint(0, n)
                self.cuts_in_writes += 1
                self.cuts_torn += 0 < k < n
                self.cuts_before_commit += k == n
                self.cut_paths[str(args[0])] += 1
                return ("reply", k)
            return ("reply", -1)
        if op == "power_cut":
            return ("cut",)
        if op in ("deepsleep", "halt", "crash", "reset"):
            return None
        self.requests += 1
        if self.requests == self.kill_at:
            self.cuts_random += 1
            return ("cut",)
        if self.hang_at is not None and op in HANG_OPS \
                and (op == "net_route" or (args and args[0] == "modem")):
            self.hang_at -= 1
        if self.hang_at is not None and self.hang_at <= 0 \
                and vbin.wdt_timeout_ms is not None:
            self.hang_at = None
            self.hangs += 1
            self.last_hang_boot = self.boots
            return ("hang",)
        return None

    def power_cut(self, vbin, t_ms: int) -> int:
        """The supply fails at t_ms: what the bin's hardware loses. Returns when it is back."""
        vbin.on_reset(t_ms, "power_on")
        vbin.modem.power_loss(t_ms / 1000)
        vbin.rtc = b""                   # RTC slow memory does not survive a power cut
        return t_ms + self.rng.randint(*OFF_MS)

    @property
    def cuts(self) -> int:
        return self.cuts_in_writes + self.cuts_random


# --- report figures ----------------------------------------------------------------------

def figures(sim, subscriber, proxy=None) -> dict:
    """Keys for every run; the power-cut ones are 0 unless the faults scenario ran."""
    bins = list(sim.bins.values())
    out = {
        "safe_mode_entries": sum(getattr(b.vbin.counters, "safe_mode_entries", 0)
                                 for b in bins),
        "power_cut_trials": 0,
        "corrupt_state_after_cut": 0,
    }
    faults = [(b, b.vbin.faults) for b in bins if getattr(b.vbin, "faults", None)]
    if not faults:
        return out
    received: dict[str, Counter] = defaultdict(Counter)
    seq_payloads: dict[tuple[str, int], set] = defaultdict(set)
    for kind in ("telemetry", "event"):
        for m in subscriber.of_kind(kind):
            received[m.bin_id][m.payload] += 1
            d = m.json()
            if kind == "telemetry" and isinstance(d, dict) and isinstance(d.get("seq"), int):
                seq_payloads[(m.bin_id, d["seq"])].add(m.payload)
    first_up: dict[bytes, float] = {}      # payload -> first seen on the wire
    if proxy is not None:
        with proxy.lock:
            for p in proxy.stats.publishes:
                first_up.setdefault(p.payload, p.wall)
    lost = resent_after_ack = redelivered = 0
    problems = []
    for b, f in faults:
        w = f.watch
        p = b.flash / "outbox.q"
        still = {pl for _, pl in read_queue(p.read_bytes()).live} if p.exists() else set()
        got = received[b.vbin.bin_id]
        lost += sum(1 for pl in w.ever_live if pl not in got and pl not in still)
        for pl, n in got.items():
            if n > 1:
                # each interruption that found it still queued after it went out once
                # explains one more delivery
                t0 = first_up.get(pl, 0.0)
                why = sum(1 for wall, queued in w.interrupts if pl in queued and wall > t0)
                redelivered += min(n - 1, why)
                resent_after_ack += max(0, n - 1 - why)
        problems += [f"{b.vbin.bin_id}: {x}" for x in w.problems]
    out.update({
        "power_cut_trials": sum(f.cuts for _, f in faults),
        "power_cuts_in_writes": sum(f.cuts_in_writes for _, f in faults),
        "power_cuts_torn_writes": sum(f.cuts_torn for _, f in faults),
        "power_cuts_before_commit": sum(f.cuts_before_commit for _, f in faults),
        "power_cuts_random": sum(f.cuts_random for _, f in faults),
        "power_cuts_by_file": dict(sum((f.cut_paths for _, f in faults), Counter())),
        "flash_writes": sum(f.flash_writes for _, f in faults),
        "hangs_injected": sum(f.hangs for _, f in faults),
        "corrupt_state_after_cut": sum(f.watch.corrupt for _, f in faults),
        "corrupt_state_details": problems,
        "reports_seen_queued": sum(len(f.watch.ever_live) for _, f in faults),
        "reports_queued_lost": lost,
        "reports_resent_after_ack": resent_after_ack,
        "reports_redelivered_after_cut": redelivered,
        "telemetry_seq_reused": sum(1 for s in seq_payloads.values() if len(s) > 1),
    })
    return out


class ConfigChanger:
    """Changes each bin's retained config (report_change_pct 5 <-> 6) after every `every`
    telemetry messages it delivered, so that config.json is written while the power fails."""

    def __init__(self, subscriber, every: int = 2):
        self.every = every
        self.sent = 0
        self._seen: Counter = Counter()
        self._client = subscriber.client
        subscriber.listeners.append(self._on_message)

    def _on_message(self, m) -> None:
        if m.retain or m.kind != "telemetry":
            return
        self._seen[m.bin_id] += 1
        n = self._seen[m.bin_id]
        if n % self.every:
            return
        self.sent += 1
        body = {"id": f"cfg{n}", "report_change_pct": 5 + (n // self.every) % 2}
        self._client.publish(f"bins/{m.bin_id}/config", json.dumps(body), qos=1, retain=True)
