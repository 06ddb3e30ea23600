# SIMCom SIM7080G (LTE-M / NB-IoT) over its AT UART: the only reader of that UART.
# One command at a time with its own timeout; the reply ends at a final result (OK, ERROR,
# +CME ERROR, CONNECT, NO CARRIER); URCs (+CEREG, +APP PDP, NORMAL POWER DOWN, RDY/+CFUN: 1,
# +CPIN: NOT READY) are dispatched wherever they interleave with replies. Power on through the
# PWRKEY toggle (probe with AT first: a pulse on a running modem switches it off), bounded
# power cycles per wake, registration with a deadline, CSQ -> dBm, PSM timer encoding.
# Every wait ends at a deadline from the board clock; garbage on the UART never raises.
# A URC the driver waits for (boot, +CEREG, +APP PDP, NORMAL POWER DOWN) is waited for with
# one long UART read (its first byte ends it), not polled. What the modem keeps in NVM
# (AT+CNMP, AT+CMNB, AT+CGDCONT; echo and error format through AT&W) is sent only when the
# caller does not know it done (.nvm, kept by the caller across wakes).
from micropython import const

_PWRKEY_PULSE_MS = const(1200)
_BOOT_MS = const(10000)         # AT sync window after the key (AT ready is ~5-8 s)
_BOOT_QUIET_MS = const(2000)    # ...its end: AT every 500 ms for a modem that says nothing
_SYNC_MS = const(500)
_PROBE_MS = const(300)
_CMD_MS = const(1000)
_CPIN_MS = const(5000)
_CPOWD_MS = const(5000)
_CFUN_MS = const(10000)
_CNACT_MS = const(60000)
_POWER_CYCLES_MAX = const(2)    # per wake (per driver instance)
_LINE_MAX = const(160)          # longer lines are cut: nothing we parse is this long
_PEND_MAX = const(1024)
_CHUNK = const(128)
_REG_STEP_MS = const(2000)      # polls while not searching (stat 0): 2, 3, 4.5, 6.7, 8 s
_REG_STEP_MAX_MS = const(8000)
_REG_WAIT_MS = const(30000)     # else the +CEREG URC is waited for, with a look this often

# outcomes of cmd()
OK = const(0)
ERROR = const(1)        # ERROR / +CME ERROR / NO CARRIER / BUSY / NO DIALTONE
TIMEOUT = const(2)
CONNECT = const(3)

RAT_LTE_M = const(1)    # AT+CMNB=1
RAT_NB_IOT = const(2)   # AT+CMNB=2
RAT_BOTH = const(3)


class ModemError(OSError):
    """A bring-up step failed; args[0] is a sentence, .reason a short code."""

    def __init__(self, reason, text):
        super().__init__(text)
        self.reason = reason


def csq_dbm(rssi):
    """27.007 +CSQ rssi -> dBm (0 -> -113, 31 -> -51); None for 99 (unknown) or garbage."""
    if not isinstance(rssi, int) or rssi < 0 or rssi > 31:
        return None
    return -113 + 2 * rssi


