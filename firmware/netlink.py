# board.link over a SIM7080G: up(timeout_ms) -> bool, open(host, port, timeout_ms) -> socket,
# down(). The modem driver (drivers/modem.py) does the AT dialogue; a board's subclass adds
# its data path (_data_up / open / _data_down): PPP on the device, the simulator's network
# model on the sim board. After a failed up(), .error is a sentence and .fault a short code
# ("dead", "silent", "sim", "denied", "noreg", "pdp", "dial", "data"); .rssi_dbm is the
# signal of the last registration (None when unknown).
from micropython import const

from drivers.modem import RAT_LTE_M, ModemError

_UP_MS = const(60000)


class ModemLink:
    def __init__(self, modem, clock, apn, rat=RAT_LTE_M):
        self.modem, self._clock, self._apn, self.rat = modem, clock, apn, rat
        self.error = None
        self.fault = None
        self.rssi_dbm = None
        self.is_up = False
        self.tried = False         # up() was called this wake (netwatch.note)

    def up(self, timeout_ms=_UP_MS):
        """Bring the data link up within timeout_ms; False (modem off again) when it cannot.
        A modem that stops answering is power-cycled (bounded per wake) and tried again."""
        m = self.modem
        self.error = self.fault = None
        self.tried = True
        t_end = m.deadline(timeout_ms)
        try:
            try:
                self._up(t_end)
            except ModemError as e:
                if e.reason != "silent" or m.left(t_end) <= 0 or not m.restart():
                    raise
                self._up(t_end)
            self.is_up = True
            return True
        except ModemError as e:
            self.error, self.fault = e.args[0], e.reason
        except Exception as e:   # data path (sockets, PPP): reported, never raised
            self.error, self.fault = "data link: %s: %s" % (type(e).__name__, e), "data"
        self.down()
        return False

    def _up(self, t_end):
        m = self.modem
        m.attach(t_end, self._apn, self.rat)
        self.rssi_dbm = m.rssi_dbm
        self._data_up(t_end)

    def _data_up(self, t_end):
        raise ModemError("data", "this board has no data path")

    def _data_down(self):
        pass

    def down(self):
        """End the data path and switch the modem off. Safe to call at any time."""
        self.is_up = False
        try:
            self._data_down()
        finally:
            try:
                self.modem.power_off()
            except OSError:
                pass
