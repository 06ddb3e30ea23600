"""SIM7080G driver on the unix port: scripted dialogues, then 3,000 random garbled AT
dialogues (tests/device/modem_cases.py)."""

from __future__ import annotations


def test_modem_driver_and_3000_garbled_dialogues(device):
    out = device("modem_cases.py", "3000", expect_cases=68)
    assert "fuzz: 3000 dialogues" in out
