# A switch on a GPIO (door/hopper, limit switches, service button).


class Switch:
    def __init__(self, pin, active_low=False):
        self._pin = pin
        self._low = active_low

    def active(self):
        """True when the switch reports its condition (door open, limit reached)."""
        v = self._pin.value()
        return not v if self._low else bool(v)
