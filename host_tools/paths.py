"""Where things are: the repository, the firmware, the MicroPython unix port."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
BUILD = ROOT / "build"


def micropython() -> str:
    """The MicroPython unix port: $MICROPYTHON, else the one beside this Python, else PATH."""
    exe = os.environ.get("MICROPYTHON")
    if exe:
        return exe
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise RuntimeError("micropython (unix port) not found: run `make setup` first")
    return found


def micropypath(root: Path = ROOT) -> str:
    fw = root / "firmware"
    return os.pathsep.join([str(fw), str(fw / "lib"), ".frozen"])
