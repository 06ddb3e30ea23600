# One reporting session: data link up, MQTT (TLS when a CA is provisioned) with the last
# will, retained "online" state, the outbox drained oldest first in batches (each batch
# leaves the queue only after its PUBACKs), downlink handled and acked, "asleep" state, link
# down. A session that fails backs off exponentially with jitter ACROSS wakes (st["mq"]);
# urgent events (full, fire, ...) try anyway.
import json
import random

from micropython import const

import downlink
import netwatch
from mqttc import Session, tls_context

_BATCH = const(20)          # reports per batch: acked as a batch
_MAX_BATCHES = const(10)    # per session: a long backlog drains over several wakes
_BACKOFF_BASE_S = const(300)
_BACKOFF_CAP_S = const(3600)
_LINK_TIMEOUT_MS = const(60000)


def backoff_s(fails):
    """Delay before the next attempt after `fails` failed sessions: exponential, capped,
    with jitter in [d/2, d] so a fleet does not retry in step."""
    d = min(_BACKOFF_CAP_S, _BACKOFF_BASE_S << min(fails - 1, 8))
    return d // 2 + random.getrandbits(16) % (d // 2 + 1)


def _failed(m, now):
    m["fail"] += 1
    m["next"] = now + backoff_s(m["fail"])


def deliver(board, cfg, ident, outbox, status, log, st=None, urgent=False):
    """Send what the outbox holds. Returns the number of reports acknowledged."""
    st = st if st is not None else {}
    m = downlink.mq(st)
    now = status.get("ts", 0)
    if not urgent and now < m["next"]:
        log("report: backing off until %d; %d reports stay queued" % (m["next"], len(outbox)))
        return 0
    link = board.link
    netwatch.prime(link, st)    # the modem's NVM set-up, known done in an earlier wake
    if not link.up(_LINK_TIMEOUT_MS):
        log("report: data link did not come up; %d reports stay queued" % len(outbox))
        _failed(m, now)
        return 0
    sent = 0
    done = [0]          # PUBACKed but not yet removed from the outbox
    dl = downlink.Downlink(st, log)
    sess = None
    try:
        sess = Session(link, cfg, ident, ssl_ctx=tls_context())
        sess.on_message = dl.on_message
        try:
            sess.connect(json.dumps({"st": "offline"}), clean=False)
        except Exception as e:
            log("report: connect failed: %s: %r" % (type(e).__name__, e))
            _failed(m, now)
            downlink.rollback_trial(st, log)
            return 0
        m["fail"], m["next"] = 0, 0
        downlink.commit_trial(st)
        if not sess.session_present:
            sess.subscribe("config")
            sess.subscribe("cmd")
        # retained "online" (short: the full status follows with "asleep")
        sess.publish("state", '{"st":"online","ts":%d}' % now, retain=True)
        for _ in range(_MAX_BATCHES):
            for kind, payload in outbox.peek(_BATCH):
                if kind is not None:       # a record damaged in flash is dropped
                    sess.publish(kind, payload)
                done[0] += 1
            n, done[0] = done[0], 0
            outbox.ack(n)
            sent += n
            if n < _BATCH:
                break
        sess.sync()
        dl.process(sess.publish)
        if st:    # not from safe mode: updates (firmware/ota.py)
            import ota

            ota.session(sess, st, board, status.get("fw"), log, outbox, sent, now)
            dl.process(sess.publish)    # commands that came in meanwhile
        status["st"] = "asleep"
        sess.publish("state", json.dumps(status), retain=True)
        if dl.pending:    # a command that came while the state went out: acked, not lost
            dl.process(sess.publish)
    except Exception as e:  # link loss, broker refusal, timeout: keep the rest queued
        log("report: %d sent, then %s: %r" % (sent, type(e).__name__, e))
        _failed(m, now)
    finally:
        if done[0]:
            outbox.ack(done[0])
            sent += done[0]
        if sess is not None:
            sess.close()
        link.down()
    if dl.reboot:
        st["reboot"] = 1
    return sent
