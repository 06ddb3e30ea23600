"""Both sides of the SIM7080G dialogue against each other: the firmware's driver
(firmware/drivers/modem.py, pure Python) on CPython against the simulator's emulator
(host_tools/sim/devices/modem.py), with a virtual clock and a UART whose read waits up to
its timeout (100 ms, longer while the driver waits for a URC) like the sim board's. What
the emulator records is what the report counts."""

from __future__ import annotations

import random
import sys

import pytest

from host_tools.paths import FIRMWARE
from host_tools.sim.devices.modem import ModemEmu
from host_tools.sim.world.outages import Outage, Outages

from ..conftest import TESTS


@pytest.fixture(scope="module")
def fw():
    sys.path[:0] = [str(FIRMWARE), str(TESTS / "shims")]
    try:
        from drivers import modem as md
        from netlink import ModemLink

        yield md, ModemLink
    finally:
        del sys.path[:2]


class Clock:
    def __init__(self, t0_ms: int = 1_000_000):
        self.ms = t0_ms

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        return a - b

    def ticks_add(self, a, d):
        return a + d

    def sleep_ms(self, ms):
        self.ms += max(0, ms)


class Bench:
    """UART + PWRKEY of the emulator, as the sim board's requests would drive it."""

    def __init__(self, emu: ModemEmu, clock: Clock):
        self.emu, self.clock, self.requests = emu, clock, 0
        self.timeout_ms = 100
        self.sent: list[bytes] = []

    def _t(self):
        return self.clock.ms / 1000

    def any(self):
        self.requests += 1
        return self.emu.any(self._t())

    def init(self, timeout=None):
        if timeout is not None:
            self.timeout_ms = timeout

    def readinto(self, buf, n=-1):
        self.requests += 1
        n = len(buf) if n < 0 else n
        data, t_after = self.emu.read(self._t(), n, self.timeout_ms / 1000)
        self.clock.ms = max(self.clock.ms, int(t_after * 1000))
        if not data:
            return None
        buf[:len(data)] = data
        return len(data)

    def write(self, buf):
        self.requests += 1
        self.emu.write(self._t(), bytes(buf))
        self.sent.append(bytes(buf).strip())
        return len(buf)

    def value(self, v=None):
        self.requests += 1
        assert self.emu.pwrkey(self._t(), v)


def setup(fw, outages=None):
    md, ModemLink = fw

    class Link(ModemLink):
        def _data_up(self, t_end):
            self.modem.activate(t_end, "iot")

    clock = Clock()
    emu = ModemEmu(rng=random.Random(7), outages=outages)
    bench = Bench(emu, clock)
    modem = md.Modem(bench, bench, clock)
    return Link(modem, clock, "iot"), modem, emu, bench, clock


def test_attach_session_and_power_down(fw):
    link, modem, emu, bench, clock = setup(fw)
    t0 = clock.ms
    assert link.up(60000), link.error
    assert emu.powered and emu.pdp and modem.pdp and modem.stat == 5
    assert link.rssi_dbm == -113 + 2 * emu.rssi
    assert modem.ip and modem.ip.startswith("10.170.")
    assert clock.ms - t0 < 60000
    assert bench.requests < 100, bench.requests      # UART round trips of one attach
    link.down()
    assert not emu.powered and emu.cpowd == 1
    assert emu.power_cycles == 0 and emu.key_off_responsive == 0


def test_running_modem_gets_no_pulse(fw):
    link, modem, emu, bench, clock = setup(fw)
    assert link.up(60000)
    ons = emu.power_ons
    link.is_up = False
    assert link.up(60000)          # found on: answers AT, so no PWRKEY toggle
    assert emu.power_ons == ons and emu.key_off_responsive == 0 and emu.powered


def test_hang_is_power_cycled_once(fw):
    plan = Outages([Outage("modem_hang", 1000.0, 1000.0)])
    link, modem, emu, bench, clock = setup(fw, plan)
    assert link.up(90000), link.error
    assert emu.hangs == 1 and emu.power_cycles == 1 and emu.key_off_responsive == 0
    assert 1 <= modem.power_cycles <= 2     # pulses beyond the first (a silent modem)


