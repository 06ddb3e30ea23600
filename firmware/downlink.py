# Downlink: the retained config topic (bins/<id>/config) and the command topic
# (bins/<id>/cmd). Messages are collected while the session runs and handled after the
# reports went out; every one gets an ack on bins/<id>/cmd/ack: {"id", "ok", "res"}.
# Bad input (invalid JSON, unknown fields, out-of-range values, oversize) is rejected with an
# error ack and changes nothing. A config (the fields it names, over the stored config) is
# validated as a whole and saved atomically; one that moves the broker is on trial until the
# next session connects, and is rolled back if that session cannot connect (see uplink.py).
import json
from binascii import crc32

import compaction
import config
import fsutil
import state
from micropython import const

BACKUP = "config.bak"
_MAX_PENDING = const(8)
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


def _parse(msg):
    if msg is None:
        raise BadMessage("oversize message rejected")
    try:
        d = json.loads(msg)
    except (ValueError, UnicodeError):
        raise BadMessage("invalid JSON")
    if not isinstance(d, dict):
        raise BadMessage("expected a JSON object")
    return d


def _msg_id(d):
    i = d.get("id") if isinstance(d, dict) else None
    if isinstance(i, bool) or not (isinstance(i, int) or
                                   (isinstance(i, str) and 0 < len(i) <= _ID_MAX)):
        return None
    return i


class Downlink:
    def __init__(self, st, log):
        self._st, self._log = st, log
        self.pending = []
        self.overflow = 0
        self.reboot = False

    def on_message(self, suffix, msg):
        if suffix not in ("cmd", "config"):
            return
        if len(self.pending) >= _MAX_PENDING:
            self.overflow += 1
            return
        self.pending.append((suffix, msg))

    def process(self, publish):
        """Handle what arrived; publish(suffix, payload) sends each ack. Returns the acks.
        The state the commands changed goes to flash before any ack goes out, so that a
        power cut never leaves an acknowledged command undone."""
        acks = []
        for suffix, msg in self.pending:
            try:
                d = _parse(msg)
                mid = _msg_id(d)
                if suffix == "cmd":
                    ok, res = self.command(d)
                else:
                    ok, res = self.configure(d, msg)
                    mid = mid if mid is not None else "config"
            except BadMessage as e:
                ok, res = False, str(e)
                mid = None if msg is None else _msg_id(_safe(msg))
            except Exception as e:   # never let a message end the wake
                ok, res = False, "error: %s" % type(e).__name__
                mid = None
            if not ok:
                self._log("downlink %s rejected: %s" % (suffix, res))
            acks.append({"id": mid, "ok": ok, "res": res})
        if self.overflow:
            acks.append({"id": None, "ok": False,
                         "res": "%d messages refused: too many in one session" % self.overflow})
        self.pending, self.overflow = [], 0
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


def _safe(msg):
    try:
        return json.loads(msg)
    except Exception:
        return None


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
