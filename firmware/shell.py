# Technician helpers for the serial REPL. main.py puts them in the REPL after Ctrl-C stops
# the app (the motor is off by then); `from shell import *` does the same by hand.
# Every helper prints plain sentences that fit 80 columns; errors are never tracebacks.
import config as _config
import logring as _logring
import state as _state

__all__ = ["status", "sensors", "calibrate_empty", "motor_test", "modem", "log",
           "report_now", "config", "safe_mode_off", "help"]

_board = None


def attach(board):
    """Use this board (main.py passes the one the app ran with)."""
    global _board
    _board = board
    _logring.clock = board.clock     # technician actions go in the log, with their time


def _note(msg):
    """A technician action, into the log in flash (log() shows it)."""
    if _logring.clock is None:
        try:
            _b()
        except Exception:  # noqa: BLE001 - the line goes in without its time then
            pass
    _logring.append("technician: " + msg)


def _b():
    if _board is None:
        import board as _boards

        attach(_boards.load().build())
    return _board


def _friendly(f):
    name = f.__name__

    def run(*args, **kw):
        try:
            return f(*args, **kw)
        except KeyboardInterrupt:
            _b().motor.off()
            print("stopped.")
        except Exception as e:  # a technician needs a sentence, not a traceback
            try:
                _board.motor.off()
            except Exception:
                pass
            print("! %s failed: %s: %s" % (name, type(e).__name__, e))
        return None

    return run


