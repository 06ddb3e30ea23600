"""The back office in headless Chromium (Debian's package, driven by Selenium), fed by a
small simulated fleet: the map shows every bin, an injected fire reaches the inbox and is
acknowledged, a bin page shows its history, a wrong password gets nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host_tools.backoffice.service import Options, Service
from host_tools.broker import Broker, free_port
from host_tools.paths import ROOT
from tests.host.backoffice_util import event, publish

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
PASSWORD = "bins-and-crews"
SHOTS = ROOT / "build" / "backoffice-screens"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="headless browser test needs Debian's chromium and chromium-driver "
           "(tools/sysdeps.sh installs them)")


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
              "--proxy-server=direct://", "--proxy-bypass-list=*"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=DriverService(executable_path=DRIVER), options=opts)
    drv.set_page_load_timeout(30)
    drv.set_script_timeout(30)
    return drv


def _not_blank(png: Path) -> None:
    from PIL import Image

    img = Image.open(png).convert("RGB").resize((280, 200))
    colours = img.getcolors(maxcolors=280 * 200)
    assert colours is not None and len(colours) > 20, f"{png}: too few colours"
    top = max(colours)[0]
    assert top < 0.9 * 280 * 200, f"{png}: one colour covers the page"


def _wait(drv, fn, timeout=20.0, what=""):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:      # an element re-drawn under us: try again
            last = e
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bo-browser")
    with Broker() as broker:
        svc = Service(Options(broker=(broker.host, broker.port), db_url=str(tmp / "bo.db"),
                              http=("127.0.0.1", free_port()),
                              demo_password=PASSWORD)).start_background()
        try:
            r = subprocess.run([sys.executable, "-m", "host_tools.sim", "--bins", "3",
                                "--days", "2", "--seed", "5", "--start", "2026-03-02",
                                "--broker", f"{broker.host}:{broker.port}"],
                               cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stderr[-2000:]
            assert svc.ingest.wait_idle(30)
            yield svc, broker
        finally:
            svc.stop()


def test_browser_map_inbox_bin_page_and_login(fleet):
    from selenium.webdriver.common.by import By

    svc, broker = fleet
    base = svc.url.rstrip("/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    clock = max(b["last_ts"] for b in _api_bins(svc))
    fire_ts = clock + 30                    # the fleet's clock, virtual time
    publish(broker, [("bins/bin-0002/event", event(fire_ts, "fire", temp=74.5, rise_cph=38),
                      False)], client_id="t-bo-fire")
    assert svc.ingest.wait_idle(20)
    drv = _browser()
    try:
        # a wrong password: the login page again, and the API says 401
        drv.get(base + "/")
        _wait(drv, lambda: drv.find_element(By.ID, "password"), what="login form")
        drv.find_element(By.ID, "user").send_keys("operator")
        drv.find_element(By.ID, "password").send_keys("not the password")
        drv.find_element(By.ID, "signin").click()
        _wait(drv, lambda: drv.find_element(By.ID, "login-error"), what="login refused")
        assert "bin-000" not in drv.page_source
        drv.get(base + "/api/bins")
        assert "login required" in drv.page_source and "bin-000" not in drv.page_source
        drv.get(base + "/bin/bin-0001")
        assert drv.current_url.endswith("/login")

        drv.find_element(By.ID, "user").send_keys("operator")
        drv.find_element(By.ID, "password").send_keys(PASSWORD)
        drv.find_element(By.ID, "signin").click()
        markers = _wait(drv, lambda: len(drv.find_elements(By.CSS_SELECTOR,
                                                           "path.bin-marker")) == 3 and
                        drv.find_elements(By.CSS_SELECTOR, "path.bin-marker"),
                        what="three bins on the map")
        assert len(markers) == 3
        row = _wait(drv, lambda: drv.find_element(
            By.CSS_SELECTOR, 'tr.alert-row[data-kind="fire"][data-bin="bin-0002"]'),
            what="the fire in the inbox")
        alert = next(a for a in _api(svc, "/api/alerts") if a["kind"] == "fire")
        assert 0 <= alert["ts"] - fire_ts <= 60   # within a minute of virtual time
        drv.save_screenshot(str(SHOTS / "fleet.png"))
        _not_blank(SHOTS / "fleet.png")
        row.find_element(By.CSS_SELECTOR, "button.ack").click()
        _wait(drv, lambda: drv.find_element(
            By.CSS_SELECTOR, 'tr.alert-row[data-kind="fire"]').get_attribute("data-status")
            == "acked", what="the fire acknowledged")
        a = next(a for a in _api(svc, "/api/alerts") if a["kind"] == "fire")
        assert (a["status"], a["acked_by"]) == ("acked", "operator")

        drv.get(base + "/bin/bin-0001")
        path = _wait(drv, lambda: drv.find_element(By.CSS_SELECTOR, "path.series-fill"),
                     what="the fill chart")
        points = path.get_attribute("d").count("L")
        reports = len(_api(svc, "/api/bins/bin-0001/history"))
        assert reports > 20 and points >= reports // 2
        assert drv.find_element(By.CSS_SELECTOR, "path.series-vbat").get_attribute("d")
        assert drv.find_element(By.CSS_SELECTOR, "path.series-rssi").get_attribute("d")
        assert drv.find_elements(By.CSS_SELECTOR, "#events tbody tr[data-ev]")
        assert "reports shown" in drv.find_element(By.ID, "bin-summary").text
        drv.save_screenshot(str(SHOTS / "bin.png"))
        _not_blank(SHOTS / "bin.png")
    finally:
        drv.quit()


def _api(svc, path):
    from fastapi.testclient import TestClient

    c = TestClient(svc.app)
    c.post("/login", data={"user": "operator", "password": PASSWORD})
    return c.get(path).json()


def _api_bins(svc):
    return _api(svc, "/api/bins")
