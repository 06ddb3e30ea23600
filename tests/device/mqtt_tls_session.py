# Device side of the TLS broker tests: one reporting session (uplink.deliver) over TLS with
# the CA in ./ca.der, credentials from the arguments.
# Usage: micropython mqtt_tls_session.py <tls_port> <device_id> <password> <mode> [n]
#   mode report: queue n telemetry reports, run a session, print the result
#   mode other:  connect and try another bin's topics (publish, subscribe)
import json
import socket
import sys

import config
import uplink
from mqttc import Session, tls_context
from outbox import Outbox


class PlainLink:
    """The data link as the firmware sees it; every host name leads to 127.0.0.1."""

    def up(self, timeout_ms):
        return True

    def open(self, host, port, timeout_ms):
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        return s

    def down(self):
        pass


class Board:
    link = PlainLink()


port, dev, pw, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cfg = config.validate({"broker_port": port, "broker_host": "localhost"}, config.defaults())
if config.load() == config.defaults():   # first run: provision the broker
    config.save(cfg)
ident = {"id": dev, "user": dev, "password": pw}
logs = []


def log(m):
    logs.append(m)
    print("log:", m)


if mode == "report":
    ob = Outbox()
    st = json.loads(open("st.json").read()) if "st.json" in __import__("os").listdir() else {}
    for _ in range(int(sys.argv[5])):
        st["seq"] = st.get("seq", 0) + 1
        ob.put("telemetry", json.dumps({"v": 1, "seq": st["seq"]}))
    sent = uplink.deliver(Board(), config.load(), ident, ob, {"ts": 1000}, log, st)
    open("st.json", "w").write(json.dumps(st))
    print("sent", sent, "queued", len(ob), "fail", st["mq"]["fail"])
elif mode == "other":
    sess = Session(PlainLink(), cfg, ident, timeout_s=5, ssl_ctx=tls_context())
    sess.connect(json.dumps({"st": "offline"}))
    sess._client.publish(b"bins/bin-b/telemetry", b'{"intruder": 1}', qos=1)
    sess.publish("telemetry", json.dumps({"v": 1, "seq": 99}))
    sess.close()
    print("other done")
