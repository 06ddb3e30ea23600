"""SIM7080G emulator on the sim board's modem UART: speaks the AT dialogue of the reference
sheet (PWRKEY toggle, boot URCs, echo until ATE0, CPIN, CNMP/CMNB, CGDCONT, CEREG with
URCs, CSQ, CNCFG/CNACT with +APP PDP URCs, CPSMS, CPOWD), in virtual time: replies and URCs
carry the time they appear. What the real modem keeps across power cycles is kept too:
AT+CNMP, AT+CMNB and AT+CGDCONT in NVM, echo and error format in the user profile that
AT&W saves (loaded at every power-on). Once the app PDP context is active, the data path
is a TCP connection through the network model (route()). Faults come from an outage schedule:
hang, registration denied, no coverage, coverage lost mid-session, PDP deactivated."""

from __future__ import annotations

import random
import re

from host_tools.sim.world import power

BOOT_S = (4.5, 7.0)          # PWRKEY released -> AT answered
ATTACH_S = (15.0, 45.0)      # PWRKEY -> registered (cold attach), seeded per session
DENY_S = (3.0, 10.0)         # power-on -> CEREG stat 3 while denied
PDP_S = (1.0, 5.0)           # AT+CNACT=0,1 OK -> +APP PDP: 0,ACTIVE
REPLY_S = 0.02
CPOWD_S = 1.0
KEY_MIN_S = 1.0              # PWRKEY low at least this long toggles power
CUT_UP_BYTES = (120, 600)    # a cut mid-session comes after this many bytes upward


