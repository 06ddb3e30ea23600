# Signed over-the-air updates into A/B slots.
#
# The deployed firmware/ folder is the factory slot; updates go to fw_a/ or fw_b/, whichever
# is not running. An "ota" command names a bundle (host_tools/ota/bundle.py); during the
# bin's reporting sessions its byte ranges are asked for on bins/<id>/ota/get and arrive on
# bins/<id>/ota/data, a bounded amount per session. The job (ota.json) and the files already
# written to the slot survive deep sleep and power cuts: the download resumes where the
# files on flash end. The manifest's Ed25519 signature is checked against the provisioned
# public key (ota_pub.bin) before any file is written, each file's sha256 once all are in,
# the battery before the download and again before the switch. slot.json names the running
# slot; it is replaced atomically, and the new slot boots on trial: boot.py rolls back to the
# previous slot after _TRIAL_BOOTS boots without an acknowledged report (confirm()).
# Every refusal is an event "ota_refused" with "why": unsigned, signature, manifest,
# platform, downgrade, same_version, rolled_back, battery, truncated, hash, not_found,
# unreachable, no_key.
import json
import os
import sys

from micropython import const

import fsutil

JOB = "ota.json"
SLOT = "slot.json"
PUB = "ota_pub.bin"
FACTORY = "firmware"
MANIFEST = "_manifest.json"
_MAGIC = b"BOTA1"
_HEADER = const(8)
_MANIFEST_MAX = const(8192)
_CHUNK = const(4096)            # one flash sector per append
_SESSION_BYTES = const(32768)   # per session: a bundle comes over a few wakes
_IDLE_MAX = const(6)           # sessions in a row without a byte: give up
_FILE_MAX = const(262144)
_TRIAL_BOOTS = const(3)        # boot.py rolls back after this many (power-ons aside)
_NAME_OK = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"


class Refused(Exception):
    def __init__(self, why, detail, v=None):
        super().__init__("%s: %s" % (why, detail))
        self.why, self.detail, self.v = why, detail, v


class _NoReply(OSError):
    pass


def valid_name(name):
    if not isinstance(name, str) or not 0 < len(name) <= 32:
        return False
    for ch in name:
        if ch not in _NAME_OK:
            return False
    return True


def parse_version(v):
    """'1.4.0' -> (1, 4, 0); None when malformed."""
    if not isinstance(v, str):
        return None
    parts = v.split(".")
    if len(parts) != 3:
        return None
    out = []
    for p in parts:
        if not p or len(p) > 4 or not p.isdigit():
            return None
        out.append(int(p))
    return tuple(out)


def slot_info():
    d = fsutil.read_json(SLOT, 512, dict)
    return d if isinstance(d, dict) else {}


def active_slot():
    s = slot_info().get("active")
    return s if s in ("fw_a", "fw_b") else FACTORY


def inactive_slot():
    return "fw_b" if active_slot() == "fw_a" else "fw_a"


def job():
    d = fsutil.read_json(JOB, 1024, dict)
    return d if isinstance(d, dict) and valid_name(d.get("b")) else None


def busy():
    """A download is pending or the running version is on trial: report every wake."""
    return job() is not None or bool(slot_info().get("trial"))


def trial():
    """The running version is on trial: {"v", "boots"} for the ota_trial event, else None."""
    info = slot_info()
    if not info.get("trial"):
        return None
    return {"v": info.get("v"), "boots": info.get("tries", 0), "of": _TRIAL_BOOTS}


def start(name):
    """The "ota" command: queue a download of bundle `name`. Returns (ok, text)."""
    if not valid_name(name):
        return False, "bundle must be 1..32 of A-Z a-z 0-9 . _ -"
    if slot_info().get("trial"):
        return False, "version %s is still on trial" % slot_info().get("v")
    j = job()
    if j is not None and j["b"] == name:    # told again (an ack lost): go on, not over
        return True, "update %s already under way" % name
    fsutil.write_json(JOB, {"b": name, "idle": 0})
    return True, "update %s queued" % name


