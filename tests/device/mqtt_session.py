# Device side of the MQTT session test: our umqtt.simple wrapper over a plain socket link.
# Usage: micropython mqtt_session.py <port> <device_id>
import json
import socket
import sys

import config
from mqttc import Session


class PlainLink:
    def open(self, host, port, timeout_ms):
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        s.connect(socket.getaddrinfo(host, port)[0][-1])
        return s


port, dev = int(sys.argv[1]), sys.argv[2]
cfg = config.validate({"broker_port": port}, config.defaults())
sess = Session(PlainLink(), cfg, {"id": dev}, timeout_s=5)
sess.connect(json.dumps({"st": "offline"}))
sess.publish("state", json.dumps({"st": "online"}), retain=True)
for i in range(3):
    sess.publish("telemetry", json.dumps({"v": 1, "seq": i + 1}))
if len(sys.argv) > 3 and sys.argv[3] == "drop":
    # lose the link without DISCONNECT: the broker must publish the will
    sess._client.sock.close()
    print("dropped")
else:
    sess.close()
    print("closed")
