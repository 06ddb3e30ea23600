# Power cuts inside flash writes on the sim board. fsutil.put() asks before every write; the
# simulator answers -1 (the write goes through) or k: the power fails once k bytes of it have
# reached flash. The firmware writes those k bytes, closes the file and reports the cut; the
# simulator then kills the process (SIGKILL: no finally block, no flush, no RTC memory).


class FlashProbe:
    def __init__(self, conn):
        self._c = conn

    def write(self, path, n):
        return self._c.call("flash", path, n)

    def cut(self):
        self._c.call("power_cut")
        while True:      # the simulator kills this process; nothing more may run
            pass
