# Runs first after every reset. The motor goes to its safe state before anything else
# touches the hardware (choosing the firmware slot first only reads a small file), then the
# boot is counted: too many in a row without a finished wake cycle means safe mode.
import sys

# Which firmware slot runs (firmware/ota.py): the deployed firmware/ unless slot.json names
# an update slot. An update on trial that booted 3 times (power-ons aside; 20 in all)
# without confirming itself by an acknowledged report gives way to the slot before it.
_slot, _s = "firmware", None


def _save(d):   # atomically, like fsutil.write_atomic (only files are touched here)
    import json
    import os

    with open("slot.json.tmp", "w") as f:
        f.write(json.dumps(d))
    os.rename("slot.json.tmp", "slot.json")


try:
    with open("slot.json") as _f:
        import json   # only with a slot.json: an import of json looks through sys.path

        _s = json.loads(_f.read(513))   # a slot record is under 200 bytes
    if _s.get("active") in ("fw_a", "fw_b"):
        _slot = _s["active"]
        if _s.get("trial") and (_s.get("tries", 0) >= 3 or _s.get("n", 0) >= 20):
            _s = {"active": _s.get("prev"), "v": _s.get("pv"), "bad": _s.get("v"),
                  "rolled_back": _s.get("v")}
            _slot = _s["active"] if _s["active"] in ("fw_a", "fw_b") else "firmware"
            try:
                import os

                os.remove("boots.json")   # the crashes were the update's, not this slot's
            except OSError:
                pass
            _save(_s)
except Exception:  # no slot.json (as deployed) or unreadable: the factory slot
    _s = None
    try:   # one that is there but damaged is set aside (the app reports slot.json.bad)
        import os

        try:
            os.remove("slot.json.bad")
        except OSError:
            pass
        os.rename("slot.json", "slot.json.bad")
    except OSError:
        pass
if _slot == "firmware":
    for _p in ("firmware", "firmware/lib"):
        if _p not in sys.path:
            sys.path.append(_p)
elif _slot not in sys.path:   # ahead of everything else: the slot shadows the factory
    sys.path.insert(0, _slot + "/lib")
    sys.path.insert(0, _slot)

import board  # noqa: E402

_bm = board.load()
_bm.safe_state()

if isinstance(_s, dict) and _s.get("trial"):   # one more boot of an update on trial
    try:
        _s["n"] = _s.get("n", 0) + 1
        if _bm.boot_cause() != "power_on":     # a power cut says nothing of the update
            _s["tries"] = _s.get("tries", 0) + 1
        _save(_s)
    except Exception as _e:
        sys.print_exception(_e)

try:
    import safemode  # noqa: E402

    safemode.on_boot(_bm.boot_cause(), isinstance(_s, dict) and bool(_s.get("trial")))
except Exception as _e:  # a broken flash must not keep the bin from booting
    sys.print_exception(_e)
