# SIM7080G driver (firmware/drivers/modem.py) and the modem data link (netlink.py) against a
# scripted modem: final results, URCs between replies, the PWRKEY toggle, bounded power
# cycles, registration, signal, PSM timers; then argv[1] random garbled dialogues (default
# 300): the driver never raises and always ends within its deadline.
import gc
import sys

import check
from drivers import modem as md
from fakes import FakeClock
from netlink import ModemLink

GOOD = {b"AT+CPIN?": b"+CPIN: READY\r\nOK", b"AT+CEREG?": b"+CEREG: 1,5\r\nOK",
        b"AT+CSQ": b"+CSQ: 18,99\r\nOK", b"AT+CNACT=0,1": b"OK\r\n+APP PDP: 0,ACTIVE",
        b"AT+CNACT?": b'+CNACT: 0,1,"10.170.23.5"\r\n+CNACT: 1,0,"0.0.0.0"\r\nOK',
        b"AT+CPOWD=1": b"NORMAL POWER DOWN"}


class FakeModem:
    """UART + PWRKEY of a scripted SIM7080G: the key toggles power (>= 1 s low), it answers
    boot_ms after switching on and then says so (+CFUN: 1, +CPIN: READY) unless quiet (an
    auto-bauding modem); answers[cmd] is bytes or a function of the modem. A read that
    finds nothing waits the UART's timeout (or until the boot URCs)."""

    def __init__(self, clock, answers=None, on=False, hung=False, boot_ms=5000, quiet=False):
        self.clock, self.on, self.hung, self.boot_ms = clock, on, hung, boot_ms
        self.quiet = quiet
        self.announced = on
        self.timed = []                 # (t, bytes): URCs the modem sends at t
        self.timeout = 100
        self.reads = 0
        self.answers = dict(GOOD)
        self.answers.update(answers or {})
        self.rx = bytearray()
        self.pos = 0
        self.sent = []
        self.pulses = 0
        self.ready_at = 0
        self._down = None
        self.echo = True

    def value(self, v=None):        # the PWRKEY pin
        t = self.clock.t
        if v:
            self._down = t
        elif self._down is not None:
            if t - self._down >= 1000:
                self.pulses += 1
                self.on = not self.on
                self.hung = False
                self.rx, self.pos = bytearray(), 0
                if self.on:
                    self.ready_at = t + self.boot_ms
                    self.echo = True
                    self.announced = self.quiet
            self._down = None

    def write(self, buf):
        cmd = bytes(buf).strip()
        self.sent.append(cmd)
        if not self.on or self.hung or self.clock.t < self.ready_at:
            return len(buf)
        if cmd == b"ATE0":
            self.echo = False
        ans = self.answers.get(cmd, b"OK")
        if callable(ans):
            ans = ans(self)
        if self.echo:
            self.rx.extend(cmd + b"\r")
        if cmd == b"AT+CPOWD=1":
            self.on = False
        if ans:
            self.rx.extend(b"\r\n" + ans + b"\r\n")
        if len(self.rx) - self.pos > 2048:   # the UART's receive buffer overflows
            self.rx, self.pos = self.rx[self.pos:self.pos + 2048], 0
        return len(buf)

    def init(self, timeout=None, **kw):
        if timeout is not None:
            self.timeout = timeout

    def _announce(self, t):
        while self.timed and self.timed[0][0] <= t and self.on and not self.hung:
            self.rx.extend(self.timed.pop(0)[1])
        if self.on and not self.hung and not self.announced and t >= self.ready_at:
            self.announced = True
            sim = self.answers.get(b"AT+CPIN?") == GOOD[b"AT+CPIN?"]
            self.rx.extend(b"\r\n+CFUN: 1\r\n\r\n+CPIN: %s\r\n"
                           % (b"READY" if sim else b"NOT READY"))

    def any(self):
        self._announce(self.clock.t)
        return len(self.rx) - self.pos

    def readinto(self, buf, n=-1):
        self.reads += 1
        self._announce(self.clock.t)
        left = len(self.rx) - self.pos
        if left <= 0 and self.on and not self.hung and not self.announced \
                and self.ready_at <= self.clock.t + self.timeout:
            self.clock.t = self.ready_at    # the boot URCs end the wait
            self._announce(self.clock.t)
            left = len(self.rx) - self.pos
        if left <= 0 and self.on and not self.hung and self.timed \
                and self.timed[0][0] <= self.clock.t + self.timeout:
            self.clock.t = max(self.clock.t, self.timed[0][0])    # a URC ends the wait
            self._announce(self.clock.t)
            left = len(self.rx) - self.pos
        if left <= 0:
            self.rx, self.pos = bytearray(), 0
            self.clock.t += self.timeout    # the UART's read timeout
            return None
        n = min(len(buf) if n < 0 else n, left)
        for i in range(n):
            buf[i] = self.rx[self.pos + i]
        self.pos += n
        return n