def _rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            _rmtree(p)
            try:
                os.rmdir(p)
            except OSError:
                pass


def _makedirs(path):
    cur = ""
    for part in path.split("/"):
        cur = part if not cur else cur + "/" + part
        try:
            os.mkdir(cur)
        except OSError:
            pass


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


def _safe_path(p):
    if not isinstance(p, str) or not 0 < len(p) <= 64 or p[0] == "/" or ".." in p:
        return False
    for part in p.split("/"):
        if not valid_name(part):
            return False
    return True


def check_manifest(raw, sig, pub, running, soc, platform, bad=None):
    """The verified manifest (a dict), or Refused saying why. Pure: no I/O."""
    from ed25519 import verify

    if not sig:
        raise Refused("unsigned", "the bundle carries no signature")
    if pub is None:
        raise Refused("no_key", "no public key provisioned (%s)" % PUB)
    if not verify(pub, raw, sig):
        raise Refused("signature", "the manifest's signature does not verify")
    try:
        m = json.loads(raw)
    except ValueError:
        raise Refused("manifest", "signed manifest is not JSON")
    v = m.get("v") if isinstance(m, dict) else None
    files = m.get("files") if isinstance(m, dict) else None
    if parse_version(v) is None or not isinstance(files, list) or not files:
        raise Refused("manifest", "manifest lacks a version or files")
    for f in files:
        if not (isinstance(f, list) and len(f) == 3 and _safe_path(f[0])
                and isinstance(f[1], int) and 0 <= f[1] <= _FILE_MAX
                and isinstance(f[2], str) and len(f[2]) == 64):
            raise Refused("manifest", "bad file entry %r" % (f,))
    if m.get("platform") not in (None, platform):
        raise Refused("platform", "bundle for %s, this is %s" % (m.get("platform"), platform),
                      v)
    new, cur = parse_version(v), parse_version(running) or (0, 0, 0)
    if v == bad:
        raise Refused("rolled_back", "%s was rolled back on this bin" % v, v)
    if new == cur:
        raise Refused("same_version", "%s is already running" % v, v)
    if new < cur and m.get("allow_downgrade") is not True:
        raise Refused("downgrade", "%s is older than %s" % (v, running), v)
    need = m.get("min_soc", 0)
    if not isinstance(need, int) or soc is None or soc < need:
        raise Refused("battery", "battery at %s%%, the update needs %s%%" % (soc, need), v)
    return m


class _Fetch:
    """Range requests over the MQTT session: one request, one answer, a timeout each."""

    def __init__(self, sess, name, feed, other):
        self._sess, self._name, self._feed, self._other = sess, name, feed, other
        self.reply = None
        self.got = 0

    def on_message(self, suffix, msg, head=None):
        if suffix == "ota/data":
            if isinstance(msg, bytes) and len(msg) >= 5:
                self.reply = msg
        elif self._other is not None:     # a command meanwhile: the downlink keeps it
            self._other(suffix, msg, head)

    def get(self, off, n):
        """(kind, data): kind b"D" (data), b"E" (the bundle ends at off), b"N" (unknown)."""
        self._feed()
        self.reply = None
        self._sess.publish("ota/get", json.dumps({"b": self._name, "o": off, "n": n}), qos=0)
        for _ in range(8):   # each poll waits up to the socket timeout
            r = self.reply
            if r is not None and int.from_bytes(r[1:5], "big") == off:
                kind = r[0:1]
                data = r[5:]
                self.got += len(data)
                return kind, data
            self.reply = None
            try:
                self._sess.poll(_CHUNK + 64)
            except OSError:
                raise _NoReply("no answer for offset %d" % off)
        raise _NoReply("no answer for offset %d" % off)


