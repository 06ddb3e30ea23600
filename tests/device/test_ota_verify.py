"""The bin's update verifier (firmware/ed25519.py) on the unix port, checked against RFC 8032
and against signatures made by the library the host tool signs with (`cryptography`'s
Ed25519, host_tools/ota/signing.py): valid, tampered message or manifest, tampered
signature, wrong key, a malleated S."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from host_tools.ota import signing

L = 2 ** 252 + 27742317777372353535851937790883648493   # the group order


def _key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)

# RFC 8032, section 7.1: TEST 1, 2, 3 and SHA(abc) (secret key, public key, message, sig)
RFC = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]


def test_host_signer_matches_rfc8032():
    for sk, pk, msg, sig in RFC:
        sk, pk, msg, sig = map(bytes.fromhex, (sk, pk, msg, sig))
        assert signing.public_raw(_key(sk)) == pk
        assert signing.sign(_key(sk), msg) == sig
        assert signing.verify(pk, msg, sig)
        assert not signing.verify(pk, msg + b"\0", sig)


def _cases():
    rng = random.Random(8)
    vectors = []
    for _sk, pk, msg, sig in RFC:
        vectors.append([pk, msg, sig, True, f"RFC 8032 {len(msg) // 2}-byte message"])
        bad = bytearray(bytes.fromhex(sig))
        bad[5] ^= 1
        vectors.append([pk, msg, bad.hex(), False, "RFC signature with a flipped bit"])
    for n in (0, 1, 111, 112, 127, 128, 129, 239, 240, 1000, 3000):
        seed = rng.randbytes(32)
        msg = rng.randbytes(n)
        pk, sig = signing.public_raw(_key(seed)), signing.sign(_key(seed), msg)
        vectors.append([pk.hex(), msg.hex(), sig.hex(), True, f"library-signed {n} bytes"])
        if n:
            m2 = bytearray(msg)
            m2[rng.randrange(n)] ^= 0x80
            vectors.append([pk.hex(), m2.hex(), sig.hex(), False, f"altered {n} bytes"])
        other = signing.public_raw(_key(rng.randbytes(32)))
        vectors.append([other.hex(), msg.hex(), sig.hex(), False, f"other key, {n} bytes"])
        for i in (0, 31, 32, 63):   # R and S, each end
            bad = bytearray(sig)
            bad[i] ^= 0x01
            vectors.append([pk.hex(), msg.hex(), bad.hex(), False,
                            f"signature byte {i} flipped, {n} bytes"])
        s_big = (int.from_bytes(sig[32:], "little") + L).to_bytes(32, "little")
        vectors.append([pk.hex(), msg.hex(), (sig[:32] + s_big).hex(), False,
                        f"S + L (malleated), {n} bytes"])
    sha = [[m.hex(), hashlib.sha512(m).hexdigest()]
           for m in (b"", b"abc", bytes(range(256)) * 3, b"x" * 111, b"y" * 112)]

    seed = rng.randbytes(32)
    other = rng.randbytes(32)
    files = [["app.mpy", 10, "a" * 64], ["board/sim.mpy", 20, "b" * 64]]

    def man(v="1.1.0", **kw):
        d = {"v": v, "min_soc": 30, "allow_downgrade": False, "platform": "linux",
             "files": files}
        d.update(kw)
        return json.dumps(d, separators=(",", ":"))

    def case(what, want, m, key=seed, signed=None, flip=None, **kw):
        """signed: the text the signature was made over (a manifest changed after it was
        signed); flip: a signature byte changed."""
        sig = signing.sign(_key(key), (signed or m).encode()) if key is not None else b""
        if flip is not None:
            sig = bytearray(sig)
            sig[flip] ^= 0x40
        return dict(what=what, want=want, manifest=m, sig=bytes(sig).hex(), **kw)

    manifests = [
        case("a newer version", "ok:1.1.0", man()),
        case("unsigned", "unsigned", man(), key=None),
        case("signed by someone else", "signature", man(), key=other),
        case("manifest changed after signing", "signature", man(min_soc=5), signed=man()),
        case("signature tampered (R)", "signature", man(), flip=3),
        case("signature tampered (S)", "signature", man(), flip=40),
        case("older", "downgrade", man("0.9.9")),
        case("older, allowed", "ok:0.9.9", man("0.9.9", allow_downgrade=True)),
        case("same version", "same_version", man("1.0.0")),
        case("10 > 9 numerically", "ok:1.0.10", man("1.0.10"), running="1.0.9"),
        case("battery under the minimum", "battery", man(min_soc=95)),
        case("battery unknown", "battery", man(), soc=None),
        case("other platform", "platform", man(platform="esp32")),
        case("rolled back before", "rolled_back", man(), bad="1.1.0"),
        case("path climbs out", "manifest", man(files=[["../boot.py", 1, "c" * 64]])),
        case("absolute path", "manifest", man(files=[["/main.py", 1, "c" * 64]])),
        case("short hash", "manifest", man(files=[["app.mpy", 1, "c" * 10]])),
        case("no files", "manifest", man(files=[])),
        case("bad version", "manifest", man("1.1")),
        case("not JSON", "manifest", "{not json"),
    ]
    pub = signing.public_raw(_key(seed)).hex()
    return {"vectors": vectors, "sha512": sha, "manifests": manifests, "pub": pub}


@pytest.fixture
def cases_file(tmp_path):
    p = tmp_path / "ota_vectors.json"
    data = _cases()
    p.write_text(json.dumps(data))
    return p, data


def test_verifier_on_unix_port(device, cases_file):
    path, data = cases_file
    n = len(data["vectors"]) + len(data["sha512"]) + 4 + len(data["manifests"]) + 6
    device("ota_cases.py", str(path), expect_cases=n)
