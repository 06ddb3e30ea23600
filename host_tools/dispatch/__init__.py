"""Crew dispatch: which bins a crew empties on its next route, and in which order.

A dispatcher knows what an operator knows: what the broker delivered (each bin's retained
state, telemetry and events, as `host_tools.binview.BinView`), the site register (where the
bins stand), and its own crews' past visits. It never sees inside a bin.

Policies:
  fixed      every bin every `every_days` days, whatever its fill (today's common practice)
  threshold  bins whose last reported fill is at or above `threshold_pct`
  forecast   bins that would pass `over_pct` (the rim unless set) before the
             crews could be back: when each bin's own forecast (`fcst` and `ovf`, through
             `host_tools.plan.eta_for`) gets there, less a margin that grows with the
             forecast's lead, falls before the first `back_h` hours of the next route, in
             which the bins due on a route are its first stops. The others wait, filling
             further. A bin still learning (its first `learn_h`) is
             taken at the threshold, when the straight line through its readings overflows
             before the crews are back, or when it already compacts again and again. An
             afternoon round (`pm_*`, 15:00-19:00 unless set) looks again with the day's
             reports and empties the bins that now would pass `pm_over_pct` before the next
             morning; the morning leaves it the bins due late that evening.

A compacting bin's level rises and falls with every stroke: right after a stroke it shows
the packed pile, before one it shows the loose waste on top. A reading above the threshold
says little about how full the bin really is; its forecast, which knows the strokes, does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field

from host_tools.binview import BinView
from host_tools.plan import FULL_PCT, eta_for
from host_tools.site import SITE_TZ

POLICIES = ("fixed", "threshold", "forecast")
# forecast policy: the fill the morning route keeps a bin from reaching, by default: the rim.
# The afternoon round (pm_*) is the safety margin: with one route a day a margin of 2 points
# (98 %) took overflowing collections on the bench world from 2.0 to 0.9 % and the mean fill
# at collection from 80.9 to 78.2 %; the rim with the afternoon round at 98 % gave 0.8 % and
# 82.6 %
COLLECT_BEFORE_PCT = 100.0
LOCAL = SITE_TZ   # the site's local time (Korea)


@dataclass
class CrewSettings:
    route_start_h: int = 4           # crews collect 04:00-13:00 local time...
    route_end_h: int = 13
    sunday_end_h: int = 8            # ...and only until 08:00 on Sundays
    bins_per_crew: int = 60          # crews on duty: one per this many bins (at least one)
    sunday_crews_share: float = 0.5  # fewer crews on Sundays (at least one)
    truck_stops: int = 60            # one truck's body holds this many bins' waste a day
    service_min: float = 6.0         # at each bin: unlock, swap the liner, log
    speed_kmh: float = 25.0          # town traffic
    road_factor: float = 1.3         # road distance / straight line
    area_km: float = 5.0             # the bins stand in a square this wide, depot at the centre
    threshold_pct: float = 60.0      # worth a trip at this fill (below it: premature); the
                                     # field's usual per-bin threshold
    over_pct: float = COLLECT_BEFORE_PCT  # forecast policy: a bin must be emptied before this
    margin_h: float = 1.0            # ...by this margin on its own forecast of that fill
    margin_share: float = 0.05       # ...plus this share of the forecast's lead time
    back_h: float = 3.0              # the bins due on a route are its first stops, all made
                                     # within this many hours of its start
    learn_h: float = 48.0            # a bin's forecast is used once it has reported this long
                                     # (it learns its fill rate and strokes); until then it
                                     # is collected at the threshold, or when the straight
    learn_fast_h: float = 12.0       # line through its readings overflows before the next
                                     # route once it has reported this long, or when it
    busy_strokes: int = 4            # compacted this often since first heard
    second_visits: bool = False      # forecast policy: a bin emptied on the first trip that
                                     # would overflow before the next route (by its latest
                                     # cycle) is emptied again on the late trip (off: on the
                                     # bench world it cut overflowing collections by a third
                                     # but the second visits find the bin a third full)
    pm_start_h: int = 15             # forecast policy: an afternoon round from this hour
    pm_end_h: int = 19               # to this (0: none) by pm_crews crews, for the bins whose
    pm_crews: int = 1                # forecast, fresh from the day's reports, now passes
    pm_over_pct: float = 98.0        # pm_over_pct before the next morning route's first
                                     # stops; each visited as late as it safely gets
    pm_fresh_h: float = 12.0         # ...but not a bin emptied within this many hours
    pm_late_h: float = 2.0           # the morning leaves to the afternoon round the bins due
    pm_spare: int = 6                # this long into it (room kept for this many others)
    every_days: int = 2              # fixed policy
    silent_h: float = 48.0           # a bin not heard from this long is checked


@dataclass
class Visit:
    bin_id: str
    crew: int
    at: float            # arrival time, Unix seconds
    km: float            # driven to get there
    why: str


@dataclass
class Route:
    day_start: float                     # route start, Unix seconds
    visits: list[Visit] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)   # chosen, but no crew time left
    km: float = 0.0                      # including the drives back to the depot
    crew_minutes: float = 0.0
    afternoon: bool = False              # the afternoon round (forecast policy)


def position(bin_id: str, area_km: float) -> tuple[float, float]:
    """Where a bin stands: (km east, km north) of the depot, from the site register; here a
    stable spread by its id over a square area_km wide (the planner's location columns)."""
    h = hashlib.sha256(bin_id.encode()).digest()
    x = int.from_bytes(h[:4], "big") / 2 ** 32
    y = int.from_bytes(h[4:8], "big") / 2 ** 32
    return (x - 0.5) * area_km, (y - 0.5) * area_km


def _next_at(t: float, hour: int) -> float:
    """The first time at or after t that is `hour`:00 local time."""
    d = dt.datetime.fromtimestamp(t, LOCAL)
    s = d.replace(hour=hour, minute=0, second=0, microsecond=0)
    if s.timestamp() < t:
        s += dt.timedelta(days=1)
    return s.timestamp()


def route_start(t: float, cs: CrewSettings) -> float:
    """The first route start at or after t."""
    return _next_at(t, cs.route_start_h)


def pm_start(t: float, cs: CrewSettings) -> float | None:
    """The first afternoon round start at or after t (None: no afternoon round)."""
    return _next_at(t, cs.pm_start_h) if cs.pm_start_h else None


def parse_afternoon(text: str | None) -> dict:
    """CrewSettings fields for an afternoon round given as "HH-HH" (its window, local time)
    or "none"; None: the defaults. Raises ValueError on anything else."""
    if text is None:
        return {}
    if text.strip().lower() in ("none", "off", "0"):
        return {"pm_start_h": 0}
    try:
        a, b = (int(x) for x in text.split("-"))
    except ValueError:
        raise ValueError("give the window as HH-HH (e.g. 15-19), or none") from None
    if not CrewSettings.route_end_h <= a < b <= 23:
        raise ValueError(f"the round starts after the morning route ({CrewSettings.route_end_h}"
                         ":00) and ends by 23:00")
    return {"pm_start_h": a, "pm_end_h": b}


def afternoon_text(cs: CrewSettings) -> str:
    """The afternoon round as "HH-HH", or "none"."""
    return f"{cs.pm_start_h}-{cs.pm_end_h}" if cs.pm_start_h else "none"


def _window(start: float, cs: CrewSettings) -> tuple[float, bool]:
    """(end of the route window, whether it is a Sunday) for the route starting at start."""
    sunday = dt.datetime.fromtimestamp(start, LOCAL).weekday() == 6
    end_h = cs.sunday_end_h if sunday else cs.route_end_h
    return start + (end_h - cs.route_start_h) * 3600, sunday


class Dispatcher:
    """Plans each route from broker knowledge. `views` are the latest BinViews; `bins`
    lists the fleet (the site register)."""

    def __init__(self, policy: str, bins: list[str], cs: CrewSettings | None = None):
        if policy not in POLICIES:
            raise ValueError(f"unknown dispatch policy {policy!r} ({', '.join(POLICIES)})")
        self.policy = policy
        self.bins = sorted(bins)
        self.cs = cs or CrewSettings()
        self.pos = {b: position(b, self.cs.area_km) for b in self.bins}
        self.last_visit: dict[str, float] = {}
        self.due: dict[str, float] = {}      # forecast policy: when a chosen bin overflows
        self.back = 0.0                      # ...and when the crews are back on the next route
        # forecast policy: how long a bin took from its last emptying to the overflow its
        # own forecast now gives (its latest cycle): a bin that overflows within a day of
        # being emptied first thing needs a second visit that day
        self.cycle: dict[str, float] = {}
        # crew minutes a stop took on the routes so far (drive and service), to size a route
        self.min_per_stop = self.cs.service_min * 1.5
        self.first_heard: dict[str, float] = {}
        self.first_strokes: dict[str, int] = {}
        self.first_route: float | None = None
        n = max(1, math.ceil(len(self.bins) / self.cs.bins_per_crew))
        self.crews = n
        self.sunday_crews = max(1, int(n * self.cs.sunday_crews_share))

    # choosing -----------------------------------------------------------------------------
    def _known_fill(self, v: BinView | None, b: str) -> tuple[float | None, BinView | None]:
        """The bin's last reported fill, or 0 if the crew emptied it since that report."""
        visited = self.last_visit.get(b)
        if v is None or v.fill_ts is None or (visited is not None and v.fill_ts < visited):
            # never heard, or emptied since its last report (its old forecast is void too)
            return (0.0 if visited is not None else None), None
        return v.fill, v

    def choose(self, views: dict[str, BinView], start: float, next_start: float) \
            -> list[tuple[float, str, str]]:
        """(urgency, bin, why) for the bins to empty on the route starting at `start`; a
        lower urgency value goes first when the crews cannot reach every bin."""
        cs = self.cs
        # a bin left today is taken first thing on the next route if it is due then
        back = next_start + cs.back_h * 3600
        self.due = {}
        self.back = back
        out = []
        # not due yet: (deadline, when it passes the fill, bin, that fill for the why)
        later: list[tuple[float, float, str, str]] = []
        for i, b in enumerate(self.bins):
            v = views.get(b)
            if self.policy == "fixed":
                last = self.last_visit.get(b)
                if last is None:   # the first rounds are staggered over the fleet
                    due = (self._route_index(start) + i) % cs.every_days == 0
                    age = float(i % cs.every_days)
                else:
                    age = (start - last) / 86400
                    due = age >= cs.every_days - 0.5
                if due:
                    out.append((-age, b, f"every {cs.every_days} days"))
                continue
            fill, fv = self._known_fill(v, b)
            heard = max(v.last_seen or 0.0, v.fill_ts or 0.0) if v else 0.0
            silent = start - max(heard, self.last_visit.get(b, 0.0)) > cs.silent_h * 3600
            if silent:
                out.append((start, b, "silent"))
                continue
            if fill is None:
                if v is not None and v.fill_ts is not None and v.fill is None \
                        and v.fill_ts > self.last_visit.get(b, 0.0):
                    # its last report had no reading: a sensor blinded by waste piled up to
                    # it, or a fault; either way someone has to look
                    out.append((start, b, "no reading"))
                continue
            if self.policy == "threshold":
                if fill >= cs.threshold_pct:
                    out.append((-fill, b, f"at {fill:.0f} %"))
                continue
            # forecast
            if fv is None:
                continue
            first = self.first_heard.setdefault(b, fv.fill_ts)
            strokes0 = self.first_strokes.setdefault(b, fv.strokes or 0)
            over, what = self._eta(fv, cs.over_pct)
            if start - first < cs.learn_h * 3600:
                # its forecast is a straight line yet (it knows neither the bin's hours
                # nor its strokes): taken at the threshold, or before that line overflows
                if fill >= cs.threshold_pct:
                    out.append((-fill, b, f"at {fill:.0f} %, forecast still learning"))
                elif over is not None and over <= back \
                        and start - first >= cs.learn_fast_h * 3600:
                    out.append((-fill, b, f"at {fill:.0f} %, learning, rising fast"))
                elif (fv.strokes or 0) - strokes0 >= cs.busy_strokes:
                    # compacting again and again from the start: a busy bin, whatever its
                    # level between strokes says
                    out.append((-fill, b, f"at {fill:.0f} %, learning, {fv.strokes - strokes0} "
                                          "strokes already"))
                continue
            if fill >= cs.over_pct or (over is not None and over <= fv.fill_ts):
                self.due[b] = fv.fill_ts    # overflowing already: among the very first stops
                out.append((fv.fill_ts, b, f"at {fill:.0f} %"))
                continue
            if over is None:
                continue
            # left for the next route, would it overflow before the crew could be back?
            last = self.last_visit.get(b)
            if last is not None and fv.fill_ts > last:
                self.cycle[b] = over - last
            margin = self._margin(max(0.0, over - start))
            if over - margin <= back:
                when = dt.datetime.fromtimestamp(over, LOCAL)
                self.due[b] = over - margin
                out.append((over, b, f"would {what} {when:%a %H:%M}, before the next route"))
            else:
                later.append((over - margin, over, b, what))
        out += self._ahead_of_a_short_route(later, next_start)
        out.sort()
        return out

    @staticmethod
    def _eta(fv: BinView, pct: float) -> tuple[float | None, str]:
        """When the bin passes pct by its own forecast (one that only forecasts full: when
        it is full), and what it passes then, for a visit's why."""
        if fv.forecast_over is None:
            pct = FULL_PCT
        return eta_for(fv, pct), "overflow" if pct >= 100 else f"pass {pct:g} %"

    def _margin(self, lead_s: float) -> float:
        """Seconds of margin on a forecast `lead_s` ahead."""
        return self.cs.margin_h * 3600 + self.cs.margin_share * lead_s

    @property
    def afternoon(self) -> bool:
        """Whether its crews make an afternoon round (only the forecast policy's do)."""
        return self.policy == "forecast" and bool(self.cs.pm_start_h)

    def afternoon_start(self, t: float) -> float | None:
        """The first afternoon round start at or after t (None: no afternoon round)."""
        return pm_start(t, self.cs) if self.afternoon else None

    def _ahead_of_a_short_route(self, later: list[tuple[float, float, str, str]],
                                next_start: float) -> list[tuple[float, str, str]]:
        """Bins for today that the next route could not take: when more bins are due on the
        next route than its crews can reach (a Sunday: a short window, half the crews), the
        ones that would overflow first are taken today, a day early rather than overflowing
        while they wait."""
        cs = self.cs
        back2 = route_start(next_start + 1, cs) + cs.back_h * 3600
        need = sorted(x for x in later if x[0] <= back2)
        excess = len(need) - self._room(next_start)
        out = []
        for deadline, over, b, what in need[:max(0, excess)]:
            self.due[b] = deadline
            when = dt.datetime.fromtimestamp(over, LOCAL)
            out.append((over, b, f"would {what} {when:%a %H:%M}; the next route cannot "
                                 "take every bin due then"))
        return out

    def _room(self, start: float) -> int:
        """About how many bins the crews can empty on the route starting at `start`: their
        minutes over what a stop has taken them lately (drive and service), less a tenth
        for the bins that route must take anyway (second visits, silent bins)."""
        cs = self.cs
        end, sunday = _window(start, cs)
        crews = self.sunday_crews if sunday else self.crews
        per_crew = min(cs.truck_stops, int((end - start) / 60 / self.min_per_stop))
        return int(0.9 * crews * per_crew) + self._room_pm()

    def _room_pm(self) -> int:
        """About how many bins the afternoon round can empty (0: none), less a tenth."""
        cs = self.cs
        if not self.afternoon:
            return 0
        per_crew = min(cs.truck_stops,
                       int((cs.pm_end_h - cs.pm_start_h) * 60 / self.min_per_stop))
        return int(0.9 * max(1, cs.pm_crews) * per_crew)

    def _route_index(self, start: float) -> int:
        if self.first_route is None:
            self.first_route = start
        return round((start - self.first_route) / 86400)

    # routing ------------------------------------------------------------------------------
    def _drive_min(self, a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        km = math.dist(a, b) * self.cs.road_factor
        return km, km / self.cs.speed_kmh * 60

    def _trip(self, bins: list[str], crews: list[list], end: float) \
            -> tuple[list[Visit], list[str], float]:
        """One trip of the crews side by side (the one with the earliest clock moves next),
        nearest neighbour first, each back at the depot by `end`; the bins due before `end`
        (self.due) are taken before the others, and the ones overflowing within the hour
        before those. crews: [clock, where, stops today, id, stops this trip, trip start]
        (updated). Returns visits, bins left over, km."""
        cs = self.cs
        left = list(bins)
        visits: list[Visit] = []
        km_total = 0.0
        active = list(crews)
        while left and active:
            cr = min(active, key=lambda c: (c[0], c[3]))
            t, here, n, crew = cr[:4]
            now = [b for b in left if self.due.get(b, float("inf")) <= t + 3600]
            due = now or [b for b in left if self.due.get(b, float("inf")) <= end]
            nxt = min(due or left, key=lambda b: (math.dist(here, self.pos[b]), b))
            km, drive = self._drive_min(here, self.pos[nxt])
            _, back = self._drive_min(self.pos[nxt], (0.0, 0.0))
            arrive = t + drive * 60
            if n >= cs.truck_stops or arrive + (cs.service_min + back) * 60 > end:
                active.remove(cr)
                continue
            visits.append(Visit(nxt, crew, arrive, round(km, 3), ""))
            km_total += km
            cr[:3] = [arrive + cs.service_min * 60, self.pos[nxt], n + 1]
            cr[4] += 1
            left.remove(nxt)
        return visits, left, km_total

    def _home(self, crews: list[list]) -> tuple[float, float]:
        """The crews that made stops on this trip drive back to the depot: (km, crew
        minutes of the trip). Starts their next trip there."""
        km = minutes = 0.0
        for cr in crews:
            if cr[4]:
                back_km, back = self._drive_min(cr[1], (0.0, 0.0))
                km += back_km
                minutes += (cr[0] - cr[5]) / 60 + back
                cr[0] += back * 60
                cr[1] = (0.0, 0.0)
            cr[4], cr[5] = 0, cr[0]
        return km, minutes

    def _routes(self, chosen: list[str], start: float) -> tuple[list[Visit], list[str], float,
                                                                float]:
        """The crews' routes from the depot, back by the end of the window (_trip). With the
        forecast policy, the bins not due before the window ends go on a second trip, as
        late in the window as it fits: each is emptied as full as it safely gets (and its
        next fill starts later). Returns visits, bins left over, km, crew minutes."""
        cs = self.cs
        end, sunday = _window(start, cs)
        n = self.sunday_crews if sunday else self.crews
        late = {b for b in chosen if self.due.get(b, -1.0) >= end}
        trips = [[b for b in chosen if b not in late], [b for b in chosen if b in late]]
        crews = [[start, (0.0, 0.0), 0, c, 0, start] for c in range(n)]
        visits: list[Visit] = []
        left: list[str] = []
        km = minutes = 0.0
        for k, bins in enumerate(trips):
            if k == 1:
                if left:
                    # the first trip could not take every bin due: no second one
                    return self._routes_one(chosen, start)
                again = self._again(visits)
                bins = bins + again
                if not bins:
                    break
            v, rest, trip_km = self._trip(bins, crews, end)
            if k == 1:
                for x in v:
                    if x.bin_id in again:
                        x.why = "again: emptied first thing, it would overflow before the " \
                                "next route"
            if k == 1 and v:
                self._as_late_as_fits(v, crews, end)   # the whole trip
            back_km, trip_min = self._home(crews)
            visits += v
            left += rest
            km += trip_km + back_km
            minutes += trip_min
        return visits, left, km, minutes

    def _as_late_as_fits(self, visits: list[Visit], crews: list[list], end: float,
                         limits: list[float] | None = None) -> None:
        """Moves a trip (its visits and the crews' clocks) as late as the crews are still
        back at the depot by `end`, and by no more than any of `limits` (seconds)."""
        home = max(c[0] + self._drive_min(c[1], (0.0, 0.0))[1] * 60 for c in crews if c[4])
        shift = max(0.0, min([end - home] + (limits or [])))
        for v in visits:
            v.at += shift
        for c in crews:
            c[0] += shift
            c[5] += shift

    def _again(self, visits: list[Visit]) -> list[str]:
        """The bins emptied on the first trip that would overflow again before the crews are
        back on the next route (by their latest cycle): they get a second, late visit."""
        cs = self.cs
        if not cs.second_visits:
            return []
        out = []
        for v in visits:
            cycle = self.cycle.get(v.bin_id)
            if cycle is None:
                continue
            margin = self._margin(cycle)
            if v.at + cycle - margin <= self.back:
                out.append(v.bin_id)
        return out

    def _routes_one(self, chosen: list[str], start: float) -> tuple[list[Visit], list[str],
                                                                    float, float]:
        end, sunday = _window(start, self.cs)
        n = self.sunday_crews if sunday else self.crews
        crews = [[start, (0.0, 0.0), 0, c, 0, start] for c in range(n)]
        visits, left, km = self._trip(chosen, crews, end)
        back_km, minutes = self._home(crews)
        return visits, left, km + back_km, minutes

    def plan(self, views: dict[str, BinView], start: float, next_start: float) -> Route:
        """The route starting at `start`: the chosen bins, the most urgent kept when the
        crews' time or trucks cannot take them all."""
        chosen = self.choose(views, start, next_start)
        why = {b: w for _, b, w in chosen}
        afternoon = self._for_the_afternoon(start)
        keep = [b for _, b, _ in chosen if b not in afternoon]
        dropped: list[str] = []
        while True:
            visits, left, km, minutes = self._routes(keep, start)
            if not left:
                break
            dropped.append(keep.pop())      # the least urgent waits for the next route
        self._made(visits, why)
        if len(visits) >= 5:
            self.min_per_stop += 0.3 * (minutes / len(visits) - self.min_per_stop)
        return Route(start, visits, dropped, round(km, 3), round(minutes, 1))


    def _made(self, visits: list[Visit], why: dict[str, str]) -> None:
        """The visits a route makes: each gets its why (unless it has one) and is the
        bin's last visit."""
        for v in visits:
            v.why = v.why or why[v.bin_id]
            self.last_visit[v.bin_id] = max(v.at, self.last_visit.get(v.bin_id, v.at))

    def _for_the_afternoon(self, start: float) -> set[str]:
        """Of the bins chosen for the route starting at `start`, the ones left for today's
        afternoon round: due (self.due) no sooner than pm_late_h into it, the latest first,
        as many as it can take beside the bins it finds at risk itself (pm_spare). The
        round looks at them again with the day's reports and empties them hours fuller
        than the morning's late trip would."""
        cs = self.cs
        pm = self.afternoon_start(start)
        if pm is None or pm - start > 86400 / 2:
            return set()
        late = sorted(((d, b) for b, d in self.due.items() if d >= pm + cs.pm_late_h * 3600),
                      reverse=True)
        room = max(0, self._room_pm() - cs.pm_spare)
        return {b for _, b in late[:room]}

    def plan_pm(self, views: dict[str, BinView], start: float) -> Route:
        """The afternoon round starting at `start` (forecast policy, CrewSettings.pm_*): the
        bins left this morning whose forecast, with the day's reports since, now passes
        pm_over_pct before the crews are back on the next morning route. Each is visited as
        late as the round allows without passing the time its forecast gives (less the
        margin): as full as it safely gets."""
        cs = self.cs
        back = route_start(start + 1, cs) + cs.back_h * 3600
        end = start + (cs.pm_end_h - cs.pm_start_h) * 3600
        self.due = {}
        chosen = []
        for b in self.bins:
            fill, fv = self._known_fill(views.get(b), b)
            first = self.first_heard.get(b)
            if fv is None or fill is None or first is None or start - first < cs.learn_h * 3600:
                continue   # not heard since emptied, or still learning: the morning's rules
            if self.last_visit.get(b, 0.0) > start - cs.pm_fresh_h * 3600:
                # emptied this morning and due again tonight: a bin that fills within a
                # day; a visit now would find it half full, and its next cycle too
                continue
            over, what = self._eta(fv, cs.pm_over_pct)
            if over is None:
                continue
            margin = self._margin(max(0.0, over - start))
            if over - margin > back:
                continue
            self.due[b] = max(start, over - margin)
            when = dt.datetime.fromtimestamp(over, LOCAL)
            chosen.append((over, b, f"would {what} {when:%a %H:%M}, before the next route "
                                    "(afternoon round)"))
        chosen.sort()
        why = {b: w for _, b, w in chosen}
        crews = [[start, (0.0, 0.0), 0, c, 0, start] for c in range(max(1, cs.pm_crews))]
        visits, left, km = self._trip([b for _, b, _ in chosen], crews, end)
        if visits:
            # the round as late as it still ends in time and reaches each bin before its due
            self._as_late_as_fits(visits, crews, end,
                                  [self.due[v.bin_id] - v.at for v in visits])
        back_km, minutes = self._home(crews)
        self._made(visits, why)
        return Route(start, visits, left, round(km + back_km, 3), round(minutes, 1), True)


def views_from(messages, upto: float, views: dict[str, BinView] | None = None) \
        -> dict[str, BinView]:
    """Fold broker messages (objects with bin_id, kind and json()) into BinViews, keeping
    only what was known by `upto` (Unix seconds)."""
    views = {} if views is None else views
    for m in messages:
        d = m.json()
        if not isinstance(d, dict) or m.kind not in ("state", "telemetry", "event"):
            continue
        if (d.get("ts") or 0) > upto:
            continue
        views.setdefault(m.bin_id, BinView(m.bin_id)).update(m.kind, d, upto)
    return views
