# Board selection and the Board record every composition root fills in.
#
# The app receives a Board and never asks which one it is running on. Only boot.py and
# main.py call load(), which picks the composition-root module for this platform.


def load():
    import sys

    if sys.platform == "esp32":
        from board import esp32s3_sim7080 as mod
    else:
        from board import sim as mod
    return mod


class Board:
    """Everything the app may touch, built by one composition root (board/*.py)."""

    def __init__(self, name, clock, level_sensors, temp, door, limit_home, limit_end, motor,
                 battery, solar, modem, link, rtc, wdt, platform, tilt=None,
                 door_lock=None):
        self.name = name
        self.clock = clock                  # ticks_ms/ticks_diff/ticks_add/sleep_ms/time
        self.level_sensors = level_sensors  # tuple of drivers with read_mm(timeout_ms)
        self.temp = temp                    # in-bin air temperature: read_c()
        self.door = door                    # hopper door switch: active() == open
        self.limit_home = limit_home        # ram parked (top) limit switch
        self.limit_end = limit_end          # ram end-of-stroke (bottom) limit switch
        self.motor = motor                  # HBridge with current sense
        self.battery = battery              # battery voltage: read_mv()
        self.solar = solar                  # solar panel voltage: read_mv()
        self.modem = modem                  # modem UART + power key
        self.link = link                    # data link: up()/open()/down()
        self.rtc = rtc                      # RTC memory: memory([bytes])
        self.wdt = wdt                      # watchdog: feed()
        self._platform = platform           # reset_cause/wake_reason/deepsleep
        self.tilt = tilt                    # tilt switch: active() == not upright, or None
        self.door_lock = door_lock          # hopper door lock: engage()/release() (compactor)

    def reset_cause(self):
        """'power_on', 'deepsleep', 'watchdog', 'brownout', 'soft' or 'hard'."""
        return self._platform.reset_cause()

    def wake_reason(self):
        """'timer', 'door', 'button' or None (not a deep-sleep wake)."""
        return self._platform.wake_reason()

    def technician(self, wait_ms):
        """Safe mode: does someone press a key on the service REPL within wait_ms?"""
        f = getattr(self._platform, "technician", None)
        return f(wait_ms) if f else False

    def deepsleep(self, ms):
        """Sleep ms milliseconds. On the device this resets the chip and never returns."""
        self.motor.off()
        self._platform.deepsleep(ms)


class NoWatchdog:
    """Safe mode: the hardware watchdog is never started (the REPL must stay up)."""

    def feed(self):
        pass
