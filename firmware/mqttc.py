# MQTT session over the board's data link, wrapping micropython-umqtt.simple.
# umqtt.simple opens its own blocking socket and drops socket timeouts after each read; it is
# handed a stand-in socket module whose sockets come from the data link and keep a timeout
# on every operation, so no broker or link fault can block a wake forever. The stand-in also
# gathers umqtt's small writes into one segment per packet, flushed before any read: fewer
# TCP segments and TLS records on air, and no Nagle/delayed-ACK stall per field.
# TLS: ssl.SSLContext(PROTOCOL_TLS_CLIENT) verifies the broker's certificate against the CA
# provisioned in flash (ca.der) and its host name; mbedTLS keeps its buffers outside the GC
# heap. Incoming PUBLISHes (config, commands) larger than max_in are read and discarded in
# small chunks (the callback gets None), so an oversize downlink cannot exhaust the heap.
import os

from micropython import const
from umqtt import simple

TOPIC = "bins/%s/%s"
CA_PATH = "ca.der"
_PINGRESP = const(0xD0)
_CHUNK = const(64)
_CA_MAX = const(4096)   # a CA certificate (DER) is 0.5-2 KB


_SUITES = ["TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"]


class TlsError(OSError):
    pass


def _bytes(s):
    """UTF-8 bytes of a str (bytes pass through): what umqtt must be given."""
    return s.encode() if isinstance(s, str) else s


def tls_context(ca_path=CA_PATH):
    """A client context that requires the broker's certificate to chain to the provisioned
    CA, or None when no CA is provisioned (plain MQTT, the simulator's default)."""
    import fsutil

    k = fsutil.kind(ca_path)
    if k is None:
        return None
    # a damaged CA is never set aside: without it the bin would fall back to plain MQTT and
    # send its credentials in the clear. The session fails, saying why.
    try:
        if k != "file" or os.stat(ca_path)[6] > _CA_MAX:
            raise OSError("not a file of at most %d bytes" % _CA_MAX)
        with open(ca_path, "rb") as f:
            ca = f.read(_CA_MAX)
    except OSError as e:
        raise TlsError("tls: %s is damaged (%s)" % (ca_path, e))
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=ca)
    try:   # offer two suites, not every one mbedTLS knows: a shorter ClientHello on air
        getattr(ctx, "_context", ctx).set_ciphers(_SUITES)
    except (AttributeError, ValueError, OSError):
        pass
    return ctx


class _Sock:
    def __init__(self, opener, timeout_s):
        self._open, self._t, self._s, self._raw = opener, timeout_s, None, None
        self._out = bytearray()
        self.bytes_out = 0

    def connect(self, addr):
        s = self._open(addr[0], addr[1])
        # a TLS socket comes with the raw socket under it: the timeout lives on the raw one
        self._s, self._raw = s if isinstance(s, tuple) else (s, s)
        self._raw.settimeout(self._t)

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
            if self._raw is not self._s:
                self._s.setblocking(True)
            self._raw.settimeout(self._t)
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


class _Client(simple.MQTTClient):
    """umqtt.simple with a bounded inbound message size and PINGRESP made visible."""

    max_in = 1024

    def wait_msg(self):
        res = self.sock.read(1)
        self.sock.setblocking(True)
        if res is None:
            return None
        if res == b"":
            raise OSError(-1)
        op = res[0]
        if op == _PINGRESP:
            self.sock.read(1)
            return _PINGRESP
        if op & 0xF0 != 0x30:
            return op
        sz = self._recv_len()
        b = self.sock.read(2)
        n = b[0] << 8 | b[1]
        if n > 128:
            raise OSError("mqtt: topic of %d bytes" % n)
        topic = self.sock.read(n)
        sz -= n + 2
        pid = 0
        if op & 6:
            b = self.sock.read(2)
            pid = b[0] << 8 | b[1]
            sz -= 2
        self.head = None
        if sz > self.max_in:
            while sz > 0:   # drain without keeping it, but its first bytes (for its id)
                got = self.sock.read(min(sz, _CHUNK))
                if not got:
                    raise OSError("mqtt: link lost in a message")
                if self.head is None:
                    self.head = got
                sz -= len(got)
            msg = None
        else:
            msg = self.sock.read(sz) if sz > 0 else b""
        if op & 6 == 2:
            pkt = bytearray(b"\x40\x02\0\0")
            pkt[2], pkt[3] = pid >> 8, pid & 0xFF
            self.sock.write(pkt)
        self.cb(topic, msg)
        return None


