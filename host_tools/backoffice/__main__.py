"""The back office: stores what the bins send and serves the operators' web page.

    python -m host_tools.backoffice --broker 127.0.0.1:1883 [--db URL] [--http HOST:PORT]
    python -m host_tools.backoffice hash-password      (a hash for BACKOFFICE_USERS)
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from host_tools.backoffice.auth import hash_password
from host_tools.backoffice.service import Options, Service, demo_password
from host_tools.backoffice.sites import DEPOT


def _hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: HOST:PORT")
    return host, int(port)


def _latlon(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: LAT,LON") from None
    return lat, lon


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m host_tools.backoffice",
                                description=__doc__.split("\n")[0])
    p.add_argument("--broker", type=_hostport, default=None, metavar="HOST:PORT",
                   help="the broker to ingest from (none: serve the database only)")
    p.add_argument("--db", default="build/backoffice.db",
                   help="database: a SQLite file (default build/backoffice.db) or a URL "
                        "(sqlite:///path, postgresql://user:pw@host:port/db)")
    p.add_argument("--http", type=_hostport, default=("127.0.0.1", 8022), metavar="HOST:PORT",
                   help="serve the page here (default 127.0.0.1:8022)")
    p.add_argument("--users", type=Path, default=None, metavar="FILE",
                   help="accounts, name:role:hash a line (default: $BACKOFFICE_USERS)")
    p.add_argument("--demo", action="store_true",
                   help="add an account 'operator' with a fresh password, printed at start "
                        "($BACKOFFICE_DEMO_PASSWORD: that one)")
    p.add_argument("--sites", type=Path, default=None, metavar="CSV",
                   help="bin positions: bin_id,lat,lon (a 'depot' row for the depot); "
                        "default: the dispatcher's site register around --depot")
    p.add_argument("--depot", type=_latlon, default=DEPOT, metavar="LAT,LON",
                   help=f"the depot (default {DEPOT[0]},{DEPOT[1]})")
    p.add_argument("--routes", type=Path, default=None, metavar="GEOJSON",
                   help="today's routes: a FeatureCollection (a LineString per crew, a Point "
                        "per stop), re-read on each request")
    p.add_argument("--tiles", default=None, metavar="URL|osm",
                   help="map tiles: a URL template or 'osm' (default: none, plain map)")
    p.add_argument("--offline-h", type=float, default=6.0,
                   help="an offline alert after this many hours without a message (default 6)")
    p.add_argument("--client-id", default="backoffice-ingest",
                   help="MQTT client id: the persistent session's name")
    p.add_argument("--log", type=Path, default=None, help="log to this file (default stderr)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        pw = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else \
            getpass.getpass("password: ")
        print(hash_password(pw))
        return 0
    a = parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        filename=a.log, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    users = a.users.read_text() if a.users else os.environ.get("BACKOFFICE_USERS", "")
    demo = (os.environ.get("BACKOFFICE_DEMO_PASSWORD") or demo_password()) if a.demo else None
    opts = Options(broker=a.broker, db_url=a.db, http=a.http, users_text=users,
                   demo_password=demo, sites=a.sites, depot=a.depot, routes=a.routes,
                   tiles=a.tiles, offline_h=a.offline_h, client_id=a.client_id,
                   mqtt_user=os.environ.get("BACKOFFICE_MQTT_USER"),
                   mqtt_password=os.environ.get("BACKOFFICE_MQTT_PASSWORD"))
    try:
        svc = Service(opts)
    except ValueError as e:
        print(f"backoffice: {e}", file=sys.stderr)
        return 2
    svc.start_ingest()
    print(f"backoffice: {svc.url}" + (f"  (user operator, password {demo})" if demo else ""),
          flush=True)
    try:
        svc.serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
