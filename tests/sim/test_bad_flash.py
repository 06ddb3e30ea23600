"""Damaged files on flash never crash a wake: while the bin sleeps, the simulator truncates,
garbles or retypes one of its files (and its RTC memory) every half hour; the firmware
must go on with safe defaults, say what it found, and keep reporting. Judged from outside:
tracebacks on the console, the broker's subscriber, the safe-mode count."""

from __future__ import annotations

import json
import random
from collections import Counter

from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate

FILES = ("state.json", "boots.json", "outbox.q", "log.txt", "last_trace.txt", "config.bak")
WRONG = ("x", [], {}, None, 1.5, -1, 10 ** 12, True, [[1, "a"]], {"a": [None]})


# "wrong types" retypes fields but keeps what makes a state a state (without them it is
# "not a state", as with "not an object"), so that the per-field check is what it meets
KEEP = ("ver", "gen")
KINDS = ("wrong types", "truncated", "garbage", "not an object", "bit flips", "empty",
         "missing")


def damage(rng: random.Random, data: bytes | None, name: str,
           turn: int) -> tuple[str, bytes | None]:
    """A kind of damage (each in turn) to a file's bytes (None: the file is missing)."""
    d = None
    if data is not None and name.endswith(".json"):
        try:
            d = json.loads(data)
        except ValueError:
            pass
    kind = KINDS[turn % len(KINDS)]
    if not isinstance(d, dict) and kind in ("wrong types", "not an object"):
        kind = "garbage"
    if kind == "truncated" and data:
        return kind, data[:rng.randrange(len(data))]
    if kind == "garbage":
        return kind, bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 400)))
    if kind == "missing":
        return kind, None
    if kind == "bit flips" and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    if kind == "wrong types":
        for k in list(d):
            if k not in KEEP and rng.random() < 0.4:
                d[k] = rng.choice(WRONG)
        return kind, json.dumps(d).encode()
    if kind == "not an object":
        return kind, rng.choice([b"[]", b"42", b'"x"', b"null", b"[1, 2]"])
    return "empty", b""


class FlashDamage:
    """A sim hook (engine.set_hook): every half hour, with the bin asleep, one file damaged
    (each in turn)."""

    def __init__(self, seed: int, every_ms: int = 1_800_000):
        self.rng = random.Random(f"{seed}:flash-damage")
        self.every_ms = every_ms
        self.done: Counter = Counter()
        self.n = 0

    def next_ms(self, after_ms: int) -> int:
        return after_ms + self.every_ms

    def __call__(self, sim, t_ms: int) -> None:
        self.n += 1
        for b in sim.bins.values():
            name = FILES[self.n % len(FILES)]
            path = b.flash / name
            kind, data = damage(self.rng, path.read_bytes() if path.exists() else None, name,
                                self.n // len(FILES))
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
            if name == "state.json":     # RTC memory damaged alike, else it would win
                b.vbin.rtc = data or b""
            self.done[(name, kind)] += 1


def test_damaged_files_never_crash_a_wake(tmp_path):
    cfg = SimConfig(days=1.5, seed=4, mode="faithful", workdir=tmp_path,
                    start_s=1_780_239_600)
    hook = FlashDamage(seed=4)
    run = simulate(cfg, client_id="test-bad-flash",
                   prepare=lambda sim: sim.set_hook(hook))
    report = run.report
    assert sum(hook.done.values()) >= 60, hook.done
    names = {name for name, _ in hook.done}
    assert {"state.json", "boots.json", "outbox.q"} <= names, hook.done
    log = (tmp_path / "bin-0001" / "console.log").read_text(errors="replace")
    assert report["firmware_errors"] == 0, log[-3000:]
    assert report["safe_mode_entries"] == 0
    assert report["watchdog_resets"] == 0
    # it kept reporting, and said what it found
    assert report["telemetry_received"] >= 30
    for said in ("state.json: damaged fields reset", "state.json damaged", "outbox.q: "):
        assert said in log, said
    flash_events = [m.json() for m in run.subscriber.of_kind("event")
                    if (m.json() or {}).get("ev") == "flash_damage"]
    assert flash_events and all(e["what"] for e in flash_events)
