"""A throw-away mosquitto broker on 127.0.0.1 with a generated config and a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the process that started it dies (Linux), so
    a killed test run or simulator leaves no broker or firmware process behind."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def find_mosquitto() -> str:
    for cand in (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if cand and Path(cand).exists():
            return cand
    raise RuntimeError("mosquitto not found: run `make setup` (installs it with apt-get)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, extra_conf: str = "", workdir: Path | None = None,
                 tls_conf: str = "", anonymous: bool = True):
        """tls_conf: cafile/certfile/keyfile lines (host_tools.tlsca): adds a TLS listener
        on self.tls_port; anonymous=False: every client needs a user and password."""
        self.host = "127.0.0.1"
        self.port = 0
        self.tls_port = 0
        self.extra = extra_conf
        self.tls_conf = tls_conf
        self.anonymous = anonymous
        self._tmp = None
        self.dir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> Broker:
        if self.dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="broker-")
            self.dir = Path(self._tmp.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            self.port = free_port()
            tls = ""
            if self.tls_conf:
                self.tls_port = free_port()
                tls = f"listener {self.tls_port} {self.host}\n" + self.tls_conf
            conf = self.dir / "mosquitto.conf"
            conf.write_text(
                f"listener {self.port} {self.host}\n"
                + tls
                + f"allow_anonymous {'true' if self.anonymous else 'false'}\n"
                # persistent sessions (bins, observer) and their queued messages survive a
                # restart of the broker: saved when it stops, read when it starts
                "persistence true\n"
                f"persistence_location {self.dir}/\n"
                # as root, mosquitto would switch to its own user, which also clears the
                # die-with-parent signal: keep the test broker as the user that started it
                + ("user root\n" if os.geteuid() == 0 else "")
                + "log_dest stderr\n"
                "log_type error\n"
                "log_type warning\n"
                "max_queued_messages 100000\n"
                + self.extra
            )
            if self._spawn(timeout):
                return self
            self.stop()
        raise RuntimeError(f"mosquitto did not start; see {self.dir / 'mosquitto.log'}")

    def _spawn(self, timeout: float) -> bool:
        log = open(self.dir / "mosquitto.log", "ab")
        self.proc = subprocess.Popen([find_mosquitto(), "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=log, stdin=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def restart(self, timeout: float = 10) -> Broker:
        """Stop mosquitto (it saves its sessions) and start it again on the same ports."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        if not self._spawn(timeout):
            raise RuntimeError(f"mosquitto did not restart; see {self.dir / 'mosquitto.log'}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None
            self.dir = None

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
