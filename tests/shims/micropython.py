"""CPython stand-in for MicroPython's micropython module (pure-logic tests only)."""


def const(x):
    return x
