"""The site the bins stand in: its time zone (Korea, UTC+9, no daylight saving time).

The operator's tools (monitor, planner, plots) show local times in SITE_TZ and say so with
SITE_TZ_NAME."""

from __future__ import annotations

import datetime as dt

SITE_TZ_NAME = "KST"
SITE_TZ = dt.timezone(dt.timedelta(hours=9), SITE_TZ_NAME)
# the same offset as a bin's config gives it (utc_offset_min)
SITE_UTC_OFFSET_MIN = int(SITE_TZ.utcoffset(None).total_seconds() // 60)


def local(ts: float) -> dt.datetime:
    """Unix time ts as the site's local time."""
    return dt.datetime.fromtimestamp(ts, SITE_TZ)
