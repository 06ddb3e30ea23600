# Bounded persistent queue of reports waiting for their PUBACK (outbox.json in flash).
# A dead link must not fill the flash: when full, the oldest report is dropped and the drop
# count travels with the next report. Reports leave only once the broker acknowledged them.
from fsutil import read_json, write_json

PATH = "outbox.json"


class Outbox:
    def __init__(self, max_items=200, path=PATH):
        self._path, self._max = path, max_items
        d = read_json(path)
        if not (isinstance(d, dict) and isinstance(d.get("items"), list)):
            d = {"items": [], "dropped": 0}
        self._items = d["items"]
        self.dropped = d.get("dropped", 0)

    def __len__(self):
        return len(self._items)

    def _save(self):
        write_json(self._path, {"items": self._items, "dropped": self.dropped})

    def put(self, kind, payload):
        """kind: topic suffix ('telemetry', 'event'); payload: str (JSON)."""
        self._items.append([kind, payload])
        over = len(self._items) - self._max
        if over > 0:
            del self._items[:over]
            self.dropped += over
        self._save()

    def peek(self, n):
        return self._items[:n]

    def ack(self, n):
        """The first n reports were acknowledged by the broker."""
        if n > 0:
            del self._items[:n]
            self._save()
