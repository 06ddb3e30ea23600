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


# how the shards' reports add up: sums unless named here
_SAME = {"days", "seed", "mode"}
_MIN = {"battery_soc_min_pct", "battery_soc_end_pct", "full_alert_lead_h_min"}
_MAX = {"wall_s", "fill_abs_error_max_pct", "jam_hits_max", "motor_temp_max_c",
        "sensor_fault_catch_h_max"}
_MEAN = {   # key: the count it is a mean over (None: per bin)
    "fill_abs_error_mean_pct": "telemetry_received",
    "fill_rmse_pct": "fill_rmse_reports",
    "fill_rmse_naive_pct": "fill_rmse_reports",
    "energy_wh_per_day": None,
    "solar_wh_per_day": None,
    "solar_potential_wh_per_day": None,
    "sensor_fault_false_per_bin_month": None,
    "flash_damage_events_per_damage": "flash_damages",
}
_RMS = {"fill_rmse_pct", "fill_rmse_naive_pct"}
# an RMSE merged from its shards' sums of squared errors, not from their rounded RMSEs
_SSE = {"fill_rmse_pct": "fill_sse", "fill_rmse_naive_pct": "fill_sse_naive"}


def _mean(key: str, parts: list[dict]):
    weight_key = _MEAN[key]
    pairs = [(p[key], p.get(weight_key, 0) if weight_key else p["bins"]) for p in parts
             if p.get(key) is not None]
    total = sum(w for _, w in pairs)
    if not pairs or not total:
        return None
    if isinstance(pairs[0][0], dict):
        keys = sorted({k for v, _ in pairs for k in v})
        return {k: round(sum(v.get(k, 0) * w for v, w in pairs) / total, 2) for k in keys}
    if key in _RMS:
        sse = _SSE[key]
        if all(p.get(sse) is not None for p in parts if p.get(key) is not None):
            return round((sum(p[sse] for p in parts if p.get(key) is not None) / total)
                         ** 0.5, 2)
        return round((sum(v * v * w for v, w in pairs) / total) ** 0.5, 2)
    return round(sum(v * w for v, w in pairs) / total, 2)


def merge(parts: list[dict]) -> dict:
    """One fleet report from its shards' reports (the keys of a one-process report)."""
    out: dict = {}
    for key in parts[0]:
        vals = [p.get(key) for p in parts if p.get(key) is not None]
        if key == "series":
            continue                 # per-bin time series: only small runs carry them
        if key in _SAME or not vals:
            out[key] = parts[0][key]
        elif key in _MEAN:
            out[key] = _mean(key, parts)
        elif key in _MIN:
            out[key] = min(vals)
        elif key in _MAX:
            out[key] = max(vals)
        elif isinstance(vals[0], bool) or isinstance(vals[0], str):
            out[key] = vals[0]
        elif key in _SSE.values():
            out[key] = round(sum(vals), 4)
        elif isinstance(vals[0], (int, float)):
            total = sum(vals)
            out[key] = round(total, 2) if isinstance(total, float) else total
        elif isinstance(vals[0], dict):
            merged: dict = {}
            for v in vals:
                for k, n in v.items():
                    merged[k] = merged.get(k, 0) + n
            out[key] = merged
        elif isinstance(vals[0], list):
            out[key] = sorted({x for v in vals for x in v}, key=str)
        else:
            out[key] = vals[0]
    out["shards"] = len(parts)
    return out


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
                out = Path(tmp) / f"shard-{i}.json"
                outs.append(out)
                cmd = [sys.executable, "-m", "host_tools.sim", *sim_argv, "--bins", str(n),
                       "--first-bin", str(first), "--broker", broker, "--json", str(out)]
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
            return merge([json.loads(o.read_text()) for o in outs])
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
