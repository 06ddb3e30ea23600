"""The web page and the JSON API (FastAPI), behind a login. Pages: / (map, inbox, KPIs),
/bin/<id> (a bin's history); the API under /api/ serves everything they show."""

from __future__ import annotations

import html
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from host_tools.backoffice import queries
from host_tools.backoffice.auth import COOKIE, Session, Sessions
from host_tools.backoffice.parse import BIN_ID
from host_tools.backoffice.sites import Sites, load_routes
from host_tools.backoffice.store import Store

log = logging.getLogger("backoffice.web")
STATIC = Path(__file__).parent / "static"
PUBLIC = ("/login", "/static/login.css")
LOGIN_BODY_MAX = 4096
HISTORY_COLUMNS = ["bin_id", "ts", "seq", "fill", "est", "vbat", "soc", "rssi", "temp",
                   "elvl", "flags", "cmp"]
COLLECTION_COLUMNS = ["bin_id", "ts", "before", "after"]


@dataclass
class Context:
    engine: Engine
    store: Store
    sessions: Sessions
    sites: Sites
    routes_path: Path | None = None
    tiles: str | None = None          # an OpenStreetMap tile URL template, or none
    ingest: object | None = None      # host_tools.backoffice.ingest.Ingest (status)
    secure_cookie: bool = False


def _login_page(error: str = "") -> HTMLResponse:
    msg = f'<p class="error" id="login-error">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(f"""<!doctype html><html><head><meta charset="utf-8">
<title>Back office: sign in</title><link rel="stylesheet" href="/static/login.css"></head>
<body><form method="post" action="/login" id="login"><h1>Bins back office</h1>{msg}
<label>User <input name="user" id="user" autocomplete="username" required></label>
<label>Password <input name="password" id="password" type="password"
 autocomplete="current-password" required></label>
