"""The sim board's peripherals, host side: one VirtualBin per firmware instance answers the
requests of firmware/board/simlink.py (protocol: docs/sim-protocol.md) from its world."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from host_tools.sim.devices.a02yyuw import A02YYUWEmu
from host_tools.sim.devices.analog import divider_uv, isense_uv, ntc_uv
from host_tools.sim.devices.hcsr04 import HCSR04Emu
from host_tools.sim.devices.maxbotix import MaxBotixEmu
from host_tools.sim.devices.modem import ModemEmu
from host_tools.sim.faults import Faults
from host_tools.sim.world import power
from host_tools.sim.world.bin import BinWorld
from host_tools.sim.world.motor import INRUSH_MA, RUN_MA
from host_tools.sim.world.outages import Outages, schedule

ATTACH_S = (15.0, 45.0)  # modem: cold attach + PDP, virtual seconds (seeded per session)


@dataclass
class Boot:
    reset: str = "power_on"
    wake: str | None = None


@dataclass
class Counters:
    boots: int = 0
    wakes: int = 0
    awake_ms: int = 0
    link_sessions: int = 0
    watchdog_resets: int = 0
    crashes: int = 0
    safe_mode_entries: int = 0   # boots that ended in safe mode (the REPL or its sleep)


@dataclass
class MotorLog:
    """Safety monitor: judges the bridge from its pins and the door from the world."""
    on_since: float | None = None
    dir_since: float | None = None
    intervals: list[tuple[float, float]] = field(default_factory=list)
    both_ms: float = 0.0


class Control(Exception):
    """Ends a request with a control word instead of a result (reset:<cause>, exit, err:)."""

    def __init__(self, word: str, t_ms: int | None = None):
        super().__init__(word)
        self.word = word
        self.t_ms = t_ms


def rtc_digest(mem: bytes) -> str:
    """The sim board's rtc_digest() (firmware/board/simlink.py) of the same bytes."""
    return hashlib.sha256(mem).hexdigest()[:16]


