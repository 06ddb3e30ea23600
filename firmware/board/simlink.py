# Connection from the sim board to the host simulator, and the machine-like peripherals
# backed by it. Protocol (one JSON array per line, see docs/sim-protocol.md):
#   request  [op, t_ms, arg...]        t_ms = the firmware's virtual Unix time in ms
#   reply    [t_ms, result]            t_ms = virtual time after the operation
#            [t_ms, null, control]     control: "reset:<cause>" or "exit" or "err:<text>"
import hashlib
import io
import json
import os
import socket
import sys
from binascii import hexlify, unhexlify


class SimReset(BaseException):
    """The simulated chip resets (watchdog, power cut, deep sleep in fast mode)."""


# True while a ROM loop runs boot.py and main.py (board/simrom.py, a virtual bin's chip):
# it catches SimReset and boots again. False: main.py was imported by hand at the REPL.
rom = False


class SimError(OSError):
    pass


class Conn:
    def __init__(self, addr, bin_id):
        self._addr, self._bin_id = addr, bin_id
        self.clock = None
        self.irqs = {}          # pin name -> Pin with an armed interrupt handler
        self.isr_ms = None      # while a handler runs: the virtual time of its pin writes
        self._broken = False
        # Input sampling: the inputs read at one virtual instant come back in one request.
        # The first read at a new instant also fetches what was read the last time an
        # instant began with that name (a control loop reads the same set every tick, a
        # wake reads the same set each time); every other request voids the sample, since
        # it may change the world (a pin write, time passing).
        # Off while a technician drives the board by hand: the virtual clock then stands
        # still between commands, so one instant can outlast a change made from outside.
        self.cache = False
        self._snap = {}
        self._snap_ms = -1
        self._reads = []        # names read at the latest instant, in order
        self._sets = {}         # first name read at an instant -> the names read then
        self._out = {}          # output pin -> level written since this boot
        # Look-ahead: once a loop's last two periods were alike (the same first input, the
        # same sleep and ticks_ms() calls, no other request), the sample also asks for the
        # rows of the loop's next instants should it go on alike; a read at the next of them,
        # of the same names, comes from its row. Any other request first tells the
        # simulator how many rows were read ("ahead", posted): it goes back to the last.
        self.ahead = 0          # rows to ask for (the boot reply's "ahead"; 0: off)
        self._rows = None       # the look-ahead's rows, their names and instants
        self._row_names = None
        self._row_t = None
        self._used = 0          # rows read
        self._last = None       # (instant, polls, first name) of the latest new instant
        self._iv = None         # (ms not from polls, polls) between the two latest
        self._other = False     # a request other than a sample since the latest new instant
        # Posted requests: one that answers nothing and cannot fail at its instant (a pin
        # going low, a UART write - an AT command and the read of its reply are then one
        # round trip -, a watchdog feed before its deadline, RTC memory) travels in front of
        # the next request, stamped with its own time; the simulator runs it then. Lines go
        # to a byte buffer (json.dump): a str made of them would be looked up among the
        # interned strings, which costs more than writing it.
        self._posted = io.BytesIO()
        self._wdt_ms = 0        # the watchdog as armed since this boot (0: not running)
        self._wdt_fed = 0
        self.rtc_mem = None     # RTC memory as this board last set it or got it at a boot
        self._open()

    def _open(self):
        # addr: "unix:<path>" (a Unix-domain socket: the cheapest round trip) or "host:port"
        addr = self._addr
        if addr.startswith("unix:"):
            import struct

            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(struct.pack("H", socket.AF_UNIX) + addr[5:].encode() + b"\0")
        else:
            host, port = addr.split(":")
            s = socket.socket()
            s.settimeout(30)
            s.connect(socket.getaddrinfo(host, int(port))[0][-1])
        s.settimeout(None)  # the simulator may hold a deep-sleep reply until this bin's turn
        self._s = s
        self._posted = io.BytesIO()   # what the lost connection had not carried is void
        self._rows = None
        clock, self.clock = self.clock, None
        self.call("hello", self._bin_id, os.getpid() if hasattr(os, "getpid") else 0)
        self.clock = clock

    def call(self, op, *args):
        if self._broken:
            # Ctrl-C interrupted a request: its reply may still be on the way, so start a
            # fresh connection rather than read someone else's answer
            self._broken = False
            self._s.close()
            self._open()
        try:
            return self._call(op, args)
        except KeyboardInterrupt:
            self._broken = True
            raise

    def read(self, name):
        """The value of an input (a pin, or an ADC channel as "@name") at this instant."""
        clock = self.clock
        if clock is None or self.isr_ms is not None or not self.cache:
            return self.call("sample", name)[0]
        now = clock.now_ms
        if now == self._snap_ms:
            if name not in self._reads:
                self._reads.append(name)
            v = self._snap.get(name)
            if v is not None:
                return v
            names = (name,)
        else:
            names = self._sets.get(name) or [name]
            self._reads = [name]
            self._sets[name] = self._reads
            if self.ahead:
                return self._read_ahead(now, name, names)
        vals = self.call("sample", *names)
        self._fill(now, names, vals)
        return vals[0]

    def _fill(self, now, names, vals):
        clock = self.clock
        if now != self._snap_ms or clock.now_ms != now:
            self._snap = {}
        self._snap_ms = clock.now_ms
        snap = self._snap
        for i in range(len(names)):
            snap[names[i]] = vals[i]

    def _read_ahead(self, now, name, names):
        """The first read at a new instant, look-ahead on: from the next row if this is its
        instant and its names, else a sample (that asks for rows if the loop is steady)."""
        plan = self._track(now, name)
        rows = self._rows
        if rows is not None:
            i = self._used
            if i < len(rows) and now == self._row_t[i] and names == self._row_names:
                self._used = i + 1
                vals = rows[i]
                self._fill(now, names, vals)
                return vals[0]
        if plan is None:
            vals = self.call("sample", *names)
        else:
            vals, rows = self.call("sample", plan, *names)
            if rows:
                self._rows, self._row_names, self._used = rows, names, 0
                t, ts = now, []
                for j in range(len(rows)):
                    t += plan[j]
                    ts.append(t)
                self._row_t = ts
        self._fill(now, names, vals)
        return vals[0]

    def _track(self, now, name):
        """At a new instant first read by name: if the two periods before it were alike,
        the steps (ms) to the loop's next self.ahead instants should it go on alike."""
        clock = self.clock
        p = clock.polls()
        last, iv = self._last, None
        self._last = (now, p, name)
        if last is not None and last[2] == name and not self._other:
            iv = (now - last[0] - clock.carries_in(last[1], p), p - last[1])
        self._other = False
        steady = iv is not None and iv == self._iv
        self._iv = iv
        if not steady or iv[0] <= 0:
            return None
        sleep, polls = iv
        plan = []
        for _ in range(self.ahead):
            plan.append(sleep + clock.carries_in(p, p + polls))
            p += polls
        return plan

    def _settle(self):
        """The look-ahead ends: how many rows were read travels in front of the next request."""
        self._put(["~ahead", self.clock.now_ms if self.clock else 0, self._used])
        self._rows = None

    def _put(self, req, raw=None):
        """One request line into the buffer of posted requests, whole or not at all: a
        MemoryError inside json.dump must not leave half a line in front of the next
        request (the buffer's end is its position: _call sends up to there). raw: the
        RTC memory's hex bytes, which are JSON as they are (no json scan of ~2 kB)."""
        p = self._posted
        n = p.tell()
        try:
            if raw is None:
                json.dump(req, p)
            else:
                p.write(b'["~rtc_set", %d, "' % req[1])
                p.write(raw)
                p.write(b'"]')
            p.write(b"\n")
        except BaseException:
            p.seek(n)
            raise

    def post(self, op, *args):
        """Send op with the next request; False when it must go now (by hand at the REPL,
        inside an interrupt handler or with one armed, or past the watchdog's deadline)."""
        clock = self.clock
        if not self.cache or clock is None or self.isr_ms is not None or self.irqs:
            return False
        now = clock.now_ms
        if self._wdt_ms and now - self._wdt_fed >= self._wdt_ms:
            return False
        if self._rows is not None:
            self._settle()
        self._other = True
        if op == "rtc_set":
            self._put((op, now), args[0])
        else:
            req = ["~" + op, now]
            req.extend(args)
            self._put(req)
        self._snap_ms = -1      # it may change the world: the sample is void
        return True

    def write(self, name, v):
        """Set an output pin; a level it already has since this boot is not sent again."""
        if self.isr_ms is not None:
            self.call("pin_set", name, v, self.isr_ms)
            self._out[name] = v
        elif self._out.get(name) != v:
            # a motor start or a modem key release may sag the bus (brown-out): those wait
            if name == "modem_pwrkey" or (v and name[:6] == "motor_") \
                    or not self.post("pin_set", name, v):
                self.call("pin_set", name, v)
            self._out[name] = v

    def wdt(self, timeout=None):
        """Arm (timeout ms) or feed the watchdog."""
        now = self.clock.now_ms if self.clock else 0
        if timeout is None:
            if not self.post("wdt_feed"):
                self.call("wdt_feed")
        else:
            if not self.post("wdt_init", timeout):
                self.call("wdt_init", timeout)
            self._wdt_ms = timeout
        self._wdt_fed = now

    def _call(self, op, args):
        if op != "sample":
            self._snap_ms = -1
            self._other = True
            if op == "boot":
                self._out = {}
                self._posted = io.BytesIO()
                self._wdt_ms = 0
                self._last = None
        if self._rows is not None:
            self._settle()
        now = self.clock.now_ms if self.clock else 0
        if self.isr_ms is not None:
            now = int(self.isr_ms)
        req = [op, now]
        req.extend(args)
        self._put(req)
        p = self._posted
        end = p.tell()
        self._posted = io.BytesIO()
        # one write (no Nagle/delayed-ACK stall), up to the end of the last whole line
        self._s.write(memoryview(p.getvalue())[:end])
        # one reply per request; recv in blocks (a stream readline costs a syscall per byte)
        buf = self._s.recv(512)
        while not buf.endswith(b"\n"):
            more = self._s.recv(4096)
            if not more:
                buf = b""
                break
            buf += more
        if not buf:
            # The simulator went away: the virtual chip loses power.
            sys.exit(3)
        rep = json.loads(buf)
        if self.clock:
            self.clock.advance_to(rep[0])
        if op == "boot" and len(rep) == 2:
            self.ahead = rep[1].get("ahead") or 0
            out = rep[1].get("out")
            if out:     # outputs already at a level (writing it again would change nothing)
                self._out.update(out)
        if len(rep) > 2:
            ctl = rep[2]
            if ctl == "exit":
                sys.exit(0)
            if ctl.startswith("reset:"):
                raise SimReset(ctl[6:])
            if ctl.startswith("irq:"):
                # a pin edge before this request: run its handler at the edge's time, then
                # ask again (the host has not run the request yet)
                self._interrupt(ctl)
                return self._call(op, args)
            raise SimError(ctl[4:] if ctl.startswith("err:") else ctl)
        return rep[1]


    def _interrupt(self, ctl):
        """ctl = "irq:<pin>:<t_ms>": the handler's pin writes are stamped with the edge's
        exact virtual time plus the interrupt latency, so the simulator's monitors see
        when the hardware would have acted, not the next poll."""
        _, name, t = ctl.split(":")
        pin = self.irqs.get(name)
        if pin is None or pin._handler is None:
            return
        self.isr_ms = float(t) + _ISR_LATENCY_MS
        try:
            pin._handler(pin)
        finally:
            self.isr_ms = None