def make(answers=None, **kw):
    clock = FakeClock()
    fm = FakeModem(clock, answers, **kw)
    return md.Modem(fm, fm, clock), fm, clock


class Link(ModemLink):
    def _data_up(self, t_end):
        self.modem.activate(t_end, "iot")


def link(answers=None, **kw):
    m, fm, clock = make(answers, **kw)
    return Link(m, clock, "iot"), m, fm, clock


# pure helpers -----------------------------------------------------------------------------
check.eq([md.csq_dbm(x) for x in (0, 1, 2, 18, 30, 31)], [-113, -111, -109, -77, -53, -51],
         "CSQ -> dBm")
check.eq([md.csq_dbm(x) for x in (99, -1, 32, None, "5")], [None] * 5, "CSQ unknown/garbage")
check.eq(md.psm_t3412(3600), "00000110", "TAU 1 h = 6 x 10 min (smallest unit)")
check.eq(md.psm_t3412(120), "10000100", "TAU 2 min")
check.eq(md.psm_t3324(10), "00000101", "active 10 s")
check.eq(md.psm_t3324(None), "11100000", "active off")

_U3412 = {0: 600, 1: 3600, 2: 36000, 3: 2, 4: 30, 5: 60, 6: 1152000}
_U3324 = {0: 2, 1: 60, 2: 360}


def decode(bits, units):
    return units[int(bits[:3], 2)] * int(bits[3:], 2)


ok = True
for s in (2, 30, 59, 61, 600, 3599, 3600, 86400, 10 * 86400, 100 * 86400):
    bits = md.psm_t3412(s)
    d = decode(bits, _U3412)
    unit = _U3412[int(bits[:3], 2)]
    ok = ok and len(bits) == 8 and abs(d - s) <= unit // 2 + 1
check.true(ok, "TAU encodes within half a unit")
ok = True
for s in (0, 2, 10, 61, 600, 1800, 11000):
    bits = md.psm_t3324(s)
    ok = ok and len(bits) == 8 and abs(decode(bits, _U3324) - s) <= _U3324[int(bits[:3], 2)]
check.true(ok, "active time encodes within a unit")

