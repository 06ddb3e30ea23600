"""The back office's API and page behind the login: roles, every endpoint closed without a
session, CSV exports, routes from a GeoJSON file, vendored scripts (no CDN)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from host_tools.backoffice.auth import Sessions, hash_password, parse_users
from host_tools.backoffice.parse import parse
from host_tools.backoffice.sites import load_sites
from host_tools.backoffice.store import Store
from host_tools.backoffice.web import STATIC, Context, create_app
from tests.host.backoffice_util import T0, event, fresh_engine, postgres, telemetry  # noqa: F401

OP_PW, VIEW_PW = "correct horse", "read only"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bo-web")
    eng = fresh_engine(request.param, tmp, request)
    store = Store(eng)

    def rec(topic, d):
        return parse(topic, json.dumps(d).encode())

    store.write([rec("bins/bin-0001/telemetry", telemetry(n, T0 + 900 * n, fill=10.0 + n))
                 for n in range(1, 50)] + [
        rec("bins/bin-0002/telemetry", telemetry(1, T0, fill=95.0)),
        rec("bins/bin-0001/event", event(T0 + 1000, "fire", temp=70.0)),
        rec("bins/bin-0001/event", event(T0 + 2000, "collected", before=81.5, after=3.0))])
    routes = tmp / "routes.geojson"
    routes.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"crew": 0},
         "geometry": {"type": "LineString", "coordinates": [[126.97, 37.56], [126.98, 37.57]]}},
        {"type": "Feature", "properties": {"bin_id": "bin-0001"},
         "geometry": {"type": "Point", "coordinates": [126.98, 37.57]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}]}))
    users = parse_users(f"op:operator:{hash_password(OP_PW)}\n"
                        f"view:viewer:{hash_password(VIEW_PW)}")
    ctx = Context(eng, store, Sessions(users), load_sites(None), routes)
    return create_app(ctx)


def _login(app, user, pw) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    r = c.post("/login", content=f"user={user}&password={pw.replace(' ', '+')}",
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 303, r.text
    return c


API = ["/api/me", "/api/map", "/api/bins", "/api/bins/bin-0001",
       "/api/bins/bin-0001/history", "/api/events", "/api/collections", "/api/alerts",
       "/api/kpis", "/api/routes", "/api/rejected", "/api/status",
       "/api/export/history.csv?bin=bin-0001", "/api/export/collections.csv"]


def test_nothing_without_a_login_and_nothing_for_a_wrong_password(app):
    c = TestClient(app, follow_redirects=False)
    for path in API:
        r = c.get(path)
        assert r.status_code == 401 and "bin-0001" not in r.text, path
    for path in ("/", "/bin/bin-0001", "/static/app.js"):
        assert c.get(path).status_code == 303
    assert c.post("/api/alerts/1/ack").status_code == 401
    r = c.post("/login", content="user=op&password=wrong",
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 401 and "Wrong user or password" in r.text
    assert "bo_session" not in r.headers.get("set-cookie", "")
    r = c.post("/login", content="user=nobody&password=x",
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 401
    assert c.get("/api/bins").status_code == 401


def test_the_api_serves_what_the_page_shows(app):
    c = _login(app, "op", OP_PW)
    bins = c.get("/api/bins").json()
    assert [b["bin_id"] for b in bins] == ["bin-0001", "bin-0002"]
    assert bins[0]["fill"] == 59.0 and bins[0]["alerts_open"] == 1
    assert all(35 < b["lat"] < 40 and 125 < b["lon"] < 129 for b in bins)
    one = c.get("/api/bins/bin-0001").json()
    assert len(one["history"]) == 49 and one["collections"][0]["before"] == 81.5
    assert {e["ev"] for e in one["events"]} == {"fire", "collected"}
    k = c.get("/api/kpis").json()
    assert (k["bins"], k["collections"], k["mean_fill_at_collection_pct"],
            k["alerts_open"]) == (2, 1, 81.5, 1)
    routes = c.get("/api/routes").json()
    assert [f["geometry"]["type"] for f in routes["features"]] == ["LineString", "Point"]
    rows = list(csv.reader(io.StringIO(c.get("/api/export/history.csv?bin=bin-0001").text)))
    assert rows[0][:4] == ["bin_id", "ts", "seq", "fill"] and len(rows) == 50
    rows = list(csv.reader(io.StringIO(c.get("/api/export/collections.csv").text)))
    assert rows[1][0] == "bin-0001" and float(rows[1][2]) == 81.5
    assert c.get("/api/bins/no such").status_code == 404
    assert c.get("/api/alerts?status=bogus").status_code == 400
    assert "Bins back office" in c.get("/").text


def test_roles_viewer_reads_operator_acknowledges_and_resolves(app):
    viewer = _login(app, "view", VIEW_PW)
    fire = next(a for a in viewer.get("/api/alerts").json() if a["kind"] == "fire")
    assert viewer.post(f"/api/alerts/{fire['id']}/ack").status_code == 403
    op = _login(app, "op", OP_PW)
    assert op.post(f"/api/alerts/{fire['id']}/ack").status_code == 200
    assert op.post(f"/api/alerts/{fire['id']}/ack").status_code == 409
    a = next(a for a in op.get("/api/alerts").json() if a["id"] == fire["id"])
    assert (a["status"], a["acked_by"]) == ("acked", "op")
    assert op.post(f"/api/alerts/{fire['id']}/resolve").status_code == 200
    assert op.get("/api/alerts?status=active").json() == [
        x for x in op.get("/api/alerts?status=active").json() if x["id"] != fire["id"]]
    op.post("/logout")
    assert op.get("/api/bins").status_code == 401


def test_scripts_are_vendored_and_match_their_recorded_hashes():
    vendor = STATIC / "vendor" / "leaflet-1.9.4"
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", (vendor / "VENDORED.md").read_text(),
                        re.M)
    assert len(listed) >= 4
    for digest, name in listed:
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == digest, name
    for page in STATIC.glob("*.*"):
        text = page.read_text()
        assert not re.search(r"""(src|href)=["']https?://""", text), page
    assert "BSD" in (vendor / "LICENSE").read_text() or "Redistribution" in (
        vendor / "LICENSE").read_text()


