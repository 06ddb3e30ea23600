"""Delivery figures and the command schedule, both seen from the broker only.

figures(): what the broker subscriber received. Each bin numbers its telemetry (seq);
a sequence number below the highest one received that never arrived is lost, unless the
bin reported dropping it from a full queue (its telemetry carries the running drop count).

Commander: sends the bins commands on a schedule (every N telemetry messages a bin
delivered) and counts the acks that come back on bins/<id>/cmd/ack with a sent id."""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict

COMMANDS = ("report_now", "reset_fault")


class Commander:
    def __init__(self, subscriber, every: int):
        self.every = every
        self.sent: dict[str, str] = {}          # command id -> bin
        self.acked: set[str] = set()
        self.error_acks = 0
        self._seen: dict[str, int] = defaultdict(int)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._client = subscriber.client
        subscriber.commander = self
        subscriber.listeners.append(self._on_message)

    def _on_message(self, m) -> None:
        if m.retain:
            return
        if m.kind == "cmd/ack":
            d = m.json() or {}
            with self._lock:
                cid = d.get("id")
                if isinstance(cid, str) and cid in self.sent:
                    self.acked.add(cid)
                    if not d.get("ok"):
                        self.error_acks += 1
            return
        if m.kind != "telemetry" or self.every <= 0:
            return
        with self._lock:
            self._seen[m.bin_id] += 1
            if self._seen[m.bin_id] % self.every:
                return
            n = next(self._ids)
            cid = f"c{n}"
            self.sent[cid] = m.bin_id
        cmd = COMMANDS[n % len(COMMANDS)]
        self._client.publish(f"bins/{m.bin_id}/cmd", json.dumps({"id": cid, "cmd": cmd}),
                             qos=1)


def figures(sim, subscriber) -> dict:
    seqs: dict[str, list[int]] = defaultdict(list)
    dropped: dict[str, int] = defaultdict(int)
    for m in subscriber.of_kind("telemetry"):
        d = m.json()
        if not isinstance(d, dict) or not isinstance(d.get("seq"), int):
            continue
        seqs[m.bin_id].append(d["seq"])
        if isinstance(d.get("drop"), int):
            dropped[m.bin_id] = max(dropped[m.bin_id], d["drop"])
    lost = dups = 0
    for b, s in seqs.items():
        got = set(s)
        dups += len(s) - len(got)
        missing = max(got) - len(got)      # seqs start at 1
        lost += max(0, missing - dropped[b])
    cmd = getattr(subscriber, "commander", None)
    out = {
        "telemetry_lost": lost,
        "telemetry_dropped_queue_full": sum(dropped.values()),
        "telemetry_duplicates": dups,
        "commands_sent": 0,
        "commands_acked": 0,
    }
    if cmd is not None:
        with cmd._lock:
            out["commands_sent"] = len(cmd.sent)
            out["commands_acked"] = len(cmd.acked)
            out["commands_error_acks"] = cmd.error_acks
    return out
