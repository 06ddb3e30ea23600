# Tiny check helper for device-side case scripts (runs on MicroPython and CPython).
import sys

_cases = [0]
_failures = []


def eq(got, want, what=""):
    _cases[0] += 1
    if got != want:
        _failures.append("%s: got %r, want %r" % (what, got, want))


def true(cond, what=""):
    _cases[0] += 1
    if not cond:
        _failures.append("%s: not true" % what)


def done():
    for f in _failures:
        print("FAIL", f)
    if _failures or not _cases[0]:
        print("FAILED %d of %d cases" % (len(_failures), _cases[0]))
        sys.exit(1)
    print("PASS %d cases" % _cases[0])