# final results and URCs -------------------------------------------------------------------
m, fm, clock = make(on=True)
check.eq(m.cmd("AT")[0], md.OK, "OK (with echo)")
fm.answers[b"AT+CMNB=1"] = b"+CEREG: 5\r\n\r\n+APP PDP: 0,DEACTIVE\r\nOK"
check.eq(m.cmd("AT+CMNB=1"), (md.OK, []), "URCs between a command and its OK")
check.eq((m.stat, m.pdp), (5, False), "...are dispatched")
fm.answers[b"AT+CPIN?"] = b"+CME ERROR: SIM not inserted"
res, lines = m.cmd("AT+CPIN?", 5000, b"+CPIN:")
check.eq((res, lines), (md.ERROR, [b"+CME ERROR: SIM not inserted"]), "+CME ERROR")
fm.answers[b"AT+X"] = b"ERROR"
check.eq(m.cmd("AT+X")[0], md.ERROR, "ERROR")
fm.answers[b"AT+CEREG?"] = b"+CEREG: 2\r\n+CEREG: 1,2\r\nOK"
m.cmd("AT+CEREG?", 1000, b"+CEREG:")
check.eq(m.stat, 2, "CEREG read form n,stat (after a URC)")
for line, want in ((b"+CEREG: 0,5", 5), (b"+CEREG: 3", 3), (b'+CEREG: 1,"2C1F","0132A40B",7', 1),
                   (b'+CEREG: 2,5,"2C1F","0132A40B",7', 5), (b"+CEREG: 0,x", 5),
                   (b"+CEREG:", 5), (b"+CEREG: 9", 5)):
    m._urc(line)
    check.eq(m.stat, want, "CEREG %r" % line)
m.synced = True
m._urc(b"+CFUN: 1")
check.eq(m.reboots, 1, "+CFUN: 1 while in use is an unexpected reboot")
m._urc(b"NORMAL POWER DOWN")
check.eq(m.synced, False, "NORMAL POWER DOWN")
fm.hung = True
t0 = clock.t
check.eq(m.cmd("AT+CSQ", 1000)[0], md.TIMEOUT, "silence is a timeout")
check.true(1000 <= clock.t - t0 <= 1200, "...at its deadline (%d ms)" % (clock.t - t0))
fm.hung = False
fm.rx.extend(b"\r\nOK\r\n")            # the late reply to the timed-out command
fm.answers[b"AT+CSQ"] = b"+CSQ: 31,99\r\nOK"
check.eq(m.signal(), -51, "a late OK is not taken for the next reply")

# power key ------------------------------------------------------------------------------
m, fm, clock = make(on=True)
check.true(m.power_on(), "running modem answers")
check.eq(fm.pulses, 0, "no pulse on a running modem (the key toggles)")
m, fm, clock = make(on=False)
check.true(m.power_on(), "off modem switched on")
check.eq((fm.pulses, m.power_cycles), (1, 0), "one pulse, no power cycle")
m, fm, clock = make(on=True, hung=True)
check.true(m.power_on(), "hung modem: off with the first pulse, on with the second")
check.eq((fm.pulses, m.power_cycles), (2, 1), "one power cycle")
m, fm, clock = make(answers={b"AT": b""}, on=False)
t0 = clock.t
check.eq(m.power_on(), False, "dead modem")
check.true(fm.pulses <= 3 and clock.t - t0 < 40000,
           "bounded: %d pulses, %d ms" % (fm.pulses, clock.t - t0))

# the data link ---------------------------------------------------------------------------
lk, m, fm, clock = link()
n0 = len(fm.sent)
check.true(lk.up(60000), "link up: %s" % lk.error)
check.eq((lk.rssi_dbm, m.ip, m.pdp), (-77, "10.170.23.5", True), "signal, IP, PDP")
check.true(b"AT+CNMP=38" in fm.sent and b"AT+CMNB=1" in fm.sent, "LTE-M only")
check.true(len(fm.sent) - n0 < 30, "a short dialogue: %d commands" % (len(fm.sent) - n0))
lk.down()
check.eq((fm.sent[-1], fm.on), (b"AT+CPOWD=1", False), "down powers the modem off")

lk, m, fm, clock = link({b"AT+CEREG?": b"+CEREG: 1,3\r\nOK"})
check.eq(lk.up(60000), False, "registration denied")
check.eq(lk.fault, "denied", "denied fault: %s" % lk.error)
check.eq(fm.on, False, "failed up powers the modem off")

