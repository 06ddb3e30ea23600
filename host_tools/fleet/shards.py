"""A fleet split over several simulator processes against one broker.

One simulator process serves every bin's round trips and its own observers (the network
model, the subscriber) in one Python interpreter: with a thousand bins that process is what
the fleet waits for while the machine's other cores sit half idle. Shards split the bins
(bin-0001..0500 in one process, bin-0501..1000 in another), each a full simulation with its
own network model and observer of its own bins, all on the same broker. A bin's world is the
one it has in the whole fleet (seeded by its index), so a sharded fleet is the same fleet.
What sharding gives up: the shards keep their own virtual clocks, so a bin of one shard may
be a few virtual minutes ahead of a bin of another (bins never see each other; crews
dispatched across the fleet do, which is why --dispatch runs in one process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from host_tools.broker import Broker, die_with_parent
from host_tools.paths import ROOT
from host_tools.sim.figures import FIGURES, add, finish, load

MIN_BINS_PER_SHARD = 100   # below this, one process keeps up with its bins


def default_shards(bins: int) -> int:
    return max(1, min(os.cpu_count() or 1, bins // MIN_BINS_PER_SHARD))


def split(bins: int, shards: int) -> list[tuple[int, int]]:
    """(first bin index, bins) of each shard, as even as can be."""
    out, first = [], 0
    for i in range(shards):
        n = bins // shards + (i < bins % shards)
        out.append((first, n))
        first += n
    return [s for s in out if s[1]]


# how the shards' reports add up: figures (figures.py) by their parts, counts by sums,
# unless named here
_SAME = {"days", "seed", "mode"}
_MIN = {"battery_soc_min_pct", "battery_soc_end_pct", "full_alert_lead_h_min"}
_MAX = {"wall_s", "fill_abs_error_max_pct", "jam_hits_max", "motor_temp_max_c",
        "sensor_fault_catch_h_max"}


def _add(key: str, vals: list):
    """One key's value over the shards (every value given: not None)."""
    first = vals[0]
    if isinstance(first, FIGURES):
        out = first
        for v in vals[1:]:
            out = add(out, v)
        return out
    if key in _MIN:
        return min(vals)
    if key in _MAX:
        return max(vals)
    if isinstance(first, (bool, str)):
        return first
    if isinstance(first, int):
        return sum(vals)
    if isinstance(first, float):
        # a total or mean rounded by each shard cannot be added to the last digit
        raise ValueError(f"report key {key!r}: a float with no rule to add it up; make it "
                         "a figures.Total/Mean/Rms (or name it in _SAME/_MIN/_MAX)")
    if isinstance(first, dict):
        keys = sorted({k for v in vals for k in v}, key=str)
        return {k: _add(f"{key}.{k}", [v[k] for v in vals if v.get(k) is not None])
                for k in keys}
    if isinstance(first, list):
        seen: dict[str, object] = {}
        for v in vals:
            for x in v:
                seen.setdefault(json.dumps(x, sort_keys=True), x)
        return [seen[k] for k in sorted(seen)] if not any(
            isinstance(x, dict) for x in seen.values()) else list(seen.values())
    return first


def merge_parts(parts: list[dict]) -> dict:
    """One fleet report, with its figures still as parts, from its shards' (figures.load
    of each shard's --parts-json): the keys of a one-process report."""
    out: dict = {}
    for key in parts[0]:
        if key == "series":
            continue                 # per-bin time series: only small runs carry them
        vals = [p.get(key) for p in parts if p.get(key) is not None]
        if key in _SAME or not vals:
            out[key] = parts[0][key]
        else:
            out[key] = _add(key, vals)
    out["shards"] = len(parts)
    return out


def merge(parts: list[dict]) -> dict:
    """The fleet's report from its shards' parts, every figure rounded once, at the end."""
    return finish(merge_parts(parts))


def _relay(stream, label: str) -> None:
    for line in iter(stream.readline, ""):
        line = line.rstrip("\r\n")
        if line.strip():
            sys.stderr.write(f"{label}{line}\n")
            sys.stderr.flush()
    stream.close()


def run_sharded(sim_argv: list[str], bins: int, shards: int,
                broker: str | None = None) -> dict:
    """Runs `python -m host_tools.sim <sim_argv>` as `shards` processes, each with its share
    of the bins, against one broker (started here unless given as HOST:PORT); returns the
    merged report."""
    own = None
    procs: list[subprocess.Popen] = []
    try:
        if broker is None:
            own = Broker().start()
            broker = f"{own.host}:{own.port}"
        with tempfile.TemporaryDirectory(prefix="fleet-shards-") as tmp:
            relays, outs = [], []
            for i, (first, n) in enumerate(split(bins, shards)):
                out = Path(tmp) / f"shard-{i}.parts.json"
                outs.append(out)
                cmd = [sys.executable, "-m", "host_tools.sim", *sim_argv, "--bins", str(n),
                       "--first-bin", str(first), "--broker", broker,
                       "--parts-json", str(out)]
                p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=die_with_parent)
                procs.append(p)
                label = f"shard {i + 1}/{shards} (bin-{first + 1:04d}..{first + n:04d}) "
                t = threading.Thread(target=_relay, args=(p.stderr, label), daemon=True)
                t.start()
                relays.append(t)
            codes = [p.wait() for p in procs]
            for t in relays:
                t.join(timeout=5)
            failed = [i + 1 for i, c in enumerate(codes) if c != 0 or not outs[i].exists()]
            if failed:
                raise RuntimeError(f"fleet: shard(s) {failed} failed (exit codes {codes})")
            return merge([load(json.loads(o.read_text())) for o in outs])
    except KeyboardInterrupt:
        # the terminal's Ctrl-C reached the shards too: let them stop their bins
        deadline = time.monotonic() + 30
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        raise
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if own:
            own.stop()
