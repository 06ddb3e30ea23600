# MQTT session over the board's data link, wrapping micropython-umqtt.simple.
# umqtt.simple opens its own blocking socket and drops socket timeouts after each read; it is
# handed a stand-in socket module whose sockets come from the data link and keep a timeout
# on every operation, so no broker or link fault can block a wake forever. The stand-in also
# gathers umqtt's small writes into one segment per packet, flushed before any read: fewer
# TCP segments and TLS records on air, and no Nagle/delayed-ACK stall per field.
from umqtt import simple

TOPIC = "bins/%s/%s"


class _Sock:
    def __init__(self, opener, timeout_s):
        self._open, self._t, self._s = opener, timeout_s, None
        self._out = bytearray()
        self.bytes_out = 0

    def connect(self, addr):
        self._s = self._open(addr[0], addr[1])
        self._s.settimeout(self._t)

    def flush(self):
        if self._out:
            self._s.write(self._out)
            self.bytes_out += len(self._out)
            self._out = bytearray()

    def read(self, n):
        self.flush()
        return self._s.read(n)

    def write(self, buf, n=None):
        if n is None:
            n = len(buf)
        self._out.extend(memoryview(buf)[:n])
        return n

    def setblocking(self, flag):
        # umqtt.simple calls setblocking(True) after every read: keep the timeout instead
        if flag:
            self._s.settimeout(self._t)
        else:
            self._s.setblocking(False)

    def close(self):
        if self._s:
            try:
                self.flush()
            finally:
                self._s.close()
                self._s = None


class _Net:
    """Stands in for the socket module inside umqtt.simple."""

    def __init__(self, opener, timeout_s):
        self._open, self._t = opener, timeout_s

    def getaddrinfo(self, host, port, *args):
        return [(0, 0, 0, "", (host, port))]

    def socket(self, *args):
        return _Sock(self._open, self._t)


class Session:
    def __init__(self, link, cfg, ident, timeout_s=10):
        self.device_id = ident["id"]
        self._link, self._cfg, self._ident, self._t = link, cfg, ident, timeout_s
        self._client = None

    def topic(self, suffix):
        return TOPIC % (self.device_id, suffix)

    def connect(self, will):
        def opener(host, port):
            return self._link.open(host, port, int(self._t * 1000))

        simple.socket = _Net(opener, self._t)
        cfg, ident = self._cfg, self._ident
        c = simple.MQTTClient(self.device_id, cfg["broker_host"], cfg["broker_port"],
                              user=ident.get("user"), password=ident.get("password"),
                              keepalive=cfg["keepalive_s"])
        c.set_last_will(self.topic("state"), will, retain=True, qos=1)
        try:
            c.connect(clean_session=True)
        except Exception:
            if c.sock:
                c.sock.close()
            raise
        self._client = c

    def publish(self, suffix, payload, retain=False):
        """QoS 1: returns once the broker's PUBACK arrived (raises on timeout/link loss)."""
        self._client.publish(self.topic(suffix), payload, retain=retain, qos=1)

    def close(self):
        c, self._client = self._client, None
        if c is None:
            return
        try:
            c.disconnect()
        except Exception:
            if c.sock:
                c.sock.close()
