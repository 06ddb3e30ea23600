# Store-and-forward queue of reports waiting for their PUBACK: an append-only log in flash.
# Every change is one appended record, so a power cut loses at most the record being written:
#   record = magic 0xA5, type (1 byte), length (u16 LE), crc32 (u32 LE) of type+length+body,
#            then the body
#   type 'R' report: body = kind, a space, the payload (JSON)
#   type 'K' ack:    body = u16 n (reports acknowledged, oldest first)
#   type 'D' drop:   body = u16 n (oldest reports dropped from a full queue), u32 total dropped
#   type 'r' report of a batch: like 'R', but waiting only once the batch's 'C' follows
#   type 'C' commit: body = u32 tag; the 'r' records before it (one append) become waiting
# A batch (put_batch) is one append ended by its commit record: a power cut anywhere in it
# leaves none of its reports, and the tag says which batch the log holds last, so that a
# caller that kept the batch elsewhere (the wake's state) can put it again exactly once.
# A torn or damaged record fails its length or CRC check: it is skipped (the scan resyncs on
# the next good record) and the log is rewritten without it before anything is appended.
# Only the offsets of the live reports are kept in RAM; payloads are read one at a time.
# The log is compacted (copied to a temp file, renamed over) when it is mostly dead records.
import os
import struct
from binascii import crc32

from micropython import const

import fsutil

PATH = "outbox.q"
_MAGIC = const(0xA5)
_HDR = const(8)
_MAX_BODY = const(4096)        # a larger length field is damage, not a report
_MAX_FILE = const(163840)      # 200 reports and the dead records before a compaction fit
                               # in half of this; a larger log is damage and is set aside
_COMPACT_DEAD = const(8192)    # rewrite the log when this many bytes are dead
_WRITE_CHUNK = const(2048)     # compaction writes about this much at a time
_T_REPORT = const(82)          # 'R'
_T_ACK = const(75)             # 'K'
_T_DROP = const(68)            # 'D'
_T_BATCH = const(114)          # 'r'
_T_COMMIT = const(67)          # 'C'


