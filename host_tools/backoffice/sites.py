"""Where the bins and the depot stand, and the day's routes.

Positions: a sites file (CSV `bin_id,lat,lon`, a `depot` row for the depot) when given;
otherwise the dispatcher's own site register (host_tools.dispatch.position: km east and
north of the depot, a stable spread by the bin's id) placed around a depot coordinate.
Routes: a GeoJSON FeatureCollection (a LineString per crew, a Point per stop), read as is
from a file the dispatcher writes; none when no file is given.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from host_tools.dispatch import CrewSettings, position

log = logging.getLogger("backoffice.sites")

DEPOT = (37.5665, 126.9780)      # default depot coordinate (lat, lon)
ROUTES_MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Sites:
    depot: tuple[float, float] = DEPOT
    fixed: dict[str, tuple[float, float]] = field(default_factory=dict)
    area_km: float = CrewSettings().area_km

    def of(self, bin_id: str) -> tuple[float, float]:
        if bin_id in self.fixed:
            return self.fixed[bin_id]
        x, y = position(bin_id, self.area_km)
        lat = self.depot[0] + y / 111.32
        lon = self.depot[1] + x / (111.32 * math.cos(math.radians(self.depot[0])))
        return round(lat, 6), round(lon, 6)


def _coord(lat: str, lon: str) -> tuple[float, float]:
    la, lo = float(lat), float(lon)
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise ValueError(f"{lat},{lon} is not a coordinate")
    return la, lo


def load_sites(path: Path | None, depot: tuple[float, float] = DEPOT) -> Sites:
    s = Sites(depot=depot)
    if path is None:
        return s
    with open(path, newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            try:
                where = _coord(row["lat"], row["lon"])
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{path}:{i}: {e}") from None
            name = (row.get("bin_id") or "").strip()
            if name == "depot":
                s.depot = where
            elif name:
                s.fixed[name] = where
    return s


def load_routes(path: Path | None) -> dict:
    """The routes GeoJSON, or an empty collection (no file, or a bad one: logged)."""
    empty = {"type": "FeatureCollection", "features": []}
    if path is None or not Path(path).exists():
        return empty
    try:
        if Path(path).stat().st_size > ROUTES_MAX_BYTES:
            raise ValueError("file too large")
        d = json.loads(Path(path).read_text())
        if d.get("type") != "FeatureCollection" or not isinstance(d.get("features"), list):
            raise ValueError("not a FeatureCollection")
        feats = [f for f in d["features"] if isinstance(f, dict) and isinstance(
            f.get("geometry"), dict) and f["geometry"].get("type") in ("LineString", "Point")]
        return {"type": "FeatureCollection", "features": feats}
    except (OSError, ValueError, AttributeError) as e:
        log.warning("routes: %s unreadable: %s", path, e)
        return empty
