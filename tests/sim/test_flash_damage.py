"""Every file the firmware keeps, damaged in every way between wakes (faithful mode: a new
process per wake, as deep sleep resets the chip): truncated, huge, wrong JSON types, deep
nesting, random bytes, a directory in its place, a link to itself
(host_tools/sim/flash_damage.py). The bin must never fall silent, report each damage once,
and run as before once the damage is repaired. Judged from outside: the broker's
subscriber, the console, the flash."""

from __future__ import annotations

from host_tools.sim.engine import SimConfig
from host_tools.sim.flash_damage import FlashDamage, plan
from host_tools.sim.harness import simulate

START_S = 1_796_169_600      # 2026-12-02 00:00 UTC
EVERY_MS = 45 * 60 * 1000


def _mentions(e: dict, name: str) -> bool:
    return name in e.get("files", []) or any(str(w).startswith(name) for w in e["what"])


def test_every_damage_is_reported_once_and_no_bin_falls_silent(tmp_path):
    pairs = plan()
    until = START_S * 1000 + len(pairs) * EVERY_MS     # each (file, way) once, then repair
    days = (len(pairs) * EVERY_MS + 12 * 3600 * 1000) / 86_400_000
    cfg = SimConfig(days=days, seed=26, mode="faithful", workdir=tmp_path, start_s=START_S)
    hook = FlashDamage(seed=26, every_ms=EVERY_MS, until_ms=until)
    run = simulate(cfg, client_id="test-flash-damage",
                   prepare=lambda sim: sim.set_hook(hook))
    report, sub = run.report, run.subscriber
    damages = run.sim.flash_damages
    assert {(d.file, d.way) for d in damages} == set(pairs)
    log = (tmp_path / "bin-0001" / "console.log").read_text(errors="replace")
    assert report["firmware_errors"] == 0, log[-3000:]
    assert report["silent_bins"] == 0
    assert report["safe_mode_entries"] == 0
    # each damage: exactly one flash_damage event naming the file before the next damage
    events = sorted((e for e in (m.json() for m in sub.of_kind("event"))
                     if e and e.get("ev") == "flash_damage"), key=lambda e: e["ts"])
    told = []
    for i, d in enumerate(damages):
        t0 = d.t_ms / 1000
        t1 = damages[i + 1].t_ms / 1000 if i + 1 < len(damages) else float("inf")
        told.append(sum(_mentions(e, d.file) for e in events if t0 < e["ts"] <= t1))
    wrong = [(d.file, d.way, n) for d, n in zip(damages, told, strict=True) if n != 1]
    assert not wrong, wrong
    assert report["flash_damage_events_per_damage"] <= 1.0
    # recovery: after the last damage, reports as before, with no damage left to tell
    tail = [m.json() for m in sub.of_kind("telemetry", "bin-0001")]
    late = [t for t in tail if t["ts"] >= until / 1000 + 3600]
    assert len(late) >= 5, len(late)
    assert all(e["ts"] < until / 1000 + 3600 for e in events)
    flash = tmp_path / "bin-0001"
    assert not list(flash.glob("*.bad")), sorted(p.name for p in flash.iterdir())
    assert (flash / "identity.json").is_file()
