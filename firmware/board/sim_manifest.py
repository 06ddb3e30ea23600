# The sim board (board/sim.py): the same firmware on the MicroPython unix port, its
# hardware and network on the simulator's link. board/simrom.py is this board's ROM: it
# runs boot.py and main.py after every reset. Paths are relative to this folder.

include("common_manifest.py")
package("board", files=("__init__.py", "sim.py", "simclock.py", "simflash.py", "simlink.py",
                        "simnet.py", "simrom.py"), base_path="..", opt=2)
# the ranger kinds a simulated bin may be configured with (SimConfig sensor kinds)
package("drivers", files=("hcsr04.py", "maxbotix.py"), base_path="..", opt=2)
