# Data link of the device: SIMCom SIM7080G on LTE-M, IP over PPP on the modem UART.
# up() switches the modem on, checks the SIM, waits for registration and dials; open() makes
# a TCP socket through the PPP interface; down() ends PPP and switches the modem off.
# Every wait has a deadline: a dead modem or no coverage costs at most timeout_ms.
from micropython import const

from drivers.modem import ModemError
from netlink import ModemLink

_GUARD_MS = const(1000)      # silence around "+++"
_STEP_MS = const(100)


class PPPLink(ModemLink):
    def __init__(self, modem, clock, apn):
        super().__init__(modem, clock, apn)
        self._ppp = None

    def _data_up(self, t_end):
        m = self.modem
        m.dial(t_end)
        import network  # only on the device; the unix port has no PPP

        ppp = network.PPP(m.uart)
        self._ppp = ppp
        if hasattr(ppp, "active"):
            ppp.active(True)
        ppp.connect()
        while not ppp.isconnected():
            if m.left(t_end) <= 0:
                raise ModemError("dial", "PPP did not come up in time")
            self._clock.sleep_ms(_STEP_MS)

    def open(self, host, port, timeout_ms=10000):
        import socket

        if self._ppp is None:
            raise OSError("link: data link is down")
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        try:
            s.connect(socket.getaddrinfo(host, port)[0][-1])
        except Exception:
            s.close()
            raise
        return s

    def _data_down(self):
        ppp, self._ppp = self._ppp, None
        if ppp is None:
            return
        try:
            ppp.disconnect()
            if hasattr(ppp, "active"):
                ppp.active(False)
        except OSError:
            pass
        # back to command mode: the modem still holds the data call
        clock, uart = self._clock, self.modem.uart
        clock.sleep_ms(_GUARD_MS)
        uart.write(b"+++")
        clock.sleep_ms(_GUARD_MS)
        self.modem.cmd("ATH")
