"""A MicroPython device behind a serial port, driven with mpremote's transport (raw REPL,
no soft reset: the same calls work on a bin and on the virtual device)."""

from __future__ import annotations

import json

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport


class DeviceError(Exception):
    """A problem a technician can act on; the message says what and what to check."""


_INFO = (
    "import sys, os\n"
    "s = os.statvfs('.')\n"
    "print(repr((sys.platform, tuple(sys.implementation.version[:3]), "
    "getattr(sys.implementation, '_mpy', 0), (s[1] or s[0]) * s[4])))"
)

_HASHES = (
    "import hashlib, binascii\n"
    "def _h(p):\n"
    " try:\n"
    "  f = open(p, 'rb')\n"
    " except OSError:\n"
    "  return None\n"
    " h = hashlib.sha256()\n"
    " b = bytearray(512)\n"
    " while True:\n"
    "  n = f.readinto(b)\n"
    "  if not n:\n"
    "   break\n"
    "  h.update(b if n == 512 else b[:n])\n"
    " f.close()\n"
    " return binascii.hexlify(h.digest()).decode()\n"
)

_WALK = (
    "import os\n"
    "def _walk(d):\n"
    " out = []\n"
    " try:\n"
    "  names = os.listdir(d)\n"
    " except OSError:\n"
    "  return out\n"
    " for n in names:\n"
    "  p = d + '/' + n\n"
    "  if os.stat(p)[0] & 0x4000:\n"
    "   out.extend(_walk(p))\n"
    "  else:\n"
    "   out.append(p)\n"
    " return out\n"
)


class Device:
    def __init__(self, port: str):
        self.port = port
        self.t: SerialTransport | None = None

    # connection ---------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            self.t = SerialTransport(self.port, baudrate=115200)
        except TransportError as e:
            raise DeviceError(f"no device on {self.port} ({e}); check the cable and the "
                              "port name") from None
        try:
            self.t.enter_raw_repl(soft_reset=False)
        except TransportError as e:
            self.close()
            raise DeviceError(f"the device on {self.port} does not answer ({e}); is it "
                              "running MicroPython? Press reset and try again") from None

    def reconnect(self) -> None:
        self.close()
        self.connect()

    def close(self) -> None:
        if self.t is not None:
            try:
                self.t.exit_raw_repl()
            except Exception:  # the link is already gone; closing is all that is left
                pass
            try:
                self.t.close()
            except Exception:
                pass
            self.t = None

    # queries ------------------------------------------------------------------------------
    def exec(self, code: str) -> str:
        try:
            out = self.t.exec(code)
        except TransportExecError as e:
            raise DeviceError(f"device error: {e.error_output.strip().splitlines()[-1]}") \
                from None
        return out.decode(errors="replace")

    def eval(self, expr: str):
        try:
            return self.t.eval(expr)
        except TransportExecError as e:
            raise DeviceError(f"device error: {e.error_output.strip().splitlines()[-1]}") \
                from None

    def info(self) -> tuple[str, tuple, int, int]:
        """(platform, version, mpy, free bytes)."""
        out = self.exec(_INFO).strip()
        import ast

        return ast.literal_eval(out)

    def hashes(self, paths: list[str]) -> dict[str, str | None]:
        self.exec(_HASHES)
        values = self.eval(f"[_h(p) for p in {json.dumps(paths)}]")
        return dict(zip(paths, values, strict=True))

    def files_under(self, folder: str) -> list[str]:
        self.exec(_WALK)
        return [p.lstrip("./") for p in self.eval(f"_walk({folder!r})")]

    # changes ------------------------------------------------------------------------------
    def makedirs(self, folder: str) -> None:
        parts = [p for p in folder.split("/") if p]
        dirs = json.dumps(["/".join(parts[:i + 1]) for i in range(len(parts))])
        self.exec(f"import os\nfor d in {dirs}:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n")

    def put(self, path: str, data: bytes) -> None:
        """Write a file atomically: a temp file, then rename over the old one."""
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        if folder:
            self.makedirs(folder)
        tmp = path + ".tmp"
        try:
            self.t.fs_writefile(tmp, data, chunk_size=512)
        except TransportExecError as e:
            raise DeviceError(f"writing {path} failed: {e.error_output.strip()}") from None
        self.exec(f"import os\nos.rename({tmp!r}, {path!r})")

    def remove(self, path: str) -> None:
        self.exec(f"import os\nos.remove({path!r})")

    def reset(self) -> bool:
        """Hard-reset the device; False when it cannot (the unix port). A virtual bin
        (host_tools.sim --vdev) is power-cycled by its vdev_reset()."""
        if self.eval("'reset' in dir(__import__('machine'))"):
            code = "import machine\nmachine.reset()"
        elif self.eval("'vdev_reset' in globals()"):
            code = "vdev_reset()"
        else:
            return False
        try:
            self.t.exec_raw_no_follow(code)
        except TransportError:
            pass
        return True
