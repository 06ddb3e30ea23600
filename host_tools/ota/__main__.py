"""Signed over-the-air updates: keys, bundles, a bundle server and the update command.

    python -m host_tools.ota keygen --out keys/
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
from host_tools.ota import ed25519


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
    k.add_argument("--out", required=True, help="folder for ota.key and ota_pub.bin")
    k.add_argument("--name", default="ota", help="file name stem (default ota)")
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
    if a.cmd == "build":
        out = Path(a.out)
        if out.suffix != ".bota" or not bundles.NAME_RE.match(out.stem):
            print("ota: --out must be NAME.bota, NAME of 1..32 of A-Z a-z 0-9 . _ -",
                  file=sys.stderr)
            return 2
        try:
            seed = bundles.read_key(Path(a.key))
            src = Path(a.src) if a.src else bundles.FIRMWARE
            b = bundles.build(seed, a.version, src, a.platform, a.min_soc, a.allow_downgrade)
        except (OSError, ValueError, RuntimeError) as e:
            print(f"ota: {e}", file=sys.stderr)
            return 1
        if not ed25519.verify(ed25519.public_key(seed), b.manifest_bytes, b.signature):
            print("ota: the signature does not verify: not written", file=sys.stderr)
            return 1
        out.parent.mkdir(parents=True, exist_ok=True)
        data = b.to_bytes()
        out.write_bytes(data)
        print(f"{out}: version {a.version}, {len(b.manifest['files'])} files, "
              f"{len(data)} bytes, signed by {ed25519.public_key(seed).hex()[:16]}...")
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
