"""`make run`: a broker, the back office on it (SQLite) and the simulated bin, live.

    python -m host_tools.backoffice.demo [--http HOST:PORT] [sim options...]

Prints the page's address and a fresh operator password, then runs the simulator's live
view (`python -m host_tools.sim --live`) against the same broker; Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from host_tools.backoffice.service import Options, Service, demo_password
from host_tools.broker import Broker
from host_tools.paths import ROOT

DB = ROOT / "build" / "backoffice-demo.db"
LOG = ROOT / "build" / "backoffice.log"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m host_tools.backoffice.demo",
                                description=__doc__.split("\n")[0])
    p.add_argument("--http", default="127.0.0.1:8022", metavar="HOST:PORT")
    a, sim_args = p.parse_known_args(argv)
    host, _, port = a.http.rpartition(":")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, filename=LOG,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for f in (DB, Path(f"{DB}-wal"), Path(f"{DB}-shm")):   # each run is a new fleet
        f.unlink(missing_ok=True)
    password = demo_password()
    with Broker() as broker:
        svc = Service(Options(broker=(broker.host, broker.port), db_url=str(DB),
                              http=(host, int(port)), demo_password=password))
        svc.start_background()
        banner = (f"back office: {svc.url}  user operator, password {password}  "
                  f"(log {LOG.relative_to(ROOT)})")
        print(banner, flush=True)
        try:
            rc = subprocess.call([sys.executable, "-m", "host_tools.sim", "--live",
                                  "--broker", f"{broker.host}:{broker.port}", *sim_args],
                                 cwd=ROOT)
            if rc == 0:
                print(banner + "\nthe run has ended; the page stays up until Ctrl-C",
                      flush=True)
                svc._thread.join()
        except KeyboardInterrupt:
            rc = 130
        finally:
            svc.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