def _header(f, name):
    kind, data = f.get(0, _CHUNK)
    if kind == b"N":
        raise Refused("not_found", "the server has no bundle %s" % name)
    if kind != b"D" or len(data) < _HEADER or data[:5] != _MAGIC:
        raise Refused("manifest", "not an update bundle")
    mlen = int.from_bytes(data[5:7], "big")
    slen = data[7]
    if mlen > _MANIFEST_MAX:
        raise Refused("manifest", "manifest of %d bytes" % mlen)
    need = _HEADER + mlen + slen
    buf = bytearray(data)
    while len(buf) < need:
        kind, more = f.get(len(buf), min(_CHUNK, need - len(buf)))
        if kind != b"D" or not more:
            raise Refused("truncated", "the bundle ends inside its header")
        buf.extend(more)
    return bytes(buf[_HEADER:_HEADER + mlen]), bytes(buf[_HEADER + mlen:need]), need


def _read_pub():
    return fsutil.read_bytes(PUB, 64)   # 32 bytes; anything else is set aside


def _hash_ok(path, size, digest):
    import hashlib
    from binascii import hexlify

    if _size(path) != size:
        return False
    h = hashlib.sha256()
    buf = bytearray(512)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(buf[:n] if n < len(buf) else buf)
    return hexlify(h.digest()).decode() == digest


def _download(f, j, files, slot, log):
    """Fetch what is missing, at most _SESSION_BYTES. True when every byte is in."""
    pos = 0
    budget = _SESSION_BYTES
    for path, size, _ in files:
        full = slot + "/" + path
        have = _size(full)
        if have > size:               # more than the manifest says: start the file over
            os.remove(full)
            have = 0
        while have < size:
            if budget <= 0:
                return False
            n = min(_CHUNK, size - have, budget)
            kind, data = f.get(j["hdr"] + pos + have, n)
            if kind == b"N":
                raise Refused("not_found", "the server no longer has %s" % j["b"])
            if kind != b"D" or not data:
                raise Refused("truncated", "the bundle ends at byte %d of %d"
                              % (j["hdr"] + pos + have, j["hdr"] + j["total"]))
            data = data[:size - have]
            if "/" in path:
                _makedirs(full[:full.rfind("/")])
            _append(full, data)
            have += len(data)
            budget -= len(data)
        pos += size
    return True


def step(sess, st, board, running, log, after=None):
    """One session's share of the pending update. Returns a list of (code, detail) events;
    sets st["reboot"] when the new slot is ready to boot. A refused job is dropped by the
    callables added to `after`, to be run once its event is out (or queued): a power cut in
    between tells the refusal twice rather than never. Never raises."""
    j = job()
    if j is None:
        return []
    if j.get("slot") and j["slot"] == active_slot():   # switched; the cut came before this
        _remove(JOB)
        return []
    events = []
    after = after if after is not None else []
    prev = sess.on_message
    f = _Fetch(sess, j["b"], board.wdt.feed, prev)
    sess.on_message = f.on_message
    try:
        sess.subscribe("ota/data", qos=0)
        slot = inactive_slot()
        if "v" not in j:
            raw, sig, hdr = _header(f, j["b"])
            import power_policy

            m = check_manifest(raw, sig, _read_pub(), running, power_policy.soc_pct(st),
                               sys.platform, slot_info().get("bad"))
            _rmtree(slot)
            _makedirs(slot)
            fsutil.write_atomic(slot + "/" + MANIFEST, raw)
            total = 0
            for e in m["files"]:
                total += e[1]
            j.update({"v": m["v"], "hdr": hdr, "total": total, "slot": slot})
            fsutil.write_json(JOB, j)
            events.append(("ota_started", {"v": m["v"], "bytes": total}))
        m = fsutil.read_json(j["slot"] + "/" + MANIFEST, _MANIFEST_MAX, dict)
        if not isinstance(m, dict) or not isinstance(m.get("files"), list) \
                or j["slot"] != slot:
            raise Refused("manifest", "the slot's manifest is gone")
        if _download(f, j, m["files"], slot, log):
            for path, size, digest in m["files"]:
                if not _hash_ok(slot + "/" + path, size, digest):
                    raise Refused("hash", "%s does not match its sha256" % path)
            import power_policy

            soc, need = power_policy.soc_pct(st), m.get("min_soc", 0)
            if soc is None or soc < need:
                raise Refused("battery", "battery at %s%%, the switch needs %s%%" % (soc, need))
            switch(slot, m["v"], running)
            _remove(JOB)
            st["reboot"] = 1
            events.append(("ota_switch", {"v": m["v"], "from": running, "slot": slot}))
            log("update %s verified: booting it on trial from %s" % (m["v"], slot))
        elif f.got:
            j["idle"] = 0
            fsutil.write_json(JOB, j)
    except Refused as e:
        log("update %s refused: %s" % (j["b"], e))
        events.append(("ota_refused", {"b": j["b"], "v": j.get("v") or e.v, "why": e.why,
                                       "detail": e.detail}))
        after.append(_drop_job)
    except Exception as e:   # no answer, link lost: the job stays, the next session goes on
        if not f.got:
            j["idle"] = j.get("idle", 0) + 1
        else:
            j["idle"] = 0
        log("update %s: %s after %d bytes this session" % (j["b"], e, f.got))
        if j["idle"] >= _IDLE_MAX:
            events.append(("ota_refused", {"b": j["b"], "v": j.get("v"), "why": "unreachable",
                                           "detail": "no answer in %d sessions" % j["idle"]}))
            after.append(_drop_job)
        else:
            fsutil.write_json(JOB, j)
    finally:
        sess.on_message = prev
    return events


