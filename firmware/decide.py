# Decide step: pure functions of (Reading, State, Config, now). No I/O here, so every rule
# is unit-tested with tables of cases on CPython and on the unix port alike.


def report_due(now, fill, st, cfg):
    """MinTime / MaxTime / ReportableChange rule."""
    since = now - st["last_report"]
    if since >= cfg["report_max_s"]:
        return True
    if since < cfg["report_min_s"]:
        return False
    last = st["last_fill"]
    if fill is None or last is None:
        return fill is not last
    return abs(fill - last) >= cfg["report_change_pct"]


def full_alert(fill, latched, cfg):
    """(latched_now, raise_event): alert at full_pct, clear below full_clear_pct."""
    if fill is None:
        return latched, False
    if not latched and fill >= cfg["full_pct"]:
        return True, True
    if latched and fill < cfg["full_clear_pct"]:
        return False, False
    return latched, False


def compact_wanted(reading, st, cfg):
    """Compact when the level passed the threshold, the door is shut and the battery can
    carry a stroke without browning out the board."""
    fill = reading.fill
    if fill is None or fill < cfg["compact_pct"] or reading.door_open:
        return False
    if reading.vbat_mv < cfg["vbat_motor_min_mv"]:
        return False
    # After a stroke, wait until new waste raised the level again: a bin full of packed
    # waste must not be compacted every wake.
    after = st.get("cmp_after")
    return after is None or fill >= after + cfg["compact_rise_pct"]


def next_wake_s(cfg):
    return cfg["wake_s"]
