"""Network model between the bins' sockets and the broker: a TCP relay on 127.0.0.1 that
counts bytes each way and reads the MQTT packets the bins send, so "published" is measured
on the wire, not taken from the firmware."""

from __future__ import annotations

import selectors
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Published:
    topic: str
    qos: int
    dup: bool
    retain: bool
    payload: bytes


@dataclass
class WireStats:
    bytes_up: int = 0
    bytes_down: int = 0
    connections: int = 0
    publishes: list[Published] = field(default_factory=list)
    by_kind: Counter = field(default_factory=Counter)


class MqttStreamParser:
    """Splits a client-to-broker byte stream into MQTT packets and records PUBLISHes."""

    def __init__(self, on_publish):
        self.buf = bytearray()
        self.on_publish = on_publish

    def feed(self, data: bytes) -> None:
        self.buf += data
        while True:
            if len(self.buf) < 2:
                return
            n, mul, i = 0, 1, 1
            while True:
                if i >= len(self.buf):
                    return
                b = self.buf[i]
                n += (b & 0x7F) * mul
                mul *= 128
                i += 1
                if not b & 0x80:
                    break
                if i > 4:
                    self.buf.clear()  # not MQTT; stop parsing this stream
                    return
            if len(self.buf) < i + n:
                return
            hdr, body = self.buf[0], bytes(self.buf[i:i + n])
            del self.buf[:i + n]
            if hdr >> 4 == 3:
                qos = (hdr >> 1) & 3
                tl = body[0] << 8 | body[1]
                topic = body[2:2 + tl].decode("utf-8", "replace")
                start = 2 + tl + (2 if qos else 0)
                self.on_publish(Published(topic, qos, bool(hdr & 8), bool(hdr & 1),
                                          body[start:]))


class Proxy:
    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.stats = WireStats()
        self.lock = threading.Lock()
        self._sel = selectors.DefaultSelector()
        self._lsock = socket.socket()
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(64)
        self._lsock.setblocking(False)
        self.address = self._lsock.getsockname()
        self._sel.register(self._lsock, selectors.EVENT_READ, None)
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="net-proxy", daemon=True)

    def start(self) -> Proxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        for key in list(self._sel.get_map().values()):
            key.fileobj.close()
        self._sel.close()

    def _record(self, p: Published) -> None:
        with self.lock:
            self.stats.publishes.append(p)
            self.stats.by_kind[p.topic.rsplit("/", 1)[-1]] += 0 if p.dup else 1

    def _accept(self) -> None:
        client, _ = self._lsock.accept()
        up = socket.socket()
        try:
            up.settimeout(5)
            up.connect(self.upstream)
        except OSError:
            client.close()
            up.close()
            return
        for s in (client, up):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        parser = MqttStreamParser(self._record)
        self._sel.register(client, selectors.EVENT_READ, (up, True, parser))
        self._sel.register(up, selectors.EVENT_READ, (client, False, None))
        with self.lock:
            self.stats.connections += 1

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        for s in (a, b):
            try:
                self._sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    def _loop(self) -> None:
        while not self._stop:
            for key, _ in self._sel.select(timeout=0.2):
                if key.data is None:
                    self._accept()
                    continue
                src = key.fileobj
                dst, upward, parser = key.data
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._close_pair(src, dst)
                    continue
                with self.lock:
                    if upward:
                        self.stats.bytes_up += len(data)
                    else:
                        self.stats.bytes_down += len(data)
                if parser:
                    parser.feed(data)
                try:
                    dst.sendall(data)
                except OSError:
                    self._close_pair(src, dst)
