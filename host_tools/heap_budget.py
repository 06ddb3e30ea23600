"""The GC heap a wake of the firmware may need: the budget `make test` holds it to.

tests/sim/test_heap_budget.py runs one reporting wake over MQTT with TLS (the broker's
certificate verified against the provisioned CA), the firmware as a deploy builds it (the
sim board's manifest, mpy-cross -O2), on the unix port at `-X heapsize=` this budget, and
fails on a MemoryError, a traceback or a report that is not delivered.

How it was measured: `.venv/bin/python bench/run.py mpy heap`, bench key
`peak_heap_wake_tls_bytes` (the smallest -X heapsize that TLS wake runs in, bisected to
256 B, the world of seed 1 from 2025-06-01, 0.1 simulated day in faithful mode). The budget
is that figure plus the margin below.

The figure is not a smooth threshold: the wake's TLS session allocates 4 KiB blocks, and
whether the heap has one free in one piece depends on its layout, which moves with the
heap's size and the lengths of the paths the firmware sees. Scanned in 512 B steps with the
test's own setup, the wake passed from 250,880 to 258,048 B, failed from 258,560 to
260,096 B and passed again from 260,608 B up: the budget sits in the first band, near its
middle. A change that makes the firmware need more heap must move this budget in the same
commit, with the new measurement (and a scan around it).
"""

# peak_heap_wake_tls_bytes: 250,368 B, bench/run.py mpy heap, 2026-12-02 (unix port,
# MicroPython 1.29.0-preview unix port, sim board's manifest as .mpy)
WAKE_TLS_MEASURED = 250_368
WAKE_TLS_MARGIN = 4096
WAKE_TLS_HEAP_BUDGET = WAKE_TLS_MEASURED + WAKE_TLS_MARGIN     # 254,464 B
