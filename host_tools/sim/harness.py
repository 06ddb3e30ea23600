"""One simulation with its independent observers: a broker (started unless one is given),
the network model in front of it and a subscriber on it. Tests, benchmarks and the CLI use
this so that every figure is measured the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from host_tools.broker import Broker
from host_tools.sim.engine import SimConfig, Simulation
from host_tools.sim.network.proxy import Proxy
from host_tools.sim.observe.subscriber import Subscriber
from host_tools.sim.report import build


@dataclass
class Run:
    report: dict
    sim: Simulation
    subscriber: Subscriber     # stopped; what it saw stays readable
    proxy: Proxy               # stopped; its wire statistics stay readable


def drain(proxy: Proxy, subscriber: Subscriber, timeout_s: float = 10.0) -> None:
    """Wait until everything that went on the wire has reached the observer."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with proxy.lock:
            sent = [(k, proxy.stats.by_kind[k]) for k in ("telemetry", "event")]
        if all(subscriber.count(k) >= n for k, n in sent):
            return
        time.sleep(0.05)


def simulate(cfg: SimConfig, upstream: tuple[str, int] | None = None,
             prepare: Callable[[Simulation], None] | None = None,
             client_id: str = "sim-observer", on_progress=None,
             progress_every_s: float = 0.5, dispatch: str | None = None,
             crew_settings=None) -> Run:
    """Run cfg to its end; prepare(sim) may adjust the world before the first wake.
    dispatch: crews sent by that policy (host_tools.dispatch) instead of the world's own."""
    broker = proxy = subscriber = None
    try:
        if upstream is None:
            broker = Broker().start()
            upstream = (broker.host, broker.port)
        proxy = Proxy(upstream).start()
        subscriber = Subscriber(*upstream, client_id=client_id).start()
        if dispatch:
            cfg.settings.crew = "visits"
        sim = Simulation(cfg, proxy.address, upstream[1])
        if dispatch:
            from host_tools.sim.crew import Crew

            sim.set_hook(Crew(dispatch, list(sim.bins), subscriber, proxy, crew_settings))
        if prepare:
            prepare(sim)
        t0 = time.monotonic()
        sim.run(on_progress, progress_every_s)
        wall = time.monotonic() - t0
        drain(proxy, subscriber)
        return Run(build(sim, subscriber, proxy, wall), sim, subscriber, proxy)
    finally:
        if subscriber:
            subscriber.stop()
        if proxy:
            proxy.stop()
        if broker:
            broker.stop()
