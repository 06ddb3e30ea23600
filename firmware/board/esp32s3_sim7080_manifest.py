# The reference bin: ESP32-S3 (no PSRAM) with a SIM7080G modem (board/esp32s3_sim7080.py).
# What `make deploy` copies to it, what an update bundle carries, and what a firmware build
# freezes: make BOARD=ESP32_GENERIC_S3 FROZEN_MANIFEST=<this file> in ports/esp32.
# boot.py and main.py are not modules: they stay on the filesystem beside firmware/.

# A firmware build keeps the port's own frozen modules (_boot.py mounts the filesystem).
# The host tools, which deploy onto a stock image that already holds them, skip it.
include("$(PORT_DIR)/boards/manifest.py")

include("common_manifest.py")
package("board", files=("__init__.py", "esp32s3_sim7080.py"), base_path="..", opt=2)
module("clock.py", base_path="..", opt=2)
module("pppnet.py", base_path="..", opt=2)