class ModemEmu:
    def __init__(self, world=None, rng: random.Random | None = None, outages=None,
                 net=None, key: str = ""):
        self.world = world
        self.rng = rng or random.Random(0)
        self.outages = outages        # world.outages.Outages or None
        self.net = net                # network model with route(key, plan), or (host, port)
        self.key = key
        self.powered = False
        self.ready_at = 0.0
        self.echo = True
        self.cmee = 0
        # NVM: kept across power cycles (the board's too); "echo"/"cmee": the AT&W profile
        self.nvm = {"cnmp": 2, "cmnb": 3, "cgdcont": b"", "echo": True, "cmee": 0}
        self.hung = False
        self.cereg_n = 0
        self.reg_at: float | None = None      # becomes registered (stat 5) at
        self.deny_at: float | None = None     # becomes denied (stat 3) at
        self.lost_until = 0.0                 # coverage lost mid-session until
        self.reg_reported = False
        self.pdp = False
        self.pdp_at: float | None = None
        self.pdp_id = 0                       # activations since power-on (sessions)
        self.activations = 0                  # PDP activations over the whole run
        self.routed_id = -1
        self.rssi = 18
        self.out: list[tuple[float, bytes]] = []
        self._key_down_at: float | None = None
        self._line = bytearray()
        self._off_at: float | None = None     # AT+CPOWD=1: off at
        # observations (the report reads these, never the firmware's claims)
        self.power_ons = 0
        self.power_cycles = 0         # switched off by PWRKEY (a hang or a toggle mistake)
        self.key_off_responsive = 0   # ...of those, while it was answering: toggle mistakes
        self.cpowd = 0
        self.commands = 0
        self.sessions = 0             # power-ons whose PDP context carried traffic
        self.hangs = 0
        self.denials = 0
        self.brownouts = 0
        self.reboots = 0              # reset by a brown-out in a TX burst (outages)

    # power ------------------------------------------------------------------------------
    def _account(self, t: float) -> None:
        """The modem's draw on the world's battery bus from its state."""
        if self.world is None:
            return
        self.world.advance(t)
        p = self.world.power
        if not self.powered:
            p.modem_w = 0.0
        elif self.pdp:
            p.modem_w = power.LINK_W
        else:
            p.modem_w = power.MODEM_ATTACH_W

    def account(self, t: float) -> None:
        self._account(t)

    def pwrkey(self, t: float, asserted: int) -> bool:
        """False when switching on sags the bus below brown-out (the board resets)."""
        if asserted:
            self._key_down_at = t
            return True
        if self._key_down_at is None or t - self._key_down_at < KEY_MIN_S:
            self._key_down_at = None
            return True
        self._key_down_at = None
        if self.powered:
            self.power_cycles += 1
            if not self.hung and t >= self.ready_at:
                self.key_off_responsive += 1
            self._off(t)
            return True
        if self.world is not None and not self.world.power.surge(power.MODEM_PEAK_A):
            self.brownouts += 1
            return False
        self._on(t)
        return True

    def _on(self, t: float) -> None:
        self.powered = True
        self.power_ons += 1
        self.hung = False
        self.echo, self.cmee = self.nvm["echo"], self.nvm["cmee"]   # the saved profile
        self.cereg_n = 0
        self.pdp, self.pdp_at, self.pdp_id = False, None, 0
        self.ready_at = t + self.rng.uniform(*BOOT_S)
        self.out.append((self.ready_at, b"\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n"))
        self._start_attach(t)
        self.rssi = max(2, min(30, int(self.rng.gauss(17, 5))))
        self._account(t)

    def _start_attach(self, t: float) -> None:
        self.reg_reported = False
        self.reg_at = self.deny_at = None
        o = self.outages
        if o is not None and o.active("reg_denied", t):
            o.active("reg_denied", t).applied += 1
            self.denials += 1
            self.deny_at = t + self.rng.uniform(*DENY_S)
            return
        at = max(t + self.rng.uniform(*ATTACH_S), self.ready_at + 2)
        nocov = o.active("no_coverage", t) if o is not None else None
        if nocov is not None:
            nocov.applied += 1
            at = max(at, nocov.end + 10)
        if self.lost_until > t:
            at = max(at, self.lost_until + 10)
        self.reg_at = at

    def _off(self, t: float) -> None:
        self.powered = False
        self._off_at = None
        self.hung = False
        self.pdp = False
        self.out.clear()
        self._line.clear()
        self._account(t)

    def power_loss(self, t: float) -> None:
        """The board's supply collapsed (brown-out): the modem goes down with it."""
        if self.powered:
            self._off(t)

    def chip_boot(self, t: float) -> None:
        """The ESP32 reset: bytes in its UART FIFO are lost; the modem keeps running."""
        self.out = [(ts, b) for ts, b in self.out if ts > t]
        self._account(t)

    # state over time ---------------------------------------------------------------------
    def stat(self, t: float) -> int:
        if self.deny_at is not None:
            return 3 if t >= self.deny_at else 2
        if t < self.lost_until:
            return 4
        if self.reg_at is not None and t >= self.reg_at:
            return 5
        return 2

    def _settle(self, t: float) -> None:
        """Emit the URCs of state changes up to t (each stamped with its own time)."""
        if not self.powered or self.hung:
            return
        if not self.reg_reported and self.cereg_n:
            at = self.reg_at if self.deny_at is None else self.deny_at
            if at is not None and at <= t:
                self.reg_reported = True
                self.out.append((at, b"\r\n+CEREG: %d\r\n" % self.stat(at)))
        if self.pdp_at is not None and self.pdp_at <= t:
            at, self.pdp_at = self.pdp_at, None
            self.out.append((at, b"\r\n+APP PDP: 0,ACTIVE\r\n"))
            self.pdp = True
            self.pdp_id += 1
            self.activations += 1
            self._account(at)

    # UART ---------------------------------------------------------------------------------
    def write(self, t: float, data: bytes) -> None:
        if not self.powered:
            return
        self._settle(t)
        for b in data:
            if b in (13, 10):
                line = bytes(self._line).strip()
                self._line.clear()
                if line:
                    self._command(t, line)
            elif len(self._line) < 512:
                self._line.append(b)

    def _reply(self, t: float, text: bytes) -> None:
        if text:        # (AT+CPOWD=1 with echo off says nothing until it is down)
            self.out.append((t + REPLY_S, text))

    def _command(self, t: float, line: bytes) -> None:
        if self.hung or t < self.ready_at:
            return
        o = self.outages
        hang = o.due("modem_hang", t) if o is not None else None
        if hang is not None:
            hang.applied += 1
            self.hangs += 1
            self.hung = True
            self.out.clear()
            return
        self.commands += 1
        echo = line + b"\r" if self.echo else b""
        up = line.upper()
        if not up.startswith(b"AT"):
            return
        body = self._answer(t, up[2:], line[2:])
        if body is None:
            body = b"\r\nERROR\r\n"
        self._reply(t, echo + body)

    def _answer(self, t: float, cmd: bytes, raw: bytes) -> bytes | None:
        ok = b"\r\nOK\r\n"
        nvm = self.nvm
        if cmd in (b"", b"I"):
            return b"\r\nSIMCOM_SIM7080G\r\n" + ok if cmd == b"I" else ok
        if cmd in (b"+CMEE=2", b"+CMEE=1", b"+CMEE=0"):
            self.cmee = cmd[-1] - 48
            return ok
        if cmd == b"&W":            # the user profile: loaded at every power-on
            nvm["echo"], nvm["cmee"] = self.echo, self.cmee
            return ok
        if cmd in (b"E0", b"E1"):
            self.echo = cmd == b"E1"
            return ok
        if cmd == b"+CNMP?":
            return b"\r\n+CNMP: %d\r\n" % nvm["cnmp"] + ok
        if cmd == b"+CMNB?":
            return b"\r\n+CMNB: %d\r\n" % nvm["cmnb"] + ok
        if cmd == b"+CGDCONT?":
            return (b'\r\n+CGDCONT: 1,"IP","%s","0.0.0.0",0,0,0,0\r\n' % nvm["cgdcont"]
                    if nvm["cgdcont"] else b"\r\n") + ok
        if cmd == b"+CPIN?":
            return b"\r\n+CPIN: READY\r\n" + ok
        if cmd == b"+CFUN=0":
            self.pdp, self.pdp_at, self.reg_at, self.deny_at = False, None, None, None
            return ok
        if cmd in (b"+CFUN=1", b"+CFUN=1,1"):
            if self.reg_at is None and self.deny_at is None:
                self._start_attach(t)
            return ok
        m = re.fullmatch(rb"\+CNMP=(\d+)", cmd)
        if m:
            if int(m[1]) not in (2, 38, 51):
                return None
            nvm["cnmp"] = int(m[1])
            return ok
        m = re.fullmatch(rb"\+CMNB=(\d+)", cmd)
        if m:
            if int(m[1]) not in (1, 2, 3):
                return None
            nvm["cmnb"] = int(m[1])
            return ok
        m = re.fullmatch(rb'\+CGDCONT=1,"IP","([^"]*)"', cmd)
        if m:
            nvm["cgdcont"] = raw[len(raw) - len(m[1]) - 1:-1]   # the APN as written
            return ok
        if re.fullmatch(rb'\+CNCFG=0,[012],"[^"]*"(,.*)?', cmd):
            return ok
        m = re.fullmatch(rb"\+CEREG=([0124])", cmd)
        if m:
            self.cereg_n = int(m[1])
            return ok
        if cmd == b"+CEREG?":
            return b"\r\n+CEREG: %d,%d\r\n" % (self.cereg_n, self.stat(t)) + ok
        if cmd == b"+CSQ":
            rssi = self.rssi if self.stat(t) in (1, 5) else 99
            return b"\r\n+CSQ: %d,99\r\n" % rssi + ok
        if cmd == b"+CNACT=0,1":
            if self.stat(t) not in (1, 5):
                return None
            if not self.pdp and self.pdp_at is None:
                self.pdp_at = t + self.rng.uniform(*PDP_S)
            return ok
        if cmd == b"+CNACT=0,0":
            self.pdp, self.pdp_at = False, None
            self._account(t)
            self.out.append((t + 0.5, b"\r\n+APP PDP: 0,DEACTIVE\r\n"))
            return ok
        if cmd == b"+CNACT?":
            ip = b"10.170.%d.%d" % (23, 5 + self.pdp_id % 200) if self.pdp else b"0.0.0.0"
            lines = b"\r\n+CNACT: 0,%d,\"%s\"" % (int(self.pdp), ip)
            for i in (1, 2, 3):
                lines += b"\r\n+CNACT: %d,0,\"0.0.0.0\"" % i
            return lines + b"\r\n" + ok
        if re.fullmatch(rb'\+CPSMS=0|\+CPSMS=1,,,"[01]{8}","[01]{8}"', cmd):
            return ok
        if cmd == b"+CPOWD=1":
            self.cpowd += 1
            self.out.append((t + CPOWD_S, b"\r\nNORMAL POWER DOWN\r\n"))
            self.pdp = False
            self._off_at = t + CPOWD_S
            return b""
        if cmd.startswith(b"D*99"):
            return b"\r\nNO CARRIER\r\n"   # no PPP on the sim board: the data path is TCP
        return None

    def any(self, t: float) -> int:
        self._settle(t)
        self._finish_cpowd(t)
        return sum(len(b) for ts, b in self.out if ts <= t)

    def _finish_cpowd(self, t: float) -> None:
        if self._off_at is not None and t >= self._off_at:
            at = self._off_at
            keep = [(ts, b) for ts, b in self.out if ts <= at]
            self._off(at)
            self.out = keep

    def read(self, t: float, n: int, timeout_s: float) -> tuple[bytes, float]:
        self._settle(t + timeout_s)
        self._finish_cpowd(t + timeout_s)
        ready = [ts for ts, _ in self.out if ts <= t + timeout_s]
        if not ready:
            return b"", t + timeout_s
        t_at = max(t, min(ready))
        self.out.sort(key=lambda x: x[0])
        buf = bytearray()
        keep = []
        for ts, b in self.out:
            if ts <= t_at and (n < 0 or len(buf) < n):
                room = len(b) if n < 0 else n - len(buf)
                buf += b[:room]
                if b[room:]:
                    keep.append((ts, b[room:]))
            else:
                keep.append((ts, b))
        self.out = keep
        return bytes(buf), t_at + 0.001

    # data path ----------------------------------------------------------------------------
    def route(self, t: float):
        """The network model's address for this bin's TCP connections while the app PDP
        context is active, else None. Mid-session faults are armed here."""
        self._settle(t)
        if not self.powered or self.hung or not self.pdp or self.stat(t) not in (1, 5):
            return None
        new = self.power_ons != self.routed_id      # a session: one power-on of the modem
        if new:
            self.routed_id = self.power_ons
            self.sessions += 1
        plan = {"new_session": new, "refuse": False, "cut_after_up": None, "why": None}
        o = self.outages
        if o is not None:
            down = o.active("broker_down", t)
            if down is not None:
                down.applied += 1
                plan["refuse"] = True
            cut = o.due("coverage_cut", t)
            drop = None if cut else o.due("pdp_drop", t)
            boot = None if cut or drop else o.due("modem_reboot", t)
            ev = cut or drop or boot
            if boot is not None:
                # silently reset by a brown-out in a TX burst: only the boot URCs tell
                boot.applied += 1
                self.reboots += 1
                plan["cut_after_up"] = self.rng.randint(*CUT_UP_BYTES)
                plan["why"] = boot.kind
                self.pdp, self.cereg_n = False, 0
                self.echo, self.cmee = self.nvm["echo"], self.nvm["cmee"]
                self.ready_at = t + BOOT_S[0]
                self._start_attach(t + BOOT_S[0])
                self.out.append((t + BOOT_S[0], b"\r\nRDY\r\n\r\n+CFUN: 1\r\n"
                                 b"\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n"))
                self._account(t)
            elif ev is not None:
                ev.applied += 1
                plan["cut_after_up"] = self.rng.randint(*CUT_UP_BYTES)
                plan["why"] = ev.kind
                # the modem says so at the next look: bearer gone (and coverage, for a cut)
                self.pdp = False
                urc = b"\r\n+APP PDP: 0,DEACTIVE\r\n"
                if cut is not None:
                    self.lost_until = t + (cut.end - cut.start)
                    self.reg_at = self.lost_until + self.rng.uniform(5, 30)
                    urc = b"\r\n+CEREG: 4\r\n" + urc
                self.out.append((t + 0.05, urc))
                self._account(t)
        if self.net is None:
            return None
        if not hasattr(self.net, "route"):     # a bare address: one shared path, no faults
            return list(self.net)
        return list(self.net.route(self.key, plan))