def _drop_job():
    _remove(JOB)
    _rmtree(inactive_slot())


def _append(path, data):
    ap = getattr(fsutil, "append", None)    # the sim board may cut the power inside it
    if ap is not None:
        ap(path, data)
        return
    with open(path, "ab") as f:
        f.write(data)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def switch(slot, version, running):
    """Make `slot` the one boot.py runs, on trial (one atomic write)."""
    info = slot_info()
    fsutil.write_json(SLOT, {"active": slot, "prev": active_slot(), "v": version,
                             "pv": running, "trial": 1, "tries": 0, "bad": info.get("bad")})


def confirm(log, running=None):
    """An acknowledged report from a version on trial: it stays. Returns an event or None.
    Only the version on trial itself can confirm it (running: the version of this code)."""
    info = slot_info()
    if not info.get("trial") or (running is not None and running != info.get("v")):
        return None
    info["trial"], info["tries"] = 0, 0
    fsutil.write_json(SLOT, info)
    log("update %s confirmed healthy" % info.get("v"))
    return ("ota_confirmed", {"v": info.get("v"), "slot": info.get("active")})


def rollback_note():
    """boot.py rolled back since the last report: the event (until note_told()), or None."""
    info = slot_info()
    rb = info.get("rolled_back")
    if not rb:
        return None
    return ("ota_rollback", {"v": rb, "to": info.get("v"), "slot": active_slot()})


def note_told():
    info = slot_info()
    if info.pop("rolled_back", None):
        fsutil.write_json(SLOT, info)


def session(sess, st, board, running, log, outbox, acked, now):
    """uplink.deliver's OTA share, after the reports went out (acked of them PUBACKed):
    a rollback since the last session is told, a version on trial is confirmed by the
    acknowledged report, and a pending download goes on. Events are published at once
    (QoS 1); any that do not go out wait in the outbox. Never raises."""
    import report

    events, after = [], []
    try:
        note = rollback_note()
        if note:
            events.append(note)
            after.append(note_told)
        if acked:
            ok = confirm(log, running)
            if ok:
                events.append(ok)
        events.extend(step(sess, st, board, running, log, after))
    except Exception as e:   # noqa: BLE001 - an update must never end a wake
        log("update: %s: %s" % (type(e).__name__, e))
    try:
        for i, (code, detail) in enumerate(events):
            payload = report.event(now, code, detail)
            try:
                sess.publish("event", payload)
            except Exception:   # noqa: BLE001 - the link went: keep the rest for later
                for code2, detail2 in events[i:]:
                    outbox.put("event", report.event(now, code2, detail2))
                break
    finally:
        for f in after:
            f()
    return events