class Session:
    def __init__(self, link, cfg, ident, timeout_s=10, ssl_ctx=None):
        self.device_id = ident["id"]
        self._link, self._cfg, self._ident, self._t = link, cfg, ident, timeout_s
        self._ctx = ssl_ctx
        self._client = None
        self.session_present = False
        self.on_message = None      # f(topic_suffix, payload or None when oversize)

    def topic(self, suffix):
        return TOPIC % (self.device_id, suffix)

    def connect(self, will, clean=True):
        ctx, host = self._ctx, self._cfg["broker_host"]

        def opener(h, port):
            s = self._link.open(h, port, int(self._t * 1000))
            if ctx is None:
                return s
            s.settimeout(self._t)   # the handshake reads through this timeout
            try:
                return ctx.wrap_socket(s, server_hostname=host), s
            except Exception as e:
                s.close()
                raise TlsError("tls: %s" % e)

        simple.socket = _Net(opener, self._t)
        cfg, ident = self._cfg, self._ident
        user, pswd = ident.get("user"), ident.get("password")
        c = _Client(_bytes(self.device_id), host, cfg["broker_port"],
                    user=_bytes(user) if user else None,
                    password=_bytes(pswd) if pswd is not None else None,
                    keepalive=cfg["keepalive_s"])
        c.set_callback(self._incoming)
        c.set_last_will(_bytes(self.topic("state")), _bytes(will), retain=True, qos=1)
        try:
            self.session_present = bool(c.connect(clean_session=clean))
        except Exception:
            if c.sock:
                c.sock.close()
            raise
        self._client = c

    def _incoming(self, topic, msg):
        if self.on_message is None:
            return
        try:
            t = topic.decode() if isinstance(topic, bytes) else topic
        except UnicodeError:
            return   # not a topic of this bin's (those are ASCII)
        pre = TOPIC % (self.device_id, "")
        suffix = t[len(pre):] if t.startswith(pre) else t
        if msg is None:   # oversize: its first bytes go along for the ack's id
            self.on_message(suffix, None, getattr(self._client, "head", None))
        else:
            self.on_message(suffix, msg)

    def subscribe(self, suffix, qos=1):
        self._client.subscribe(_bytes(self.topic(suffix)), qos=qos)

    def publish(self, suffix, payload, retain=False, qos=1):
        """QoS 1: returns once the broker's PUBACK arrived (raises on timeout/link loss).
        Topic and payload go to umqtt as bytes: it sizes the packet with len(), which
        counts characters in a str, so a non-ASCII str would be cut short."""
        self._client.publish(_bytes(self.topic(suffix)), _bytes(payload), retain=retain,
                             qos=qos)

    def poll(self, max_in=None):
        """Read one incoming packet, waiting at most the socket timeout (raises OSError
        then); a PUBLISH goes to on_message. max_in raises the size limit for this read
        (update chunks)."""
        c = self._client
        if max_in is not None:
            c.max_in = max_in
        try:
            return c.wait_msg()
        finally:
            c.max_in = _Client.max_in

    def sync(self, rounds=3):
        """Ping and read until the PINGRESP: everything the broker queued for this bin before
        it (retained config, commands sent while it slept) has then been delivered."""
        c = self._client
        c.ping()
        for _ in range(rounds * 8):
            if c.wait_msg() == _PINGRESP:
                return True
        return False

    def close(self):
        c, self._client = self._client, None
        if c is None:
            return
        try:
            c.disconnect()
        except Exception:
            if c.sock:
                c.sock.close()
