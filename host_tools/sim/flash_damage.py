"""Flash damage between wakes: every `every_ms` of virtual time, with the bins asleep, one
file the firmware keeps is damaged in one way, each (file, way) in turn: truncated, huge
(1 MB of valid JSON, or 100 kB of "["), wrong JSON types, deep nesting, random bytes, a
directory in its place, a symbolic link that points to itself (where the OS allows). A
directory or link the firmware left standing is taken away at the next turn (the damage
is repaired), as a technician would. What was done is kept in sim.flash_damages for the
report (`flash_damage_events_per_damage`)."""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

JSON_FILES = ("state.json", "config.json", "boots.json", "identity.json", "slot.json")
WAYS = ("truncated", "huge", "wrong types", "deep nesting", "random bytes", "directory",
        "symlink loop")
# the queue is binary: a cut append is what a power cut leaves (not damage), so it is
# damaged otherwise; the log is free text: only what makes it no file at all is damage
FILE_WAYS = {"outbox.q": ("huge", "random bytes", "directory", "symlink loop"),
             "log.txt": ("directory", "symlink loop")}
WRONG = ("x", [], {}, None, 1.5, -1, 10 ** 12, True, [[1, "a"]], {"a": [None]})


@dataclass
class Damage:
    t_ms: int
    bin_id: str
    file: str
    way: str


def plan() -> list[tuple[str, str]]:
    """Every (file, way) pair, files interleaved so each comes back often."""
    pairs = [(f, w) for w in WAYS for f in JSON_FILES]
    for f, ways in FILE_WAYS.items():
        pairs += [(f, w) for w in ways]
    return pairs


def damaged(rng: random.Random, data: bytes | None, name: str, way: str) -> bytes | None:
    """The damaged bytes for a regular-file way (None: not a regular-file way)."""
    if way == "truncated":
        base = data if data else b'{"ver": 1, "gen": 3, "n": 2}'
        return base[:max(1, rng.randrange(len(base)))]
    if way == "huge":
        if name.endswith(".json") and rng.random() < 0.5:
            return json.dumps({"pad": "x" * (1 << 20)}).encode()   # 1 MB, valid JSON
        return b"[" * 100_000
    if way == "deep nesting":
        return b"[" * 2000 + b"]" * 2000
    if way == "random bytes":
        out = bytes(rng.getrandbits(8) for _ in range(rng.randrange(8, 600)))
        return out.replace(b"\xa5", b"\x5a")   # (no record marker: plainly not a queue)
    if way == "wrong types":
        try:
            d = json.loads(data) if data else None
        except ValueError:
            d = None
        if not isinstance(d, dict) or not d:
            return rng.choice([b"[]", b"42", b'"x"', b"null", b"[1, 2]"])
        keep = {"ver", "gen"} if name == "state.json" else set()
        for k in list(d):
            if k not in keep:   # (never a string: "x" would be a valid id or host name)
                d[k] = rng.choice([w for w in WRONG if not isinstance(w, str)])
        return json.dumps(d).encode()
    return None


class FlashDamage:
    """A sim hook (engine.set_hook)."""

    def __init__(self, seed: int, every_ms: int = 2_700_000, until_ms: int | None = None):
        self.rng = random.Random(f"{seed}:flash-damage")
        self.every_ms, self.until_ms = every_ms, until_ms
        self.pairs = plan()
        self.n = 0
        self.standing: list[Path] = []   # directories and links put in place, to repair
        self.originals: dict[Path, bytes] = {}

    def next_ms(self, after_ms: int) -> int | None:
        t = after_ms + self.every_ms
        return None if self.until_ms is not None and t > self.until_ms else t

    def _repair(self) -> None:
        for p in self.standing:
            if p.is_symlink():
                p.unlink()
            elif p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
        self.standing = []
        # identity is provisioning: a technician puts it back once it was set aside
        for p, data in self.originals.items():
            if not p.exists():
                p.write_bytes(data)

    def __call__(self, sim, t_ms: int) -> None:
        self._repair()
        if not hasattr(sim, "flash_damages"):
            sim.flash_damages = []
        name, way = self.pairs[self.n % len(self.pairs)]
        self.n += 1
        for b in sim.bins.values():
            path = b.flash / name
            old = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            if name == "identity.json" and old is not None:
                self.originals.setdefault(path, old)
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
            if way == "directory":
                path.mkdir()
                (path / "x").write_bytes(b"1")
                self.standing.append(path)
            elif way == "symlink loop":
                try:
                    os.symlink(name, path)    # the link points to itself: ELOOP on open
                except OSError:               # a filesystem without links: a directory
                    path.mkdir()
                self.standing.append(path)
            else:
                path.write_bytes(damaged(self.rng, old, name, way))
            if name == "state.json":     # RTC memory damaged alike, else it would win
                b.vbin.rtc = b""
            sim.flash_damages.append(Damage(t_ms, b.vbin.bin_id, name, way))
