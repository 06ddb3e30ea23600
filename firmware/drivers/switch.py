# A switch on a GPIO (door/hopper, limit switches, lock bolt, service button).


class Switch:
    def __init__(self, pin, active_low=False):
        self._pin = pin
        self._low = active_low

    def active(self):
        """True when the switch reports its condition (door open, limit reached)."""
        v = self._pin.value()
        return not v if self._low else bool(v)

    def on_active(self, handler):
        """Call handler(pin) from an interrupt on the edge into the active state; None
        disarms it. The handler must not allocate (hard IRQ on the ESP32)."""
        p = self._pin
        if handler is None:
            p.irq(handler=None)
            return
        trig = p.IRQ_FALLING if self._low else p.IRQ_RISING
        p.irq(handler=handler, trigger=trig, hard=True)
