# Data link of the device: SIMCom SIM7080G on LTE-M, IP over PPP on the modem UART.
# up() switches the modem on, checks the SIM, waits for registration and dials; open() makes
# a TCP socket through the PPP interface; down() ends PPP and switches the modem off.
# Every wait has a deadline: a dead modem or no coverage costs at most timeout_ms.
from micropython import const

_CMD_MS = const(2000)        # one AT command and its final result
_SYNC_TRIES = const(5)
_POLL_MS = const(2000)       # between registration polls
_DIAL_MS = const(15000)      # ATD*99# until CONNECT
_GUARD_MS = const(1000)      # silence around "+++"
_STEP_MS = const(100)

_NETWORK_LTE = const(38)     # AT+CNMP=38: LTE only
_MODE_CATM = const(1)        # AT+CMNB=1: CAT-M (LTE-M) only

_FAIL = (b"ERROR", b"+CME ERROR", b"NO CARRIER", b"BUSY", b"NO DIALTONE")


class AT:
    """Command/response over the modem UART."""

    def __init__(self, uart, clock):
        self._uart, self._clock = uart, clock

    def cmd(self, command, timeout_ms=_CMD_MS, final=b"OK"):
        """Send one command. Returns (ok, lines): ok when a line starts with `final`, False on
        an error result or when timeout_ms passes; lines are the other lines received."""
        uart, clock = self._uart, self._clock
        while uart.any():
            uart.read()                           # stale output (URCs) from before
        cmd = command.encode()
        uart.write(cmd + b"\r")
        lines = []
        pending = b""
        t0 = clock.ticks_ms()
        while clock.ticks_diff(clock.ticks_ms(), t0) < timeout_ms:
            part = uart.readline()
            if not part:
                continue
            pending += part
            if not pending.endswith(b"\n"):
                continue                          # a line split by the UART timeout
            line, pending = pending.strip(), b""
            if not line or line == cmd:           # blank, or the echo before ATE0
                continue
            if line.startswith(final):
                return True, lines
            for f in _FAIL:
                if line.startswith(f):
                    lines.append(line)
                    return False, lines
            lines.append(line)
        return False, lines


def _text(lines):
    return " / ".join(x.decode() for x in lines) or "no answer"


class PPPLink:
    def __init__(self, modem, clock, apn):
        self._modem, self._clock, self._apn = modem, clock, apn
        self._at = AT(modem.uart, clock)
        self._ppp = None
        self.error = None          # why the last up() failed, as a sentence

    def _left(self, t0, timeout_ms):
        return timeout_ms - self._clock.ticks_diff(self._clock.ticks_ms(), t0)

    def up(self, timeout_ms=60000):
        """Bring the data link up within timeout_ms. False (modem off again) when it cannot."""
        self.error = None
        try:
            self._up(timeout_ms)
            return True
        except OSError as e:
            self.error = e.args[0] if e.args else repr(e)
            self.down()
            return False

    def _up(self, timeout_ms):
        clock, at = self._clock, self._at
        t0 = clock.ticks_ms()
        if not self._modem.power_on():
            raise OSError("the modem did not answer AT after the power key pulse")
        for _ in range(_SYNC_TRIES):
            ok, _lines = at.cmd("AT", 500)
            if ok:
                break
        else:
            raise OSError("the modem is on but AT never got OK")
        self._must("ATE0")
        ok, lines = at.cmd("AT+CPIN?", 5000)
        if not ok or not any(x.startswith(b"+CPIN: READY") for x in lines):
            raise OSError("the SIM is not ready: %s" % _text(lines))
        self._must("AT+CNMP=%d" % _NETWORK_LTE)
        self._must("AT+CMNB=%d" % _MODE_CATM)
        self._must('AT+CGDCONT=1,"IP","%s"' % self._apn)
        self._register(t0, timeout_ms)
        left = self._left(t0, timeout_ms)
        ok, lines = at.cmd("ATD*99#", max(1, min(_DIAL_MS, left)), final=b"CONNECT")
        if not ok:
            raise OSError("dialling the data call failed: %s" % _text(lines))
        import network  # only on the device; the unix port has no PPP

        ppp = network.PPP(self._modem.uart)
        self._ppp = ppp
        if hasattr(ppp, "active"):
            ppp.active(True)
        ppp.connect()
        while not ppp.isconnected():
            if self._left(t0, timeout_ms) <= 0:
                raise OSError("PPP did not come up within %d ms" % timeout_ms)
            clock.sleep_ms(_STEP_MS)

    def _must(self, command):
        ok, lines = self._at.cmd(command)
        if not ok:
            raise OSError("the modem refused %s: %s" % (command, _text(lines)))

    def _register(self, t0, timeout_ms):
        """Poll AT+CEREG? until home (1) or roaming (5); denied (3) ends the attempt."""
        stat = None
        while True:
            ok, lines = self._at.cmd("AT+CEREG?")
            for x in lines:
                if x.startswith(b"+CEREG:"):
                    try:
                        stat = int(x[7:].split(b",")[1])
                    except (IndexError, ValueError):
                        pass
            if stat == 1 or stat == 5:
                return
            if stat == 3:
                raise OSError("the network denied registration (CEREG stat 3)")
            left = self._left(t0, timeout_ms)
            if left <= 0:
                raise OSError("no network registration within %d ms (last CEREG stat %s)"
                              % (timeout_ms, stat))
            self._clock.sleep_ms(min(_POLL_MS, left))

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

    def down(self):
        """End PPP (if up) and switch the modem off. Safe to call at any time."""
        ppp, self._ppp = self._ppp, None
        clock, uart = self._clock, self._modem.uart
        if ppp is not None:
            try:
                ppp.disconnect()
                if hasattr(ppp, "active"):
                    ppp.active(False)
            except OSError:
                pass
            # back to command mode in case the modem still holds the data call
            clock.sleep_ms(_GUARD_MS)
            uart.write(b"+++")
            clock.sleep_ms(_GUARD_MS)
        self._modem.power_off()