class VirtualBin:
    def __init__(self, bin_id: str, index: int, world: BinWorld, seed: int, mode: str,
                 net_addr: tuple[str, int]):
        self.bin_id = bin_id
        self.index = index
        self.world = world
        self.mode = mode
        self.net_addr = getattr(net_addr, "address", net_addr)
        # the level sensors fitted, in order: UART ones on "level<i>", trigger/echo ones on
        # pins "trig<i>"/"echo<i>"; the first one's raw output is the naive baseline
        self.rangers = []
        for i, kind in enumerate(world.settings.sensors):
            rng = random.Random(f"{seed}:{index}:sensor" + (str(i) if i else ""))
            if kind == "maxbotix":
                self.rangers.append(MaxBotixEmu(world, rng))
            elif kind == "hcsr04":
                self.rangers.append(HCSR04Emu(world, rng))
            else:
                self.rangers.append(A02YYUWEmu(world, rng))
        self.level = self.rangers[0]
        # net_addr may be the network model itself: then each bin has its own path there
        self.outages = Outages(schedule(seed, index, world.t)) \
            if world.settings.scenario == "outages" else None
        self.faults = Faults(seed, index) if world.settings.scenario == "faults" else None
        self.modem = ModemEmu(world, random.Random(f"{seed}:{index}:modem"), self.outages,
                              net_addr, bin_id)
        self.attach_rng = random.Random(f"{seed}:{index}:attach")
        self.uarts = {f"level{i}": r for i, r in enumerate(self.rangers)
                      if not isinstance(r, HCSR04Emu)}
        self.uarts["modem"] = self.modem
        self.echoes = {f"echo{i}": r for i, r in enumerate(self.rangers)
                       if isinstance(r, HCSR04Emu)}
        self.pins = {"motor_in1": 0, "motor_in2": 0, "modem_pwrkey": 0}
        self.rtc = b""
        self.boot = Boot()
        self.counters = Counters()
        self.motor = MotorLog()
        self.wdt_timeout_ms: int | None = None
        self.wdt_fed_ms = 0
        self.t_boot_ms = 0
        self.link_up = False
        self.sleep_until_ms: int | None = None
        self.door_forced: bool | None = None
        self.power_log: list[tuple[int, float, float, float]] = []  # (t, soc %, V, solar W)
        self.awake = False
        self.truth: list[tuple[int, float]] = []   # (t_ms, true fill) at each sensor read
        self.irq: dict[str, int] = {}     # pins with an armed interrupt -> trigger bits
        self.irq_seen = 0                 # door windows already reported as edges
        self.irq_delivered = 0            # door edges reported to the firmware

    # lifecycle --------------------------------------------------------------------------
    def on_boot(self, t_ms: int, board_rtc: str | None = None) -> dict:
        """board_rtc: rtc_digest() of the RTC memory the board holds, if it holds one; the
        reply carries the memory only when it is not that (a power cut, a new process)."""
        self.counters.boots += 1
        self.world.advance(t_ms / 1000)
        p = self.world.power
        self.power_log.append((t_ms // 1000, round(p.soc * 100, 2), round(p.voltage(), 3),
                               round(p.solar_w(t_ms / 1000), 2)))
        if self.boot.reset == "deepsleep":
            self.counters.wakes += 1
        self.awake = True
        self.t_boot_ms = t_ms
        self.wdt_timeout_ms = None
        self.link_up = False
        for r in self.rangers:
            r.power_up(t_ms / 1000)
        self.world.power.load_w = 0.25
        self.modem.chip_boot(t_ms / 1000)   # its UART bytes are lost; it keeps running
        self.irq = {}
        info = {"t": t_ms, "reset": self.boot.reset, "wake": self.boot.wake,
                "mode": self.mode, "sensors": list(self.world.settings.sensors),
                "cuts": self.faults is not None}
        if board_rtc is None or board_rtc != rtc_digest(self.rtc):
            info["rtc"] = self.rtc.hex()
        if not self.pins["modem_pwrkey"]:   # the key is up: releasing it changes nothing
            info["out"] = {"modem_pwrkey": 0}
        if self.faults is not None:
            self.faults.on_boot()
        self.boot = Boot("hard", None)  # until a deep sleep or reset says otherwise
        return info

    def on_sleep(self, t_ms: int, ms: int) -> int:
        self._set_motor(t_ms / 1000, 0, 0)
        self.world.set_door_lock(t_ms / 1000, 0)   # pulled down in deep sleep
        self.counters.awake_ms += max(0, t_ms - self.t_boot_ms)
        self.awake = False
        self.world.advance(t_ms / 1000)
        self.world.power.load_w = 0.004
        self.modem.account(t_ms / 1000)     # a modem left on keeps drawing
        self.boot = Boot("deepsleep", "timer")
        self.sleep_until_ms = t_ms + max(0, ms)
        return self.sleep_until_ms

    def on_reset(self, t_ms: int, cause: str) -> None:
        self._set_motor(t_ms / 1000, 0, 0)
        self.world.set_door_lock(t_ms / 1000, 0)   # pulled down during reset
        self.counters.awake_ms += max(0, t_ms - self.t_boot_ms)
        self.awake = False
        self.world.advance(t_ms / 1000)
        self.boot = Boot(cause, None)
        self.wdt_timeout_ms = None      # the reset disarmed it; the next boot arms it again
        if cause == "watchdog":
            self.counters.watchdog_resets += 1
        if cause == "brownout":
            self.modem.power_loss(t_ms / 1000)

    def _door_irq(self, t: float) -> None:
        """The door IRQ is armed: if the door opens before this request, the firmware's
        handler runs first, at the edge's exact time (see docs/sim-protocol.md)."""
        w = self.world
        edge = w.next_door_open(t)
        if edge is not None:
            w.advance(edge)     # the world stops at the edge: the handler acts from there
        elif len(w.door_windows) > self.irq_seen:
            edge = w.door_windows[self.irq_seen][0]    # opened during a longer operation
        self.irq_seen = len(w.door_windows)
        if edge is not None:
            self.irq_delivered += 1
            raise Control(f"irq:door:{edge * 1000:.3f}")

    def _set_motor(self, t: float, in1: int, in2: int) -> None:
        m = self.motor
        was_on = self.pins["motor_in1"] or self.pins["motor_in2"]
        was_both = self.pins["motor_in1"] and self.pins["motor_in2"]
        if was_both and m.dir_since is not None:
            m.both_ms += (t - m.dir_since) * 1000
        self.pins["motor_in1"], self.pins["motor_in2"] = in1, in2
        self.world.ram.ambient_c = self.world.air_c(t)
        self.world.ram.set_inputs(t, in1, in2)
        on = in1 or in2
        if on and not was_on:
            m.on_since = t
        elif was_on and not on and m.on_since is not None:
            m.intervals.append((m.on_since, t))
            m.on_since = None
        m.dir_since = t

    def _pin(self, name: str, t: float) -> int:
        w = self.world
        if name == "door":
            if self.door_forced is not None:   # a technician holds it (service, tests)
                return int(self.door_forced)
            return int(w.door_open(t))
        if name == "limit_home":
            return int(w.ram.at_home(t))
        if name == "tilt":   # high = knocked over (sensing scenario)
            return int(w.sensing is not None and w.sensing.tilted(t))
        if name == "limit_end":
            return int(w.ram.at_end(t))
        if name == "lock_sense":   # high = the door lock's bolt is thrown
            w.advance(t)
            return int(w.door.bolt)
        return self.pins.get(name, 0)

    def _adc(self, name: str, t: float) -> int:
        w = self.world
        w.advance(t)
        if name == "temp":
            return ntc_uv(w.air_c(t))
        if name == "vbat":
            return divider_uv(w.power.voltage(), 6)
        if name == "vsolar":
            return divider_uv(w.power.panel_voltage(t), 11)
        if name == "motor_isense":
            return isense_uv(w.ram.current_ma(t))
        raise Control(f"err:no ADC channel {name!r}")

    # requests -----------------------------------------------------------------------------
    def handle(self, op: str, t_ms: int, args: list):
        """Answer one request made at virtual time t_ms: (t_ms_after, result)."""
        if self.wdt_timeout_ms is not None and op != "deepsleep" \
                and t_ms - self.wdt_fed_ms > self.wdt_timeout_ms:
            raise Control("reset:watchdog", self.wdt_fed_ms + self.wdt_timeout_ms)
        t = t_ms / 1000
        w = self.world
        if self.irq.get("door") and not (op == "pin_set" and len(args) > 2):
            self._door_irq(t)
        if op == "sample":      # inputs at this instant: pins by name, ADC channels "@name"
            return t_ms, [self._adc(n[1:], t) if n[:1] == "@" else self._pin(n, t)
                          for n in args]
        if op == "pin_get":
            return t_ms, self._pin(args[0], t)
        if op == "pin_set":
            name, v = args[0], int(args[1])
            if len(args) > 2:   # written by an interrupt handler: its exact time (ms)
                t = max(w.t, float(args[2]) / 1000)
            w.advance(t)
            was_on = self.pins["motor_in1"] or self.pins["motor_in2"]
            if v and not was_on and name in ("motor_in1", "motor_in2") \
                    and not w.power.surge((RUN_MA + INRUSH_MA) / 1000):
                raise Control("reset:brownout", t_ms)   # the inrush sags the bus: reset
            if name == "motor_in1":
                self._set_motor(t, v, self.pins["motor_in2"])
            elif name == "motor_in2":
                self._set_motor(t, self.pins["motor_in1"], v)
            elif name == "modem_pwrkey":
                if not self.modem.pwrkey(t, v):
                    raise Control("reset:brownout", t_ms)   # switching on sags the bus
                self.pins[name] = v
            elif name.startswith("trig") and v and not self.pins.get(name):
                self.echoes.get("echo" + name[4:], self.level).trigger(t)
                self.pins[name] = v
            elif name == "door_lock":
                w.set_door_lock(t, v)
                self.pins[name] = v
            else:
                self.pins[name] = v
            return t_ms, None
        if op == "adc_uv":
            return t_ms, self._adc(args[0], t)
        if op in ("uart_read", "uart_any", "uart_write", "uart_readline"):
            dev = self.uarts.get(args[0])
            if dev is None:
                raise Control(f"err:no UART {args[0]!r}")
            if op == "uart_any":
                return t_ms, dev.any(t)
            if op == "uart_write":
                dev.write(t, bytes.fromhex(args[1]))
                return t_ms, None
            n = args[1] if op == "uart_read" else -1
            timeout_ms = args[2] if op == "uart_read" else args[-1]
            char_ms = args[3] if op == "uart_read" and len(args) > 3 else 0
            if char_ms:     # bytes until none comes for timeout_char (the A02YYUW's burst)
                data, t_after = dev.read(t, n, timeout_ms / 1000, char_ms / 1000)
            else:
                data, t_after = dev.read(t, n, timeout_ms / 1000)
            if data and dev is not self.modem:
                self.truth.append((t_ms, w.true_fill_pct()))
            return max(t_ms, int(t_after * 1000)), data.hex()
        if op == "pulse_us":    # machine.time_pulse_us on a trigger/echo sensor's echo pin
            dev = self.echoes.get(args[0])
            if dev is None:
                raise Control(f"err:no echo pin {args[0]!r}")
            w.advance(t)
            us, t_after = dev.pulse_us(t, int(args[1]), int(args[2]))
            if us > 0:
                self.truth.append((t_ms, w.true_fill_pct()))
            return max(t_ms, int(t_after * 1000)), us
        if op == "pin_irq":     # arm (trigger bits) or disarm (0) an input's interrupt
            w.advance(t)
            self.irq[args[0]] = int(args[1])
            self.irq_seen = len(w.door_windows)
            return t_ms, None
        if op == "rtc_set":
            self.rtc = bytes.fromhex(args[0])[:2048]
            return t_ms, None
        if op == "wdt_init":
            self.wdt_timeout_ms = int(args[0])
            self.wdt_fed_ms = t_ms
            return t_ms, None
        if op == "wdt_feed":
            self.wdt_fed_ms = t_ms
            return t_ms, None
        if op == "link_up":
            w.advance(t)
            if not w.power.surge(power.MODEM_PEAK_A):
                raise Control("reset:brownout", t_ms)
            t_after = t_ms + int(self.attach_rng.uniform(*ATTACH_S) * 1000)
            w.power.load_w = power.AWAKE_W + power.MODEM_ATTACH_W
            self.link_up = True
            self.counters.link_sessions += 1
            w.advance(t_after / 1000)
            w.power.load_w = power.AWAKE_W + power.LINK_W
            return t_after, list(self.net_addr)
        if op == "net_route":   # the data path while the modem's PDP context is active
            return t_ms, self.modem.route(t)
        if op == "link_down":
            self.link_up = False
            w.power.load_w = 0.25
            return t_ms + 500, None
        raise Control(f"err:unknown request {op!r}")
