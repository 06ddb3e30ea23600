# Report step: payloads (versioned, compact; see docs/payloads.md) and delivery of the
# outbox over the data link, oldest first, each report removed only after its PUBACK.
import json

import power_policy
from mqttc import Session

PAYLOAD_VERSION = 1
_BATCH = 20  # reports per session; the rest wait for the next wake


def telemetry(r, st, fw, forecast_ts):
    return json.dumps({
        "v": PAYLOAD_VERSION,
        "seq": st["seq"],
        "ts": r.ts,
        "fill": None if r.fill is None else round(r.fill, 1),
        "est": None if r.fill_est is None else round(r.fill_est, 1),
        "dist": None if r.distance_mm is None else int(r.distance_mm),
        "q": r.quality(),
        "temp": None if r.temp_c is None else round(r.temp_c, 1),
        "vbat": r.vbat_mv,
        "vsol": r.vsolar_mv,
        "cmp": st["compactions"],
        "fcst": forecast_ts,
        "flags": st["faults"],
        "drop": st["dropped"],
        "soc": power_policy.soc_pct(st),
        "elvl": power_policy.level_name(st),
        "fw": fw,
    })


def event(ts, code, detail):
    d = {"v": PAYLOAD_VERSION, "ts": ts, "ev": code}
    d.update(detail)
    return json.dumps(d)


def deliver(board, cfg, ident, outbox, status, log):
    """Send what the outbox holds. Returns the number of reports acknowledged."""
    link = board.link
    if not link.up(60000):
        log("report: data link did not come up; %d reports stay queued" % len(outbox))
        return 0
    sent = 0
    sess = Session(link, cfg, ident)
    try:
        sess.connect(json.dumps({"st": "offline"}))
        status["st"] = "online"
        sess.publish("state", json.dumps(status), retain=True)
        for kind, payload in outbox.peek(_BATCH):
            sess.publish(kind, payload)
            sent += 1
        status["st"] = "asleep"
        sess.publish("state", json.dumps(status), retain=True)
    except Exception as e:  # link loss, broker refusal, timeout: keep the rest queued
        log("report: %d sent, then %s: %r" % (sent, type(e).__name__, e))
    finally:
        outbox.ack(sent)
        sess.close()
        link.down()
    return sent
