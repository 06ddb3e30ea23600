"""Signed over-the-air updates: keys, bundles, a bundle server and the update command.

    python -m host_tools.ota keygen --out keys/
    python -m host_tools.ota pubkey --key keys/ota.key --out keys/ota_pub.bin
    python -m host_tools.ota build --key keys/ota.key --version 0.2.0 --out fw-0.2.0.bota
    python -m host_tools.ota serve --broker HOST:PORT --dir bundles/
    python -m host_tools.ota push --broker HOST:PORT --bundle fw-0.2.0 bin-0001 bin-0002
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from host_tools.ota import bundle as bundles
from host_tools.ota import signing


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT")
    return host, int(port)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m host_tools.ota",
                                description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen", help="make a signing key pair (the private key stays here)")
    k.add_argument("--out", required=True, help="folder for ota.key (PKCS#8 PEM, mode 0600) "
                                                "and ota_pub.bin (raw public key)")
    k.add_argument("--name", default="ota", help="file name stem (default ota)")
    pk = sub.add_parser("pubkey", help="write the raw public key (ota_pub.bin) of a key file")
    pk.add_argument("--key", required=True, help="private key (PKCS#8 PEM)")
    pk.add_argument("--out", required=True, help="file for the 32-byte public key")
    b = sub.add_parser("build", help="compile firmware/ and sign it as a bundle")
    b.add_argument("--key", required=True, help="private key from keygen")
    b.add_argument("--version", required=True, help="MAJOR.MINOR.PATCH of the new firmware")
    b.add_argument("--out", required=True, help="bundle file (NAME.bota; NAME is what push "
                                                "names)")
    b.add_argument("--src", default=None, help="firmware tree (default: this repo's firmware/)")
    b.add_argument("--platform", default="esp32",
                   help="esp32 (bins) or linux (the simulator, keeps the sim board)")
    b.add_argument("--min-soc", type=int, default=30,
                   help="the bin refuses below this battery charge, %% (default 30)")
    b.add_argument("--allow-downgrade", action="store_true",
                   help="let bins running a newer version install this one")
    s = sub.add_parser("serve", help="answer the bins' range requests for bundles")
    s.add_argument("--broker", type=_broker, required=True, metavar="HOST:PORT")
    s.add_argument("--dir", required=True, help="folder of *.bota bundles")
    s.add_argument("--log", default=None, help="append each request here (JSON lines)")
    u = sub.add_parser("push", help="tell bins to fetch a bundle (a command on bins/<id>/cmd)")
    u.add_argument("--broker", type=_broker, required=True, metavar="HOST:PORT")
    u.add_argument("--bundle", required=True, help="bundle name (file name without .bota)")
    u.add_argument("bins", nargs="+", help="bin ids")
    return p.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.cmd == "keygen":
        try:
            key, pub = bundles.keygen(Path(a.out), a.name)
        except FileExistsError as e:
            print(f"ota: {e}", file=sys.stderr)
            return 1
        print(f"private key {key} (keep it off the bins and out of version control)\n"
              f"public key  {pub} (provision it on every bin as ota_pub.bin)")
        return 0
    if a.cmd == "pubkey":
        try:
            raw = bundles.public_key(Path(a.key))
        except (OSError, ValueError) as e:
            print(f"ota: {e}", file=sys.stderr)
            return 1
        Path(a.out).write_bytes(raw)
        print(f"public key {a.out} ({raw.hex()[:16]}...)")
        return 0
    if a.cmd == "build":
        out = Path(a.out)
        if out.suffix != ".bota" or not bundles.NAME_RE.match(out.stem):
            print("ota: --out must be NAME.bota, NAME of 1..32 of A-Z a-z 0-9 . _ -",
                  file=sys.stderr)
            return 2
        try:
            key = bundles.read_key(Path(a.key))
            src = Path(a.src) if a.src else bundles.FIRMWARE
            b = bundles.build(key, a.version, src, a.platform, a.min_soc, a.allow_downgrade)
        except (OSError, ValueError, RuntimeError) as e:
            print(f"ota: {e}", file=sys.stderr)
            return 1
        pub = signing.public_raw(key)
        if not signing.verify(pub, b.manifest_bytes, b.signature):
            print("ota: the signature does not verify: not written", file=sys.stderr)
            return 1
        out.parent.mkdir(parents=True, exist_ok=True)
        data = b.to_bytes()
        out.write_bytes(data)
        print(f"{out}: version {a.version}, {len(b.manifest['files'])} files, "
              f"{len(data)} bytes, signed by {pub.hex()[:16]}...")
        return 0
    if a.cmd == "serve":
        from host_tools.ota.server import BundleServer

        srv = BundleServer(*a.broker, Path(a.dir), log_path=Path(a.log) if a.log else None)
        srv.start()
        print(f"serving {a.dir} on {a.broker[0]}:{a.broker[1]} (Ctrl-C stops)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            srv.stop()
        return 0
    import paho.mqtt.client as mqtt

    from host_tools.ota.server import push

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ota-push-{uuid.uuid4().hex[:8]}")
    c.connect(*a.broker, keepalive=30)
    c.loop_start()
    try:
        for b in a.bins:
            cid = f"ota-{uuid.uuid4().hex[:8]}"
            info = push(c, b, a.bundle, cid)
            info.wait_for_publish(10)
            if not info.is_published():
                print(f"{b}: the broker did not take command {cid}", file=sys.stderr)
                return 1
            print(f"{b}: command {cid} queued at the broker (update to {a.bundle}); the bin "
                  "acks it on bins/{b}/cmd/ack at its next session".replace("{b}", b))
    finally:
        c.disconnect()
        c.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