<button type="submit" id="signin">Sign in</button></form></body></html>""",
                        status_code=401 if error else 200)


def _bin(bin_id: str) -> str:
    if not BIN_ID.match(bin_id):
        raise HTTPException(404, "no such bin")
    return bin_id


def create_app(ctx: Context) -> FastAPI:
    app = FastAPI(title="Bins back office", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.middleware("http")
    async def require_login(request: Request, call_next):
        path = request.url.path
        request.state.session = ctx.sessions.get(request.cookies.get(COOKIE))
        if request.state.session is None and path not in PUBLIC:
            if path.startswith("/api/"):
                return JSONResponse({"error": "login required"}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        return await call_next(request)

    def session(request: Request) -> Session:
        return request.state.session

    def operator(request: Request) -> Session:
        s = session(request)
        if s.role != "operator":
            raise HTTPException(403, "read-only account")
        return s

    @app.get("/login")
    def login_form() -> HTMLResponse:
        return _login_page()

    @app.post("/login")
    async def login(request: Request) -> Response:
        body = await request.body()
        if len(body) > LOGIN_BODY_MAX:
            return _login_page("Wrong user or password.")
        form = parse_qs(body.decode("utf-8", "replace"))
        token = ctx.sessions.login(form.get("user", [""])[0], form.get("password", [""])[0])
        if token is None:
            log.warning("login refused for %r", form.get("user", [""])[0][:40])
            return _login_page("Wrong user or password.")
        r = RedirectResponse("/", status_code=303)
        r.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                     secure=ctx.secure_cookie, max_age=int(ctx.sessions.ttl))
        return r

    @app.post("/logout")
    def logout(request: Request) -> Response:
        ctx.sessions.logout(request.cookies.get(COOKIE))
        r = RedirectResponse("/login", status_code=303)
        r.delete_cookie(COOKIE)
        return r

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/bin/{bin_id}")
    def bin_page(bin_id: str) -> FileResponse:
        _bin(bin_id)
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # --- API ------------------------------------------------------------------------
    @app.get("/api/me")
    def me(request: Request) -> dict:
        s = session(request)
        return {"user": s.user, "role": s.role}

    @app.get("/api/map")
    def map_info() -> dict:
        return {"depot": {"lat": ctx.sites.depot[0], "lon": ctx.sites.depot[1]},
                "tiles": ctx.tiles}

    @app.get("/api/bins")
    def bins() -> list[dict]:
        out = []
        for b in queries.latest(ctx.engine):
            b["lat"], b["lon"] = ctx.sites.of(b["bin_id"])
            out.append(b)
        return out

    @app.get("/api/bins/{bin_id}")
    def one_bin(bin_id: str, hours: float = 24 * 30) -> dict:
        _bin(bin_id)
        row = next((b for b in queries.latest(ctx.engine) if b["bin_id"] == bin_id), None)
        if row is None:
            raise HTTPException(404, "no such bin")
        row["lat"], row["lon"] = ctx.sites.of(bin_id)
        since = (row["last_ts"] or 0) - hours * 3600
        return {"bin": row, "history": queries.history(ctx.engine, bin_id, since=since),
                "events": queries.events(ctx.engine, bin_id, limit=100),
                "collections": queries.collections(ctx.engine, bin_id, limit=100),
                "alerts": queries.alerts(ctx.engine, bin_id=bin_id, limit=100)}

    @app.get("/api/bins/{bin_id}/history")
    def bin_history(bin_id: str, since: float | None = None,
                    until: float | None = None) -> list[dict]:
        return queries.history(ctx.engine, _bin(bin_id), since=since, until=until)

    @app.get("/api/events")
    def events(bin: str | None = None, limit: int = 200) -> list[dict]:
        return queries.events(ctx.engine, bin and _bin(bin), limit=min(limit, 5000))

    @app.get("/api/collections")
    def collections(bin: str | None = None, since: float | None = None) -> list[dict]:
        return queries.collections(ctx.engine, bin and _bin(bin), since=since)

    @app.get("/api/alerts")
    def alerts(status: str | None = None, bin: str | None = None) -> list[dict]:
        if status not in (None, "active", "open", "acked", "resolved"):
            raise HTTPException(400, "status: active, open, acked or resolved")
        return queries.alerts(ctx.engine, status=status, bin_id=bin and _bin(bin))

    @app.post("/api/alerts/{alert_id}/{action}")
    def alert_action(alert_id: int, action: str, request: Request) -> dict:
        s = operator(request)
        if action not in ("ack", "resolve"):
            raise HTTPException(404, "ack or resolve")
        if not ctx.store.set_status(alert_id, action, s.user):
            raise HTTPException(409, f"alert {alert_id} cannot be {action}ed now")
        log.info("alert %d: %s by %s", alert_id, action, s.user)
        return {"id": alert_id, "done": action}

    @app.get("/api/kpis")
    def kpis(since: float | None = None) -> dict:
        return queries.kpis(ctx.engine, since=since)

    @app.get("/api/routes")
    def routes() -> dict:
        return load_routes(ctx.routes_path)

    @app.get("/api/rejected")
    def rejected(limit: int = 200) -> list[dict]:
        return queries.rejected(ctx.engine, limit=min(limit, 2000))

    @app.get("/api/status")
    def status() -> dict:
        c = getattr(ctx.ingest, "counters", None)
        return {"time": time.time(), "ingest": None if c is None else {
            k: getattr(c, k) for k in ("received", "stored", "rejected", "ignored",
                                       "db_errors", "batches", "connected", "last_error")}}

    @app.get("/api/export/history.csv")
    def export_history(bin: str, since: float | None = None,
                       until: float | None = None) -> StreamingResponse:
        rows = [dict(r, bin_id=bin) for r in queries.history(
            ctx.engine, _bin(bin), since=since, until=until, limit=10 ** 6)]
        return StreamingResponse(queries.csv_rows(rows, HISTORY_COLUMNS), media_type="text/csv",
                                 headers={"Content-Disposition":
                                          f'attachment; filename="{bin}-history.csv"'})

    @app.get("/api/export/collections.csv")
    def export_collections(bin: str | None = None,
                           since: float | None = None) -> StreamingResponse:
        rows = queries.collections(ctx.engine, bin and _bin(bin), since=since, limit=10 ** 6)
        return StreamingResponse(queries.csv_rows(rows, COLLECTION_COLUMNS),
                                 media_type="text/csv", headers={
                                     "Content-Disposition":
                                     'attachment; filename="collections.csv"'})

    return app
