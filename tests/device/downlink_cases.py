# Downlink (firmware/downlink.py): commands and config, then a fuzz of thousands of random
# and garbled payloads. Never raises; every message gets exactly one ack; every bad one an
# error ack; bad input changes nothing on flash.
# Usage: micropython downlink_cases.py [n_fuzz]
import json
import os
import random
import sys

import check
import config
import downlink


def logf(m):
    pass


def run(msgs, st=None):
    st = st if st is not None else {}
    dl = downlink.Downlink(st, logf)
    for suffix, payload in msgs:
        dl.on_message(suffix, payload)
    out = []
    dl.process(lambda suffix, p: out.append((suffix, json.loads(p))))
    return [a for _, a in out], dl, st


def flash():
    try:
        with open(config.PATH) as f:
            return f.read()
    except OSError:
        return None


# commands
acks, dl, st = run([("cmd", b'{"id": 1, "cmd": "compact"}'),
                    ("cmd", b'{"id": "r", "cmd": "report_now"}'),
                    ("cmd", b'{"id": 3, "cmd": "reboot"}'),
                    ("cmd", b'{"id": 4, "cmd": "lockout"}'),
                    ("cmd", b'{"id": 5, "cmd": "compact"}')], {"last_report": 99})
check.eq([a["ok"] for a in acks], [True, True, True, True, False], "command results")
check.eq([a["id"] for a in acks], [1, "r", 3, 4, 5], "acks carry the ids")
check.eq(st["last_report"], 0, "report_now: the next wake reports")
check.true(dl.reboot, "reboot requested")
check.true("locked out" in acks[4]["res"], "compact refused while locked out")
acks, _, _ = run([("cmd", b'{"id": 6, "cmd": "calibrate", "empty_mm": 1200}')])
check.eq(acks[0]["ok"], True, "calibrate ok")
check.eq(config.load()["empty_mm"], 1200, "calibration persisted")

# config: as a whole, atomically, unchanged on error
before = flash()
acks, _, _ = run([("config", b'{"id": "c1", "report_max_s": 10800, "full_pct": 5}')])
check.eq((acks[0]["ok"], acks[0]["id"]), (False, "c1"), "one bad field rejects the lot")
check.eq(flash(), before, "rejected config changed nothing")
acks, _, _ = run([("config", b'{"report_max_s": 10800, "wake_s": 1800}')])
check.eq((acks[0]["ok"], acks[0]["id"]), (True, "config"), "good config accepted")
check.eq(config.load()["report_max_s"], 10800, "config persisted")

# a config that moves the broker is on trial; a failed session rolls it back
st = {}
acks, _, _ = run([("config", b'{"broker_host": "nowhere.example"}')], st)
check.true(acks[0]["ok"] and "trial" in acks[0]["res"], "broker move on trial")
check.eq(config.load()["broker_host"], "nowhere.example", "trial config in use")
check.true(downlink.rollback_trial(st, logf), "rolled back")
check.eq(config.load()["broker_host"], "127.0.0.1", "old broker restored")
check.eq(config.load()["report_max_s"], 10800, "the rest of the config kept")
acks, _, _ = run([("config", b'{"broker_host": "nowhere.example"}')], st)
check.eq(acks[0]["ok"], False, "the same broken config is refused again")
acks, _, _ = run([("cmd", b'{"id": %d, "cmd": "report_now"}' % i) for i in range(12)])
check.eq([a["id"] for a in acks], list(range(12)), "12 commands: 12 acks, each its own id")
check.eq([a["ok"] for a in acks], [True] * 8 + [False] * 4, "past 8 a session: refused")
check.true(all("more than 8" in a["res"] for a in acks[8:]), "refusal says why")
acks, _, _ = run([("cmd", b'{"id": 1, "cmd": "report_now"}')] * 40)
check.eq((len(acks), acks[-1]["id"], acks[-1]["ok"]), (33, None, False),
         "8 handled, 24 refused one by one, one ack for the rest")

# the id of a message that cannot be handled is read from its first bytes
acks, _, _ = run([("cmd", None)])
check.eq((acks[0]["id"], acks[0]["ok"]), (None, False), "oversize, nothing kept: no id")
dl = downlink.Downlink({}, logf)
dl.on_message("cmd", None, b'{"id": "x", "cmd": "lockout", "pad": "' + b"a" * 40)
out = []
dl.process(lambda suffix, p: out.append(json.loads(p)))
check.eq((out[0]["id"], out[0]["ok"]), ("x", False), "a 5 KB command: acked with its id")
check.eq([downlink.head_id(h) for h in (b'{"id": 42, "cmd"', b'{"cmd": "x", "id": "ab"}',
                                         b'{"a": {"id": 1}, "id": -3}', b'{"id": "unterm',
                                         b'{"pad": "\\"id\\": 5", "x": 1}', b'{"id": 7',
                                         b'{"id": "\\u00e9"}', b'not json "id": 5,')],
         [42, "ab", -3, None, None, None, None, None], "head_id: only a whole outer id")
