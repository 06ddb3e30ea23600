"""Network model between the bins' sockets and the broker: a TCP relay on 127.0.0.1 that
counts bytes each way and reads the MQTT packets the bins send, so "published" is measured
on the wire, not taken from the firmware."""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Published:
    topic: str
    qos: int
    dup: bool
    retain: bool
    payload: bytes
    wall: float = 0.0      # when the network model saw it (monotonic seconds)


@dataclass
class BinNet:
    """One bin's path through the network model: its own listening port (so faults and
    counts are per bin, at that bin's virtual time) and what happened on it."""
    listener: socket.socket
    refuse: bool = False               # the broker is down: connections are cut at once
    cut_left: int | None = None        # cut the path after this many more bytes upward
    bytes_up: int = 0
    bytes_down: int = 0
    connections: int = 0               # TCP connections accepted (refused ones included)
    refused: int = 0
    cuts: int = 0                      # connections cut in the middle of a session
    sessions: int = 0                  # modem data sessions (PDP activations) routed here
    session_conns: int = 0
    reconnects: int = 0                # connections beyond the first of a session


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
        self.opaque = False      # not MQTT from the first byte (TLS): only bytes are counted
        self._fed = 0

    def feed(self, data: bytes) -> None:
        if self.opaque:
            return
        if not self._fed and data[:1] != b"\x10":   # an MQTT stream opens with CONNECT
            self.opaque = True
            return
        self._fed += len(data)
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
            if hdr >> 4 == 3 and len(body) >= 2:
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
        self.bins: dict[str, BinNet] = {}
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
        p.wall = time.monotonic()
        with self.lock:
            self.stats.publishes.append(p)
            self.stats.by_kind[p.topic.rsplit("/", 1)[-1]] += 0 if p.dup else 1

    def route(self, key: str, plan: dict | None = None) -> tuple[str, int]:
        """The address a bin's modem session connects to; plan (from the modem emulator at
        the bin's virtual time): new_session, refuse (broker down), cut_after_up."""
        with self.lock:
            b = self.bins.get(key)
            if b is None:
                ls = socket.socket()
                ls.bind(("127.0.0.1", 0))
                ls.listen(16)
                ls.setblocking(False)
                b = self.bins[key] = BinNet(ls)
                self._sel.register(ls, selectors.EVENT_READ, key)
            plan = plan or {}
            if plan.get("new_session"):
                b.sessions += 1
                b.session_conns = 0
                b.cut_left = None
            b.refuse = bool(plan.get("refuse"))
            if plan.get("cut_after_up") is not None:
                b.cut_left = int(plan["cut_after_up"])
            return b.listener.getsockname()

    def _accept(self, key: str | None = None) -> None:
        b = None
        if key is None:
            client, _ = self._lsock.accept()
        else:
            b = self.bins[key]
            client, _ = b.listener.accept()
            with self.lock:
                b.connections += 1
                if b.session_conns:
                    b.reconnects += 1
                b.session_conns += 1
                if b.refuse:
                    b.refused += 1
            if b.refuse:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()          # reset: nobody listens behind the network
                return
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
        self._sel.register(client, selectors.EVENT_READ, (up, True, parser, b))
        self._sel.register(up, selectors.EVENT_READ, (client, False, None, b))
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
                if key.data is None or isinstance(key.data, str):
                    self._accept(key.data)
                    continue
                src = key.fileobj
                dst, upward, parser, b = key.data
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._close_pair(src, dst)
                    continue
                cut = False
                with self.lock:
                    if b is not None and upward and b.cut_left is not None:
                        if len(data) >= b.cut_left:     # the coverage goes mid-packet
                            data, cut = data[:b.cut_left], True
                            b.cut_left = None
                            b.cuts += 1
                        else:
                            b.cut_left -= len(data)
                    if upward:
                        self.stats.bytes_up += len(data)
                    else:
                        self.stats.bytes_down += len(data)
                    if b is not None:
                        if upward:
                            b.bytes_up += len(data)
                        else:
                            b.bytes_down += len(data)
                if parser:
                    parser.feed(data)
                try:
                    dst.sendall(data)
                except OSError:
                    cut = True
                if cut:
                    self._close_pair(src, dst)
