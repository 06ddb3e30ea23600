# Downlink: the retained config topic (bins/<id>/config) and the command topic
# (bins/<id>/cmd). Messages are collected while the session runs and handled after the
# reports went out; every one gets an ack on bins/<id>/cmd/ack: {"id", "ok", "res"}.
# Bad input (invalid JSON, unknown fields, out-of-range values, oversize) is rejected with an
# error ack and changes nothing. A config (the fields it names, over the stored config) is
# validated as a whole and saved atomically; one that moves the broker is on trial until the
# next session connects, and is rolled back if that session cannot connect (see uplink.py).
import json
from binascii import crc32

from micropython import const

import compaction
import config
import fsutil
import state

BACKUP = "config.bak"
_MAX_PENDING = const(8)
_MAX_REFUSED = const(24)   # messages past _MAX_PENDING acked one by one; beyond, one ack
_HEAD = const(64)          # an id is read from a message's first bytes when all else fails
_ID_MAX = const(32)
_CMDS = ("compact", "reset_fault", "lockout", "unlock", "report_now", "reboot", "calibrate",
         "ota")
_CMD_FIELDS = ("id", "cmd", "empty_mm", "depth_mm", "bundle")
_NET_KEYS = ("broker_host", "broker_port")


class BadMessage(ValueError):
    pass


def mq(st):
    """Session memory across wakes: failures, next attempt, config on trial."""
    m = st.get("mq")
    if not isinstance(m, dict):
        m = st["mq"] = {"fail": 0, "next": 0, "trial": 0, "bad": 0}
    return m


def _scan(raw):
    """One pass over a JSON text: the number of members of the outer object (its ':' at
    depth 1, outside strings), and whether it holds a UTF-16 surrogate (a \\uD800-\\uDFFF
    escape, or one written out in bytes): a lone one has no UTF-8 form, so no ack could
    carry it back, and MicroPython's json does not pair them."""
    depth = members = 0
    in_str = esc = False
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0xED and i + 1 < n and 0xA0 <= raw[i + 1] <= 0xBF:
            return members, True    # a surrogate written out in (invalid) UTF-8
        if in_str:
            if esc:
                esc = False
                if c == 117 and i + 2 < n and raw[i + 1] in b"dD" \
                        and raw[i + 2] in b"89abcdefABCDEF":
                    return members, True
            elif c == 92:      # backslash
                esc = True
            elif c == 34:
                in_str = False
        elif c == 34:
            in_str = True
        elif c == 123 or c == 91:
            depth += 1
        elif c == 125 or c == 93:
            depth -= 1
        elif c == 58 and depth == 1:
            members += 1
        i += 1
    return members, False


def _parse(msg):
    if msg is None:
        raise BadMessage("oversize message rejected")
    members, surrogate = _scan(msg)
    if surrogate:
        raise BadMessage("text with a UTF-16 surrogate escape refused: send UTF-8")
    try:
        d = json.loads(msg)
    except (ValueError, UnicodeError):
        raise BadMessage("invalid JSON")
    if not isinstance(d, dict):
        raise BadMessage("expected a JSON object")
    if members != len(d):
        raise BadMessage("duplicate keys refused")
    return d


def _msg_id(d):
    i = d.get("id") if isinstance(d, dict) else None
    if isinstance(i, bool) or not (isinstance(i, int) or
                                   (isinstance(i, str) and 0 < len(i) <= _ID_MAX)):
        return None
    return i


def head_id(head):
    """The "id" of a message from its first bytes (an oversize one, one that does not parse,
    one over the session's limit), when they hold it whole as a member of the outer
    object: an integer or a plain string (no escapes) of 1.._ID_MAX characters; else None."""
    if not head:
        return None
    head = bytes(head[:_HEAD])
    depth = 0
    i, n = 0, len(head)
    key = None      # the last string read at depth 1
    while i < n:
        c = head[i]
        if c == 34:    # a string: find its end
            j = i + 1
            while j < n and head[j] != 34:
                if head[j] == 92:
                    j += 1
                j += 1
            if j >= n:
                return None
            key = head[i + 1:j] if depth == 1 else None
            i = j + 1
            continue
        if c == 123 or c == 91:
            depth += 1
        elif c == 125 or c == 93:
            depth -= 1
        elif c == 58 and depth == 1 and key == b"id":
            j = i + 1
            while j < n and head[j] in b" \t\r\n":
                j += 1
            k = j
            if k < n and head[k] == 34:
                k += 1
                while k < n and head[k] != 34 and head[k] != 92:
                    k += 1
                if k >= n or head[k] != 34:
                    return None
                try:
                    v = head[j + 1:k].decode()
                except UnicodeError:
                    return None
                return v if 0 < len(v) <= _ID_MAX else None
            while k < n and (48 <= head[k] <= 57 or (k == j and head[k] == 45)):
                k += 1
            if k == j or k >= n or head[k] not in b" \t\r\n,}":
                return None
            try:
                return int(head[j:k])
            except ValueError:
                return None
        i += 1
    return None


