# Runs first after every reset. The motor goes to its safe state before anything else, then
# the boot is counted: too many in a row without a finished wake cycle means safe mode.
import sys

# Which firmware slot runs (firmware/ota.py): the deployed firmware/ unless slot.json names
# an update slot. An update still on trial after 3 boots never confirmed itself with an
# acknowledged report: back to the slot before it (only files are read and written here).
_slot = "firmware"
try:
    import json
    import os

    with open("slot.json") as _f:
        _s = json.loads(_f.read())
    if _s.get("active") in ("fw_a", "fw_b"):
        _slot = _s["active"]
        if _s.get("trial"):
            _s["tries"] = _s.get("tries", 0) + 1
            if _s["tries"] > 3:
                _s = {"active": _s.get("prev"), "v": _s.get("pv"), "bad": _s.get("v"),
                      "rolled_back": _s.get("v")}
                _slot = _s["active"] if _s["active"] in ("fw_a", "fw_b") else "firmware"
                try:
                    os.remove("boots.json")   # the crashes were the update's, not this slot's
                except OSError:
                    pass
            with open("slot.json.tmp", "w") as _f:
                _f.write(json.dumps(_s))
            os.rename("slot.json.tmp", "slot.json")
except Exception:  # no slot.json (as deployed) or unreadable: the factory slot
    pass
if _slot == "firmware":
    for _p in ("firmware", "firmware/lib"):
        if _p not in sys.path:
            sys.path.append(_p)
else:   # ahead of everything else: the slot's modules shadow the factory's
    sys.path.insert(0, _slot + "/lib")
    sys.path.insert(0, _slot)

import board  # noqa: E402

_bm = board.load()
_bm.safe_state()

try:
    import safemode  # noqa: E402

    safemode.on_boot(_bm.boot_cause())
except Exception as _e:  # a broken flash must not keep the bin from booting
    sys.print_exception(_e)
