"""Accounts, hashed passwords (scrypt) and session cookies.

Accounts come from a file or the BACKOFFICE_USERS variable: `name:role:hash` entries
(one a line, or `;`-separated), role `operator` (may acknowledge and resolve) or `viewer`
(read-only). `python -m host_tools.backoffice hash-password` prints a hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass

ROLES = ("viewer", "operator")
SESSION_S = 12 * 3600
COOKIE = "bo_session"
_N, _R, _P = 2 ** 14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(key).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        kind, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(key)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=_N, r=_R,
                             p=_P, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


@dataclass
class User:
    name: str
    role: str
    hash: str


def parse_users(text: str) -> dict[str, User]:
    users: dict[str, User] = {}
    for raw in text.replace(";", "\n").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, role, h = (line.split(":", 2) + ["", ""])[:3]
        if not name or role not in ROLES or not h.startswith("scrypt$"):
            raise ValueError(f"users: bad entry {name or line[:20]!r} (name:role:scrypt$...)")
        users[name] = User(name, role, h)
    return users


@dataclass
class Session:
    user: str
    role: str
    expires: float


class Sessions:
    def __init__(self, users: dict[str, User], ttl_s: float = SESSION_S):
        self.users = users
        self.ttl = ttl_s
        self._s: dict[str, Session] = {}
        self._lock = threading.Lock()

    def login(self, name: str, password: str) -> str | None:
        u = self.users.get(name)
        # the same work for an unknown name: no hint which names exist
        ok = check_password(password, u.hash if u else _DUMMY)
        if not (u and ok):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._s[token] = Session(u.name, u.role, time.time() + self.ttl)
        return token

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            s = self._s.get(token)
            if s and s.expires < time.time():
                del self._s[token]
                s = None
        return s

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._s.pop(token or "", None)


_DUMMY = hash_password("no such user", salt=b"0" * 16)
