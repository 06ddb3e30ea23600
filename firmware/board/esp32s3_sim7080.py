# Composition root of the reference hardware: ESP32-S3 + SIMCom SIM7080G (LTE-M over PPP).
# Wiring, levels and power tree: docs/hardware.md. Nothing here touches the hardware at
# import time; safe_state() and build() take `machine` so the unix port can pass a fake.
from micropython import const

# ADC1 only (ADC2 is shared with the radio). GPIO1-10 are ADC1 channels 0-9.
_VBAT = const(1)          # ADC1_CH0: battery through a 6:1 divider
_VSOLAR = const(2)        # ADC1_CH1: solar panel through an 11:1 divider
_TEMP = const(4)          # ADC1_CH3: NTC 10k B3950 divider from 3V3
_ISENSE = const(5)        # ADC1_CH4: motor shunt amplifier, 100 uV per mA
# Switches: RTC GPIOs (the door is the deep-sleep ext0 wake source)
_DOOR = const(6)          # high = door open (contact to GND opens)
_LIMIT_HOME = const(7)    # high = ram parked at the top
_LIMIT_END = const(8)     # high = ram at the end of its stroke
_TILT = const(15)         # high = not upright (tilt switch to GND opens)
_LOCK_SENSE = const(21)   # low = door lock bolt thrown (bolt switch to GND closes)
# Outputs
_SENSOR_EN = const(9)     # high = 5 V sensor rail on (off in deep sleep: pull-down)
_PWRKEY = const(10)       # high = transistor pulls the modem's PWRKEY low
_MOTOR_IN1 = const(11)    # H-bridge IN1 (forward), 10k pull-down on the board
_MOTOR_IN2 = const(12)    # H-bridge IN2 (reverse), 10k pull-down on the board
_LOCK = const(16)          # door lock solenoid driver, high = locked, 10k pull-down
# UARTs (UART0 stays the REPL on GPIO43/44)
_LEVEL_UART = const(2)
_LEVEL_RX = const(13)     # from the A02YYUW TX (through a 3.3 V buffer)
_LEVEL_TX = const(14)     # not connected: the sensor's RX floats (processed output)
_MODEM_UART = const(1)
_MODEM_TX = const(17)     # to the SIM7080G RXD (1.8 V level shifter)
_MODEM_RX = const(18)     # from the SIM7080G TXD (1.8 V level shifter)

_WDT_MS = const(120000)
_APN = "iot"


def safe_state(machine=None):
    """First thing boot.py does: both H-bridge inputs low before anything else runs."""
    if machine is None:
        import machine
    machine.Pin(_MOTOR_IN1, machine.Pin.OUT, value=0)
    machine.Pin(_MOTOR_IN2, machine.Pin.OUT, value=0)
    machine.Pin(_LOCK, machine.Pin.OUT, value=0)


def boot_cause(machine=None):
    """This boot's reset cause, for boot.py (the Board's strings)."""
    if machine is None:
        import machine
    return Platform(machine, None).reset_cause()


class Platform:
    """Reset cause, wake reason and deep sleep of the ESP32-S3, as the Board's strings."""

    def __init__(self, machine, door_pin):
        self._m, self._door = machine, door_pin

    def reset_cause(self):
        m = self._m
        c = m.reset_cause()
        if c == m.DEEPSLEEP_RESET:
            return "deepsleep"
        if c == m.PWRON_RESET:
            return "power_on"   # MicroPython's esp32 port reports a brownout as this too
        if c == m.WDT_RESET:
            return "watchdog"
        if c == m.SOFT_RESET:
            return "soft"
        return "hard"           # HARD_RESET (panic, machine.reset()) and anything unknown

    def wake_reason(self):
        m = self._m
        if m.reset_cause() != m.DEEPSLEEP_RESET:
            return None
        w = m.wake_reason()
        if w == m.TIMER_WAKE:
            return "timer"
        if w == m.EXT0_WAKE or w == m.PIN_WAKE:
            return "door"
        if w == m.EXT1_WAKE:
            return "button"
        return None

    def technician(self, wait_ms):
        """A key on the service UART (the REPL) within wait_ms."""
        import select
        import sys

        p = select.poll()
        p.register(sys.stdin, select.POLLIN)
        return bool(p.poll(int(wait_ms)))

    def deepsleep(self, ms):
        import esp32

        # The door opening wakes the bin. ext0 is level-triggered, so while the door is
        # already open only the timer wakes (otherwise the chip would wake at once, forever).
        if self._door.value():
            esp32.wake_on_ext0(pin=None)
        else:
            esp32.wake_on_ext0(pin=self._door, level=esp32.WAKEUP_ANY_HIGH)
        self._m.deepsleep(int(ms))


def _apn():
    import fsutil

    ident = fsutil.read_json("identity.json")
    if isinstance(ident, dict) and ident.get("apn"):
        return ident["apn"]
    return _APN


def reset(machine=None):
    """Restart the chip (boot.py runs again and counts the boot)."""
    if machine is None:
        import machine
    machine.reset()


def build(machine=None, clock=None, watchdog=True):
    if machine is None:
        import machine
    if clock is None:
        from clock import Clock

        clock = Clock()
    from board import Board, NoWatchdog
    from drivers.a02yyuw import A02YYUW
    from drivers.analog import CurrentSense, Divider, Thermistor
    from drivers.doorlock import DoorLock
    from drivers.hbridge import HBridge
    from drivers.modem import ModemPower
    from drivers.switch import Switch
    from pppnet import PPPLink

    Pin, ADC, UART = machine.Pin, machine.ADC, machine.UART

    def adc(n):
        return ADC(Pin(n), atten=ADC.ATTN_11DB)

    motor = HBridge(Pin(_MOTOR_IN1, Pin.OUT, value=0), Pin(_MOTOR_IN2, Pin.OUT, value=0),
                    CurrentSense(adc(_ISENSE)))
    Pin(_SENSOR_EN, Pin.OUT, value=1)
    door = Pin(_DOOR, Pin.IN)   # external 100k pull-up: it must hold in deep sleep too
    # timeout_char over the ~100 ms between frames: a burst's frames come in one read
    level = UART(_LEVEL_UART, baudrate=9600, tx=_LEVEL_TX, rx=_LEVEL_RX, timeout=150,
                 timeout_char=150)
    modem = ModemPower(UART(_MODEM_UART, baudrate=115200, tx=_MODEM_TX, rx=_MODEM_RX,
                            rxbuf=2048, timeout=100),
                       Pin(_PWRKEY, Pin.OUT, value=0), clock, read_ms=100)
    return Board(
        name="esp32s3_sim7080",
        clock=clock,
        level_sensors=(A02YYUW(level, clock),),
        temp=Thermistor(adc(_TEMP)),
        door=Switch(door),
        limit_home=Switch(Pin(_LIMIT_HOME, Pin.IN)),
        limit_end=Switch(Pin(_LIMIT_END, Pin.IN)),
        motor=motor,
        battery=Divider(adc(_VBAT), 6),
        solar=Divider(adc(_VSOLAR), 11),
        modem=modem,
        link=PPPLink(modem, clock, _apn()),
        rtc=machine.RTC(),
        wdt=machine.WDT(timeout=_WDT_MS) if watchdog else NoWatchdog(),
        platform=Platform(machine, door),
        tilt=Switch(Pin(_TILT, Pin.IN)),
        door_lock=DoorLock(Pin(_LOCK, Pin.OUT, value=0),
                           Switch(Pin(_LOCK_SENSE, Pin.IN), active_low=True), clock),
    )