lk, m, fm, clock = link({b"AT+CEREG?": b"+CEREG: 1,2\r\nOK"})
t0 = clock.t
check.eq(lk.up(45000), False, "no registration")
check.true(lk.fault == "noreg" and clock.t - t0 < 55000,
           "ends near the deadline: %s, %d ms" % (lk.fault, clock.t - t0))
polls = fm.sent.count(b"AT+CEREG?")
check.true(polls <= 12, "registration polls: %d" % polls)

def stuck(fm):                        # not searching until the radio is switched off and on
    return b"+CEREG: 1,5\r\nOK" if b"AT+CFUN=1" in fm.sent else b"+CEREG: 1,0\r\nOK"


lk, m, fm, clock = link({b"AT+CEREG?": stuck})
check.true(lk.up(60000), "stuck at stat 0: %s" % lk.error)
check.true(fm.sent.index(b"AT+CFUN=0") < fm.sent.index(b"AT+CFUN=1"), "CFUN=0 then CFUN=1")

lk, m, fm, clock = link({b"AT+CPIN?": b"+CME ERROR: 10"})
check.eq((lk.up(60000), lk.fault), (False, "sim"), "no SIM")


def hang_once(fm):
    fm.hung = True
    fm.answers[b"AT+CSQ"] = GOOD[b"AT+CSQ"]
    return b""


lk, m, fm, clock = link({b"AT+CSQ": hang_once})
check.true(lk.up(90000), "a modem that hangs mid-attach is power-cycled: %s" % lk.error)
check.eq(m.power_cycles, 1, "one power cycle")

lk, m, fm, clock = link({b"AT+CNACT=0,1": b"OK"})
check.eq((lk.up(60000), lk.fault), (False, "pdp"), "PDP never active")

# what the modem keeps in NVM is sent once, then only when not known done -----------------
lk, m, fm, clock = link()
check.true(lk.up(60000), "first session: %s" % lk.error)
NVM = (b"ATE0", b"AT+CMEE=2", b"AT+CNMP=38", b"AT+CMNB=1", b'AT+CGDCONT=1,"IP","iot"', b"AT&W")
check.true(all(c in fm.sent for c in NVM), "NVM set-up sent when not known done")
check.eq(m.nvm, "1,iot", "...and known done after")
check.true(b"AT+CPIN?" not in fm.sent, "the boot URC +CPIN: READY spares AT+CPIN?")
lk.down()
nvm = m.nvm
lk, m, fm, clock = link()
m.nvm = nvm
check.true(lk.up(60000), "next session: %s" % lk.error)
check.eq([c for c in NVM if c in fm.sent], [], "next session: no NVM set-up")
m.nvm = "2,iot"
lk.down()
lk.up(60000)
check.true(all(c in fm.sent[-20:] for c in NVM), "another RAT or APN: set up again")
lk, m, fm, clock = link(on=True)
lk.up(60000)
check.true(b"AT+CPIN?" in fm.sent, "a modem found on (no boot URC seen): AT+CPIN?")
lk, m, fm, clock = link(quiet=True)
check.true(lk.up(60000), "a modem that says nothing as it boots is found with AT")

# URCs waited for in one read each, not polled
lk, m, fm, clock = link({b"AT+CEREG?": b"+CEREG: 1,2\r\nOK",
                         b"AT+CNACT=0,1": b"OK"})
fm.timed = [(22000, b"\r\n+CEREG: 5\r\n"), (26000, b"\r\n+APP PDP: 0,ACTIVE\r\n")]
check.true(lk.up(60000), "registered and active by URCs: %s" % lk.error)
check.eq(fm.sent.count(b"AT+CEREG?"), 1, "one AT+CEREG?, then the +CEREG URC")
check.true(fm.reads <= 24, "UART reads of a whole attach: %d" % fm.reads)
lk, m, fm, clock = link({b"AT+CEREG?": b"+CEREG: 1,2\r\nOK"})
fm.timed = [(20000, b"\r\n+CEREG: 2\r\n"), (30000, b"\r\n+CEREG: 3\r\n")]
check.eq((lk.up(60000), lk.fault), (False, "denied"), "denied said by a URC")

