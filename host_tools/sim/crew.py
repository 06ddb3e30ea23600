"""The dispatched crew in the simulator: at each route start it asks the dispatcher
(host_tools.dispatch, which sees only what the broker delivered) for the day's visits, and
the crews' arrivals empty the bins in the world. Replaces the world's own crew rounds."""

from __future__ import annotations

import time

from host_tools.dispatch import CrewSettings, Dispatcher, Route, route_start, views_from

DRAIN_S = 10.0   # wall seconds to wait for the broker to deliver what went on the wire


class Crew:
    def __init__(self, policy: str, bin_ids: list[str], subscriber, proxy,
                 settings: CrewSettings | None = None):
        self.dispatcher = Dispatcher(policy, bin_ids, settings)
        self.cs = self.dispatcher.cs
        self.subscriber = subscriber
        self.proxy = proxy
        self.views: dict = {}
        self._seen = 0          # messages of the subscriber already folded into views
        self.routes: list[Route] = []

    def next_ms(self, after_ms: int) -> int:
        t = after_ms / 1000 + 1
        starts = [route_start(t, self.cs), self.dispatcher.afternoon_start(t)]
        return int(min(x for x in starts if x is not None) * 1000)

    def _drain(self) -> None:
        """Every report that went on the wire before the route has reached the observer."""
        deadline = time.monotonic() + DRAIN_S
        kinds = ("telemetry", "state", "event")
        while time.monotonic() < deadline:
            with self.proxy.lock:
                sent = sum(self.proxy.stats.by_kind[k] for k in kinds)
            if sum(self.subscriber.count(k) for k in kinds) >= sent:
                return
            time.sleep(0.01)

    def __call__(self, sim, t_ms: int) -> None:
        self._drain()
        now = t_ms / 1000
        with self.subscriber.lock:
            new = self.subscriber.messages[self._seen:]
            self._seen = len(self.subscriber.messages)
        views_from(new, now, self.views)
        if self.dispatcher.afternoon_start(now) == now:
            route = self.dispatcher.plan_pm(self.views, now)
        else:
            route = self.dispatcher.plan(self.views, now, route_start(now + 1, self.cs))
        self.routes.append(route)
        for v in route.visits:
            sim.bins[v.bin_id].vbin.world.visit(v.at)
