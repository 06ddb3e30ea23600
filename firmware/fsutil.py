# Flash file helpers: atomic writes (temp file + rename), appends and tolerant JSON reads.
# Every write of the firmware to flash goes through put(), so that the sim board can report
# it to the simulator, which may cut the power inside it (probe; None on the device).
# No file on flash, whatever its size, type or content, may stop a wake: a file is checked
# (a regular file, not larger than its reader expects) before it is read, and one that is
# damaged is set aside as <name>.bad (kept for the technician) so that its defaults take
# its place and the next wake finds no damage. The app reports each .bad file once, then
# renames it <name>.old (seen()).
import json
import os

# (plain ints, no const(): the host tools import this module, with config.py, on CPython)
probe = None   # sim board: probe.write(path, n) -> -1, or the bytes that land before a cut
found = []     # damage set aside in this boot: "name: what was wrong" (for the report)
count = 0      # files set aside in this boot (found keeps the first _FOUND_MAX)

MAX_JSON = 4096     # a JSON file larger than this (unless its reader says) is damage
BAD = ".bad"        # set aside, not yet reported
OLD = ".old"        # set aside and reported
_S_IFDIR = 0x4000
_S_IFMT = 0xF000
_S_IFREG = 0x8000
_ENOENT = 2
_FOUND_MAX = 8


def put(f, path, data):
    """f.write(data) on a file opened for writing `path`."""
    p = probe
    if p is not None:
        k = p.write(path, len(data))
        if k >= 0:       # the power fails after k bytes: the rest never reaches flash
            f.write(data[:k])
            f.close()
            p.cut()      # never returns
    f.write(data)


def _gone(path):
    """Remove a file or an (empty or not) directory tree at path; never raises."""
    try:
        os.remove(path)
        return
    except OSError:
        pass
    try:
        for name in os.listdir(path):
            _gone(path + "/" + name)
        os.rmdir(path)
    except OSError:
        pass


def set_aside(path, why):
    """Move a damaged file (or whatever stands at path: a directory, a link) out of the way
    as path.bad, replacing an older one, and note it in found. Never raises; True when
    path is free afterwards."""
    global count
    count += 1
    if len(found) < _FOUND_MAX:
        found.append("%s: %s" % (path, why))
    _gone(path + BAD)
    try:
        os.rename(path, path + BAD)
        return True
    except OSError:
        pass
    _gone(path)   # it cannot even be renamed: drop it
    return kind(path) is None


def kind(path):
    """None (nothing there), "file", "dir" or "other"; a path that cannot be looked at (a
    link loop, a damaged entry) is "other". Never raises."""
    try:
        m = os.stat(path)[0]
    except OSError as e:
        return None if e.args and e.args[0] == _ENOENT else "other"
    if m & _S_IFMT == _S_IFDIR:
        return "dir"
    if m & _S_IFMT == _S_IFREG or not m & _S_IFMT:   # (some ports leave the type out)
        return "file"
    return "other"


def check(path, max_bytes):
    """The file's size when path is a regular file of at most max_bytes; -1 when nothing is
    there; otherwise the thing at path is set aside and -1 is returned too."""
    k = kind(path)
    if k is None:
        return -1
    if k != "file":
        set_aside(path, "not a file (%s)" % k)
        return -1
    try:
        n = os.stat(path)[6]
    except OSError:
        n = max_bytes + 1
    if n > max_bytes:
        set_aside(path, "too large (%d bytes, at most %d)" % (n, max_bytes))
        return -1
    return n


def read_bytes(path, max_bytes):
    """The file's bytes (checked first, see check()), or None. Never raises."""
    if check(path, max_bytes) < 0:
        return None
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        set_aside(path, "unreadable (%s)" % e)
        return None
    if len(raw) > max_bytes:   # it grew since the check
        set_aside(path, "too large")
        return None
    return raw


def parse(raw):
    """json.loads that never raises: (value, None) or (None, why). Deep nesting and huge
    numbers end in an exception of their own (MemoryError, RuntimeError) on MicroPython."""
    try:
        return json.loads(raw), None
    except Exception as e:  # noqa: BLE001 - any content must give a verdict, not a crash
        import gc

        gc.collect()
        return None, "not JSON (%s)" % type(e).__name__


def write_atomic(path, data):
    """Temp file + rename. What stands in the way (a directory at the path or its temp
    name, a link loop) is set aside first, so a write is never refused for good."""
    tmp = path + ".tmp"
    if kind(tmp) is not None:
        _gone(tmp)
        if kind(tmp) is not None:
            set_aside(tmp, "in the way of a write")
    with open(tmp, "wb") as f:
        put(f, tmp, data)
    try:
        os.rename(tmp, path)  # LittleFS and POSIX: old or new, never half
    except OSError:
        if kind(path) == "file":
            raise
        set_aside(path, "not a file (%s)" % kind(path))
        os.rename(tmp, path)


def append(path, data):
    """One append. A power cut inside it leaves a prefix of data (LittleFS keeps none of an
    unclosed file's new bytes; the sim board may tear it anywhere, which is harsher)."""
    with open(path, "ab") as f:
        put(f, path, data)


def read_json(path, max_bytes=MAX_JSON, want=None):
    """The parsed file, or None when it is missing or damaged (never raises). Damage (not a
    file, larger than max_bytes, unreadable, not JSON, or not of the type `want`) is set
    aside (set_aside) and noted in found."""
    raw = read_bytes(path, max_bytes)
    if raw is None:
        return None
    d, why = parse(raw)
    if why is None and want is not None and not isinstance(d, want):
        why = "not a JSON %s" % ("object" if want is dict else want.__name__)
    if why is not None:
        set_aside(path, why)
        return None
    return d


def write_json(path, obj):
    write_atomic(path, json.dumps(obj))


def remove_stale_tmp(folder="."):
    """Drop *.tmp files (or directories) a power cut or damage left behind; returns how
    many."""
    n = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if name.endswith(".tmp"):
            p = name if folder == "." else folder + "/" + name
            _gone(p)
            n += 1
    return n


def unreported(folder="."):
    """Names of the files set aside (*.bad) and not yet reported."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [n[:-len(BAD)] for n in names if n.endswith(BAD)]


def seen(name):
    """The damage of name was reported: its .bad copy becomes name.old (the technician's
    copy; one per file). Never raises."""
    _gone(name + OLD)
    try:
        os.rename(name + BAD, name + OLD)
    except OSError:
        _gone(name + BAD)