class Outbox:
    def __init__(self, max_items=200, path=PATH):
        self._path, self._max = path, max_items
        self._hdr = bytearray(_HDR)
        self._live = []        # file offsets of the reports still waiting, oldest first
        self.dropped = 0
        self.tag = 0           # tag of the last batch committed (put_batch)
        self.skipped = 0       # damaged records found by the last scan...
        self.damaged = 0       # ...of which before the last good record (not a power cut)
        self._size = 0
        if fsutil.check(path, _MAX_FILE) >= 0:   # not a file, too large: set aside
            try:
                self._scan()
            except OSError as e:   # a file that cannot be read is damage, not a crash
                self._live, self.skipped, self.damaged = [], 1, 1
                fsutil.set_aside(path, "unreadable (%s)" % e)
                return
        if self.skipped:
            self._compact()

    def __len__(self):
        return len(self._live)

    # --- reading the log -------------------------------------------------------------

    def _read_rec(self, f, off):
        """(type, body) of the record at off, or None when it is torn or damaged."""
        f.seek(off)
        h = self._hdr
        if f.readinto(h) != _HDR or h[0] != _MAGIC:
            return None
        n = h[2] | h[3] << 8
        if n > _MAX_BODY:
            return None
        body = f.read(n) if n else b""
        if len(body) != n:
            return None
        crc = crc32(body, crc32(memoryview(h)[1:4])) & 0xFFFFFFFF
        if crc != struct.unpack_from("<I", h, 4)[0]:
            return None
        return h[1], body

    def _scan(self):
        try:
            f = open(self._path, "rb")
        except OSError:
            return
        try:
            f.seek(0, 2)
            size = f.tell()
            off = 0
            bad = False
            batch = []             # 'r' records waiting for their commit
            torn = True            # the bad bytes at the end look like a cut append
            buf = bytearray(64)
            while off + _HDR <= size:
                rec = self._read_rec(f, off)
                if rec is None:
                    if not bad:
                        self.skipped += 1
                        torn = self._torn(f, off, size)
                    bad = True
                    batch = []     # a batch torn or damaged: none of it
                    off = self._next_magic(f, off + 1, size, buf)   # resync
                    continue
                if self.skipped:
                    self.damaged = self.skipped   # damage before a good record: not a cut
                bad = False
                t, body = rec
                if t != _T_BATCH and batch and t != _T_COMMIT:
                    batch = []     # a batch without its commit (cut short): none of it
                    self.skipped += 1
                if t == _T_REPORT:
                    self._live.append(off)
                elif t == _T_BATCH:
                    batch.append(off)
                elif t == _T_COMMIT:
                    if len(body) >= 4:
                        self.tag = struct.unpack_from("<I", body)[0]
                    self._live.extend(batch)
                    batch = []
                elif t == _T_ACK or t == _T_DROP:
                    n = body[0] | body[1] << 8 if len(body) >= 2 else 0
                    del self._live[:n]
                    if t == _T_DROP and len(body) >= 6:
                        self.dropped = struct.unpack_from("<I", body, 2)[0]
                else:
                    self.skipped += 1
                off += _HDR + len(body)
            if (off < size and not bad) or batch:
                self.skipped += 1      # a torn header at the end, a batch not committed
                if off < size and not bad:
                    torn = self._torn(f, off, size)
            if bad and not torn or (off < size and not bad and not torn):
                self.damaged = self.skipped   # not what a power cut leaves: damage
            self._size = size
        finally:
            f.close()

    def _torn(self, f, off, size):
        """Do the bytes at off look like an append a power cut ended (a record header, or
        part of one, whose body runs past the end)? Anything else is damage."""
        h = self._hdr
        f.seek(off)
        k = f.readinto(h)
        if not k or h[0] != _MAGIC:
            return False
        if k < _HDR:
            return True
        return off + _HDR + (h[2] | h[3] << 8) > size

    @staticmethod
    def _next_magic(f, off, size, buf):
        """The offset of the next record marker at or after off (size if none)."""
        while off < size:
            f.seek(off)
            n = f.readinto(buf)
            if not n:
                return size
            for i in range(n):
                if buf[i] == _MAGIC:
                    return off + i
            off += n
        return size

    def peek(self, n):
        """The oldest n reports as (kind, payload) pairs, read from flash one at a time."""
        offs = self._live[:n]
        if not offs:
            return
        with open(self._path, "rb") as f:
            for off in offs:
                rec = self._read_rec(f, off)
                if rec is None:        # damaged since the scan: nothing to send for it
                    yield None, None
                    continue
                body = rec[1]
                i = body.find(b" ")
                yield body[:i].decode(), body[i + 1:].decode()

    # --- changing the log --------------------------------------------------------------

    def _record(self, t, body):
        h = self._hdr
        n = len(body)
        h[0], h[1], h[2], h[3] = _MAGIC, t, n & 0xFF, n >> 8
        struct.pack_into("<I", h, 4, crc32(body, crc32(memoryview(h)[1:4])) & 0xFFFFFFFF)
        return h

    def _append(self, t, body):
        off = self._size
        fsutil.append(self._path, bytes(self._record(t, body)) + body)
        self._size = off + _HDR + len(body)
        return off

    def _make_room(self, n):
        over = len(self._live) + n - self._max
        if over > 0:
            over = min(over, len(self._live))
            self.dropped += over
            self._append(_T_DROP, struct.pack("<HI", over, self.dropped))
            del self._live[:over]

    @staticmethod
    def _body(kind, payload):
        body = kind.encode() + b" " + (payload.encode() if isinstance(payload, str)
                                         else payload)
        if len(body) > _MAX_BODY:
            raise ValueError("report too large for the outbox: %d bytes" % len(body))
        return body

    def put(self, kind, payload):
        """kind: topic suffix ('telemetry', 'event'); payload: str (JSON). Drops the
        oldest reports when the queue is full (counted in .dropped)."""
        body = self._body(kind, payload)
        self._make_room(1)
        self._live.append(self._append(_T_REPORT, body))
        self._maybe_compact()

    def put_batch(self, reports, tag):
        """reports: [(kind, payload), ...], queued all or none in one append, committed with
        tag (an increasing number the caller keeps with its copy of the batch)."""
        bodies = [self._body(k, p) for k, p in reports][-self._max:]
        self._make_room(len(bodies))
        parts = []
        offs = []
        off = self._size
        for body in bodies:
            parts.append(bytes(self._record(_T_BATCH, body)))
            parts.append(body)
            offs.append(off)
            off += _HDR + len(body)
        tb = struct.pack("<I", tag)
        parts.append(bytes(self._record(_T_COMMIT, tb)))
        parts.append(tb)
        fsutil.append(self._path, b"".join(parts))
        self._size = off + _HDR + len(tb)
        self._live.extend(offs)
        self.tag = tag
        self._maybe_compact()

    def ack(self, n):
        """The first n reports were acknowledged by the broker: they leave the queue."""
        n = min(n, len(self._live))
        if n <= 0:
            return
        self._append(_T_ACK, struct.pack("<H", n))
        del self._live[:n]
        self._maybe_compact()

    def _maybe_compact(self):
        dead = self._live[0] if self._live else self._size
        if dead > _COMPACT_DEAD or (not self._live and self._size > 64):
            self._compact()

    def _compact(self):
        """Rewrite the log with only the live reports and the drop total (temp + rename:
        a power cut leaves the old log or the new one)."""
        tmp = self._path + ".tmp"
        live = []
        with open(tmp, "wb") as out:
            body = struct.pack("<HI", 0, self.dropped)
            tb = struct.pack("<I", self.tag)
            parts = [bytes(self._record(_T_DROP, body)), body,
                     bytes(self._record(_T_COMMIT, tb)), tb]
            off = 2 * _HDR + len(body) + len(tb)
            held = off
            if self._live:
                with open(self._path, "rb") as f:
                    for o in self._live:
                        rec = self._read_rec(f, o)
                        if rec is None:
                            continue
                        parts.append(bytes(self._record(_T_REPORT, rec[1])))
                        parts.append(rec[1])
                        live.append(off)
                        off += _HDR + len(rec[1])
                        held += _HDR + len(rec[1])
                        if held >= _WRITE_CHUNK:    # a few large writes, not one per record
                            fsutil.put(out, tmp, b"".join(parts))
                            parts, held = [], 0
            if parts:
                fsutil.put(out, tmp, b"".join(parts))
        os.rename(tmp, self._path)
        self._live, self._size = live, off
