"""The heap budget: one wake that reports over MQTT with TLS (certificate verified) runs in
-X heapsize= the budget (host_tools/heap_budget.py), the firmware as a deploy builds it
(.mpy, the sim board's manifest). Not a timing: the smallest heap the wake runs in moves by
a few hundred bytes from run to run, the margin is larger."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from host_tools.deploy.build import build
from host_tools.heap_budget import WAKE_TLS_HEAP_BUDGET
from host_tools.sim.__main__ import start_epoch
from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.harness import drain
from host_tools.sim.network.proxy import Proxy
from host_tools.sim.observe.subscriber import Subscriber
from host_tools.sim.report import build as build_report
from host_tools.tlsca import start_sim_tls_broker

START, SEED = "2025-06-01", 1     # the bench's world: its figure is this run's
DAYS = 0.1                        # faithful mode: the first wake reports


def _deployed(base: Path) -> Path:
    """boot.py, main.py and firmware/ as `make deploy` builds them for the sim board."""
    root = base / "root"
    build("linux", compile_mpy=True, out=root)
    assert (root / "firmware" / "app.mpy").exists()
    assert not list((root / "firmware").rglob("*.py"))
    return root


def _wake(tmp_path, root, heapsize):
    cfg = SimConfig(bins=1, days=DAYS, seed=SEED, start_s=start_epoch(START), mode="faithful",
                    workdir=tmp_path / "sim", heapsize=str(heapsize), root=root,
                    compiled=False)
    broker, bins_to = start_sim_tls_broker(cfg)
    proxy = subscriber = None
    try:
        proxy = Proxy(bins_to).start()
        subscriber = Subscriber(broker.host, broker.port,
                                client_id=f"budget-observer-{os.getpid()}").start()
        sim = Simulation(cfg, proxy.address, broker.port)
        sim.run(None, 0.5)
        drain(proxy, subscriber)
        report = build_report(sim, subscriber, proxy, 0.0)
    finally:
        for x in (subscriber, proxy, broker):
            if x is not None:
                x.stop()
    console = (cfg.workdir / "bin-0001" / "console.log").read_text(errors="replace")
    return report, console


@pytest.fixture
def base():
    """A folder whose path has the same length on every run (the firmware's paths, sys.path
    among them, are on its heap): not pytest's, whose path names the user."""
    d = Path(tempfile.mkdtemp(prefix="heap-budget-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.timeout(120)
def test_a_tls_wake_runs_in_the_heap_budget(base):
    report, console = _wake(base, _deployed(base), WAKE_TLS_HEAP_BUDGET)
    where = f"at -X heapsize={WAKE_TLS_HEAP_BUDGET} (host_tools/heap_budget.py):\n"
    assert "MemoryError" not in console, where + console[-3000:]
    assert "Traceback" not in console, where + console[-3000:]
    assert report["firmware_errors"] == 0, where + console[-3000:]
    # TLS: the wire is opaque; the bin's sequence numbers say what arrived
    assert report["telemetry_received"] > 0 == report["telemetry_lost"], where + str(
        {k: report[k] for k in ("wakes", "telemetry_received", "telemetry_lost")})
