#!/usr/bin/env bash
# System packages the tests need: mosquitto (broker), socat (virtual serial device),
# postgresql (the back office's PostgreSQL back end, started by its tests), chromium and
# chromium-driver (the back office's browser test, headless).
set -euo pipefail
missing=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v socat >/dev/null 2>&1 || missing+=(socat)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing system packages: ${missing[*]}"
  echo "setup: install them as root:  sudo apt-get install -y ${missing[*]}"
  exit 1
fi
echo "setup: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
