"""A virtual device: the MicroPython unix port behind a pty (socat), its filesystem a folder.
mpremote (with `resume`) and the deploy tool talk to it as to a bin on a USB cable.

    python -m host_tools.deploy.virtual DIR      # prints the port; Ctrl-C stops it
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from host_tools.paths import micropython


class VirtualDevice:
    def __init__(self, root: Path, env: dict | None = None):
        self.root = Path(root)
        self.port = str(self.root.parent / f"{self.root.name}.tty")
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10) -> VirtualDevice:
        socat = shutil.which("socat")
        if not socat:
            raise RuntimeError("socat not found: run `make setup` (installs it with apt-get)")
        self.root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("MICROPYPATH", None)   # the device's own folder is its import path
        env.update(self.env or {})
        self.proc = subprocess.Popen(
            [socat, f"PTY,link={self.port},raw,echo=0",
             f"EXEC:{micropython()},pty,raw,echo=0,stderr,setsid,ctty"],
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
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    with VirtualDevice(Path(args[0]).resolve()) as v:
        print(v.port, flush=True)
        try:
            v.proc.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
