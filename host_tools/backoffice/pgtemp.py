"""A throw-away PostgreSQL server from Debian's package (tests, bench): initdb in a
temporary data directory, `postgres` on 127.0.0.1 and a free port, stopped with the object.
As root it runs as the `postgres` user (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from host_tools.broker import free_port

DB_USER = "backoffice"

try:    # looked up here: the child may no longer read this Python's files after setuid
    import ctypes

    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
    _SIGTERM = int(signal.SIGTERM)
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_parent() -> None:
    if _PRCTL is not None:
        _PRCTL(1, _SIGTERM)     # PR_SET_PDEATHSIG


def find_bin_dir() -> Path | None:
    """/usr/lib/postgresql/<newest>/bin, or the folder of an initdb on PATH."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                  else 0)
    for d in reversed(dirs):
        if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def why_unavailable() -> str | None:
    """None when a server can be started here, else the reason."""
    d = find_bin_dir()
    if d is None:
        return "PostgreSQL is not installed (apt-get install postgresql; tools/sysdeps.sh)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


class TempPostgres:
    def __init__(self) -> None:
        self.port = 0
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self._uid: int | None = None
        self._gid: int | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.port}/postgres"

    def _owner(self) -> dict:
        """Popen arguments: as the postgres user when root, the child dies with us."""
        kw: dict = {"preexec_fn": _die_with_parent, "cwd": self.dir}
        if self._uid is not None:
            kw.update(user=self._uid, group=self._gid, extra_groups=[])
        return kw

    def start(self, timeout: float = 30.0) -> TempPostgres:
        why = why_unavailable()
        if why:
            raise RuntimeError(why)
        bindir = find_bin_dir()
        assert bindir is not None
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chown(self.dir, self._uid, self._gid)
        data = self.dir / "data"
        subprocess.run([str(bindir / "initdb"), "-D", str(data), f"--username={DB_USER}",
                        "--auth=trust", "--encoding=UTF8", "--no-sync", "-N"],
                       check=True, capture_output=True, timeout=timeout,
                       **self._owner())
        self.port = free_port()
        log = open(self.dir / "postgres.log", "wb")
        self.proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **self._owner())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if (data / "postmaster.pid").exists() and self._ready():
                return self
            time.sleep(0.1)
        out = (self.dir / "postgres.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"postgres did not start:\n{out}")

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        import psycopg

        try:
            with psycopg.connect(self.url.replace("postgresql://", "postgresql://", 1),
                                 connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def pause(self) -> None:
        """Stops the server and keeps its data (a database that goes away)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # fast shutdown: clients are cut off
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def resume(self, timeout: float = 30.0) -> None:
        """Starts the server again on the same port and data."""
        bindir = find_bin_dir()
        assert bindir is not None and self.dir is not None
        log = open(self.dir / "postgres.log", "ab")
        self.proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(self.dir / "data"), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **self._owner())
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._ready():
            if self.proc.poll() is not None:
                raise RuntimeError("postgres did not start again")
            time.sleep(0.1)

    def stop(self) -> None:
        self.pause()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
