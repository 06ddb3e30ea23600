# Store-and-forward log (firmware/outbox.py): bounded, oldest dropped and counted, acked
# reports leave, torn and damaged records skipped, power cut at any byte of an append.
import json
import os

import check
from outbox import PATH, Outbox


def seqs(ob, n=1000):
    return [None if p is None else json.loads(p)["seq"] for _, p in ob.peek(n)]


def fresh():
    try:
        os.remove(PATH)
    except OSError:
        pass


fresh()
ob = Outbox(max_items=5)
for i in range(8):
    ob.put("telemetry", json.dumps({"seq": i}))
check.eq(len(ob), 5, "bounded")
check.eq(ob.dropped, 3, "drops counted")
check.eq(seqs(ob), [3, 4, 5, 6, 7], "oldest dropped first")
check.eq([k for k, _ in ob.peek(2)], ["telemetry", "telemetry"], "kinds kept")
ob.ack(2)
ob2 = Outbox(max_items=5)
check.eq(seqs(ob2), [5, 6, 7], "acks survive a reload")
check.eq(ob2.dropped, 3, "drop total survives a reload")
ob2.put("event", '{"ev": "full"}')
check.eq(list(Outbox(max_items=5).peek(9))[-1], ("event", '{"ev": "full"}'), "event kept")
ob2.ack(100)
check.eq(len(Outbox()), 0, "ack of more than queued empties the queue")
check.eq(Outbox().dropped, 3, "drop total survives compaction of an empty queue")
check.true(os.stat(PATH)[6] < 64, "empty queue compacted to a few bytes")

# power cut at every byte of an append: the earlier reports stay, the torn one is skipped,
# and the next append after the reload is readable
fresh()
ob = Outbox()
ob.put("telemetry", json.dumps({"seq": 1}))
ob.put("telemetry", json.dumps({"seq": 2}))
with open(PATH, "rb") as f:
    good = f.read()
rec_len = len(good) // 2
bad_cut = 0
for cut in range(1, rec_len):
    with open(PATH, "wb") as f:
        f.write(good + good[rec_len:rec_len + cut])  # a third record torn after `cut` bytes
    o = Outbox()
    if o.damaged or not o.skipped:
        bad_cut += 1                                 # a torn end is a cut, not damage
    o.put("telemetry", json.dumps({"seq": 3}))
    if seqs(Outbox()) != [1, 2, 3]:
        bad_cut += 1
check.eq(bad_cut, 0, "a cut at any byte of an append loses only that append")

# a batch (put_batch) torn at any byte: none of it is queued, the tag stays the old one, so
# the caller puts it again exactly once; after its commit record all of it is queued
fresh()
ob = Outbox()
ob.put_batch([("telemetry", json.dumps({"seq": 1}))], 1)
with open(PATH, "rb") as f:
    before = f.read()
ob.put_batch([("telemetry", json.dumps({"seq": 2})), ("event", json.dumps({"seq": 3}))], 2)
with open(PATH, "rb") as f:
    whole = f.read()
bad_cut = 0
for cut in range(len(whole) - len(before) + 1):
    with open(PATH, "wb") as f:
        f.write(whole[:len(before) + cut])
    o = Outbox()
    complete = cut == len(whole) - len(before)
    if o.tag != (2 if complete else 1) or seqs(o) != ([1, 2, 3] if complete else [1]):
        bad_cut += 1
        continue
    if o.tag < 2:
        o.put_batch([("telemetry", json.dumps({"seq": 2})), ("event", json.dumps({"seq": 3}))],
                    2)
    if seqs(Outbox()) != [1, 2, 3] or Outbox().tag != 2:
        bad_cut += 1
check.eq(bad_cut, 0, "a batch cut at any byte: all of it or none, then exactly once")
ob = Outbox()
ob.ack(3)
check.eq(Outbox().tag, 2, "the tag survives the compaction of an empty queue")

# damage in the middle (a flipped byte): that record is skipped, the rest are kept
fresh()
ob = Outbox()
for i in range(4):
    ob.put("telemetry", json.dumps({"seq": i}))
data = bytearray(open(PATH, "rb").read())
data[rec_len + 12] ^= 0xFF
with open(PATH, "wb") as f:
    f.write(data)
o = Outbox()
check.eq(seqs(o), [0, 2, 3], "damaged record skipped, neighbours kept")
check.eq(o.skipped, 1, "damage counted")
check.eq(o.damaged, 1, "damage before good records is damage, not a power cut")

# garbage files never crash the queue
import random  # noqa: E402

random.seed(5)
crashes = 0
for _trial in range(200):
    with open(PATH, "wb") as f:
        f.write(bytes(random.getrandbits(8) for _ in range(random.getrandbits(9))))
    try:
        o = Outbox()
        list(o.peek(50))
        o.put("telemetry", "{}")
        o.ack(1)
    except Exception as e:
        crashes += 1
        print("garbage crash:", repr(e))
check.eq(crashes, 0, "200 garbage files: no exception")

# a long outage: the log does not grow without bound; compaction keeps order
fresh()
ob = Outbox(max_items=50)
for i in range(500):
    ob.put("telemetry", json.dumps({"seq": i, "pad": "x" * 100}))
    if i % 7 == 6:
        ob.ack(3)
check.true(os.stat(PATH)[6] < 50 * 140 + 8192 + 200, "log size bounded")
s = seqs(Outbox(max_items=50))
check.eq(s, sorted(s), "oldest first after compactions")
check.eq(len(s), 50, "queue full at capacity")
check.done()