def _timer_bits(seconds, units):
    for code, unit in units:
        if (seconds + unit // 2) // unit <= 31:
            return "{:03b}{:05b}".format(code, min(31, (seconds + unit // 2) // unit))
    return None


# (unit code, unit seconds), smallest unit first (TS 24.008 GPRS timer 3 and timer 2)
_T3412 = ((3, 2), (4, 30), (5, 60), (0, 600), (1, 3600), (2, 36000), (6, 1152000))
_T3324 = ((0, 2), (1, 60), (2, 360))


def psm_t3412(seconds):
    """Periodic TAU as the 8-bit string of AT+CPSMS; "11100000" (off) for None / <= 0."""
    if seconds is None or seconds <= 0:
        return "11100000"
    return _timer_bits(int(seconds), _T3412) or "11011111"


def psm_t3324(seconds):
    """Active time as the 8-bit string of AT+CPSMS; "11100000" (off) for None / < 0."""
    if seconds is None or seconds < 0:
        return "11100000"
    return _timer_bits(int(seconds), _T3324) or "01011111"


def _int(b):
    try:
        return int(b)
    except ValueError:
        return None


class Modem:
    def __init__(self, uart, pwrkey, clock, read_ms=100):
        # read_ms: the UART's own timeout (restored after a long wait for a URC)
        self.uart, self._key, self._clock = uart, pwrkey, clock
        self._read_ms = read_ms
        self._chunk = bytearray(_CHUNK)
        self._pend = b""
        self._stale = False
        self.stat = None          # last EPS registration stat (+CEREG), None = unknown
        self.pdp = False          # app PDP context 0 active (+APP PDP)
        self.ip = None
        self.rssi_dbm = None
        self.synced = False       # answered AT since its last power-on
        self.echo = True
        self.power_cycles = 0     # PWRKEY cycles of a silent modem (this wake)
        self.reboots = 0          # unexpected RDY / +CFUN: 1 while in use
        self.sim_lost = False
        self.sim_ready = False    # +CPIN: READY since the modem's last power-on
        self.nvm = None           # NVM setup known done: "<rat>,<apn>" (the caller keeps it)
        self.urcs = 0
        self.garbage = 0          # lines that were neither reply nor known URC

    # time ---------------------------------------------------------------------------------
    def deadline(self, ms):
        return self._clock.ticks_add(self._clock.ticks_ms(), ms)

    def left(self, t_end):
        return self._clock.ticks_diff(t_end, self._clock.ticks_ms())

    # the one reader ---------------------------------------------------------------------
    def _fill(self, first=False):
        # first: one byte, waiting the UART's timeout for it (a long wait for a URC)
        n = self.uart.readinto(self._chunk, 1) if first else self.uart.readinto(self._chunk)
        if not n:
            return False
        p = self._pend + bytes(self._chunk[:n])
        if len(p) > _PEND_MAX:     # a flood without line ends: keep the tail
            p = p[len(p) - _PEND_MAX // 2:]
        self._pend = p
        return True

    def _take(self):
        """Next complete line from what was read (stripped, never b""), else None."""
        while self._pend:
            p = self._pend
            i = p.find(b"\n")
            j = p.find(b"\r")
            if i < 0 or 0 <= j < i:
                i = j
            if i < 0:
                if p[0] == 62:     # ">" prompt has no line end
                    self._pend = p[1:]
                    return b">"
                return None
            line = p[:min(i, _LINE_MAX)].strip()
            self._pend = p[i + 1:]
            if line:
                return line
        return None

    def _line(self, t_end):
        while True:
            ln = self._take()
            if ln is not None:
                return ln
            if self.left(t_end) <= 0:
                return None
            if not self._fill():
                # the UART read waited its own timeout; a fake may not: step the clock
                self._clock.sleep_ms(1)

    def _wait(self, ms):
        """One UART read that waits up to ms for the modem's next byte (a URC), then one
        for what came with it. True when something came."""
        u = self.uart
        u.init(timeout=ms)
        try:
            got = self._fill(True)
        finally:
            u.init(timeout=self._read_ms)
        if got:
            self._fill()
        return got

    def await_urc(self, prefix, t_end):
        """Wait until t_end for an unsolicited line starting with prefix (None: any line),
        dispatching every line that comes; True when it came."""
        while True:
            ln = self._take()
            if ln is not None:
                self._urc(ln)
                if prefix is None or ln.startswith(prefix):
                    return True
                continue
            left = self.left(t_end)
            if left <= 0:
                return False
            if not self._wait(left):
                self._clock.sleep_ms(1)    # the read waited its timeout; a fake may not

    def poll(self):
        """Read and dispatch whatever the modem sent (URCs) without waiting. One UART
        query when nothing is waiting."""
        while self.uart.any():
            if not self._fill():
                break
        while True:
            ln = self._take()
            if ln is None:
                return
            self._urc(ln)

    def _urc(self, ln):
        """Unsolicited lines. Returns True when the line was a known URC."""
        self.urcs += 1
        if ln.startswith(b"+CEREG:"):
            self._cereg(ln)
        elif ln.startswith(b"+APP PDP:"):
            self.pdp = ln.endswith(b"ACTIVE") and not ln.endswith(b"DEACTIVE")
            if not self.pdp:
                self.ip = None
        elif ln == b"NORMAL POWER DOWN":
            self.synced, self.pdp, self.stat, self.ip = False, False, None, None
            self.sim_ready = False
        elif ln == b"RDY" or ln == b"+CFUN: 1":
            if self.synced:
                self.reboots += 1          # it restarted under us (brown-out in a TX burst)
            self.pdp, self.stat, self.ip, self.echo = False, None, None, True
            self.sim_ready = False
        elif ln.startswith(b"+CPIN: NOT READY"):
            self.sim_lost = True
            self.sim_ready = False
        elif ln == b"+CPIN: READY":
            self.sim_ready = True
        elif ln == b"SMS Ready" or ln.startswith(b"+CFUN:") \
                or b"WARN" in ln or ln.startswith(b"+CAURC") or ln.startswith(b"+SMSTATE"):
            pass
        else:
            self.urcs -= 1
            self.garbage += 1
            return False
        return True

    def _cereg(self, ln):
        # read form "+CEREG: <n>,<stat>[,...]"; URC form "+CEREG: <stat>[,"tac",...]"
        f = ln[7:].strip().split(b",")
        if len(f) > 1 and f[1] and f[1][0] != 34:
            s = _int(f[1])
        else:
            s = _int(f[0])
        if s is not None and 0 <= s <= 5:
            self.stat = s

    def cmd(self, command, timeout_ms=_CMD_MS, prefix=None, final=b"OK"):
        """Send one command; returns (outcome, lines): OK / CONNECT / ERROR / TIMEOUT and the
        reply lines that start with `prefix` (the error text on ERROR). URCs that arrive
        meanwhile are dispatched, never mistaken for the reply."""
        if self._stale:                    # a reply that came too late may still be on its way
            self._stale = False
            self.poll()
        c = command.encode() if isinstance(command, str) else command
        self.uart.write(c + b"\r")
        t_end = self.deadline(timeout_ms)
        lines = []
        while True:
            ln = self._line(t_end)
            if ln is None:
                self._stale = True
                return TIMEOUT, lines
            if ln == c:
                continue                   # echo (on again after every power-on)
            if ln == b"OK":
                self.synced = True
                return OK, lines
            if final != b"OK" and ln.startswith(final):
                self.synced = True
                return CONNECT, lines
            if ln == b"ERROR" or ln.startswith(b"+CME ERROR") or ln == b"NO CARRIER" \
                    or ln == b"BUSY" or ln == b"NO DIALTONE":
                self.synced = True
                lines.append(ln)
                return ERROR, lines
            if prefix is not None and ln.startswith(prefix) and len(lines) < 8:
                # +CEREG read-form replies update the registration state too
                if prefix == b"+CEREG:":
                    self._cereg(ln)
                lines.append(ln)
                continue
            self._urc(ln)

    # power --------------------------------------------------------------------------------
    def _pulse(self):
        try:
            self._key.value(1)   # drives the transistor that pulls PWRKEY low
            self._clock.sleep_ms(_PWRKEY_PULSE_MS)
        finally:
            self._key.value(0)

    def alive(self, tries=1, timeout_ms=_PROBE_MS):
        """True when the modem answers AT now (probe before any pulse: the key toggles)."""
        for _ in range(tries):
            if self.cmd("AT", timeout_ms)[0] == OK:
                return True
        return False

    def _sync(self, window_ms):
        t_end = self.deadline(window_ms)
        while self.left(t_end) > 0:
            t_try = self.deadline(_SYNC_MS)
            if self.cmd("AT", min(_SYNC_MS, max(1, self.left(t_end))))[0] == OK:
                return True
            self._clock.sleep_ms(min(self.left(t_try), self.left(t_end)))   # AT every 500 ms
        return False

    def _boot(self):
        """After the key: the modem says when it is up (+CFUN: 1, +CPIN: READY; RDY at a
        fixed baud rate): wait for that in one read, then AT. One that says nothing (auto-
        bauding) gets AT every 500 ms at the end of the window. True when it answers AT."""
        t_end = self.deadline(_BOOT_MS)
        self.await_urc(None, self.deadline(_BOOT_MS - _BOOT_QUIET_MS))
        self._stale = False                # it was off: no late reply is on its way
        return self._sync(max(_SYNC_MS, self.left(t_end)))

    def power_on(self):
        """Switch on (or find on) and AT-synchronise. A silent modem may be on but hung, so
        the first pulse may have switched it off: pulse again, at most _POWER_CYCLES_MAX
        times per wake. True when it answers AT."""
        if self.alive():
            return True
        self._pulse()
        while True:
            if self._boot():
                self.echo = True
                return True
            if self.power_cycles >= _POWER_CYCLES_MAX:
                return False
            self.power_cycles += 1
            self._pulse()

    def restart(self):
        """A modem that stopped answering mid-wake: cycle it (bounded) and sync again."""
        self.synced, self.pdp, self.stat, self.ip = False, False, None, None
        if self.power_cycles >= _POWER_CYCLES_MAX:
            return False
        self.power_cycles += 1
        self._pulse()                      # it is on (it answered before): this is "off"
        self._clock.sleep_ms(_PWRKEY_PULSE_MS)
        return self.power_on()

    def _cpowd(self):
        self.uart.write(b"AT+CPOWD=1\r")
        return self.await_urc(b"NORMAL POWER DOWN", self.deadline(_CPOWD_MS))

    def power_off(self):
        """AT+CPOWD=1 and wait for NORMAL POWER DOWN. Without it: a modem that answers AT
        (it rebooted meanwhile) gets AT+CPOWD=1 again; a silent one that answered before
        hangs, and the key switches it off (if that switched it on, it answers: CPOWD)."""
        if not self.synced:
            return
        try:
            if self._cpowd():
                return
            if self.alive():
                self._cpowd()
                return
            self._pulse()
            if self._boot():
                self._cpowd()
        finally:
            self.synced, self.pdp, self.stat, self.ip = False, False, None, None
            self.sim_ready = False

    # bring-up -----------------------------------------------------------------------------
    def must(self, command, timeout_ms=_CMD_MS, reason="at"):
        res, lines = self.cmd(command, timeout_ms)
        if res == TIMEOUT:
            raise ModemError("silent", "the modem stopped answering at %s" % command)
        if res != OK:
            raise ModemError(reason, "the modem refused %s: %s"
                             % (command, _text(lines)))

    def attach(self, t_end, apn, rat=RAT_LTE_M):
        """Power on, set up and register before t_end (ticks). Raises ModemError. The
        settings the modem keeps (NVM, user profile) are sent when .nvm is not this set
        ("<rat>,<apn>"); .nvm says so after, None while not known done."""
        if not self.power_on():
            raise ModemError("dead", "the modem does not answer AT, even after %d power "
                             "cycles" % self.power_cycles)
        key = "%d,%s" % (rat, apn)
        if self.nvm != key:
            self.nvm = None
            self.must("ATE0")
            self.cmd("AT+CMEE=2")
        self.echo = False
        if not self.sim_ready:                   # +CPIN: READY as it booted says it all
            res, lines = self.cmd("AT+CPIN?", _CPIN_MS, b"+CPIN:")
            if res == TIMEOUT:
                raise ModemError("silent", "the modem stopped answering at AT+CPIN?")
            if res != OK or not lines or lines[0] != b"+CPIN: READY":
                raise ModemError("sim", "the SIM is not ready: %s" % _text(lines))
            self.sim_ready = True
        self.sim_lost = False
        if self.nvm != key:
            self.must("AT+CNMP=38")              # LTE only
            self.must("AT+CMNB=%d" % rat)
            self.must('AT+CGDCONT=1,"IP","%s"' % apn)
            self.must("AT&W")                    # echo off, verbose errors from power-on
            self.nvm = key
        self.must("AT+CEREG=1")                  # URC on registration changes
        self.register(t_end)
        self.signal()

    def register(self, t_end):
        """Wait for stat 1 (home) or 5 (roaming) until t_end; 3 (denied) ends at once; 0
        (not searching) twice in a row gets AT+CFUN=0 / AT+CFUN=1 once. One AT+CEREG?,
        then the +CEREG URC (AT+CEREG=1) is waited for, with a look every _REG_WAIT_MS;
        while not searching (no URC comes) it polls with a growing step."""
        step = _REG_STEP_MS
        idle = 0
        look = True
        while True:
            if look:
                res, _ = self.cmd("AT+CEREG?", _CMD_MS, b"+CEREG:")
                if res == TIMEOUT:
                    raise ModemError("silent", "the modem stopped answering at AT+CEREG?")
            s = self.stat
            if s == 1 or s == 5:
                return s
            if s == 3:
                raise ModemError("denied", "the network denied registration (CEREG stat 3)")
            idle = idle + 1 if s == 0 else 0
            if idle == 2:      # not searching (gave up): first rung, radio off and on
                self.cmd("AT+CFUN=0", _CFUN_MS)
                self.cmd("AT+CFUN=1", _CFUN_MS)
            left = self.left(t_end)
            if left <= 0:
                raise ModemError("noreg", "no network registration in time (last CEREG "
                                 "stat %s)" % s)
            if s == 0:
                # not searching: no URC will come, look again after a step
                self._clock.sleep_ms(min(step, left))
                step = min(_REG_STEP_MAX_MS, step * 3 // 2)
                look = True
            else:
                # the next +CEREG URC carries the new stat; none in a while: look again
                look = not self.await_urc(b"+CEREG:", self.deadline(min(_REG_WAIT_MS, left)))

    def signal(self):
        """AT+CSQ -> self.rssi_dbm (None when unknown)."""
        res, lines = self.cmd("AT+CSQ", _CMD_MS, b"+CSQ:")
        rssi = None
        if res == OK and lines:
            rssi = _int(lines[0][5:].split(b",")[0].strip())
        self.rssi_dbm = csq_dbm(rssi)
        return self.rssi_dbm

    def set_psm(self, tau_s, active_s):
        """Request PSM timers (AT+CPSMS=1,,,T3412,T3324); None for either disables PSM."""
        if tau_s is None or active_s is None:
            return self.cmd("AT+CPSMS=0")[0] == OK
        return self.cmd('AT+CPSMS=1,,,"%s","%s"' % (psm_t3412(tau_s),
                                                     psm_t3324(active_s)))[0] == OK

    def wait_pdp(self, t_end, want=True):
        """Wait for +APP PDP: 0,ACTIVE (or DEACTIVE) until t_end."""
        while self.pdp != want:
            if not self.await_urc(b"+APP PDP:", t_end):
                return False
        return True

    def activate(self, t_end, apn):
        """App PDP context 0 (AT+CNCFG / AT+CNACT, the modem's own IP stack)."""
        self.poll()
        if self.pdp:
            return
        self.must('AT+CNCFG=0,1,"%s"' % apn)
        res, lines = self.cmd("AT+CNACT=0,1", min(_CNACT_MS, max(1, self.left(t_end))))
        if res == TIMEOUT:
            raise ModemError("silent", "the modem stopped answering at AT+CNACT")
        if res != OK and not self.pdp:
            raise ModemError("pdp", "PDP activation refused: %s" % _text(lines))
        if not self.wait_pdp(t_end):
            raise ModemError("pdp", "PDP context did not come up in time")
        res, lines = self.cmd("AT+CNACT?", _CMD_MS, b"+CNACT: 0,")
        if res == OK and lines:
            f = lines[0].split(b",")
            if len(f) > 2 and f[1] == b"1":
                self.ip = f[2].strip(b'"').decode()

    def dial(self, t_end):
        """ATD*99#: the UART carries PPP after CONNECT."""
        res, lines = self.cmd("ATD*99#", max(1, min(15000, self.left(t_end))),
                              final=b"CONNECT")
        if res != CONNECT:
            raise ModemError("dial", "dialling the data call failed: %s" % _text(lines))


def _text(lines):
    out = []
    for x in lines:
        try:
            out.append(x.decode())
        except UnicodeError:
            out.append(repr(x))
    return " / ".join(out) or "no answer"


# The shell and older callers know the power helper by this name.
ModemPower = Modem
