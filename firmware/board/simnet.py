# Data link of the sim board: the real AT dialogue with the simulator's SIM7080G emulator on
# the "modem" UART (drivers/modem.py), the modem's own PDP context (AT+CNCFG / AT+CNACT);
# then TCP sockets to the simulator's network model, which the emulator names only while
# the PDP context is active (request net_route, docs/sim-protocol.md).
from drivers.modem import ModemError
from netlink import ModemLink


class SimModemLink(ModemLink):
    def __init__(self, modem, clock, apn, conn):
        super().__init__(modem, clock, apn)
        self._c = conn
        self._active = False

    def _route(self):
        r = self._c.call("net_route")
        if not r:
            raise ModemError("pdp", "the network has no route: PDP context down")
        return r

    def _data_up(self, t_end):
        self.modem.activate(t_end, self._apn)
        self._active = True

    def open(self, host, port, timeout_ms=10000):
        import socket

        if not self._active:
            raise OSError("link: data link is down")
        m = self.modem
        m.poll()                            # +APP PDP: 0,DEACTIVE, +CEREG: 4 since?
        try:
            if not m.pdp:                   # the bearer dropped: activate it once more
                m.activate(m.deadline(timeout_ms), self._apn)
            addr = self._route()
        except ModemError as e:
            self.error, self.fault = e.args[0], e.reason
            raise OSError("link: %s" % e.args[0])
        s = socket.socket()
        s.settimeout(timeout_ms / 1000)
        try:
            s.connect(socket.getaddrinfo(addr[0], addr[1])[0][-1])
        except Exception:
            s.close()
            raise
        return s

    def _data_down(self):
        self._active = False
