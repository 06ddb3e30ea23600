# Composition root of the sim board: the firmware on the MicroPython unix port, with every
# peripheral a machine-like object served by the host simulator (host_tools.sim).
# Environment: BIN_SIM=host:port of the simulator, BIN_SIM_ID=the bin this process is.
import os
from binascii import unhexlify

from board import Board, NoWatchdog
from board.simclock import SimClock
from board.simlink import ADC, RTC, UART, WDT, Conn, Pin, Platform, rtc_digest, time_pulse_us
from board.simnet import SimModemLink
from drivers.a02yyuw import A02YYUW
from drivers.analog import CurrentSense, Divider, Thermistor
from drivers.doorlock import DoorLock
from drivers.hbridge import HBridge
from drivers.hcsr04 import HCSR04
from drivers.maxbotix import MaxBotix
from drivers.modem import Modem
from drivers.switch import Switch

_conn = None


def _connection():
    global _conn
    if _conn is None:
        addr = os.getenv("BIN_SIM")
        if not addr:
            raise OSError("sim board: BIN_SIM is not set; start me with python -m host_tools.sim")
        _conn = Conn(addr, os.getenv("BIN_SIM_ID") or "bin-0001")
    return _conn


def _boot(conn):
    # A new boot of the virtual chip: reset cause, wake reason, RTC memory, virtual time.
    # The board keeps the RTC memory it last set or was given; the reply leaves it out when
    # the simulator holds the same bytes (the usual case: same digest).
    conn.clock = None
    mem = conn.rtc_mem
    conn.boot = conn.call("boot") if mem is None else conn.call("boot", rtc_digest(mem))
    if "rtc" in conn.boot:
        conn.rtc_mem = unhexlify(conn.boot["rtc"])
    conn.clock = SimClock(conn.boot["t"])
    conn.cache = bool(conn.boot.get("cache"))


def reset():
    """machine.reset(): the simulator restarts this bin (a soft reset of the chip)."""
    _connection().call("reset")


def boot_cause():
    """This boot's reset cause, for boot.py ('power_on' after a power cut)."""
    return _connection().boot["reset"]


def safe_state():
    """First thing boot.py does: both H-bridge inputs low before anything else runs."""
    conn = _connection()
    _boot(conn)
    if conn.boot.get("cuts"):   # the simulator cuts the power inside flash writes
        import fsutil
        from board.simflash import FlashProbe

        fsutil.probe = FlashProbe(conn)
    Pin(conn, "motor_in1", Pin.OUT, value=0)
    Pin(conn, "motor_in2", Pin.OUT, value=0)
    Pin(conn, "door_lock", Pin.OUT, value=0)


def _rangers(conn, clock):
    """The level sensors the simulated bin has fitted (the simulator says which)."""
    out = []
    for i, kind in enumerate(conn.boot.get("sensors") or ("a02yyuw",)):
        if kind == "hcsr04":
            out.append(HCSR04(Pin(conn, "trig%d" % i, Pin.OUT, value=0),
                              Pin(conn, "echo%d" % i, Pin.IN), clock,
                              time_pulse_us(conn), clock.sleep_us))
        elif kind == "maxbotix":
            out.append(MaxBotix(UART(conn, "level%d" % i, baudrate=9600, timeout=150), clock))
        else:
            # a burst's frames in one read: it waits out the ~100 ms between frames
            out.append(A02YYUW(UART(conn, "level%d" % i, baudrate=9600, timeout=150,
                                    timeout_char=150), clock))
    return tuple(out)


def build(watchdog=True):
    conn = _connection()
    if conn.clock is None:
        _boot(conn)
    clock = conn.clock
    motor = HBridge(Pin(conn, "motor_in1", Pin.OUT, value=0),
                    Pin(conn, "motor_in2", Pin.OUT, value=0),
                    CurrentSense(ADC(conn, "motor_isense")))
    # a long read timeout costs nothing (a read returns when the reply arrives) and keeps
    # the modem's waits at a few requests each
    modem = Modem(UART(conn, "modem", baudrate=115200, timeout=500),
                  Pin(conn, "modem_pwrkey", Pin.OUT, value=0), clock, read_ms=500)
    return Board(
        name="sim",
        clock=clock,
        level_sensors=_rangers(conn, clock),
        temp=Thermistor(ADC(conn, "temp")),
        door=Switch(Pin(conn, "door", Pin.IN)),
        limit_home=Switch(Pin(conn, "limit_home", Pin.IN)),
        limit_end=Switch(Pin(conn, "limit_end", Pin.IN)),
        motor=motor,
        battery=Divider(ADC(conn, "vbat"), 6),
        solar=Divider(ADC(conn, "vsolar"), 11),
        modem=modem,
        link=SimModemLink(modem, clock, "iot", conn),
        rtc=RTC(conn, conn.rtc_mem),
        wdt=WDT(conn, 120000) if watchdog else NoWatchdog(),
        platform=Platform(conn),
        tilt=Switch(Pin(conn, "tilt", Pin.IN)),
        door_lock=DoorLock(Pin(conn, "door_lock", Pin.OUT, value=0),
                           Switch(Pin(conn, "lock_sense", Pin.IN)), clock),
    )
