# Bad input never crashes the firmware: fuzzed files on flash (config.json, state.json and the
# RTC copy, boots.json, identity.json), garbled level-sensor frames (A02YYUW, MaxBotix) and
# garbled bytes from the broker into a whole MQTT reporting session (uplink.deliver). Runs in
# a fresh folder (the test's flash).
# Usage: micropython badinput_cases.py [n]
import json
import os
import random
import sys

import check
import config
import safemode
import state
import uplink
from outbox import Outbox

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
random.seed(8)

WRONG = ("x", "", [], {}, None, 1.5, -1, 0, 10 ** 12, True, False, [[1, "a"]], {"a": [None]},
         "\xe9\u4e2d", 2 ** 40)


def rnd_bytes(n):
    return bytes(random.getrandbits(8) for _ in range(n))


def garble(good):
    """Damage of one kind to good (bytes): truncated, garbage, retyped, not an object..."""
    k = random.getrandbits(3)
    if k == 0:
        return good[:random.getrandbits(10) % (len(good) + 1)]
    if k == 1:
        return rnd_bytes(random.getrandbits(9))
    if k == 2 or k == 3:
        d = json.loads(good)
        for key in list(d):
            if random.getrandbits(2) == 0:
                d[key] = random.choice(WRONG)
        if random.getrandbits(2) == 0:
            d[random.choice(("zz", "", "wake_s"))] = random.choice(WRONG)
        return json.dumps(d).encode()
    if k == 4:
        return random.choice((b"[]", b"42", b'"x"', b"null", b"[1, 2]", b"", b"{"))
    if k == 5:
        b = bytearray(good)
        for _ in range(1 + random.getrandbits(2)):
            if b:
                b[random.getrandbits(16) % len(b)] ^= 1 << random.getrandbits(3)
        return bytes(b)
    if k == 6:
        return good + rnd_bytes(1 + random.getrandbits(5))
    return good


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def rm(path):
    try:
        os.remove(path)
    except OSError:
        pass


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


# --- config.json: never raises; a valid config or the defaults, and a sentence when not ---
good_cfg = json.dumps({"wake_s": 600, "broker_host": "mqtt.example.org", "broker_port": 8883,
                       "full_pct": 90}).encode()
defaults = config.defaults()
raised = silent = bad_result = kept_bad = 0
for _ in range(N):
    data = garble(good_cfg)
    write(config.PATH, data)
    said = []
    try:
        cfg = config.load(said.append)
    except Exception as e:
        raised += 1
        print("config raised:", repr(e), data[:60])
        continue
    if said and exists(config.PATH):
        kept_bad += 1     # rejected, yet left in place to be rejected again next wake
    try:
        config.validate(cfg, defaults)
    except ValueError:
        bad_result += 1
    if cfg == defaults and data != b"{}" and not said:
        try:
            stored = json.loads(data)
            config.validate(stored, defaults)
        except Exception:
            silent += 1        # rejected without a word
check.eq(raised, 0, "damaged config.json: config.load never raises")
check.eq(bad_result, 0, "damaged config.json: the result is always a valid config")
check.eq(silent, 0, "damaged config.json: the rejection is logged with its reason")
check.eq(kept_bad, 0, "damaged config.json: set aside once rejected")
rm(config.PATH)


# --- state.json and RTC memory: never raises, every field of its kind -------------------
class RTC:
    def __init__(self, mem=b""):
        self.mem = mem

    def memory(self, data=None):
        if data is None:
            return self.mem
        self.mem = bytes(data)


good_st = state.fresh()
good_st.update({"gen": 9, "seq": 41, "hist": [[1, 2.0]], "last_fill": 40.5,
                "pwr": {"soc": 80.0}, "fs": {"lv": 3.0}})