def _when(ts, now, off):
    if not ts:
        return "never"
    t = _tm(ts, off)
    ago = now - ts
    if ago < 5400:
        rel = "%d min ago" % (ago // 60)
    else:
        rel = "%.1f h ago" % (ago / 3600)
    return "%02d:%02d (%s)" % (t[3], t[4], rel)


def _offset_min():
    """The site's UTC offset in minutes (config utc_offset_min), read once per helper."""
    try:
        return int(_config.load()["utc_offset_min"])
    except Exception:  # noqa: BLE001 - a broken config shows UTC, never fails a helper
        return 0


def _zone(m):
    """The site's time zone (m: its UTC offset in minutes) as the helpers print times."""
    if not m:
        return "UTC"
    return "UTC%s%02d:%02d" % ("+" if m > 0 else "-", abs(m) // 60, abs(m) % 60)


def _tm(ts, off):
    """ts (Unix seconds) as local time at UTC offset off (minutes)."""
    import time

    ts += off * 60
    epoch2000 = time.gmtime(0)[0] == 2000
    return time.gmtime(ts - 946684800 if epoch2000 else ts)


def _fmt(v, spec, none="--"):
    return none if v is None else spec % v


@_friendly
def status():
    """One screen: fill, sensors, temperature, battery, solar, queue, last report, faults."""
    import app
    import sense
    from outbox import Outbox

    b = _b()
    cfg = _config.load()
    st = _state.load(b.rtc)
    ident = app.identity()
    r = sense.read(b, cfg)
    now = r.ts
    off = int(cfg["utc_offset_min"])
    t = _tm(now, off)
    print("%-12s firmware %-8s board %-6s %04d-%02d-%02d %02d:%02d %s" % (
        ident["id"], app.VERSION, b.name, t[0], t[1], t[2], t[3], t[4], _zone(off)))
    print("fill       %s  distance %s, %d of %d pings agree, quality %d" % (
        _fmt(r.fill, "%5.1f %%", "no reading"), _fmt(r.distance_mm, "%d mm"),
        r.pings_ok, r.pings, r.quality()))
    if r.errors:
        print("sensor     errors: %s" % ", ".join("%s %d" % kv for kv in r.errors.items()))
    print("temp       %s     door %s   ram %s" % (
        _fmt(r.temp_c, "%.1f C"), "OPEN" if r.door_open else "closed",
        "home" if b.limit_home.active() else "NOT HOME"))
    print("battery    %.2f V     solar %.1f V" % (r.vbat_mv / 1000, r.vsolar_mv / 1000))
    ob = Outbox()
    print("queue      %d reports waiting, %d dropped" % (len(ob), ob.dropped))
    print("last rep   %s, seq %d" % (_when(st["last_report"], now, off), st["seq"]))
    faults = []
    if st["faults"] & app.FLAG_NO_READING:
        faults.append("no fill reading")
    if st["faults"] & app.FLAG_MOTOR:
        faults.append("motor fault")
    if st["faults"] & app.FLAG_CRASH:
        faults.append("last wake crashed")
    print("faults     %s" % (", ".join(faults) or "none"))
    print("strokes    %d compactions, full alert %s" % (
        st["compactions"], "ON" if st["full"] else "off"))


@_friendly
def sensors(n=5):
    """n live readings of every sensor (Ctrl-C stops)."""
    from drivers.a02yyuw import reason

    b = _b()
    print("   #  level sensors (mm)          temp C   battery V   door")
    for i in range(n):
        vals = []
        for s in b.level_sensors:
            s.flush()
            mm = s.read_mm(300)
            vals.append(str(mm) if mm > 0 else reason(mm))
        print("%4d  %-26s %6s   %8.2f   %s" % (
            i + 1, " ".join(vals), _fmt(b.temp.read_c(), "%.1f"),
            b.battery.read_mv() / 1000, "open" if b.door.active() else "closed"))
        b.clock.sleep_ms(500)


@_friendly
def calibrate_empty(confirm=None):
    """Learn the empty-bin distance: run it on an empty bin with the door shut.
    calibrate_empty() measures; calibrate_empty('yes') measures and saves."""
    import sense

    b = _b()
    cfg = _config.load()
    if b.door.active():
        print("The door is open: close it, then try again.")
        return
    r = sense.read(b, cfg)
    if r.distance_mm is None:
        print("No trustworthy reading (%s): check the sensor, then try again." % (
            ", ".join("%s %d" % kv for kv in r.errors.items()) or "pings disagree"))
        return
    mm = int(r.distance_mm)
    print("Measured %d mm to the floor (was %d mm)." % (mm, cfg["empty_mm"]))
    if confirm is None:
        print("Not saved. To save it as the empty distance: calibrate_empty('yes')")
        return
    if str(confirm).strip().lower() != "yes":
        print("Not saved.")
        return
    try:
        new = _config.validate({"empty_mm": mm}, cfg)
    except ValueError as e:
        print("Not saved: %s" % e)
        return
    _config.save(new)
    _note("calibrate_empty: empty_mm %d -> %d" % (cfg["empty_mm"], mm))
    print("Saved: empty_mm = %d." % mm)


@_friendly
def motor_test(confirm=None):
    """One compaction stroke with every interlock on: motor_test('yes') runs it."""
    import compaction
    import safemode

    b = _b()
    cfg = _config.load()
    if safemode.active():
        print("Refused: the bin is in safe mode (motor locked out). Fix the cause, then "
              "safe_mode_off().")
        return
    if b.door.active():
        print("Refused: the door is open. Close it; the motor never runs with it open.")
        return
    if b.battery.read_mv() < cfg["vbat_motor_min_mv"]:
        print("Refused: battery %.2f V is below the motor floor %.2f V." % (
            b.battery.read_mv() / 1000, cfg["vbat_motor_min_mv"] / 1000))
        return
    st = _state.load(b.rtc)
    if compaction.faulted(st):
        print("Refused: the compactor is in a fault or lockout state; clear the cause, "
              "then reset it remotely (reset_fault).")
        return
    if confirm is None:
        print("The ram will move: keep clear, then run one stroke with motor_test('yes').")
        return
    if str(confirm).strip().lower() != "yes":
        print("Cancelled.")
        return
    res = compaction.motor_test(b, cfg, st, confirm="RUN MOTOR")
    _state.save(b.rtc, st)
    _note("motor test: " + res)
    print("Stroke: %s" % res)


_CEREG = ("not registered, not searching", "registered (home network)",
          "searching for a network", "registration DENIED", "unknown", "registered (roaming)")


def _meaning(line):
    """What a +CSQ / +CEREG reply says, for a technician."""
    from drivers.modem import csq_dbm

    try:
        if line.startswith("+CSQ:"):
            rssi = int(line[5:].split(",")[0])
            dbm = csq_dbm(rssi)
            if dbm is None:
                return "no signal"
            return "signal %d dBm (%s)" % (dbm, "good" if dbm >= -85 else
                                          "fair" if dbm >= -100 else "weak")
        if line.startswith("+CEREG:"):
            f = line[7:].split(",")
            stat = int(f[1] if len(f) > 1 and f[1].strip()[:1] != '"' else f[0])
            return _CEREG[stat] if 0 <= stat < len(_CEREG) else None
    except (ValueError, IndexError):
        return None
    return None


@_friendly
def modem(cmd=None, timeout_ms=2000):
    """Modem diagnostics; modem("AT+CSQ") sends one AT command and prints the reply."""
    m = _b().modem
    if not m.power_on():
        print("The modem does not answer AT: check its power and the UART wiring.")
        return
    for c in ([cmd] if cmd else ["ATI", "AT+CPIN?", "AT+CSQ", "AT+CEREG?"]):
        res, lines = m.cmd(c, timeout_ms, b"")      # the driver is the UART's only reader
        end = ("OK", "ERROR", "(no reply within %d ms)" % timeout_ms, "CONNECT")[res]
        try:
            text = " | ".join(x.decode() for x in lines)
            means = [w for w in (_meaning(x.decode().strip()) for x in lines) if w]
        except UnicodeError:
            text, means = repr(lines), []
        text = (text + " | " + end) if text and res != 1 else (text or end)
        print("%-12s %s" % (c, text.replace("\n", " | ")))
        for w in means:
            print("%-12s = %s" % ("", w))


@_friendly
def log(n=20):
    """The last n lines of the log in flash."""
    lines = _logring.tail(n)
    off = _offset_min()
    if not lines:
        print("The log is empty.")
    else:
        print("The last %d log lines (times %s):" % (len(lines), _zone(off)))
    for line in lines:
        ts, _, msg = line.partition(" ")
        try:
            t = _tm(int(ts), off)
            print("%02d-%02d %02d:%02d  %s" % (t[1], t[2], t[3], t[4], msg[:66]))
        except ValueError:
            print(line[:80])


@_friendly
def report_now():
    """Run one wake cycle now and send a report whatever the schedule says."""
    import app

    sleep_ms = app.run_cycle(_b(), force_report=True)
    from outbox import Outbox

    left = len(Outbox())
    _note("report_now: %s" % ("all sent" if not left else "%d still queued" % left))
    print("Reported. %s Next wake due in %d s." % (
        "All sent." if not left else "%d reports still queued." % left, sleep_ms // 1000))


@_friendly
def config(**changes):
    """config() shows the settings; config(key=value, ...) validates and saves them."""
    cfg = _config.load()
    if not changes:
        for k in sorted(cfg):
            print("%-20s %s" % (k, cfg[k]))
        return
    try:
        new = _config.validate(changes, cfg)
    except ValueError as e:
        print("Not saved: %s." % e)
        return
    _config.save(new)
    said = ", ".join("%s=%s" % kv for kv in changes.items())
    _note("config saved: " + said)
    print("Saved: %s." % said)


@_friendly
def safe_mode_off(confirm=None):
    """Leave safe mode: the next boot starts the app again."""
    import safemode

    if not safemode.active():
        print("The bin is not in safe mode.")
        return
    print("Last error before safe mode:\n%s" % (safemode.last_trace() or "(none kept)"))
    if confirm is None:
        print("Still in safe mode. Once the cause is fixed: safe_mode_off('yes') leaves it "
              "and restarts.")
        return
    if str(confirm).strip().lower() != "yes":
        print("Still in safe mode.")
        return
    safemode.leave()
    _note("safe mode off")
    print("Safe mode off. Restarting.")
    import board as _boards

    _boards.load().reset()


def help():  # noqa: A001 - the REPL's own help() is what a technician would type
    print("Technician helpers (Ctrl-C stops any of them; the motor stays off):")
    for name in __all__[:-1]:
        print("  %-18s %s" % (name + "()", _DOCS[name]))
    print("Leave with machine.reset() (or unplug); the bin starts its wake cycle again.")


_DOCS = {
    "status": "one screen: fill, sensors, battery, queue, faults",
    "sensors": "sensors(n=5): n live readings of every sensor",
    "calibrate_empty": "calibrate_empty('yes'): learn the empty distance (empty, shut)",
    "motor_test": "motor_test('yes'): one stroke with every interlock on",
    "modem": 'modem() diagnostics; modem("AT+CSQ") one AT command',
    "log": "log(n=20): the last n log lines",
    "report_now": "one wake cycle now, with a report",
    "config": "config() shows; config(key=value) validates and saves",
    "safe_mode_off": "safe_mode_off('yes'): leave safe mode, restart (cause fixed)",
}
