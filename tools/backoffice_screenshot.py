"""Makes the back office's screenshots in docs/: a simulated fleet (6 bins, 3 days, seed 7,
start 2026-03-02), an example routes file (two crews), a fire injected, headless Chromium.

    .venv/bin/python tools/backoffice_screenshot.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from host_tools.backoffice.service import Options, Service  # noqa: E402
from host_tools.backoffice.sites import load_sites  # noqa: E402
from host_tools.broker import Broker, free_port  # noqa: E402
from tests.host.backoffice_util import event, publish  # noqa: E402
from tests.host.test_backoffice_browser import PASSWORD, _browser  # noqa: E402

BINS = [f"bin-{i:04d}" for i in range(1, 7)]


def _nearest_first(stops: list[str], sites) -> list[str]:
    left, here, out = list(stops), sites.depot, []
    while left:
        nxt = min(left, key=lambda b: (sites.of(b)[0] - here[0]) ** 2
                  + (sites.of(b)[1] - here[1]) ** 2)
        left.remove(nxt)
        out.append(nxt)
        here = sites.of(nxt)
    return out


def routes_file(path: Path) -> None:
    sites = load_sites(None)
    depot = [sites.depot[1], sites.depot[0]]
    feats = []
    for crew, stops in enumerate((BINS[0::2], BINS[1::2])):
        stops = _nearest_first(stops, sites)
        pts = [[sites.of(b)[1], sites.of(b)[0]] for b in stops]
        feats.append({"type": "Feature", "properties": {"crew": crew},
                      "geometry": {"type": "LineString", "coordinates": [depot, *pts, depot]}})
        feats += [{"type": "Feature", "properties": {"bin_id": b},
                   "geometry": {"type": "Point", "coordinates": p}}
                  for b, p in zip(stops, pts, strict=True)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def main() -> int:
    from PIL import Image
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as tmp, Broker() as broker:
        routes = Path(tmp) / "routes.geojson"
        routes_file(routes)
        svc = Service(Options(broker=(broker.host, broker.port), db_url=f"{tmp}/bo.db",
                              http=("127.0.0.1", free_port()), demo_password=PASSWORD,
                              routes=routes)).start_background()
        try:
            subprocess.run([sys.executable, "-m", "host_tools.sim", "--bins", "6", "--days",
                            "3", "--seed", "7", "--start", "2026-03-02", "--fleet", "field",
                            "--broker", f"{broker.host}:{broker.port}"], cwd=ROOT, check=True,
                           capture_output=True, timeout=600)
            svc.ingest.wait_idle(30)
            clock = max(r[0] for r in svc.engine.connect().exec_driver_sql(
                "SELECT last_ts FROM bins"))
            publish(broker, [("bins/bin-0002/event",
                              event(clock + 30, "fire", temp=74.5, rise_cph=38), False)])
            svc.ingest.wait_idle(20)
            drv = _browser()
            try:
                drv.get(svc.url + "login")
                drv.find_element(By.ID, "user").send_keys("operator")
                drv.find_element(By.ID, "password").send_keys(PASSWORD)
                drv.find_element(By.ID, "signin").click()
                time.sleep(3)
                drv.save_screenshot(f"{tmp}/fleet.png")
                drv.get(svc.url + "bin/bin-0001")
                time.sleep(2)
                drv.save_screenshot(f"{tmp}/bin.png")
            finally:
                drv.quit()
            for name, out in (("fleet", "backoffice.png"), ("bin", "backoffice-bin.png")):
                img = Image.open(f"{tmp}/{name}.png").convert("RGB")
                img.save(ROOT / "docs" / out, optimize=True)
                print(f"docs/{out}")
        finally:
            svc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
