"""Signed over-the-air updates, end to end: the firmware on the unix port in faithful mode
(a new process per wake) against the simulator, mosquitto and the bundle server. One run
of eight bins, each offered a different bundle; every verdict comes from an observer
outside the firmware (the version each boot loads from flash, the server's request log,
the broker)."""

from __future__ import annotations

import json

import pytest

from host_tools.ota import bundle as bundles
from host_tools.ota import signing
from host_tools.paths import FIRMWARE
from host_tools.sim.engine import SimConfig
from host_tools.sim.harness import simulate
from host_tools.sim.ota_report import Offer, OtaRollout, factory_version

START = 1_790_000_000
FACTORY = factory_version()
CASES = {   # bin -> (bundle name, version, how it is made)
    "bin-0001": ("good", "0.2.0", "good"),
    "bin-0002": ("corrupt", "0.2.1", "corrupt"),
    "bin-0003": ("truncated", "0.2.2", "truncated"),
    "bin-0004": ("unsigned", "0.2.3", "unsigned"),
    "bin-0005": ("foreign", "0.2.4", "foreign"),
    "bin-0006": ("older", "0.0.9", "downgrade"),
    "bin-0007": ("hungry", "0.2.5", "battery"),
    "bin-0008": ("crasher", "0.3.0", "crash"),
}


def make_bundles(folder, seed):
    compiled = bundles.compile_tree(FIRMWARE, "linux")
    app = (FIRMWARE / "app.py").read_text()
    other = signing.generate()
    for name, version, kind in CASES.values():
        key = {"unsigned": None, "foreign": other}.get(kind, seed)
        text = app + ("\nraise RuntimeError('this build is broken')\n" if kind == "crash"
                      else "")
        b = bundles.build(key, version, platform="linux", compiled=compiled, app_text=text,
                          min_soc=95 if kind == "battery" else 20)
        data = bytearray(b.to_bytes())
        if kind == "corrupt":
            data[-3000] ^= 0x55            # a file's bytes, not its manifest entry
        if kind == "truncated":
            data = data[:-2500]
        (folder / f"{name}.bota").write_bytes(bytes(data))


@pytest.fixture(scope="module")
def ota_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("ota")
    folder = work / "bundles"
    folder.mkdir()
    seed = signing.generate()
    pub = signing.public_raw(seed)
    make_bundles(folder, seed)
    rollout = OtaRollout(folder, [Offer(b, name) for b, (name, _, _) in CASES.items()])
    cfg = SimConfig(bins=len(CASES), days=0.2, seed=5, mode="faithful",
                    workdir=work / "flash", start_s=START, provision={"ota_pub.bin": pub})

    def prepare(sim):
        rollout.attach(sim, "127.0.0.1", sim.broker_port)

    try:
        run = simulate(cfg, prepare=prepare, client_id="test-ota-observer")
    finally:
        rollout.stop()
    return run, rollout, work / "flash"


def _events(run, bin_id, code):
    return [m.json() for m in run.subscriber.of_kind("event", bin_id)
            if (m.json() or {}).get("ev") == code]


def _fw(run, bin_id):
    return [(m.json() or {}).get("fw") for m in run.subscriber.of_kind("telemetry", bin_id)]


def _booted(rollout, bin_id):
    return [v for _, v in rollout.boots.get(bin_id, [])]


def test_good_update_is_applied_and_confirmed(ota_run):
    run, rollout, flash = ota_run
    assert _booted(rollout, "bin-0001") == [FACTORY, "0.2.0"]
    fw = _fw(run, "bin-0001")
    assert fw[0] == FACTORY and fw[-1] == "0.2.0"
    assert _events(run, "bin-0001", "ota_confirmed")
    slot = json.loads((flash / "bin-0001" / "slot.json").read_text())
    assert slot["trial"] == 0 and slot["active"] in ("fw_a", "fw_b")
    assert run.report["ota_applied"] == 1


def test_download_resumes_across_wakes(ota_run):
    """The bundle is larger than one session's share: it comes over several sessions, each
    byte once (a download that started over would ask for offset 0 again)."""
    run, rollout, flash = ota_run
    reqs = [r for r in rollout.server.requests("bin-0001") if r.bundle == "good"]
    size = reqs[0].size
    assert size > 2 * 32768
    offsets = [r.offset for r in reqs]
    assert offsets == sorted(set(offsets)), "a range was asked for twice: no resume"
    # The header comes first, in one 4 KiB read (ota._header); when it is shorter than that,
    # the rest of the read is asked for again as the first file's bytes, once.
    b = bundles.parse((flash.parent / "bundles" / "good.bota").read_bytes())
    hdr = bundles.HEADER + len(b.manifest_bytes) + len(b.signature)
    assert reqs[0].offset == 0 and reqs[1].offset == min(hdr, reqs[0].sent)
    assert sum(r.sent for r in reqs) == size + max(0, reqs[0].sent - hdr)
    first, last = reqs[0].wall, reqs[-1].wall
    between = [m for m in run.subscriber.of_kind("telemetry", "bin-0001")
               if first < m.wall < last]
    assert len(between) >= 2, "the download did not span several wakes"


@pytest.mark.parametrize("bin_id,why,early", [
    ("bin-0002", "hash", False), ("bin-0003", "truncated", False),
    ("bin-0004", "unsigned", True), ("bin-0005", "signature", True),
    ("bin-0006", "downgrade", True), ("bin-0007", "battery", True)])
def test_bad_bundles_are_refused_with_a_reason(ota_run, bin_id, why, early):
    run, rollout, flash = ota_run
    name, version, _ = CASES[bin_id]
    assert _booted(rollout, bin_id) == [FACTORY], "the refused firmware was booted"
    assert set(_fw(run, bin_id)) == {FACTORY}
    refused = _events(run, bin_id, "ota_refused")
    assert [e["why"] for e in refused] == [why]
    reqs = rollout.server.requests(bin_id)
    assert reqs, "the bin never fetched the bundle"
    served = sum(max(0, r.sent) for r in reqs)
    if early:   # refused on the signed manifest: not one byte of the firmware fetched
        b = bundles.parse((rollout.folder / f"{name}.bota").read_bytes())
        header = bundles.HEADER + len(b.manifest_bytes) + len(b.signature)
        assert served <= max(4096, header), "the firmware was fetched before the check"
    else:
        assert served >= reqs[0].size - 2500
    assert not (flash / bin_id / "slot.json").exists()


def test_refusals_are_counted_by_the_observer(ota_run):
    run, _, _ = ota_run
    assert run.report["ota_rejected"] == 6
    assert run.report["ota_offers"] == len(CASES)


def test_crashing_update_is_rolled_back(ota_run):
    run, rollout, flash = ota_run
    booted = _booted(rollout, "bin-0008")
    assert booted == [FACTORY, "0.3.0", FACTORY]
    assert "0.3.0" not in _fw(run, "bin-0008")
    assert _fw(run, "bin-0008")[-1] == FACTORY
    assert [e["v"] for e in _events(run, "bin-0008", "ota_rollback")] == ["0.3.0"]
    assert run.report["ota_rollbacks"] == 1
    slot = json.loads((flash / "bin-0008" / "slot.json").read_text())
    assert slot["bad"] == "0.3.0" and not slot.get("trial")
    # rolled back within the trial boots, before safe mode could take the bin
    assert not _events(run, "bin-0008", "safe_mode")
