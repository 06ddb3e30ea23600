"""A throw-away test CA and broker certificate made with openssl (EC prime256v1), plus the
mosquitto password file and per-bin ACL: what a TLS broker for tests and the simulator needs.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("openssl not found: it is needed to make the test CA")
    subprocess.run([exe, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@dataclass
class TestCA:
    dir: Path
    ca_pem: Path
    ca_der: Path
    cert: Path
    key: Path


def make_ca(folder: Path, hostname: str = "localhost", ip: str = "127.0.0.1") -> TestCA:
    """CA + server certificate for `hostname` (and `ip`), valid for two days."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=d)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2",
             "-subj", "/CN=bins test CA", "-out", "ca.pem", cwd=d)
    _openssl("x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der", cwd=d)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key", cwd=d)
    _openssl("req", "-new", "-key", "server.key", "-subj", f"/CN={hostname}",
             "-out", "server.csr", cwd=d)
    (d / "ext.cnf").write_text(f"subjectAltName=DNS:{hostname},IP:{ip}\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-sha256", "-extfile", "ext.cnf",
             "-out", "server.pem", cwd=d)
    (d / "server.key").chmod(0o644)   # mosquitto may drop privileges before reading it
    return TestCA(d, d / "ca.pem", d / "ca.der", d / "server.pem", d / "server.key")


def password_file(folder: Path, users: dict[str, str]) -> Path:
    """A mosquitto password file (hashed with mosquitto_passwd -b)."""
    exe = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    p = Path(folder) / "passwd"
    p.write_text("")
    for user, pw in users.items():
        subprocess.run([exe, "-b", str(p), user, pw], check=True, capture_output=True,
                       timeout=30)
    p.chmod(0o644)
    return p


def acl_file(folder: Path, observers: tuple[str, ...] = ("observer",)) -> Path:
    """Each bin (user = client id = bin id) reads and writes only bins/<its id>/...;
    observer users (monitor, simulator) read everything and write config and commands."""
    p = Path(folder) / "acl"
    lines = []
    for o in observers:
        lines += [f"user {o}", "topic readwrite bins/#", ""]
    lines += ["pattern write bins/%u/telemetry", "pattern write bins/%u/event",
              "pattern write bins/%u/state", "pattern write bins/%u/cmd/ack",
              "pattern read bins/%u/config", "pattern read bins/%u/cmd",
              "pattern write bins/%u/ota/get", "pattern read bins/%u/ota/data", ""]
    p.write_text("\n".join(lines))
    p.chmod(0o644)
    return p


def tls_broker_conf(ca: TestCA, passwd: Path, acl: Path) -> str:
    """Extra mosquitto.conf lines for host_tools.broker.Broker(tls=...)."""
    return (f"cafile {ca.ca_pem}\ncertfile {ca.cert}\nkeyfile {ca.key}\n"
            f"password_file {passwd}\nacl_file {acl}\n")


def start_sim_tls_broker(cfg):
    """For the simulator and bench (cfg: SimConfig): a broker with a TLS listener for the
    bins (server certificate checked against the test CA, provisioned to each bin as ca.der)
    and a plain local listener for the observer. Returns (broker, (host, tls_port))."""
    from host_tools.broker import Broker

    ca = make_ca(Path(cfg.workdir) / "tls")
    broker = Broker(tls_conf=f"cafile {ca.ca_pem}\ncertfile {ca.cert}\nkeyfile {ca.key}\n")
    broker.start()
    cfg.config.setdefault("broker_host", "localhost")
    cfg.provision["ca.der"] = ca.ca_der.read_bytes()
    return broker, (broker.host, broker.tls_port)
