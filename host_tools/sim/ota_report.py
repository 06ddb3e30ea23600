"""Over-the-air updates in the simulator: a bundle server on the broker (host_tools.ota),
update commands sent on a plan, and the figures, all from observers outside the firmware:

- which firmware each bin boots: at every boot the simulator reads the bin's flash (the
  slot slot.json names, and the sha256 of that slot's app.mpy matched against the bundles'
  manifests; the factory slot is the repository's version);
- what the bundle server was asked for (its request log);
- what the broker delivered (the fw field of each bin's telemetry).

ota_applied: a bin booted a bundle's version and then reported with it at the broker.
ota_rollbacks: a bin booted a bundle's version, never reported with it, and booted the
  version it ran before again.
ota_rejected: an offered bundle the bin fetched from the server but never booted, and for
  which its flash holds no download under way at the end (a refusal).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.ota.bundle import parse
from host_tools.ota.server import SUFFIX, BundleServer, push
from host_tools.paths import FIRMWARE


def factory_version(root: Path = FIRMWARE.parent) -> str:
    m = re.search(r'^VERSION = "([^"]*)"$', (root / "firmware" / "app.py").read_text(), re.M)
    return m.group(1) if m else "unknown"


RESEND_AFTER = 6     # telemetry of the bin without an ok ack: push the command again
RESENDS = 5


@dataclass
class Offer:
    bin_id: str
    bundle: str                  # file name in the folder, without .bota
    after_reports: int = 1       # sent once the broker has this many telemetry of the bin
    after: str | None = None     # ...and the bin booted that bundle's version and left it
    sent_wall: float | None = None
    cmd_id: str = ""
    acked: bool = False          # the bin acknowledged the command with ok
    sends: int = 0
    sent_at_report: int = 0


@dataclass
class OtaRollout:
    folder: Path
    offers: list[Offer]
    factory: str = field(default_factory=factory_version)
    boots: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    server: BundleServer | None = None

    def __post_init__(self):
        self.folder = Path(self.folder)
        self.versions: dict[str, str] = {}        # bundle name -> version
        self.app_hashes: dict[str, str] = {}      # sha256 of app.mpy -> version
        for f in sorted(self.folder.glob("*" + SUFFIX)):
            try:
                b = parse(f.read_bytes())
            except (ValueError, IndexError):
                continue
            v = b.manifest.get("v", "?")
            self.versions[f.stem] = v
            for rel, _, digest in b.manifest.get("files", []):
                if rel == "app.mpy":
                    self.app_hashes[digest] = v
        self._seen: dict[str, int] = {}
        self.pending: dict[str, str | None] = {}   # bin -> bundle of a job left on flash
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # wiring -----------------------------------------------------------------------------
    def attach(self, sim, host: str, port: int, subscriber=None) -> OtaRollout:
        """Start the bundle server on the broker, watch the bins' telemetry to send the
        offers (on subscriber, else on a watcher of its own) and every boot's flash."""
        self.server = BundleServer(host, port, self.folder, client_id="sim-ota-server").start()
        self._own = None
        if subscriber is None:
            from host_tools.sim.observe.subscriber import Subscriber

            subscriber = self._own = Subscriber(host, port, client_id="sim-ota-watch").start()
        self._client = subscriber.client
        subscriber.listeners.append(self._on_message)
        sim.boot_watchers.append(self._on_boot)
        sim.ota = self
        return self

    def look_at_end(self, sim) -> None:
        """The bins' flash at the end: a download still under way is no refusal."""
        for bin_id, b in sim.bins.items():
            try:
                job = json.loads((b.flash / "ota.json").read_text())
                self.pending[bin_id] = job.get("b") if isinstance(job, dict) else None
            except (OSError, ValueError):
                self.pending[bin_id] = None

    def stop(self) -> None:
        if self.server:
            self.server.stop()
        if getattr(self, "_own", None):
            self._own.stop()

    def _on_message(self, m) -> None:
        if m.retain:
            return
        if m.kind == "cmd/ack":
            d = m.json() or {}
            with self._lock:
                for o in self.offers:
                    if o.bin_id == m.bin_id and o.cmd_id and d.get("id") == o.cmd_id:
                        o.acked = bool(d.get("ok"))
            return
        if m.kind != "telemetry":
            return
        with self._lock:
            n = self._seen[m.bin_id] = self._seen.get(m.bin_id, 0) + 1
            due = [o for o in self.offers
                   if o.bin_id == m.bin_id and o.sent_wall is None and n >= o.after_reports
                   and (o.after is None or self._left(m.bin_id, o.after))]
            # an operator pushes again when a bin has not taken the command (lost with a
            # power cut, refused while another update was on trial)
            due += [o for o in self.offers
                    if o.bin_id == m.bin_id and o.sent_wall is not None and not o.acked
                    and o.sends < RESENDS and n - o.sent_at_report >= RESEND_AFTER]
            for o in due:
                if o.sent_wall is None:
                    o.sent_wall = m.wall
                o.cmd_id = f"ota{next(self._ids)}"
                o.sends += 1
                o.sent_at_report = n
        for o in due:
            push(self._client, o.bin_id, o.bundle, o.cmd_id)

    def _left(self, bin_id: str, bundle: str) -> bool:
        v = self.versions.get(bundle)
        seq = [ver for _, ver in self.boots.get(bin_id, [])]
        return v in seq and seq[-1] != v

    def booted_version(self, flash: Path) -> str:
        """The firmware version this boot runs, read from the flash as the chip's loader
        sees it (never from what the firmware says)."""
        try:
            slot = json.loads((flash / "slot.json").read_text()).get("active")
        except (OSError, ValueError, AttributeError):
            slot = None
        if slot not in ("fw_a", "fw_b"):
            return self.factory
        try:
            digest = hashlib.sha256((flash / slot / "app.mpy").read_bytes()).hexdigest()
        except OSError:
            return "missing"
        return self.app_hashes.get(digest, "unknown")

    def _on_boot(self, b, t_ms: int) -> None:
        v = self.booted_version(b.flash)
        seq = self.boots.setdefault(b.vbin.bin_id, [])
        if not seq or seq[-1][1] != v:
            seq.append((t_ms, v))

    # figures ----------------------------------------------------------------------------
    def figures(self, subscriber) -> dict:
        applied = rollbacks = rejected = 0
        reported: dict[str, set[str]] = {}
        last_tel: dict[str, float] = {}
        for m in subscriber.of_kind("telemetry"):
            d = m.json() or {}
            reported.setdefault(m.bin_id, set()).add(d.get("fw"))
            last_tel[m.bin_id] = max(last_tel.get(m.bin_id, 0.0), m.wall)
        bundle_versions = set(self.versions.values())
        for bin_id, seq in self.boots.items():
            for i in range(1, len(seq)):
                v = seq[i][1]
                if v not in bundle_versions:
                    continue
                if v in reported.get(bin_id, set()):
                    applied += 1
                elif i + 1 < len(seq) and seq[i + 1][1] == seq[i - 1][1]:
                    rollbacks += 1
        reqs = self.server.requests() if self.server else []
        for o in self.offers:
            if o.sent_wall is None:
                continue
            mine = [r for r in reqs if r.bin_id == o.bin_id and r.bundle == o.bundle
                    and r.wall >= o.sent_wall]
            if not mine:
                continue
            v = self.versions.get(o.bundle)
            ran = any(ver == v for _, ver in self.boots.get(o.bin_id, [])[1:])
            if not ran and self.pending.get(o.bin_id) != o.bundle:
                rejected += 1
        return {
            "ota_applied": applied,
            "ota_rejected": rejected,
            "ota_rollbacks": rollbacks,
            "ota_offers": sum(o.sent_wall is not None for o in self.offers),
            "ota_bytes_served": sum(max(0, r.sent) for r in reqs),
        }