def test_sites_file_and_bad_users():
    from host_tools.backoffice.sites import load_routes

    p = Path(__file__).parent / "nonexistent.geojson"
    assert load_routes(p) == {"type": "FeatureCollection", "features": []}
    with pytest.raises(ValueError):
        parse_users("op:admin:scrypt$x$y")


def test_sites_csv_places_bins_and_the_depot(tmp_path):
    f = tmp_path / "sites.csv"
    f.write_text("bin_id,lat,lon\ndepot,35.1,129.0\nbin-0001,35.2,129.1\n")
    s = load_sites(f)
    assert s.depot == (35.1, 129.0) and s.of("bin-0001") == (35.2, 129.1)
    lat, lon = s.of("bin-0002")          # not listed: the register, around the depot
    assert abs(lat - 35.1) < 0.05 and abs(lon - 129.0) < 0.05
    f.write_text("bin_id,lat,lon\nbin-0001,95,129\n")
    with pytest.raises(ValueError, match="not a coordinate"):
        load_sites(f)


def test_cli_hashes_a_password_and_refuses_to_start_without_an_account(tmp_path):
    import os
    import subprocess
    import sys

    from host_tools.backoffice.auth import check_password
    from host_tools.paths import ROOT

    r = subprocess.run([sys.executable, "-m", "host_tools.backoffice", "hash-password"],
                       input="s3cret\n", capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and check_password("s3cret", r.stdout.strip())
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    r = subprocess.run([sys.executable, "-m", "host_tools.backoffice", "--db",
                        str(tmp_path / "x.db")], capture_output=True, text=True, cwd=ROOT,
                       timeout=60, env=env)
    assert r.returncode != 0 and "no account" in r.stderr
