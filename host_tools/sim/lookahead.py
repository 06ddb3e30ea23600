"""Sample look-ahead (docs/sim-protocol.md): a control loop on the sim board reads the same
inputs every period, one `sample` round trip each. When the board sees its loop steady it
sends, with a sample, the instants of its next reads should the loop go on alike; the
simulator answers them too, from the world as it will be then, and the board reads them
locally. The world runs exactly the requests it runs without look-ahead: a row is worked
out by the very sample handling the request would have had, and whatever the board did not
read is undone (the bin's world goes back to the window's start in place and runs again
the samples that were read). So only the number of round trips changes."""

from __future__ import annotations

import random

from host_tools.sim.device import Control, VirtualBin

ROWS = 24       # rows a look-ahead may ask for (the boot reply's "ahead")

# what the sample handling changes outside the world (device.py: the door interrupt)
_VBIN_FIELDS = ("irq_seen", "irq_delivered")
_LEAVES = (int, float, str, bool, bytes, tuple, frozenset, type(None))


class Snapshot:
    """Everything reachable from an object (the bin's world), restorable in place: each
    object keeps its identity, so whatever holds one (a sensor emulator, the modem, the
    reports) still sees the same object afterwards. Objects are instances of the
    simulator's own classes, lists, dicts, sets and random.Random; tuples are taken as
    values (they hold only numbers and strings)."""

    def __init__(self, root: object):
        self._objs: list[tuple[object, dict]] = []
        self._lists: list[tuple[list, list]] = []
        self._dicts: list[tuple[dict, dict]] = []
        self._sets: list[tuple[set, set]] = []
        self._rngs: list[tuple[random.Random, tuple]] = []
        seen: set[int] = set()
        stack = [root]
        while stack:
            o = stack.pop()
            if id(o) in seen:
                continue
            seen.add(id(o))
            t = type(o)
            if t is list:
                self._lists.append((o, o[:]))
                kids = o
            elif t is dict:
                self._dicts.append((o, dict(o)))
                kids = o.values()
            elif t is set:
                self._sets.append((o, set(o)))
                continue
            elif isinstance(o, random.Random):
                self._rngs.append((o, o.getstate()))
                continue
            elif t.__module__.startswith("host_tools.sim.") and hasattr(o, "__dict__"):
                d = o.__dict__
                self._objs.append((o, dict(d)))
                kids = d.values()
            else:
                raise TypeError(f"look-ahead cannot restore a {t.__name__} in the world")
            for k in kids:
                if type(k) not in _LEAVES:
                    stack.append(k)

    def restore(self) -> None:
        for o, d in self._objs:
            od = o.__dict__
            od.clear()
            od.update(d)
        for lst, items in self._lists:
            lst[:] = items
        for d, items in self._dicts:
            d.clear()
            d.update(items)
        for s, items in self._sets:
            s.clear()
            s.update(items)
        for r, state in self._rngs:
            r.setstate(state)


class Window:
    """One look-ahead of one bin: the instants answered, how to go back to their start."""

    def __init__(self, vbin: VirtualBin, t_ms: int, steps: list, names: list):
        self.vbin = vbin
        self.names = names
        self.snap = Snapshot(vbin.world)
        self.fields = [getattr(vbin, f) for f in _VBIN_FIELDS]
        self.instants: list[int] = []
        self.rows: list[list] = []
        self.cut = False        # ended before an interrupt or the watchdog
        t = t_ms
        for step in steps:
            t += int(step)
            try:
                _, row = vbin.handle("sample", t, names)
            except Control:
                # an interrupt or the watchdog at this instant: the board must ask then, so
                # the window ends before it (the world as after the rows before)
                self._rewind(len(self.rows))
                self.cut = True
                break
            self.instants.append(t)
            self.rows.append(row)

    def _rewind(self, n: int) -> None:
        """Back to the start, then the first n rows' samples again (the same calls: the
        world's floats and random draws take the same path)."""
        self.snap.restore()
        for f, v in zip(_VBIN_FIELDS, self.fields, strict=True):
            setattr(self.vbin, f, v)
        for t in self.instants[:n]:
            self.vbin.handle("sample", t, self.names)

    def settle(self, n: int) -> int | None:
        """The board read the first n rows: the world as after the n-th. Returns its
        instant (None: no row read)."""
        n = max(0, min(n, len(self.rows)))
        if n < len(self.rows):
            self._rewind(n)
        return self.instants[n - 1] if n else None
