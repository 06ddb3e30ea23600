# SIM7080G power control (power key toggle, AT sync). The full AT dialogue lives with the
# data link; this part only knows how to switch the module on and off.
from micropython import const

_PWRKEY_PULSE_MS = const(1200)


class ModemPower:
    def __init__(self, uart, pwrkey, clock):
        self.uart, self._key, self._clock = uart, pwrkey, clock

    def _pulse(self):
        try:
            self._key.value(1)   # drives the transistor that pulls PWRKEY low
            self._clock.sleep_ms(_PWRKEY_PULSE_MS)
        finally:
            self._key.value(0)

    def alive(self, tries=3):
        """True when the modem answers AT (a pulse on a running modem would switch it off)."""
        for _ in range(tries):
            self.uart.write(b"AT\r")
            resp = self.uart.read(32)
            if resp and b"OK" in resp:
                return True
        return False

    def power_on(self, tries=20):
        if self.alive(2):
            return True
        self._pulse()
        return self.alive(tries)

    def power_off(self):
        self.uart.write(b"AT+CPOWD=1\r")
        self.uart.read(64)
