"""Report figures that stay exact when reports are added up.

A figure that is a total, a mean, a share or a root mean square is kept as its parts (a sum
and a count) until the report is written, and rounded once there. A fleet split over several
simulator processes (host_tools/fleet/shards.py) adds up its shards' parts, not their rounded
figures, so a sharded fleet reports to the last digit what one process would have.

    Total(overflow_s, nd=2, scale=1 / 3600)      overflow hours
    Mean(sum(errs), len(errs), nd=2)             a mean (None without a sample)
    Mean(k, n, nd=1, scale=100)                  a share in % of n
    Rms(sum(e * e for e in errs), len(errs))     a root mean square
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Total:
    s: float
    nd: int = 2
    scale: float = 1.0
    kind = "total"

    def value(self) -> float:
        return round(self.s * self.scale, self.nd)

    def parts(self) -> tuple:
        return (self.s,)


@dataclass
class Mean:
    s: float
    n: float
    nd: int = 2
    scale: float = 1.0
    kind = "mean"

    def value(self) -> float | None:
        return round(self.s * self.scale / self.n, self.nd) if self.n else None

    def parts(self) -> tuple:
        return (self.s, self.n)


@dataclass
class Rms:
    s: float          # the sum of the squares
    n: float
    nd: int = 2
    scale: float = 1.0
    kind = "rms"

    def value(self) -> float | None:
        return round(math.sqrt(self.s / self.n) * self.scale, self.nd) if self.n else None

    def parts(self) -> tuple:
        return (self.s, self.n)


FIGURES = (Total, Mean, Rms)
KINDS = {c.kind: c for c in FIGURES}
Figure = Total | Mean | Rms


def finish(raw):
    """The report as it is written: every figure rounded from its parts."""
    if isinstance(raw, FIGURES):
        return raw.value()
    if isinstance(raw, dict):
        return {k: finish(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [finish(v) for v in raw]
    return raw


def dump(raw):
    """The report with its figures as parts, for JSON: {"$": kind, "parts": [...], ...}."""
    if isinstance(raw, FIGURES):
        return {"$": raw.kind, "parts": list(raw.parts()), "nd": raw.nd, "scale": raw.scale}
    if isinstance(raw, dict):
        return {k: dump(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return [dump(v) for v in raw]
    return raw


def load(obj):
    """dump() read back."""
    if isinstance(obj, dict):
        if "$" in obj:
            return KINDS[obj["$"]](*obj["parts"], nd=obj["nd"], scale=obj["scale"])
        return {k: load(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [load(v) for v in obj]
    return obj


def add(a: Figure, b: Figure) -> Figure:
    """Two parts' figures as one (the same kind, rounding and scale)."""
    if type(a) is not type(b) or (a.nd, a.scale) != (b.nd, b.scale):
        raise ValueError(f"cannot add {a!r} and {b!r}")
    summed = (x + y for x, y in zip(a.parts(), b.parts(), strict=True))
    return type(a)(*summed, nd=a.nd, scale=a.scale)