class Downlink:
    def __init__(self, st, log):
        self._st, self._log = st, log
        self.pending = []
        self.refused = []      # (suffix, id) of messages past the session's limit
        self.overflow = 0      # ...and those past _MAX_REFUSED as well (one ack for all)
        self.reboot = False

    def on_message(self, suffix, msg, head=None):
        """A message for the downlink; msg None: oversize, only its first bytes (head) kept
        by the session."""
        if suffix not in ("cmd", "config"):
            return
        if len(self.pending) >= _MAX_PENDING:
            if len(self.refused) < _MAX_REFUSED:
                self.refused.append((suffix, head_id(msg if msg is not None else head)))
            else:
                self.overflow += 1
            return
        self.pending.append((suffix, msg if msg is not None else _Oversize(head)))

    def process(self, publish):
        """Handle what arrived; publish(suffix, payload) sends each ack. Returns the acks.
        The state the commands changed goes to flash before any ack goes out, so that a
        power cut never leaves an acknowledged command undone."""
        acks = []
        for suffix, msg in self.pending:
            head = msg.head if isinstance(msg, _Oversize) else msg
            mid = None
            try:
                d = _parse(None if isinstance(msg, _Oversize) else msg)
                mid = _msg_id(d)
                if suffix == "cmd":
                    ok, res = self.command(d)
                else:
                    ok, res = self.configure(d, msg)
                    mid = mid if mid is not None else "config"
            except BadMessage as e:
                ok, res = False, str(e)
                mid = mid if mid is not None else head_id(head)
            except Exception as e:   # never let a message end the wake
                ok, res = False, "error: %s" % type(e).__name__
                mid = mid if mid is not None else head_id(head)
            if not ok:
                self._log("downlink %s rejected: %s" % (suffix, res))
            acks.append({"id": mid, "ok": ok, "res": res})
        for _suffix, mid in self.refused:
            acks.append({"id": mid, "ok": False,
                         "res": "refused: more than %d messages in one session" % _MAX_PENDING})
        if self.overflow:
            acks.append({"id": None, "ok": False,
                         "res": "%d messages refused: too many in one session" % self.overflow})
        self.pending, self.refused, self.overflow = [], [], 0
        if acks and "gen" in self._st:
            state.commit(self._st)
        for a in acks:
            publish("cmd/ack", json.dumps(a))
        return acks

    def command(self, d):
        for k in d:
            if k not in _CMD_FIELDS:
                raise BadMessage("unknown field %r" % k)
        if _msg_id(d) is None:
            raise BadMessage("id must be an integer or a string of 1..%d characters" % _ID_MAX)
        name = d.get("cmd")
        if name not in _CMDS:
            raise BadMessage("unknown command %r" % (name,))
        if name != "calibrate" and ("empty_mm" in d or "depth_mm" in d):
            raise BadMessage("%s takes no arguments" % name)
        if (name == "ota") != ("bundle" in d):
            raise BadMessage("ota needs a bundle; only ota takes one")
        st = self._st
        if name == "ota":    # the bundle's signature is checked when it is fetched (ota.py)
            import ota

            ok, res = ota.start(d["bundle"])
            if not ok:
                raise BadMessage(res)
            return ok, res
        if name == "report_now":
            st["last_report"] = 0          # MaxTime has passed: the next wake reports
            return True, "report at the next wake"
        if name == "reboot":
            self.reboot = True
            return True, "rebooting after this session"
        if name == "calibrate":
            cal = {}
            for k in ("empty_mm", "depth_mm"):
                if k in d:
                    cal[k] = d[k]
            if not cal:
                raise BadMessage("calibrate needs empty_mm and/or depth_mm")
            try:
                new = config.validate(cal, config.load())
            except ValueError as e:
                raise BadMessage(str(e))
            config.save(new)
            return True, "calibration saved"
        return compaction.command(st, name)

    def configure(self, d, raw):
        m = mq(self._st)
        sig = crc32(raw) & 0x3FFFFFFF
        if sig == m["bad"]:
            return False, "rolled back earlier: it broke connectivity"
        changes = {}
        for k in d:
            if k != "id":
                changes[k] = d[k]
        old = config.load()
        try:
            new = config.validate(changes, old)
        except ValueError as e:
            raise BadMessage(str(e))
        if new == old:
            return True, "config unchanged"
        moved = False
        for k in _NET_KEYS:
            if new[k] != old[k]:
                moved = True
        if moved:
            # keep the working config until a session over the new one succeeds
            fsutil.write_json(BACKUP, {k: v for k, v in old.items()
                                       if config.defaults().get(k) != v})
            m["trial"] = sig
        config.save(new)
        return True, "config saved" + (" (on trial: broker moved)" if moved else "")


class _Oversize:
    """A message too large to keep: its first bytes only (for its id)."""

    def __init__(self, head):
        self.head = head


def commit_trial(st):
    """The session over a config on trial connected: it stays."""
    m = mq(st)
    if m["trial"]:
        m["trial"] = 0
        try:
            import os

            os.remove(BACKUP)
        except OSError:
            pass


def rollback_trial(st, log):
    """A session over a config on trial failed to connect: back to the one before."""
    m = mq(st)
    if not m["trial"]:
        return False
    old = fsutil.read_json(BACKUP, 2048, dict)
    try:
        cfg = config.validate(old if isinstance(old, dict) else {}, config.defaults())
    except ValueError:
        cfg = config.defaults()
    config.save(cfg)
    m["bad"], m["trial"] = m["trial"], 0
    log("config rolled back: the new broker settings did not connect")
    return True
