"""Update bundles: the firmware compiled like a deploy (the modules of the board's manifest,
firmware/board/<board>_manifest.py, at its opt level: -O2), listed in a manifest
(version, each file's size and sha256, minimum battery, downgrade permission) that is signed
with Ed25519. Layout, all integers big-endian:

    b"BOTA1"  u16 manifest length  u8 signature length  manifest  signature  file data...

The files follow each other in manifest order; a bin fetches byte ranges of this one file.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from host_tools.deploy.build import board_files, compile_mpy_file
from host_tools.ota import signing
from host_tools.paths import FIRMWARE

MAGIC = b"BOTA1"
HEADER = len(MAGIC) + 3
MANIFEST_MAX = 8192          # the bin refuses a longer manifest (it holds it in RAM)
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
VERSION_RE = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}$")
_VERSION_LINE = re.compile(r'^VERSION = "[^"]*"$', re.M)


@dataclass
class Bundle:
    manifest: dict
    manifest_bytes: bytes
    signature: bytes
    payload: bytes

    def to_bytes(self) -> bytes:
        m, s = self.manifest_bytes, self.signature
        return MAGIC + len(m).to_bytes(2, "big") + bytes([len(s)]) + m + s + self.payload


def parse(data: bytes) -> Bundle:
    if data[:len(MAGIC)] != MAGIC:
        raise ValueError("not an update bundle (bad magic)")
    n = int.from_bytes(data[5:7], "big")
    ns = data[7]
    m = data[HEADER:HEADER + n]
    s = data[HEADER + n:HEADER + n + ns]
    return Bundle(json.loads(m), m, s, data[HEADER + n + ns:])


def _mpy(rel: str, text: str, tmp: Path, opt: int | None = 2) -> bytes:
    src = tmp / "src" / rel
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(text)
    dst = tmp / "out.mpy"
    compile_mpy_file(src, dst, rel, opt)
    return dst.read_bytes()


def stamp(app_text: str, version: str) -> str:
    """app.py with its VERSION set to the bundle's version (what the bin reports as fw)."""
    text, n = _VERSION_LINE.subn(f'VERSION = "{version}"', app_text)
    if n != 1:
        raise RuntimeError('app.py: no single VERSION = "..." line to stamp')
    return text


def compile_tree(src: Path = FIRMWARE, platform: str = "esp32") -> dict[str, bytes]:
    """Every module the board of `platform` runs (its manifest in the tree's board/), from a
    firmware/ tree, compiled like a deploy, by the path inside the slot (app.py is compiled
    again, stamped, by build())."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="ota-build-") as tmp:
        for rel, py, opt in board_files(platform, Path(src)):
            out[rel[:-3] + ".mpy"] = _mpy(rel, py.read_text(), Path(tmp), opt)
    return out


def build(key: signing.PrivateKey | None, version: str, src: Path = FIRMWARE,
          platform: str = "esp32", min_soc: int = 30, allow_downgrade: bool = False,
          compiled: dict[str, bytes] | None = None, app_text: str | None = None) -> Bundle:
    """Compile src (a firmware/ tree) and sign its manifest with key (None: unsigned, for
    tests of the bin's refusal). compiled: the tree already compiled (compile_tree) to reuse;
    app_text: the app.py source to use instead of src's."""
    if not VERSION_RE.match(version):
        raise ValueError(f"version {version!r}: expected MAJOR.MINOR.PATCH, e.g. 1.4.0")
    if not 0 <= min_soc <= 100:
        raise ValueError(f"min_soc {min_soc}: expected 0..100 (% battery charge)")
    files = dict(compiled) if compiled is not None else compile_tree(src, platform)
    text = app_text if app_text is not None else (Path(src) / "app.py").read_text()
    with tempfile.TemporaryDirectory(prefix="ota-build-") as tmp:
        files["app.mpy"] = _mpy("app.py", stamp(text, version), Path(tmp))
    entries, payload = [], bytearray()
    for rel in sorted(files):
        data = files[rel]
        entries.append([rel, len(data), hashlib.sha256(data).hexdigest()])
        payload += data
    manifest = {"v": version, "min_soc": min_soc, "allow_downgrade": bool(allow_downgrade),
                "platform": platform, "files": entries}
    mb = json.dumps(manifest, separators=(",", ":")).encode()
    if len(mb) > MANIFEST_MAX:
        raise RuntimeError(f"manifest of {len(mb)} bytes: the bin takes {MANIFEST_MAX} at most")
    sig = signing.sign(key, mb) if key is not None else b""
    return Bundle(manifest, mb, sig, bytes(payload))


def read_key(path: Path) -> signing.PrivateKey:
    """A private key written by `keygen` (PKCS#8 PEM, private to its owner)."""
    return signing.read_key(path)


def keygen(folder: Path, name: str = "ota") -> tuple[Path, Path]:
    """Write <name>.key (PKCS#8 PEM, mode 0600, never commit it) and <name>_pub.bin (the
    raw 32-byte public key, provisioned on every bin)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key, pub = folder / f"{name}.key", folder / f"{name}_pub.bin"
    if key.exists():
        raise FileExistsError(f"{key} exists: refusing to overwrite a signing key")
    k = signing.generate()
    signing.write_key(key, k)
    pub.write_bytes(signing.public_raw(k))
    return key, pub


def public_key(path: Path) -> bytes:
    """The raw public key (ota_pub.bin) of a private key file."""
    return signing.public_raw(read_key(path))