def figures(sim, subscriber) -> dict:
    """The report's update keys: zeros when the run offered no update."""
    rollout = getattr(sim, "ota", None)
    if rollout is None:
        return {"ota_applied": 0, "ota_rejected": 0, "ota_rollbacks": 0, "ota_offers": 0,
                "ota_bytes_served": 0}
    rollout.look_at_end(sim)
    return rollout.figures(subscriber)


# the build dies at boot as a hard fault would (the process ends: the chip resets)
CRASH_LINE = "\nimport sys\n\nsys.exit(70)\n"


def faults_rollout(cfg, crash_after: int = 1, good_after: int = 1) -> OtaRollout:
    """The updates of --scenario faults: a bundle whose app fails at import (it must be
    rolled back) after a bin's crash_after-th report, then a good one once the bin has left
    the crashing one (and made good_after reports). The signing key is made for the run;
    its public half is provisioned on every bin (call before the Simulation is made)."""
    from host_tools.ota import bundle as bundles
    from host_tools.ota import signing

    folder = Path(cfg.workdir) / "ota"
    folder.mkdir(parents=True, exist_ok=True)
    seed = signing.generate()
    cfg.provision["ota_pub.bin"] = signing.public_raw(seed)
    src = Path(cfg.root) / "firmware"
    compiled = bundles.compile_tree(src, "linux")
    app = (src / "app.py").read_text()
    factory = factory_version(Path(cfg.root))
    major, minor, patch = (int(x) for x in factory.split("."))
    crash_v, good_v = f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0"
    for name, version, text in (("crash", crash_v, app + CRASH_LINE), ("good", good_v, app)):
        b = bundles.build(seed, version, platform="linux", compiled=compiled, app_text=text,
                          min_soc=10)
        (folder / f"{name}{SUFFIX}").write_bytes(b.to_bytes())
    offers = []
    for i in range(cfg.bins):
        bin_id = f"bin-{i + 1:04d}"
        offers += [Offer(bin_id, "crash", crash_after),
                   Offer(bin_id, "good", good_after, after="crash")]
    return OtaRollout(folder, offers, factory=factory)
