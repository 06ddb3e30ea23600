# The modules every board runs: the app, its phases and the drivers both composition roots
# build, in MicroPython's manifest format (tools/manifestfile.py). A board's manifest
# includes this one and adds its composition root. Paths are relative to this folder.
# opt=2 as the deploy compiles them (mpy-cross -O2: no asserts, no line numbers).
# tests/host/test_manifest.py fails if a board imports a module its manifest lacks, or its
# manifest lists one the board never imports.
for _name in (
    "app.py",
    "compaction.py",
    "compactor.py",
    "config.py",
    "decide.py",
    "downlink.py",
    "ed25519.py",
    "energy.py",
    "fill.py",
    "fillwatch.py",
    "fsutil.py",
    "logring.py",
    "mqttc.py",
    "netlink.py",
    "netwatch.py",
    "ota.py",
    "outbox.py",
    "power_policy.py",
    "report.py",
    "safemode.py",
    "sense.py",
    "shell.py",
    "state.py",
    "uplink.py",
):
    module(_name, base_path="..", opt=2)

package("drivers", files=("__init__.py", "a02yyuw.py", "analog.py", "doorlock.py",
                          "hbridge.py", "modem.py", "switch.py"), base_path="..", opt=2)

# umqtt.simple from micropython-lib, pinned and fetched by `make setup` (fetch_umqtt)
package("umqtt", base_path="../lib", opt=2)