# power-down when CPOWD gets no NORMAL POWER DOWN ----------------------------------------
lk, m, fm, clock = link()
lk.up(60000)
fm.hung = True                         # answered all along, silent now
lk.down()
check.eq(fm.on, False, "a modem that hangs at power-down is switched off with the key")


def reboot_once(fm):
    fm.on = True                       # browned out and came back: the first CPOWD is lost
    fm.answers[b"AT+CPOWD=1"] = GOOD[b"AT+CPOWD=1"]
    return b"RDY\r\n+CFUN: 1"


lk, m, fm, clock = link({b"AT+CPOWD=1": reboot_once})
lk.up(60000)
lk.down()
check.eq((fm.on, fm.sent.count(b"AT+CPOWD=1")), (False, 2), "rebooted meanwhile: CPOWD again")

# fuzz ------------------------------------------------------------------------------------
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
FRAG = (b"OK", b"ERROR", b"+CME ERROR: 30", b"+CEREG: 0,5", b"+CEREG: 3", b"+CEREG: ",
        b"+CSQ: 99,99", b"+CSQ: x", b"+CPIN: READY", b"+CPIN: NOT READY", b"RDY", b"+CFUN: 1",
        b"+APP PDP: 0,ACTIVE", b"+APP PDP: 0,DEACTIVE", b"NORMAL POWER DOWN", b">",
        b"+CNACT: 0,1,", b"\xff\xfe\x00", b"", b"\r", b"\n", b"AT", b"CONNECT", b"NO CARRIER")
CMDS = (b"AT", b"ATE0", b"AT+CMEE=2", b"AT+CPIN?", b"AT+CNMP=38", b"AT+CMNB=1",
        b'AT+CGDCONT=1,"IP","iot"', b"AT+CEREG=1", b"AT+CEREG?", b"AT+CSQ",
        b'AT+CNCFG=0,1,"iot"', b"AT+CNACT=0,1", b"AT+CNACT?", b"AT+CPOWD=1")


class Rand:
    def __init__(self, seed):
        self.s = seed or 1

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return self.s % n


def garble(r):
    out = bytearray()
    for _ in range(r.next(5)):
        k = r.next(10)
        if k < 6:
            out.extend(FRAG[r.next(len(FRAG))])
        elif k < 8:
            for _ in range(r.next(40)):
                out.append(r.next(256))
        elif k == 8:
            out.extend(b"A" * r.next(1500))      # a flood with no line end
        out.extend((b"\r\n", b"\r", b"\n", b"")[r.next(4)])
    return bytes(out)


bad = 0
worst = 0
for i in range(N):
    gc.collect()
    r = Rand(i + 1)
    answers = {}
    for c in CMDS:
        if r.next(3) == 0:
            answers[c] = garble(r)
    lk, m, fm, clock = link(answers, on=bool(r.next(2)), hung=r.next(8) == 0)
    t0 = clock.t
    try:
        res = lk.up(30000 + r.next(30000))
        lk.down()
        m.cmd(CMDS[r.next(len(CMDS))], 1 + r.next(3000), b"+")
        m.poll()
    except Exception as e:     # noqa: BLE001 (the point: nothing may escape)
        bad += 1
        print("fuzz %d raised %r" % (i, e))
        sys.print_exception(e)
        continue
    worst = max(worst, clock.t - t0)
    if res not in (True, False) or (not res and not lk.error):
        bad += 1
check.eq(bad, 0, "%d garbled dialogues: no exception, always an outcome" % N)
# up() budget 60 s max + a power cycle's sync + CPOWD + one command
check.true(worst < 110000, "always within its deadline (worst %d ms)" % worst)
print("fuzz: %d dialogues, worst %d ms" % (N, worst))
check.done()
