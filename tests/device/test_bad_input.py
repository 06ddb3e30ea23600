"""Bad input never crashes the firmware (tests/device/badinput_cases.py on the unix port):
fuzzed config, state, RTC memory, boot count and identity files, garbled level-sensor frames
and garbled broker bytes through whole reporting sessions."""

from __future__ import annotations


def test_fuzzed_flash_files_and_garbled_broker_sessions(device):
    out = device("badinput_cases.py", "1000", expect_cases=27)
    assert "config raised" not in out and "session raised" not in out
