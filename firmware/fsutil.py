# Flash file helpers: atomic writes (temp file + rename) and tolerant JSON reads.
import json
import os


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)  # LittleFS and POSIX: old or new, never half


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
