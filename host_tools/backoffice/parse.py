"""What a message on bins/# means: a checked record, an ignored topic, or a rejection with
its reason (docs/topics.md is the contract)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field

MAX_PAYLOAD = 16 * 1024
BIN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
STORED = ("telemetry", "event", "state", "cmd/ack")
IGNORED = ("cmd", "config", "ota/get", "ota/data")   # the back office's own downlink, OTA

# telemetry fields: name -> (column, numeric type); every one may be null
TELEMETRY_NUM = {"fill": float, "est": float, "dist": int, "q": int, "temp": float,
                 "vbat": int, "vsol": int, "cmp": int, "fcst": float, "ovf": float,
                 "flags": int, "drop": int, "soc": float, "rssi": int}
TELEMETRY_STR = {"elvl": 16, "fw": 32}


class Rejected(ValueError):
    """The message is stored as rejected with this reason."""


@dataclass
class Record:
    bin_id: str
    kind: str               # telemetry, event, state, cmd/ack
    data: dict
    digest: str
    fields: dict = field(default_factory=dict)


def _num(d: dict, key: str, typ: type, required: bool = False):
    v = d.get(key)
    if v is None:
        if required:
            raise Rejected(f"{key}: missing")
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise Rejected(f"{key}: {v!r} is not a number")
    if typ is int:
        if v != int(v):
            raise Rejected(f"{key}: {v!r} is not an integer")
        v = int(v)
        if abs(v) >= 2 ** 31:
            raise Rejected(f"{key}: {v} out of range")
        return v
    return float(v)


def _text(d: dict, key: str, n: int, required: bool = False) -> str | None:
    v = d.get(key)
    if v is None:
        if required:
            raise Rejected(f"{key}: missing")
        return None
    if not isinstance(v, str) or not 0 < len(v) <= n:
        raise Rejected(f"{key}: {v!r} is not a text of 1..{n}")
    return v


def parse(topic: str, payload: bytes) -> Record | None:
    """A checked record; None for a topic the back office does not store (its own
    downlink); raises Rejected for anything malformed."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "bins":
        raise Rejected("topic: not bins/<id>/<kind>")
    bin_id, kind = parts[1], "/".join(parts[2:])
    if not BIN_ID.match(bin_id):
        raise Rejected("topic: bad device id")
    if kind in IGNORED:
        return None
    if kind not in STORED:
        raise Rejected(f"topic: unknown kind {kind[:40]!r}")
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(f"payload: {len(payload)} bytes, over {MAX_PAYLOAD}")
    try:
        d = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as e:
        raise Rejected(f"payload: not JSON ({str(e)[:80]})") from None
    if not isinstance(d, dict):
        raise Rejected("payload: not a JSON object")
    digest = hashlib.sha1(payload).hexdigest()
    rec = Record(bin_id, kind, d, digest)
    if kind == "telemetry":
        f = {"seq": _num(d, "seq", int, True), "ts": _num(d, "ts", float, True)}
        if f["seq"] < 0:
            raise Rejected("seq: negative")
        for k, typ in TELEMETRY_NUM.items():
            f["dropped" if k == "drop" else k] = _num(d, k, typ)
        for k, n in TELEMETRY_STR.items():
            f[k] = _text(d, k, n)
        rec.fields = f
    elif kind == "event":
        rec.fields = {"ts": _num(d, "ts", float, True), "ev": _text(d, "ev", 32, True)}
    elif kind == "state":
        rec.fields = {"ts": _num(d, "ts", float), "st": _text(d, "st", 16, True)}
    else:   # cmd/ack
        cid = d.get("id")
        if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int | str)):
            raise Rejected(f"id: {cid!r} is not a command id")
        ok = d.get("ok")
        if not isinstance(ok, bool):
            raise Rejected("ok: not true or false")
        res = d.get("res", "")
        if not isinstance(res, str):
            raise Rejected("res: not a text")
        rec.fields = {"cmd_id": None if cid is None else str(cid)[:40], "ok": ok,
                      "res": res[:500]}
    return rec
