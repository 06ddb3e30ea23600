"""The back office as one process: the ingest and the web server on one database."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from host_tools.backoffice import db
from host_tools.backoffice.auth import Sessions, User, hash_password, parse_users
from host_tools.backoffice.ingest import Ingest
from host_tools.backoffice.sites import DEPOT, load_sites
from host_tools.backoffice.store import Store
from host_tools.backoffice.web import Context, create_app

log = logging.getLogger("backoffice")
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass
class Options:
    broker: tuple[str, int] | None
    db_url: str = "build/backoffice.db"
    http: tuple[str, int] = ("127.0.0.1", 8022)
    users_text: str = ""
    demo_password: str | None = None     # an operator account "operator" with it
    sites: Path | None = None
    depot: tuple[float, float] = DEPOT
    routes: Path | None = None
    tiles: str | None = None
    offline_h: float = 6.0
    client_id: str = "backoffice-ingest"
    mqtt_user: str | None = None
    mqtt_password: str | None = None


def users_from(opts: Options) -> dict[str, User]:
    users = parse_users(opts.users_text) if opts.users_text else {}
    if opts.demo_password:
        users["operator"] = User("operator", "operator", hash_password(opts.demo_password))
    return users


def demo_password() -> str:
    return secrets.token_urlsafe(9)


class Service:
    def __init__(self, opts: Options):
        users = users_from(opts)
        if not users:
            raise SystemExit("backoffice: no account: give --users FILE or BACKOFFICE_USERS "
                             "(name:role:hash; hash-password makes a hash), or --demo")
        self.opts = opts
        self.engine = db.make_engine(opts.db_url)
        db.upgrade(self.engine)
        self.store = Store(self.engine, offline_h=opts.offline_h)
        self.ingest = None
        if opts.broker:
            self.ingest = Ingest(self.store, *opts.broker, client_id=opts.client_id,
                                 username=opts.mqtt_user, password=opts.mqtt_password)
        ctx = Context(self.engine, self.store, Sessions(users),
                      load_sites(opts.sites, opts.depot), opts.routes,
                      OSM_TILES if opts.tiles == "osm" else opts.tiles, self.ingest,
                      secure_cookie=os.environ.get("BACKOFFICE_SECURE_COOKIE") == "1")
        self.app = create_app(ctx)
        cfg = uvicorn.Config(self.app, host=opts.http[0], port=opts.http[1],
                             log_level="warning", access_log=False,
                             timeout_keep_alive=5, timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(cfg)
        self._thread: threading.Thread | None = None
        self._ingesting = False

    @property
    def url(self) -> str:
        return f"http://{self.opts.http[0]}:{self.opts.http[1]}/"

    def start_ingest(self) -> None:
        """Connects the ingest (waits up to 10 s for the subscription)."""
        if self.ingest and not self._ingesting:
            self.ingest.start()
            self._ingesting = True

    def serve(self) -> None:
        """Runs until interrupted (the web server in this thread)."""
        self.start_ingest()
        try:
            self.server.run()
        finally:
            if self.ingest:
                self.ingest.stop()
            self.engine.dispose()

    def start_background(self) -> Service:
        self.server.config.install_signal_handlers = False   # not the main thread
        self.start_ingest()
        self._thread = threading.Thread(target=self.server.run, daemon=True,
                                        name="backoffice-web")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread:
            self._thread.join(10)
        if self.ingest:
            self.ingest.stop()
        self.engine.dispose()
