# Analog front ends: resistor divider, NTC thermistor, motor current-sense amplifier.
import math

from micropython import const

_R_FIXED = const(10000)    # NTC divider: 3.3 V - 10k fixed - node - NTC - GND
_R25 = const(10000)        # NTC 10k at 25 C
_BETA = const(3950)
_VREF_UV = const(3300000)


class Divider:
    """Voltage behind a divider of ratio k (e.g. 12.8 V battery through 6:1)."""

    def __init__(self, adc, ratio):
        self._adc, self._k = adc, ratio

    def read_mv(self):
        return self._adc.read_uv() * self._k // 1000


class Thermistor:
    """NTC 10k B3950 on the low side of a 10k divider from 3.3 V."""

    def __init__(self, adc):
        self._adc = adc

    def read_c(self):
        uv = self._adc.read_uv()
        if uv <= 0 or uv >= _VREF_UV:
            return None  # open or shorted sensor
        r = _R_FIXED * uv / (_VREF_UV - uv)
        return 1 / (1 / 298.15 + math.log(r / _R25) / _BETA) - 273.15


class CurrentSense:
    """Low-side shunt (2 mOhm) with a x50 amplifier: 100 mV per amp, i.e. 100 uV per mA."""

    def __init__(self, adc):
        self._adc = adc

    def read_ma(self):
        return self._adc.read_uv() // 100
