# Update verification on the unix port: the firmware's Ed25519 verifier and SHA-512 against
# the RFC 8032 vectors and signatures made by the host tool (a JSON file given as argv[1]),
# and the manifest rules of ota.check_manifest (signature, version, battery, file entries).
import json
import sys
from binascii import hexlify, unhexlify

import check
import ed25519
import ota

with open(sys.argv[1]) as f:
    data = json.loads(f.read())

for pk, msg, sig, want, what in data["vectors"]:
    check.eq(ed25519.verify(unhexlify(pk), unhexlify(msg), unhexlify(sig)), want, what)

for msg, digest in data["sha512"]:
    check.eq(hexlify(ed25519.sha512(unhexlify(msg))).decode(), digest, "sha512 %d" % len(msg))

# malformed input is invalid, never an exception
check.eq(ed25519.verify(b"\x00" * 31, b"m", b"\x00" * 64), False, "short key")
check.eq(ed25519.verify(b"\xff" * 32, b"m", b"\x00" * 64), False, "key off the curve")
check.eq(ed25519.verify(b"\x00" * 32, b"m", b"\x00" * 63), False, "short signature")
check.eq(ed25519.verify(None, b"m", None), False, "no key, no signature")

pub = unhexlify(data["pub"])


def verdict(case):
    raw = case["manifest"].encode()
    try:
        m = ota.check_manifest(raw, unhexlify(case["sig"]), pub, case.get("running", "1.0.0"),
                               case.get("soc", 90), case.get("platform", "linux"),
                               case.get("bad"))
        return "ok:" + m["v"]
    except ota.Refused as e:
        return e.why


for case in data["manifests"]:
    check.eq(verdict(case), case["want"], case["what"])

check.eq(ota.parse_version("1.10.3"), (1, 10, 3), "version parse")
check.eq(ota.parse_version("1.1"), None, "two-part version")
check.eq(ota.parse_version("1.x.3"), None, "letters in a version")
check.true(ota.valid_name("fw-1.2.0_b"), "bundle name")
check.true(not ota.valid_name("../etc"), "bundle name with a slash")
check.true(not ota.valid_name(""), "empty bundle name")
check.done()
