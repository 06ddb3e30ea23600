"""Deploy the firmware to a bin over its serial port.

    python -m host_tools.deploy --port /dev/ttyACM0 --device bin-0042 --broker mqtt.example:8883

Compiles firmware/ to .mpy with mpy-cross (checked against the device's .mpy version),
copies only the files whose sha256 differs, writes the bin's identity and config
(provisioning), removes stale firmware files, verifies every file on the device by sha256,
then resets the device.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

from host_tools.deploy.build import Item, build, device_mpy_version, mpy_cross_version
from host_tools.deploy.device import Device, DeviceError
from host_tools.paths import BUILD, FIRMWARE

RETRIES = 3
FILE_OVERHEAD = 4096   # a flash block per file, on top of its bytes


def _firmware_config():
    """The firmware's own config module (validation is the same code on host and device).
    MicroPython's const() is the identity on CPython."""
    if "micropython" not in sys.modules:
        import types

        sys.modules["micropython"] = types.SimpleNamespace(const=lambda x: x)
    sys.path.insert(0, str(FIRMWARE))
    try:
        spec = importlib.util.spec_from_file_location("bin_config", FIRMWARE / "config.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(FIRMWARE))


def provisioning(args) -> dict[str, bytes]:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{2,31}", args.device):
        raise DeviceError(f"device id {args.device!r}: use 3-32 characters a-z, 0-9 and '-'")
    ident = {"id": args.device}
    if args.user:
        ident["user"] = args.user
        ident["password"] = args.password or ""
    if args.apn:
        ident["apn"] = args.apn
    changes = {}
    if args.broker:
        host, _, port = args.broker.rpartition(":")
        if not host or not port.isdigit():
            raise DeviceError(f"--broker {args.broker!r}: expected HOST:PORT")
        changes.update(broker_host=host, broker_port=int(port))
    for kv in args.set or []:
        key, sep, value = kv.partition("=")
        if not sep:
            raise DeviceError(f"--set {kv!r}: expected key=value")
        changes[key] = int(value) if re.fullmatch(r"-?\d+", value) else value
    cfg = _firmware_config()
    try:
        cfg.validate(changes, cfg.defaults())
    except ValueError as e:
        raise DeviceError(f"config rejected: {e}") from None
    files = {"identity.json": json.dumps(ident).encode(),
             "config.json": json.dumps(changes).encode()}
    if getattr(args, "ca", None):
        files["ca.der"] = _ca_der(Path(args.ca))
    if getattr(args, "ota_pub", None):
        try:
            pub = Path(args.ota_pub).read_bytes()
        except OSError as e:
            raise DeviceError(f"--ota-pub {args.ota_pub}: {e}") from None
        if len(pub) != 32:
            raise DeviceError(f"--ota-pub {args.ota_pub}: not an Ed25519 public key "
                              "(32 bytes; python -m host_tools.ota keygen makes one)")
        files["ota_pub.bin"] = pub
    return files


def _ca_der(path: Path) -> bytes:
    """The broker's CA for the bin's TLS check, as DER (a PEM file is converted)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DeviceError(f"--ca {path}: {e}") from None
    if b"-----BEGIN CERTIFICATE-----" in data:
        import ssl

        data = ssl.PEM_cert_to_DER_cert(data.decode("ascii", "replace"))
    if not data.startswith(b"\x30"):
        raise DeviceError(f"--ca {path}: not a DER or PEM certificate")
    return data


def check_space(todo: list[Item], free: int) -> None:
    """Refuse before copying anything when the files cannot fit."""
    need = sum(i.size + FILE_OVERHEAD for i in todo)
    if need > free:
        raise DeviceError(f"not enough flash: {need / 1000:.0f} kB to copy, "
                          f"{free / 1000:.0f} kB free; nothing was changed")


def _progress(i: int, n: int, path: str, size: int, what: str) -> None:
    print(f"[{i:2d}/{n}] {path:<36} {size / 1000:6.1f} kB  {what}", flush=True)


def deploy(args) -> int:
    files = provisioning(args)
    dev = Device(args.port)
    dev.connect()
    try:
        platform, version, mpy, free = dev.info()
        ver = ".".join(str(v) for v in version)
        want = mpy_cross_version()
        have = device_mpy_version(mpy)
        print(f"deploy: {args.port}: MicroPython {ver} on {platform}, "
              f"mpy v{have[0]}.{have[1]}, {free / 1000:,.0f} kB free")
        # a device loads .mpy files of its major version up to its own sub-version
        if not args.source and (have[0] != want[0] or want[1] > have[1]):
            raise DeviceError(
                f"wrong MicroPython version: the device loads mpy v{have[0]}.{have[1]}, "
                f"mpy-cross emits v{want[0]}.{want[1]}; flash MicroPython 1.29 or deploy "
                "with --source")
        items = build(platform, compile_mpy=not args.source, out=BUILD / "deploy" / platform)
        for name, data in files.items():
            path = BUILD / "deploy" / platform / name
            path.write_bytes(data)
            items.append(Item(name, path, len(data), hashlib.sha256(data).hexdigest()))
        print(f"deploy: {len(items)} files, {sum(i.size for i in items) / 1000:.1f} kB "
              f"({'source' if args.source else 'mpy-cross -O2'})")

        on_device = dev.hashes([i.device_path for i in items])
        todo = [i for i in items if on_device.get(i.device_path) != i.sha256]
        check_space(todo, free)

        copied = 0
        for n, item in enumerate(items, 1):
            if item not in todo:
                _progress(n, len(items), item.device_path, item.size, "unchanged")
                continue
            data = item.local.read_bytes()
            for attempt in range(1, RETRIES + 1):
                try:
                    dev.put(item.device_path, data)
                    break
                except (DeviceError, OSError, Exception) as e:  # noqa: B014 - transport errors
                    if attempt == RETRIES:
                        _progress(n, len(items), item.device_path, item.size, "FAILED")
                        return _stop(dev, items, f"copy of {item.device_path} failed "
                                     f"{RETRIES} times: {e}")
                    _progress(n, len(items), item.device_path, item.size,
                              f"retry {attempt} ({e})")
                    try:
                        dev.reconnect()
                    except DeviceError:
                        pass
            copied += 1
            _progress(n, len(items), item.device_path, item.size, "copied")

        wanted = {i.device_path for i in items}
        stale = [p for p in dev.files_under("firmware") if p not in wanted]
        for p in stale:
            dev.remove(p)
            print(f"        {p:<36}            removed (stale)")

        if dev.hashes(["slot.json"]).get("slot.json"):
            dev.remove("slot.json")    # the firmware/ just deployed runs, not an update slot
            print("        slot.json                               removed (update slot off)")

        final = dev.hashes([i.device_path for i in items])
        bad = [i.device_path for i in items if final.get(i.device_path) != i.sha256]
        if bad:
            return _stop(dev, items, f"verification failed for {', '.join(bad)}")
        print(f"deploy: {args.device}: {len(items)} files verified by sha256 "
              f"({copied} copied, {len(items) - copied} unchanged, {len(stale)} stale removed)")
        if args.no_reset:
            print("deploy: not resetting (--no-reset)")
        elif dev.reset():
            print("deploy: device reset; the new firmware is starting")
        else:
            print("deploy: this device cannot reset itself (unix port); restart it to boot")
        return 0
    finally:
        dev.close()


def _stop(dev: Device, items: list[Item], why: str) -> int:
    print(f"deploy: stopped: {why}", file=sys.stderr)
    try:
        state = dev.hashes([i.device_path for i in items])
        ok = [i.device_path for i in items if state.get(i.device_path) == i.sha256]
        print(f"deploy: on the device now: {len(ok)} of {len(items)} files are the new "
              "version; deploy again to finish", file=sys.stderr)
    except Exception:  # the link is gone: say so rather than hide the first error
        print("deploy: the device no longer answers; check the cable", file=sys.stderr)
    return 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m host_tools.deploy",
                                description=__doc__.split("\n")[0])
    p.add_argument("--port", required=True, help="serial port of the bin (or a virtual device)")
    p.add_argument("--device", required=True, help="device id, e.g. bin-0042")
    p.add_argument("--broker", help="broker HOST:PORT written to the bin's config")
    p.add_argument("--user", help="MQTT user name (per-device credentials)")
    p.add_argument("--password", help="MQTT password")
    p.add_argument("--apn", help="LTE access point name")
    p.add_argument("--ca", help="broker CA certificate (PEM or DER): the bin talks TLS and "
                   "checks the broker against it (written as ca.der)")
    p.add_argument("--ota-pub", help="public key that update bundles must be signed with "
                   "(from python -m host_tools.ota keygen; written as ota_pub.bin)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="config value (validated like a remote config); repeatable")
    p.add_argument("--source", action="store_true", help="copy .py sources, no mpy-cross")
    p.add_argument("--no-reset", action="store_true", help="leave the device running")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return deploy(args)
    except DeviceError as e:
        print(f"deploy: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