acks, _, _ = run([("cmd", b'{"id": 9, "cmd": "compact", "cmd": "lockout"')])
check.eq((acks[0]["id"], acks[0]["ok"]), (9, False), "invalid JSON: acked with its id")

# duplicate keys are refused, not resolved by the last one
st = {}
acks, _, _ = run([("cmd", b'{"id": 2, "cmd": "nope", "cmd": "lockout"}')], st)
check.eq((acks[0]["id"], acks[0]["ok"], acks[0]["res"]), (2, False, "duplicate keys refused"),
         "duplicate cmd refused")
check.true(not st.get("motor"), "duplicate keys: nothing executed")
acks, _, _ = run([("config", b'{"wake_s": 600, "w\\u0061ke_s": 1200}')])
check.eq(acks[0]["ok"], False, "a duplicate spelt with an escape is a duplicate too")

# text: non-ASCII ids come back whole; a UTF-16 surrogate is refused
acks, _, _ = run([("cmd", '{"id": "\u00e9t\u00e9", "cmd": "report_now"}'.encode())])
check.eq((acks[0]["id"], acks[0]["ok"]), ("\u00e9t\u00e9", True), "non-ASCII id")
for raw in (b'{"id": "\\ud800", "cmd": "lockout"}', b'{"id": "\\uDFFF", "cmd": "lockout"}',
            b'{"id": "\xed\xa0\x80", "cmd": "lockout"}'):
    st = {}
    acks, _, _ = run([("cmd", raw)], st)
    check.true(not acks[0]["ok"] and "surrogate" in acks[0]["res"] and not st.get("motor"),
               "surrogate refused: %r" % raw)

# fuzz
n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
random.seed(42)
GOOD = [b'{"id": 7, "cmd": "report_now"}', b'{"id": "x", "cmd": "reset_fault"}',
        b'{"wake_s": 1200}', b'{"id": 9, "cmd": "calibrate", "depth_mm": 700}']
KEYS = ["id", "cmd", "wake_s", "full_pct", "empty_mm", "depth_mm", "broker_port", "x", "",
        "report_min_s", "report_max_s", "broker_host"]
VALS = [0, -1, 1, 65536, 10 ** 20, 1.5, None, True, "", "a" * 70, [], {}, "compact",
        "report_now", "reboot", "calibrate", 900, 3600, "bogus"]


def rand_payload():
    k = random.getrandbits(3)
    if k == 0:
        return bytes(random.getrandbits(8) for _ in range(random.getrandbits(7)))
    if k == 1:
        g = bytearray(GOOD[random.getrandbits(2)])
        for _ in range(1 + random.getrandbits(2)):
            g[random.getrandbits(16) % len(g)] = random.getrandbits(8)
        return bytes(g)
    if k == 2:
        return None                     # oversize, as the session delivers it
    if k == 3:
        return GOOD[random.getrandbits(2)][:random.getrandbits(5)]
    d = {}
    for _ in range(random.getrandbits(3)):
        d[KEYS[random.getrandbits(8) % len(KEYS)]] = VALS[random.getrandbits(8) % len(VALS)]
    return json.dumps(d).encode()


crashes = missing = bad_ok = 0
for i in range(n):
    msgs = [("cmd" if random.getrandbits(1) else "config", rand_payload())
            for _ in range(1 + random.getrandbits(2))]
    before = flash()
    try:
        acks, _, _ = run(msgs, {})
    except Exception as e:
        crashes += 1
        print("crash:", repr(e), msgs)
        continue
    if len(acks) != len(msgs):
        missing += 1
    for j in range(min(len(msgs), len(acks))):
        p, a = msgs[j][1], acks[j]
        valid = p is not None
        if valid:
            try:
                json.loads(p)
            except Exception:
                valid = False
        if not valid and a["ok"]:
            bad_ok += 1
    if all(not a["ok"] for a in acks) and flash() != before:
        bad_ok += 1
    if i % 50 == 0:   # keep the config sane for the next round
        try:
            os.remove(config.PATH)
        except OSError:
            pass
check.eq(crashes, 0, "fuzz: no exception escaped")
check.eq(missing, 0, "fuzz: one ack per message")
check.eq(bad_ok, 0, "fuzz: garbage never accepted, rejections change nothing")
print("fuzzed %d sessions" % n)
check.done()
