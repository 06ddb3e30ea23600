# Ed25519 signature verification (RFC 8032, section 5.1.7) in pure Python for MicroPython:
# big integers, extended twisted-Edwards coordinates, one joint double-and-add for
# [S]B - [k]A. SHA-512 (which Ed25519 needs; MicroPython's hashlib has only sha256) is
# included. Runs once per update bundle, so clarity wins over speed; bench/run.py measures
# its time and heap. Verification only: no secret ever lives on the bin.
_P = (1 << 255) - 19
_L = (1 << 252) + 27742317777372353535851937790883648493
_M64 = (1 << 64) - 1

_K = None   # SHA-512 round constants, built on first use (no work at import)


def _consts():
    global _K
    if _K is None:
        h = ("428a2f98d728ae22 7137449123ef65cd b5c0fbcfec4d3b2f e9b5dba58189dbbc "
             "3956c25bf348b538 59f111f1b605d019 923f82a4af194f9b ab1c5ed5da6d8118 "
             "d807aa98a3030242 12835b0145706fbe 243185be4ee4b28c 550c7dc3d5ffb4e2 "
             "72be5d74f27b896f 80deb1fe3b1696b1 9bdc06a725c71235 c19bf174cf692694 "
             "e49b69c19ef14ad2 efbe4786384f25e3 0fc19dc68b8cd5b5 240ca1cc77ac9c65 "
             "2de92c6f592b0275 4a7484aa6ea6e483 5cb0a9dcbd41fbd4 76f988da831153b5 "
             "983e5152ee66dfab a831c66d2db43210 b00327c898fb213f bf597fc7beef0ee4 "
             "c6e00bf33da88fc2 d5a79147930aa725 06ca6351e003826f 142929670a0e6e70 "
             "27b70a8546d22ffc 2e1b21385c26c926 4d2c6dfc5ac42aed 53380d139d95b3df "
             "650a73548baf63de 766a0abb3c77b2a8 81c2c92e47edaee6 92722c851482353b "
             "a2bfe8a14cf10364 a81a664bbc423001 c24b8b70d0f89791 c76c51a30654be30 "
             "d192e819d6ef5218 d69906245565a910 f40e35855771202a 106aa07032bbd1b8 "
             "19a4c116b8d2d0c8 1e376c085141ab53 2748774cdf8eeb99 34b0bcb5e19b48a8 "
             "391c0cb3c5c95a63 4ed8aa4ae3418acb 5b9cca4f7763e373 682e6ff3d6b2b8a3 "
             "748f82ee5defb2fc 78a5636f43172f60 84c87814a1f0ab72 8cc702081a6439ec "
             "90befffa23631e28 a4506cebde82bde9 bef9a3f7b2c67915 c67178f2e372532b "
             "ca273eceea26619c d186b8c721c0c207 eada7dd6cde0eb1e f57d4f7fee6ed178 "
             "06f067aa72176fba 0a637dc5a2c898a6 113f9804bef90dae 1b710b35131c471b "
             "28db77f523047d84 32caab7b40c72493 3c9ebe0a15c9bebc 431d67c49c100d4c "
             "4cc5d4becb3e42b6 597f299cfc657e2a 5fcb6fab3ad6faec 6c44198c4a475817 "
             "6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1 "
             "510e527fade682d1 9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179")
        _K = [int(x, 16) for x in h.split()]
    return _K


def _rotr(x, n):
    return ((x >> n) | (x << (64 - n))) & _M64


def _block(h, blk, k, w):
    m = _M64
    for i in range(16):
        w[i] = int.from_bytes(blk[i * 8:i * 8 + 8], "big")
    for i in range(16, 80):
        a, b = w[i - 15], w[i - 2]
        s0 = _rotr(a, 1) ^ _rotr(a, 8) ^ (a >> 7)
        s1 = _rotr(b, 19) ^ _rotr(b, 61) ^ (b >> 6)
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & m
    a, b, c, d, e, f, g, hh = h
    for i in range(80):
        t1 = (hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41)) + ((e & f) ^ (~e & g))
              + k[i] + w[i]) & m
        t2 = ((_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))) & m
        hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & m, c, b, a, (t1 + t2) & m
    for i, v in enumerate((a, b, c, d, e, f, g, hh)):
        h[i] = (h[i] + v) & m


def sha512(*parts):
    """SHA-512 of the concatenated parts (bytes-like); returns 64 bytes. Streams through
    one 128-byte block: no allocation grows with the message."""
    k = _consts()
    h = list(k[80:])
    w = [0] * 80
    blk = bytearray(128)
    fill = n = 0
    for part in parts:
        mv = memoryview(part)
        i, size = 0, len(part)
        n += size
        while i < size:
            take = min(128 - fill, size - i)
            blk[fill:fill + take] = mv[i:i + take]
            fill += take
            i += take
            if fill == 128:
                _block(h, blk, k, w)
                fill = 0
    blk[fill] = 0x80
    for j in range(fill + 1, 128):
        blk[j] = 0
    if fill >= 112:
        _block(h, blk, k, w)
        for j in range(128):
            blk[j] = 0
    blk[112:128] = (n * 8).to_bytes(16, "big")
    _block(h, blk, k, w)
    out = bytearray()
    for v in h:
        out.extend(v.to_bytes(8, "big"))
    return bytes(out)


def _inv(x):
    return pow(x, _P - 2, _P)


_D = None
_I = None
_B = None


def _curve():
    global _D, _I, _B
    if _D is None:
        _D = -121665 * _inv(121666) % _P
        _I = pow(2, (_P - 1) // 4, _P)          # sqrt(-1)
        by = 4 * _inv(5) % _P
        bx = _xrecover(by, 0)
        _B = (bx, by, 1, bx * by % _P)


def _xrecover(y, sign):
    if y >= _P:
        return None
    x2 = (y * y - 1) * _inv(_D * y * y + 1) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _I % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


def _add(a, b):
    p = _P
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % p
    bb = (y1 + x1) * (y2 + x2) % p
    cc = 2 * _D * t1 * t2 % p
    dd = 2 * z1 * z2 % p
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _double(a):
    p = _P
    x1, y1, z1, _ = a
    aa = x1 * x1 % p
    bb = y1 * y1 % p
    cc = 2 * z1 * z1 % p
    h = aa + bb
    e = h - (x1 + y1) * (x1 + y1) % p
    g = aa - bb
    f = cc + g
    return (e * f % p, g * h % p, f * g % p, e * h % p)


def _encode(pt):
    x, y, z, _ = pt
    zi = _inv(z)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _xrecover(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def verify(public, msg, sig):
    """True when sig (64 bytes) is a valid Ed25519 signature of msg by public (32 bytes).
    Malformed keys and signatures are simply invalid: never raises for bad input."""
    if not isinstance(public, (bytes, bytearray)) or not isinstance(sig, (bytes, bytearray)) \
            or len(public) != 32 or len(sig) != 64:
        return False
    _curve()
    a = _decode(bytes(public))
    if a is None:
        return False
    r = bytes(sig[:32])
    s = int.from_bytes(sig[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(sha512(r, public, msg), "little") % _L
    neg_a = ((_P - a[0]) % _P, a[1], a[2], (_P - a[3]) % _P)
    both = _add(_B, neg_a)
    acc = (0, 1, 1, 0)
    for i in range(255, -1, -1):
        acc = _double(acc)
        bs, bk = (s >> i) & 1, (k >> i) & 1
        if bs and bk:
            acc = _add(acc, both)
        elif bs:
            acc = _add(acc, _B)
        elif bk:
            acc = _add(acc, neg_a)
    return _encode(acc) == r
