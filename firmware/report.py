# Report step: payloads (versioned, compact; see docs/payloads.md) and delivery of the
# outbox over the data link, oldest first, each report removed only after its PUBACK.
import json

import netwatch
import power_policy

PAYLOAD_VERSION = 1


def telemetry(r, st, fw, forecast_ts, overflow_ts=None):
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
        "ovf": overflow_ts,
        "flags": st["faults"],
        "drop": st["dropped"],
        "soc": power_policy.soc_pct(st),
        "elvl": power_policy.level_name(st),
        "fw": fw,
        "rssi": netwatch.rssi(st),   # dBm at the last registration (AT+CSQ), or null
    })


def event(ts, code, detail):
    d = {"v": PAYLOAD_VERSION, "ts": ts, "ev": code}
    d.update(detail)
    return json.dumps(d)


def deliver(board, cfg, ident, outbox, status, log, st=None, urgent=False):
    """Send what the outbox holds (uplink.py). Returns the number of reports acknowledged."""
    import uplink

    return uplink.deliver(board, cfg, ident, outbox, status, log, st, urgent)
