"""A virtual device: the MicroPython unix port behind a pty (socat), its filesystem a folder.
mpremote (with `resume`) and the deploy tool talk to it as to a bin on a USB cable. Its
console ends lines with CR LF, as a board's UART REPL does.

    python -m host_tools.deploy.virtual DIR      # prints the port; Ctrl-C stops it

A bare device: nothing behind its pins. A virtual bin with the simulated world behind it
is `python -m host_tools.sim --vdev`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from host_tools.paths import micropython

ROM = Path(__file__).with_name("vdev_rom.py")
CONSOLE = Path(__file__).with_name("console.py")


class VirtualDevice:
    """rom: the chip boots the firmware in its folder at power-on (vdev_rom.py) instead of
    sitting in a bare REPL."""

    def __init__(self, root: Path, env: dict | None = None, rom: bool = False):
        self.root = Path(root)
        self.port = str(self.root.parent / f"{self.root.name}.tty")
        self.env = env
        self.rom = rom
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10) -> VirtualDevice:
        socat = shutil.which("socat")
        if not socat:
            raise RuntimeError("socat not found: run `make setup` (installs it with apt-get)")
        self.root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)   # the device's own folder is its import path
        env.update(self.env or {})
        # the interpreter behind a relay that sends its lines with CR LF, as a board's REPL
        # does on its UART (console.py): a terminal shows lines, not a staircase
        cmd = f"{sys.executable} {CONSOLE} {micropython()}" + (f" -i {ROM}" if self.rom else "")
        self.proc = subprocess.Popen(
            [socat, f"PTY,link={self.port},raw,echo=0", f"EXEC:{cmd}"],
            cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not os.path.exists(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the virtual device did not start (socat)")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> VirtualDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.deploy.virtual",
                                description="A bare virtual device: the MicroPython unix "
                                "port behind a pty, its filesystem the folder DIR. Prints "
                                "the port; Ctrl-C stops it.")
    p.add_argument("dir", metavar="DIR", help="the device's filesystem (made if missing)")
    args = p.parse_args(argv)
    with VirtualDevice(Path(args.dir).resolve()) as v:
        print(v.port, flush=True)
        try:
            v.proc.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
