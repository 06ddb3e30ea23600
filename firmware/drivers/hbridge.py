# H-bridge for the compactor's DC motor (two direction inputs, current sense).
# Never both inputs high: every change passes through "both low" first.


class HBridge:
    def __init__(self, in1, in2, isense):
        self._in1, self._in2, self._isense = in1, in2, isense
        self.direction = 0

    def off(self):
        self._in1.value(0)
        self._in2.value(0)
        self.direction = 0

    def forward(self):
        """Ram moves down (compress)."""
        self._in2.value(0)
        self._in1.value(1)
        self.direction = 1

    def reverse(self):
        """Ram moves up (retract to home)."""
        self._in1.value(0)
        self._in2.value(1)
        self.direction = -1

    def current_ma(self):
        return self._isense.read_ma()