_ISR_LATENCY_MS = 0.02      # GPIO edge to the first pin write of a hard IRQ handler


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, conn, name, mode=IN, value=None):
        self._c, self._name = conn, name
        self._handler = None
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._c.read(self._name)
        self._c.write(self._name, 1 if v else 0)
        return None

    def irq(self, handler=None, trigger=IRQ_RISING | IRQ_FALLING, hard=False):
        """The simulator reports an edge on this input before the next request; the
        handler then runs as if it had interrupted the firmware at that moment."""
        self._handler = handler
        if handler is None:
            self._c.irqs.pop(self._name, None)
            self._c.call("pin_irq", self._name, 0)
        else:
            self._c.irqs[self._name] = self
            self._c.call("pin_irq", self._name, trigger)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def __call__(self, v=None):
        return self.value(v)


class UART:
    """machine.UART over the simulator: bytes come from the device emulator behind it. A
    read waits up to timeout for its first byte, then takes bytes until n are in or none
    comes for timeout_char (0: what arrived with the first)."""

    def __init__(self, conn, name, baudrate=9600, timeout=50, timeout_char=0):
        self._c, self._name, self._timeout = conn, name, timeout
        self._tchar = timeout_char

    def init(self, baudrate=None, timeout=None, timeout_char=None):
        """What machine.UART.init changes here: the timeouts (None: unchanged)."""
        if timeout is not None:
            self._timeout = timeout
        if timeout_char is not None:
            self._tchar = timeout_char

    def any(self):
        return self._c.call("uart_any", self._name)

    def read(self, n=-1):
        if self._tchar:
            data = self._c.call("uart_read", self._name, n, self._timeout, self._tchar)
        else:
            data = self._c.call("uart_read", self._name, n, self._timeout)
        return unhexlify(data) if data else None

    def readinto(self, buf, n=-1):
        if n < 0:
            n = len(buf)
        data = self.read(n)
        if not data:
            return None
        k = len(data)
        buf[:k] = data
        return k

    def readline(self):
        data = self._c.call("uart_readline", self._name, self._timeout)
        return unhexlify(data) if data else None

    def write(self, buf):
        h = hexlify(buf).decode()
        if not self._c.post("uart_write", self._name, h):
            self._c.call("uart_write", self._name, h)
        return len(buf)