good = json.dumps(good_st).encode()
fresh = state.fresh()
raised = wrong_kind = 0
for _ in range(N):
    write(state.PATH, garble(good))
    rtc = RTC(garble(good) if random.getrandbits(1) else rnd_bytes(random.getrandbits(6)))
    try:
        st = state.load(rtc, lambda m: None)
    except Exception as e:
        raised += 1
        print("state raised:", repr(e))
        continue
    for k, v in fresh.items():
        if not state._fits(k, st[k], v):
            wrong_kind += 1
            print("state field of the wrong kind:", k, repr(st[k]))
check.eq(raised, 0, "damaged state.json and RTC memory: state.load never raises")
check.eq(wrong_kind, 0, "damaged state: every field of the kind it holds")
reset = state.reset(dict(good_st, crashes=2, pwr={"soc": "x"}))
check.eq((reset["seq"], reset["pwr"], reset["crashes"]), (41, None, 2),
         "state reset keeps the counters, drops the rest")
rm(state.PATH)

# --- boots.json: never raises; only a true safe flag or the count means safe mode -------
good_b = json.dumps({"n": 1, "safe": False}).encode()
raised = wrong_safe = 0
for _ in range(N):
    data = garble(good_b)
    write(safemode.PATH, data)
    try:
        d = json.loads(data)
    except ValueError:
        d = None
    try:
        safe = safemode.on_boot("deepsleep")
    except Exception as e:
        raised += 1
        print("boots raised:", repr(e))
        continue
    n = d.get("n") if isinstance(d, dict) else None
    # a timer wake from safe mode's own sleep (safe: true) is the app's next try
    retry = isinstance(d, dict) and d.get("safe") is True
    want = not retry and isinstance(n, int) and not isinstance(n, bool) and n + 1 > 3
    if bool(safe) != bool(want):
        wrong_safe += 1
        print("boots.json", data[:60], "gave safe =", safe)
check.eq(raised, 0, "damaged boots.json: on_boot never raises")
check.eq(wrong_safe, 0, "damaged boots.json: safe mode only for a true flag or the count")
check.eq(safemode.on_boot("power_on"), False, "a power-on restarts the count")
# safe mode sleeps, then gives the app one more boot; a crash in it is safe mode again
write(safemode.PATH, json.dumps({"n": 4, "safe": True, "r": 0}).encode())
check.eq(safemode.on_boot("watchdog"), True, "a reset in safe mode: still safe")
check.eq(safemode.retry_ms(), 1800000, "first retry after 30 min")
check.eq(safemode.on_boot("deepsleep"), False, "safe mode's sleep ends in one more try")
check.eq(safemode.on_boot("deepsleep"), True, "that try crashed: safe mode again")
check.eq(safemode.retry_ms(), 3600000, "the next retry waits twice as long")
# an update on trial: a hang and its crashes are the rollback's, not safe mode's
rm(safemode.PATH)
for cause in ("power_on", "watchdog", "watchdog", "watchdog"):
    last = safemode.on_boot(cause, True)
check.eq(last, False, "an update on trial: 4 boots without a finished wake, no safe mode")
check.eq(safemode.on_boot("watchdog"), True, "rolled back (no trial): the count decides")
rm(safemode.PATH)

# --- identity.json: a clear fallback id ----------------------------------------------
import app  # noqa: E402

