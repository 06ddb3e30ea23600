# Flash file helpers: atomic writes (temp file + rename), appends and tolerant JSON reads.
# Every write of the firmware to flash goes through put(), so that the sim board can report
# it to the simulator, which may cut the power inside it (probe; None on the device).
import json
import os

probe = None   # sim board: probe.write(path, n) -> -1, or the bytes that land before a cut


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


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        put(f, tmp, data)
    os.rename(tmp, path)  # LittleFS and POSIX: old or new, never half


def append(path, data):
    """One append. A power cut inside it leaves a prefix of data (LittleFS keeps none of an
    unclosed file's new bytes; the sim board may tear it anywhere, which is harsher)."""
    with open(path, "ab") as f:
        put(f, path, data)


def read_json(path):
    """The parsed file, or None when it is missing or unreadable (never raises)."""
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def write_json(path, obj):
    write_atomic(path, json.dumps(obj))


def remove_stale_tmp(folder="."):
    """Drop *.tmp files a power cut left behind; returns how many."""
    n = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if name.endswith(".tmp"):
            try:
                os.remove(name if folder == "." else folder + "/" + name)
                n += 1
            except OSError:
                pass
    return n
