# Flash persistence: outbox bounds and acks, state across RTC memory and flash, tolerant
# reads of damaged files. Runs in a fresh folder (the test's flash).
import json
import os

import check
import config
import fsutil
import state
from fakes import FakeRTC
from outbox import Outbox

# outbox: bounded, oldest dropped and counted, acked reports leave, survives a reload
ob = Outbox(max_items=3)
for i in range(5):
    ob.put("telemetry", json.dumps({"seq": i}))
check.eq(len(ob), 3, "bounded")
check.eq(ob.dropped, 2, "drops counted")
check.eq([json.loads(p)["seq"] for _, p in ob.peek(10)], [2, 3, 4], "oldest dropped first")
ob.ack(2)
ob2 = Outbox(max_items=3)
check.eq([json.loads(p)["seq"] for _, p in ob2.peek(10)], [4], "acked gone after reload")
check.eq(ob2.dropped, 2, "drop count persisted")
with open("outbox.q", "wb") as f:
    f.write(b'\xa5R\x40\x00garbage')  # torn
check.eq(len(Outbox()), 0, "torn outbox file: empty queue, no crash")

# state: RTC memory preferred when newer, flash copy after a power cut
rtc = FakeRTC()
st = state.load(rtc)
check.eq(st["seq"], 0, "fresh state")
st["seq"] = 7
state.save(rtc, st)
check.eq(state.load(rtc)["seq"], 7, "from RTC memory")
check.eq(state.load(FakeRTC())["seq"], 7, "RTC lost (power cut): flash copy")
st["seq"] = 8
state.save(rtc, st, to_flash=False)
check.eq(state.load(rtc)["seq"], 8, "newer RTC copy wins over older flash")
rtc.mem = b"\xff\x00garbage"
check.eq(state.load(rtc)["seq"], 7, "garbage RTC memory: flash copy")
with open("state.json", "w") as f:
    f.write("{not json")
check.eq(state.load(FakeRTC())["seq"], 0, "both lost: fresh state")

# config on flash: damaged or invalid files fall back to defaults with a message
msgs = []
with open("config.json", "w") as f:
    f.write('{"wake_s": 5}')
check.eq(config.load(msgs.append)["wake_s"], 900, "invalid config ignored")
check.true(msgs and "wake_s" in msgs[0], "the reason is logged")
with open("config.json", "w") as f:
    f.write("\x00\x01")
check.eq(config.load()["wake_s"], 900, "garbage config ignored")
c = config.validate({"wake_s": 600}, config.defaults())
config.save(c)
check.eq(config.load()["wake_s"], 600, "saved config read back")

# leftovers of an interrupted atomic write are removed
with open("state.json.tmp", "w") as f:
    f.write("half")
check.eq(fsutil.remove_stale_tmp(), 1, "one stale temp file")
check.true("state.json.tmp" not in os.listdir("."), "temp file gone")

check.done()