raised = wrong = 0
for _ in range(N // 5):
    data = garble(b'{"id": "bin-0042", "user": "u", "password": "p"}')
    write("identity.json", data)
    try:
        ident = app.identity()
    except Exception as e:
        raised += 1
        print("identity raised:", repr(e))
        continue
    if not isinstance(ident.get("id"), str):
        wrong += 1
check.eq(raised, 0, "damaged identity.json: never raises")
check.eq(wrong, 0, "damaged identity.json: always a string id")
rm("identity.json")

# reports kept in a damaged state for the queue: refused with a sentence, nothing queued
raised = 0
ob = Outbox()
for _ in range(N // 5):
    st = {"out": [1 + random.getrandbits(8), [[random.choice(WRONG), random.choice(WRONG)]
                                              for _ in range(random.getrandbits(2))]]}
    try:
        app._requeue(st, ob)
    except Exception as e:
        raised += 1
        print("requeue raised:", repr(e))
check.eq(raised, 0, "damaged reports in the state: requeue never raises")


# --- level sensors: garbage, torn and bit-flipped frames ------------------------------
from drivers.a02yyuw import A02YYUW  # noqa: E402
from drivers.maxbotix import MaxBotix  # noqa: E402
from fakes import FakeClock, ScriptUART  # noqa: E402


def a02_frames(data):
    """Distances a valid A02YYUW frame anywhere in data could give."""
    out = set()
    for i in range(len(data) - 3):
        if data[i] == 0xFF and (0xFF + data[i + 1] + data[i + 2]) & 0xFF == data[i + 3]:
            out.add(data[i + 1] << 8 | data[i + 2])
    return out


def mb_frames(data):
    out = set()
    for i in range(len(data) - 5):
        w = data[i:i + 6]
        if w[0] == 0x52 and w[5] == 0x0D and all(0x30 <= c <= 0x39 for c in w[1:5]):
            out.add(int(bytes(w[1:5])))
    return out


def sensor_stream(good_frame):
    parts = []
    for _ in range(random.getrandbits(3)):
        k = random.getrandbits(2)
        f = good_frame(31 + random.getrandbits(12))
        if k == 0:
            parts.append(rnd_bytes(random.getrandbits(4)))
        elif k == 1:
            parts.append(f[:random.getrandbits(2)])
        elif k == 2:
            b = bytearray(f)
            b[random.getrandbits(8) % len(b)] ^= 1 << random.getrandbits(3)
            parts.append(bytes(b))
        else:
            parts.append(f)
    return b"".join(parts)


def a02(mm):
    h, lo = mm >> 8, mm & 0xFF
    return bytes([0xFF, h, lo, (0xFF + h + lo) & 0xFF])


def mb(mm):
    return b"R%04d\r" % mm


raised = invented = 0
for make, frames, cls in ((a02, a02_frames, A02YYUW), (mb, mb_frames, MaxBotix)):
    for _ in range(N):
        data = sensor_stream(make)
        s = cls(ScriptUART(data, 1 + random.getrandbits(3)), FakeClock())
        for _ in range(3):
            try:
                v = s.read_mm(50)
            except Exception as e:
                raised += 1
                print("sensor raised:", repr(e), data)
                break
            if v >= 0 and v not in frames(data):
                invented += 1
                print("sensor read", v, "from", data)
check.eq(raised, 0, "garbled sensor frames: read_mm never raises")
check.eq(invented, 0, "garbled sensor frames: every distance comes from a whole frame")


# --- garbled bytes from the broker into a whole reporting session ------------------------
class Broker:
    """A socket that answers the client's MQTT packets like a broker, with some answers
    garbled (replaced, truncated, bit-flipped, garbage before or after, or a flood), and
    counts the PUBACKs for reports that reached the client intact."""

    def __init__(self, p_garble, stream=False):
        self.p = p_garble
        self.stream = stream          # the whole downstream is garbage from the start
        self.inbuf = bytearray()
        self.out = bytearray()
        self.intact_report_acks = 0
        self.reads = 0
        self.closed = False

    def settimeout(self, t):
        pass

    def setblocking(self, flag):
        pass

    def close(self):
        self.closed = True

    def _answer(self, pkt, report):
        if self.p and random.getrandbits(8) < self.p:
            k = random.getrandbits(3)
            if k == 0:
                pkt = rnd_bytes(len(pkt))
            elif k == 1:
                pkt = pkt[:random.getrandbits(8) % len(pkt)]
            elif k == 2:
                b = bytearray(pkt)
                b[random.getrandbits(8) % len(b)] ^= 1 << random.getrandbits(3)
                pkt = bytes(b)
            elif k == 3:
                self.out.extend(rnd_bytes(1 + random.getrandbits(4)))
            elif k == 4:
                pkt = pkt + rnd_bytes(1 + random.getrandbits(4))
            elif k == 5:
                pkt = rnd_bytes(200 + random.getrandbits(10))
            elif k == 6:   # an unasked PUBLISH with a garbled topic and payload
                body = b"\x00\x05" + rnd_bytes(5) + rnd_bytes(random.getrandbits(6))
                self.out.extend(bytes((0x30, len(body))) + body)
            else:
                pkt = b""
            if k in (3, 4, 6) and report:     # the PUBACK itself went through whole
                self.intact_report_acks += 1
        elif report:
            self.intact_report_acks += 1
        self.out.extend(pkt)

    def write(self, buf):
        self.inbuf.extend(buf)
        while len(self.inbuf) >= 2:
            n, i, mul = 0, 1, 1
            while True:
                if i >= len(self.inbuf):
                    return len(buf)
                b = self.inbuf[i]
                n += (b & 0x7F) * mul
                mul <<= 7
                i += 1
                if not b & 0x80:
                    break
            if len(self.inbuf) < i + n:
                return len(buf)
            op, body = self.inbuf[0], bytes(self.inbuf[i:i + n])
            self.inbuf = self.inbuf[i + n:]
            kind = op >> 4
            if self.stream:
                self.out.extend(rnd_bytes(random.getrandbits(7)))
            elif kind == 1:
                self._answer(b"\x20\x02\x00\x00", False)
            elif kind == 3 and op & 6:
                tl = body[0] << 8 | body[1]
                topic = body[2:2 + tl]
                pid = body[2 + tl:4 + tl]
                report = topic.endswith(b"/telemetry") or topic.endswith(b"/event")
                self._answer(b"\x40\x02" + pid, report)
            elif kind == 8:
                self._answer(b"\x90\x03" + body[:2] + b"\x01", False)
            elif kind == 12:
                self._answer(b"\xd0\x00", False)
        return len(buf)

    def read(self, n):
        self.reads += 1
        if self.reads > 20000:
            raise RuntimeError("the session read without end")
        if not self.out:
            raise OSError(110)   # ETIMEDOUT: the socket's timeout
        d = bytes(self.out[:n])
        self.out = self.out[n:]
        return d


class Link:
    def __init__(self, sock):
        self.sock = sock
        self.downs = 0

    def up(self, timeout_ms):
        return True

    def open(self, host, port, timeout_ms):
        return self.sock

    def down(self):
        self.downs += 1


raised = over_acked = endless = left_open = 0
acked_total = 0
cfg = config.defaults()
for trial in range(N):
    try:
        os.remove("outbox.q")
    except OSError:
        pass
    ob = Outbox()
    for i in range(5):
        ob.put("telemetry", json.dumps({"seq": i}))
    sock = Broker(random.choice((0, 30, 80, 160, 255)), stream=trial % 10 == 9)
    link = Link(sock)
    st = state.fresh()
    try:
        n = uplink.deliver(_board := type("B", (), {"link": link})(), cfg, {"id": "bin-x"}, ob,
                           {"ts": 1000}, lambda m: None, st, True)
    except Exception as e:
        raised += 1
        if isinstance(e, RuntimeError):
            endless += 1
        print("session raised:", repr(e))
        continue
    acked_total += n
    if n > sock.intact_report_acks or len(Outbox()) != 5 - n:
        over_acked += 1
        print("acked", n, "with", sock.intact_report_acks, "intact PUBACKs; left", len(Outbox()))
    if not sock.closed or link.downs != 1:
        left_open += 1
check.eq(raised, 0, "garbled broker bytes: a session never raises")
check.eq(endless, 0, "garbled broker bytes: every session ends")
check.eq(over_acked, 0, "a report leaves the queue only after its own intact PUBACK")
check.eq(left_open, 0, "the socket is closed and the link taken down every time")
check.true(acked_total > N, "clean and lightly garbled sessions still deliver")
check.done()
