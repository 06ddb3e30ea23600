# The ESP32-S3 composition root and its PPP link on the unix port, against a fake machine
# module (passed to safe_state/build) and fake esp32/network modules (installed in
# sys.modules, as the board and the link import them lazily).
import json
import sys

import check
from fakes import FakeClock

PWRON, HARD, WDT_R, DEEPSLEEP, SOFT = 1, 2, 3, 4, 5   # machine.*_RESET on the esp32 port
EXT0, EXT1, TIMER = 2, 3, 4                           # machine.*_WAKE on the esp32 port


class FakeMachine:
    """The parts of the esp32 port's machine module the board uses; records every object."""

    PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = (
        PWRON, HARD, WDT_R, DEEPSLEEP, SOFT)
    PIN_WAKE = EXT0_WAKE = EXT0
    EXT1_WAKE, TIMER_WAKE = EXT1, TIMER

    def __init__(self):
        m = self
        m.pins, m.adcs, m.uarts, m.wdts, m.slept = {}, [], [], [], []
        m.cause, m.wake = PWRON, 0

        class Pin:
            IN, OUT, PULL_UP = 1, 3, 1

            def __init__(self, n, mode=-1, pull=-1, value=None):
                self.n, self.mode, self.v = n, mode, 0
                if value is not None:
                    self.v = value
                m.pins[n] = self

            def value(self, v=None):
                if v is None:
                    return self.v
                self.v = 1 if v else 0
                return None

        class ADC:
            ATTN_11DB = 3

            def __init__(self, pin, atten=None):
                self.pin, self.atten, self.uv = pin, atten, 0
                m.adcs.append(self)

            def read_uv(self):
                return self.uv

        class UART:
            def __init__(self, n, **kw):
                self.n, self.kw = n, kw
                m.uarts.append(self)

        class RTC:
            mem = b""

            def memory(self, data=None):
                if data is None:
                    return RTC.mem
                RTC.mem = bytes(data)
                return None

        class WDT:
            def __init__(self, id=0, timeout=5000):
                self.timeout = timeout
                m.wdts.append(self)

            def feed(self):
                pass

        self.Pin, self.ADC, self.UART, self.RTC, self.WDT = Pin, ADC, UART, RTC, WDT

    def reset_cause(self):
        return self.cause

    def wake_reason(self):
        return self.wake

    def deepsleep(self, ms):
        self.slept.append(ms)


class FakeEsp32:
    WAKEUP_ALL_LOW, WAKEUP_ANY_HIGH = False, True

    def __init__(self):
        self.ext0 = []

    def wake_on_ext0(self, pin=None, level=None):
        self.ext0.append((pin, level))


from board import esp32s3_sim7080 as hw  # noqa: E402

# safe_state: both bridge inputs and the door lock, outputs, low, and nothing else
m = FakeMachine()
hw.safe_state(m)
check.eq(sorted(m.pins), [11, 12, 16], "safe_state touches the bridge inputs and lock only")
check.eq([(p.mode, p.v) for p in m.pins.values()], [(3, 0)] * 3, "bridge and lock out, low")
check.eq((m.adcs, m.uarts, m.wdts), ([], [], []), "safe_state builds nothing else")

# build: a complete Board on the fake machine
m = FakeMachine()
b = hw.build(m, FakeClock())
check.eq(b.name, "esp32s3_sim7080", "board name")
check.eq(len(b.level_sensors), 1, "one level sensor")
check.true(all(a.atten == m.ADC.ATTN_11DB for a in m.adcs), "every ADC at 11 dB")
check.eq(sorted(a.pin.n for a in m.adcs), [1, 2, 4, 5], "ADC inputs on ADC1 pins")
check.true(all("timeout" in u.kw for u in m.uarts), "every UART has an explicit timeout")
check.eq(sorted((u.n, u.kw["baudrate"]) for u in m.uarts), [(1, 115200), (2, 9600)],
         "modem and sensor UARTs")
check.eq([w.timeout for w in m.wdts], [120000], "one watchdog, 120 s")
b.motor.forward()
check.eq((m.pins[11].v, m.pins[12].v), (1, 0), "forward drives IN1")
b.motor.off()
check.eq((m.pins[11].v, m.pins[12].v), (0, 0), "motor.off drives both inputs low")
b.motor.reverse()
check.eq((m.pins[11].v, m.pins[12].v), (0, 1), "reverse drives IN2")
b.motor.off()
check.eq((m.pins[11].v, m.pins[12].v), (0, 0), "off after reverse")
for a in m.adcs:
    if a.pin.n == 1:
        a.uv = 2133334
check.eq(b.battery.read_mv(), 12800, "battery through the 6:1 divider")
m.pins[6].v = 1
check.true(b.door.active(), "door pin high reads open")
b.rtc.memory(b"abc")
check.eq(b.rtc.memory(), b"abc", "RTC memory round trip")

# reset cause and wake reason strings
for cause, want in ((PWRON, "power_on"), (HARD, "hard"), (WDT_R, "watchdog"),
                    (DEEPSLEEP, "deepsleep"), (SOFT, "soft"), (0, "hard")):
    m.cause = cause
    check.eq(b.reset_cause(), want, "reset cause %d" % cause)
for wake, want in ((TIMER, "timer"), (EXT0, "door"), (EXT1, "button"), (0, None)):
    m.cause, m.wake = DEEPSLEEP, wake
    check.eq(b.wake_reason(), want, "wake reason %d" % wake)