def test_denied_registration_is_a_fault_and_the_modem_goes_off(fw):
    plan = Outages([Outage("reg_denied", 0.0, 10_000.0)])
    link, modem, emu, bench, clock = setup(fw, plan)
    assert not link.up(60000)
    assert link.fault == "denied" and "denied" in link.error
    assert emu.denials == 1 and not emu.powered


def test_no_coverage_ends_at_the_deadline(fw):
    plan = Outages([Outage("no_coverage", 0.0, 100_000.0)])
    link, modem, emu, bench, clock = setup(fw, plan)
    t0 = clock.ms
    assert not link.up(40000)
    assert link.fault == "noreg"
    assert 40000 <= clock.ms - t0 < 50000
    assert not emu.powered


def test_pdp_drop_is_seen_and_reactivated(fw):
    link, modem, emu, bench, clock = setup(fw)
    assert link.up(60000)
    emu.pdp = False
    emu.out.append((clock.ms / 1000, b"\r\n+APP PDP: 0,DEACTIVE\r\n"))
    modem.poll()
    assert not modem.pdp
    modem.activate(modem.deadline(20000), "iot")
    assert modem.pdp and emu.pdp and emu.activations == 2


def test_nvm_set_up_once_and_kept_across_power_cycles(fw):
    link, modem, emu, bench, clock = setup(fw)
    assert link.up(60000), link.error
    assert b"AT+CNMP=38" in bench.sent and b"AT&W" in bench.sent
    assert modem.nvm == "1,iot"
    link.down()
    first = bench.requests
    # the next wake: a new driver that knows the set-up done (netwatch keeps it)
    md = fw[0]
    again = md.Modem(bench, bench, clock)
    again.nvm = "1,iot"
    link2 = type(link)(again, clock, "iot")
    bench.sent.clear()
    bench.requests = 0
    clock.sleep_ms(600_000)
    assert link2.up(60000), link2.error
    assert not {b"ATE0", b"AT+CMEE=2", b"AT+CNMP=38", b"AT+CMNB=1", b"AT&W",
                b'AT+CGDCONT=1,"IP","iot"', b"AT+CPIN?"} & set(bench.sent), bench.sent
    assert bench.requests < first - 6, (bench.requests, first)
    # what the modem kept: the profile's echo off at power-on, the RAT, the APN
    assert emu.nvm == {"cnmp": 38, "cmnb": 1, "cgdcont": b"iot", "echo": False, "cmee": 2}
    assert not emu.echo
    assert modem.cmd("AT+CNMP?", 1000, b"+CNMP:")[1] == [b"+CNMP: 38"]
    link2.down()


def test_urcs_are_waited_for_not_polled(fw):
    link, modem, emu, bench, clock = setup(fw)
    assert link.up(60000), link.error
    # registration (15-45 s) and the PDP context (1-5 s): one AT+CEREG? and one long wait
    # for each URC rather than a poll every few seconds
    assert bench.sent.count(b"AT+CEREG?") <= 2
    assert bench.requests < 50, bench.requests
    link.down()
    assert not emu.powered and emu.cpowd == 1


def test_nvm_known_done_is_kept_in_the_state_until_a_fault(fw):
    import netwatch

    link, modem, emu, bench, clock = setup(fw)
    st: dict = {}
    netwatch.prime(link, st)
    assert link.up(60000)
    netwatch.note(link, st, [], 0)
    assert st["net"]["nvm"] == "1,iot"
    link.down()
    # the next wake's driver learns it from the state
    again = fw[0].Modem(bench, bench, clock)
    link2 = type(link)(again, clock, "iot")
    netwatch.prime(link2, st)
    assert again.nvm == "1,iot"
    # a session that fails has the set-up sent again next time
    emu.outages = Outages([Outage("reg_denied", clock.ms / 1000, 10_000.0)])
    assert not link2.up(60000) and link2.fault == "denied"
    queue: list = []
    netwatch.note(link2, st, queue, 0)
    assert st["net"]["nvm"] is None and queue
