"""Where things are: the repository, the firmware, the MicroPython unix port."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
BUILD = ROOT / "build"


def venv_tool(name: str, env_var: str) -> str:
    """A command of the toolchain: $env_var, else the one beside this Python, else PATH."""
    exe = os.environ.get(env_var)
    if exe:
        return exe
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run `make setup` first")
    return found


def micropython() -> str:
    """The MicroPython unix port."""
    return venv_tool("micropython", "MICROPYTHON")


def micropypath(root: Path = ROOT) -> str:
    fw = root / "firmware"
    return os.pathsep.join([str(fw), str(fw / "lib"), ".frozen"])