m.cause, m.wake = PWRON, TIMER
check.eq(b.wake_reason(), None, "no wake reason after a power-on")

# deep sleep: motor off, door wake armed only while the door is shut
esp = FakeEsp32()
sys.modules["esp32"] = esp
m.pins[6].v = 0
b.motor.forward()
b.deepsleep(900000)
check.eq((m.pins[11].v, m.pins[12].v), (0, 0), "deep sleep stops the motor first")
check.eq(esp.ext0, [(m.pins[6], True)], "door shut: ext0 wake on door high")
check.eq(m.slept, [900000], "machine.deepsleep with the time")
m.pins[6].v = 1
b.deepsleep(1000)
check.eq(esp.ext0[-1], (None, None), "door open: ext0 wake disarmed")

# APN from identity.json
check.eq(b.link._apn, "iot", "default APN")
with open("identity.json", "w") as f:
    f.write(json.dumps({"id": "bin-0007", "apn": "m2m.example"}))
check.eq(hw.build(FakeMachine(), FakeClock()).link._apn, "m2m.example", "APN from identity")


# PPP link: AT dialogue against a scripted modem
class ModemUART:
    """Answers AT commands from a table; records what was written."""

    def __init__(self, answers):
        self.answers, self.sent, self.rx = answers, [], bytearray()

    def write(self, buf):
        cmd = bytes(buf).strip()
        self.sent.append(cmd)
        ans = self.answers.get(cmd, b"OK")
        if ans:
            self.rx.extend(b"\r\n" + ans.replace(b"\n", b"\r\n") + b"\r\n")
        return len(buf)

    def any(self):
        return len(self.rx)

    def read(self, n=-1):
        if not self.rx:
            return None
        n = len(self.rx) if n < 0 else n
        out = bytes(self.rx[:n])
        self.rx = self.rx[n:]
        return out

    def init(self, **kw):
        pass

    def readinto(self, buf, n=-1):
        data = self.read(len(buf) if n < 0 else n)
        if not data:
            return None
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        if not self.rx:
            return None
        i = self.rx.find(b"\n")
        return self.read(len(self.rx) if i < 0 else i + 1)


class FakePPP:
    def __init__(self, uart):
        self.log = ["new"]
        self.polls = 0
        net.last = self

    def active(self, on):
        self.log.append("active %s" % on)

    def connect(self):
        self.log.append("connect")

    def isconnected(self):
        self.polls += 1
        return self.polls > 3

    def disconnect(self):
        self.log.append("disconnect")


class FakeNetwork:
    PPP = FakePPP
    last = None


net = FakeNetwork()
sys.modules["network"] = net

from drivers.modem import ModemPower  # noqa: E402
from pppnet import PPPLink  # noqa: E402

GOOD = {b"AT+CPIN?": b"+CPIN: READY\nOK", b"AT+CEREG?": b"+CEREG: 0,5\nOK",
        b"ATD*99#": b"CONNECT 150000000", b"AT+CPOWD=1": b"NORMAL POWER DOWN"}


def link(changes=None):
    answers = dict(GOOD)
    answers.update(changes or {})
    uart = ModemUART(answers)
    clock = FakeClock()
    return PPPLink(ModemPower(uart, m.Pin(99, m.Pin.OUT), clock), clock, "iot"), uart, clock


lk, uart, clock = link()
check.true(lk.up(60000), "link up on the happy path")
check.true(b'AT+CGDCONT=1,"IP","iot"' in uart.sent, "APN set")
check.true(b"AT+CNMP=38" in uart.sent and b"AT+CMNB=1" in uart.sent, "LTE-M only")
check.eq(net.last.log, ["new", "active True", "connect"], "PPP started on the UART")
lk.down()
check.eq(net.last.log[-2:], ["disconnect", "active False"], "down ends PPP")
check.eq(uart.sent[-1], b"AT+CPOWD=1", "down powers the modem off")

lk, uart, clock = link({b"AT+CEREG?": b"+CEREG: 0,3\nOK"})
check.eq(lk.up(60000), False, "registration denied")
check.true("denied" in lk.error, "denied error says so: %s" % lk.error)
check.eq(uart.sent[-1], b"AT+CPOWD=1", "failed up powers the modem off")

lk, uart, clock = link({b"AT+CEREG?": b"+CEREG: 0,2\nOK"})
t0 = clock.t
check.eq(lk.up(30000), False, "no registration within the deadline")
check.true(clock.t - t0 < 45000, "searching ends near the deadline (%d ms)" % (clock.t - t0))
check.true("registration" in lk.error, "timeout error: %s" % lk.error)

lk, uart, clock = link({b"AT+CPIN?": b"+CME ERROR: 10"})
check.eq(lk.up(60000), False, "no SIM")
check.true("SIM" in lk.error, "SIM error: %s" % lk.error)

lk, uart, clock = link({b"ATD*99#": b"NO CARRIER"})
check.eq(lk.up(60000), False, "dial refused")
check.true(lk.error.startswith("dialling"), "dial error: %s" % lk.error)

lk, uart, clock = link({b"AT": b""})
t0 = clock.t
check.eq(lk.up(60000), False, "silent modem")
check.true(clock.t - t0 < 60000, "silent modem gives up in bounded time")

check.done()