def time_pulse_us(conn):
    """machine.time_pulse_us(pin, level, timeout_us) for the sim board's echo pins."""
    def pulse(pin, level, timeout_us):
        return conn.call("pulse_us", pin._name, level, timeout_us)

    return pulse


class ADC:
    def __init__(self, conn, name):
        self._c, self._name = conn, name
        self._key = "@" + name

    def read_uv(self):
        return self._c.read(self._key)

    def read_u16(self):
        # 0..3.3 V full scale, like an attenuated ESP32 ADC channel
        return min(65535, self.read_uv() * 65535 // 3300000)


def rtc_digest(mem):
    """What the boot request says of the RTC memory the board holds (the simulator's
    device.rtc_digest() of the same bytes is the same)."""
    return hexlify(hashlib.sha256(mem).digest()[:8]).decode()


class RTC:
    """RTC slow memory: survives deep sleep and watchdog resets, not a power cut."""

    def __init__(self, conn, initial):
        self._c = conn
        self._mem = initial or b""

    def memory(self, data=None):
        if data is None:
            return self._mem
        self._mem = bytes(data)
        self._c.rtc_mem = self._mem
        h = hexlify(self._mem)
        if not self._c.post("rtc_set", h):
            self._c.call("rtc_set", h.decode())
        return None


class WDT:
    def __init__(self, conn, timeout):
        self._c = conn
        conn.wdt(timeout)

    def feed(self):
        self._c.wdt()


class Platform:
    def __init__(self, conn):
        self._c = conn

    def reset_cause(self):
        return self._c.boot["reset"]

    def wake_reason(self):
        return self._c.boot["wake"]

    def technician(self, wait_ms):
        # inputs sampled ahead ("cache"): no hand at the REPL, nobody will press a key; at a
        # REPL driven by hand the technician is there
        return not self._c.cache

    def deepsleep(self, ms):
        if not rom:
            # `import main` typed at the REPL: no chip here resets and boots again
            print("\nDeep sleep for %d s: on the board the chip now resets and boots the app "
                  "again. Here the app stops instead, as by Ctrl-C." % (ms // 1000))
            raise KeyboardInterrupt
        # Fast mode: the reply comes when this bin's wake time has come; the launcher then
        # runs boot.py and main.py again in this process. Faithful mode: the reply is
        # "exit" and the simulator starts a new process at wake time.
        self._c.call("deepsleep", int(ms))
        raise SimReset("deepsleep")
