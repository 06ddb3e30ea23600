# Device side of the byte-level MQTT test: the firmware's session (umqtt.simple wrapped) and
# downlink over a plain socket, with non-ASCII text both ways.
# Usage: micropython mqtt_bytes_session.py <port> <device_id> subscribe|serve
import json
import socket
import sys

import config
from downlink import Downlink
from mqttc import Session

NOTE = "\u00e9t\u00e9 \u2713 \u4e2d \U0001f5d1"   # 2-, 3- and 4-byte UTF-8


class PlainLink:
    def open(self, host, port, timeout_ms):
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        return s


port, dev, phase = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cfg = config.validate({"broker_port": port}, config.defaults())
sess = Session(PlainLink(), cfg, {"id": dev}, timeout_s=5)
dl = Downlink({}, print)
sess.on_message = dl.on_message
sess.connect(json.dumps({"st": "offline", "note": NOTE}), clean=False)
if phase == "subscribe":
    sess.subscribe("cmd")
    sess.close()
    print("subscribed")
else:
    sess.publish("telemetry", json.dumps({"v": 1, "seq": 1, "note": NOTE}))
    sess.sync()
    acks = dl.process(sess.publish)
    sess.close()
    print("acked", len(acks))
