"""Deploy end to end against a virtual device (the unix port behind a pty), then boot the
deployed firmware under the simulator and check that the bin reports to the broker."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools.deploy.__main__ import check_space
from host_tools.deploy.build import Item
from host_tools.deploy.device import DeviceError
from host_tools.deploy.virtual import VirtualDevice
from host_tools.paths import ROOT
from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate


def deploy(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "host_tools.deploy", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, env=e)


@pytest.fixture
def vdev(tmp_path):
    with VirtualDevice(tmp_path / "dev") as v:
        yield v


@pytest.mark.timeout(300)
def test_deploy_verify_redeploy_and_the_bin_reports(vdev, broker, tmp_path):
    args = ["--port", vdev.port, "--device", "bin-0042",
            "--broker", f"{broker.host}:{broker.port}", "--no-reset"]
    r = deploy(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verified by sha256" in r.stdout
    root = vdev.root
    # every file on the device matches what the build produced, byte for byte
    built = ROOT / "build" / "deploy" / "linux"
    for f in built.rglob("*"):
        if f.is_file():
            rel = f.relative_to(built)
            assert hashlib.sha256((root / rel).read_bytes()).digest() == \
                hashlib.sha256(f.read_bytes()).digest(), rel
    assert (root / "firmware" / "app.mpy").exists()
    assert not (root / "firmware" / "app.py").exists()

    # a second deploy copies nothing; a config change copies one file; stale files go
    r2 = deploy(*args)
    assert r2.returncode == 0, r2.stdout + r2.stderr
    assert "(0 copied," in r2.stdout
    (root / "firmware" / "old_module.py").write_text("raise RuntimeError('stale')\n")
    r3 = deploy(*args, "--set", "wake_s=600")
    assert r3.returncode == 0, r3.stdout + r3.stderr
    assert "(1 copied," in r3.stdout and "old_module.py" in r3.stdout
    assert not (root / "firmware" / "old_module.py").exists()

    # power on: the deployed (compiled) firmware boots under the simulator and reports
    vdev.stop()
    cfg = SimConfig(days=0.1, seed=5, workdir=tmp_path / "sim", root=root, device_root=root,
                    start_s=1_790_000_000)
    run = simulate(cfg, upstream=(broker.host, broker.port), client_id="t-deploy")
    report, sub = run.report, run.subscriber
    assert report["firmware_errors"] == 0
    assert report["telemetry_received"] == report["telemetry_published"] > 0
    assert {m.bin_id for m in sub.of_kind("telemetry")} == {"bin-0042"}
    assert "Traceback" not in (root / "console.log").read_text()


def test_no_device_on_the_port(tmp_path):
    r = deploy("--port", str(tmp_path / "nothing"), "--device", "bin-0001")
    assert r.returncode == 2
    assert "no device on" in r.stderr
    assert "Traceback" not in r.stderr


def test_wrong_micropython_version_is_refused(vdev, tmp_path):
    fake = tmp_path / "mpy-cross"
    fake.write_text("#!/bin/sh\necho 'MicroPython v9.0.0; mpy-cross emitting mpy v7.0'\n")
    fake.chmod(0o755)
    r = deploy("--port", vdev.port, "--device", "bin-0001", env={"MPY_CROSS": str(fake)})
    assert r.returncode == 2
    assert "wrong MicroPython version" in r.stderr
    assert not (vdev.root / "boot.py").exists(), "nothing may be copied"


def test_invalid_config_is_refused_before_touching_the_device(vdev):
    r = deploy("--port", vdev.port, "--device", "bin-0001", "--set", "wake_s=5")
    assert r.returncode == 2
    assert "config rejected" in r.stderr and "wake_s" in r.stderr
    assert not any(vdev.root.iterdir())


def test_not_enough_flash_is_refused():
    items = [Item(f"f{i}", Path("x"), 10_000, "0" * 64) for i in range(10)]
    with pytest.raises(DeviceError, match="not enough flash"):
        check_space(items, free=50_000)
    check_space(items, free=1_000_000)
