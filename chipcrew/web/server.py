"""The web workspace's HTTP app: a JSON API over the ``ChipCrew`` app and its saved sessions, server-sent events
for each turn, artefact downloads, clip uploads, and the page (static files, no build step).

One app per process: :func:`create_app` builds ``ChipCrew`` once (models load once) and every session is a view of
it (:meth:`ChipCrew.for_session`); turns run on worker threads (:mod:`chipcrew.web.turns`), so a long tool never
blocks the event loop or the other sessions. Sessions are the CLI's: the same SQLite file, the same names.
"""

from __future__ import annotations

import hmac
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, HTTPException, Path as PathParam, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import MutableHeaders

from chipcrew.app import ChipCrew
from chipcrew.settings import Settings
from graphs import sessions
from tools.common import InputError

from .turns import TurnRunner, sse
from .uploads import store_upload

__all__ = ("create_app", "STATIC", "TOKEN_COOKIE")

STATIC = Path(__file__).with_name("static")
TOKEN_COOKIE = "chipcrew_token"
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
# The page runs only its own script and styles: a payload that slipped past escaping still could not execute.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_NAME = r"^[^\x00-\x1f/\\]+$"
"""A session name: anything but control characters and slashes (it only ever reaches SQLite and hashed file names)."""
_API_DOCS = ("/docs", "/redoc")
"""FastAPI's API pages: no user content, and their scripts come from a CDN, which the page's policy would block."""
SessionName = Annotated[str, PathParam(min_length=1, max_length=100, pattern=_NAME)]


class NewSession(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=_NAME,
                             description="Session name; default: a new web-N name.")


class Rename(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=_NAME, description="The new name.")


class Message(BaseModel):
    message: str = Field(min_length=1, max_length=20_000, description="The request, in plain language.")


def create_app(settings: Settings | None = None, crew: ChipCrew | None = None, workers: int = 8) -> FastAPI:
    """The workspace app. ``crew`` defaults to ``ChipCrew(settings)`` on saved sessions, built here once."""
    settings = settings or Settings()
    crew = crew or ChipCrew(settings, session="default", clarify=True)
    home = settings.home.resolve()
    db = settings.sessions_db
    limit = int(settings.web_upload_limit_mb * 1_000_000)
    runner = TurnRunner(crew, lambda turn: _describe(turn.model_dump(), home), workers=workers)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        runner.shutdown()

    app = FastAPI(title="ChipCrew web workspace", version="1", lifespan=lifespan)
    app.state.runner = runner

    app.add_middleware(_Guard, token=settings.web_token)

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "agents": list(crew.runtime.agents), "backend": settings.llm_backend}

    @app.get("/api/sessions")
    def list_sessions() -> list[dict[str, Any]]:
        """Every saved session (the CLI's too), most recently used first."""
        return sessions.list_sessions(db)

    @app.post("/api/sessions", status_code=201)
    def create_session(body: NewSession | None = None) -> dict[str, Any]:
        taken = {s["name"] for s in sessions.list_sessions(db)}
        name = body.name if body and body.name else _fresh_name(taken)
        if name in taken:
            raise HTTPException(409, f"session {name!r} exists; pick another name")
        sessions.touch_session(db, name)
        return {"name": name}

    @app.patch("/api/sessions/{name}")
    def rename_session(name: SessionName, body: Rename) -> dict[str, Any]:
        try:
            sessions.rename_session(db, name, body.name)
        except KeyError:
            raise HTTPException(404, f"no session {name!r}") from None
        except FileExistsError:
            raise HTTPException(409, f"session {body.name!r} exists; pick another name") from None
        return {"name": body.name}

    @app.delete("/api/sessions/{name}", status_code=204)
    def delete_session(name: SessionName) -> Response:
        if not sessions.delete_session(db, name):
            raise HTTPException(404, f"no session {name!r}")
        return Response(status_code=204)

    @app.get("/api/sessions/{name}/turns")
    def session_turns(name: SessionName) -> dict[str, Any]:
        """The session's finished turns with their tool calls and artefact links, and a pending question."""
        view = crew.for_session(name)
        return {"name": name, "turns": [_describe(t, home) for t in view.turns()], "question": view.pending_question()}

    @app.post("/api/sessions/{name}/turns", status_code=202)
    async def post_turn(name: SessionName, body: Message) -> dict[str, Any]:
        """Start a turn; follow it at ``events`` (server-sent events). It completes even if nobody listens."""
        log = runner.start(name, body.message)
        return {"turn": log.id, "events": f"/api/turns/{log.id}/events"}

    @app.get("/api/turns/{turn_id}")
    async def turn_status(turn_id: Annotated[str, PathParam(max_length=64)]) -> dict[str, Any]:
        return _log(runner, turn_id).summary()

    @app.get("/api/turns/{turn_id}/events", response_class=StreamingResponse)
    async def turn_events(turn_id: Annotated[str, PathParam(max_length=64)], request: Request) -> StreamingResponse:
        """``accepted``, ``route``, ``tool_call``, ``progress``, then ``answer``, ``question`` or ``error``, and
        ``done``. A reconnecting client (``Last-Event-ID``) resumes after the last event it saw."""
        log = _log(runner, turn_id)
        last = request.headers.get("last-event-id", "")
        start = int(last) + 1 if last.isdigit() else 0
        stream = (sse(event) async for event in log.follow(start))
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/sessions/{name}/uploads", status_code=201)
    def upload(name: SessionName, file: Annotated[UploadFile, File(description="A .glp, .gds or .oas clip.")]) -> dict[str, Any]:
        """Store a clip under the session's run folder and propose a request for the OPC engineer."""
        shown = (file.filename or "clip")[:200]
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(413, f"upload: {shown!r} is larger than the {settings.web_upload_limit_mb:g} MB limit")
        stored = store_upload(data, shown, home, name)
        return {"name": shown, "kind": stored.kind, "layers": stored.layers, "path": str(stored.path),
                "url": _url(stored.path, home), "request": stored.request()}

    @app.get("/api/files/{path:path}")
    async def artefact(path: str) -> FileResponse:
        """A file under the run folders (``<home>/runs``); nothing else is served."""
        target = (home / "runs" / path).resolve()
        if not target.is_relative_to(home / "runs") or not target.is_file():
            raise HTTPException(404, "no such artefact")
        media = _IMAGE_TYPES.get(target.suffix.lower())
        if media:
            return FileResponse(target, media_type=media)
        return FileResponse(target, media_type="application/octet-stream", filename=target.name)

    return app


class _Guard:
    """The token check and the security headers, on every HTTP request.

    A plain ASGI wrapper: Starlette's ``@app.middleware("http")`` costs milliseconds a request and runs streams
    through an extra task, which a server measured on its per-turn latency cannot afford.
    """

    def __init__(self, app: Any, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.token and not _authorised(request, self.token):
            detail = "token required: open the page as /?token=TOKEN or send 'Authorization: Bearer TOKEN'"
            await JSONResponse({"detail": detail}, status_code=401, headers=_SECURITY_HEADERS)(scope, receive, send)
            return
        cookie = _cookie(self.token) if self.token and request.query_params.get("token") else None

        api_docs = scope["path"] in _API_DOCS

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    if not (api_docs and name == "Content-Security-Policy"):
                        headers[name] = value
                if cookie:  # the page's own later requests (scripts, the API, images) then carry the token
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(token: str) -> str:
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    jar[TOKEN_COOKIE] = token
    jar[TOKEN_COOKIE].update({"httponly": True, "samesite": "Strict", "path": "/"})
    return jar.output(header="").strip()


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    offered = [header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else "",
               request.cookies.get(TOKEN_COOKIE, ""), request.query_params.get("token", "")]
    return any(o and hmac.compare_digest(o.encode(), token.encode()) for o in offered)


def _fresh_name(taken: set[str]) -> str:
    numbers = [int(m[1]) for n in taken if (m := re.fullmatch(r"web-(\d+)", n))]
    return f"web-{max(numbers, default=0) + 1}"


def _log(runner: TurnRunner, turn_id: str) -> Any:
    log = runner.logs.get(turn_id)
    if log is None:
        raise HTTPException(404, f"no turn {turn_id!r} (finished turns are kept while the server runs)")
    return log


def _url(path: Path, home: Path) -> str | None:
    """The ``/api/files`` URL of a file under ``<home>/runs``, else ``None``."""
    from urllib.parse import quote

    target = path.resolve()
    if not target.is_relative_to(home / "runs") or not target.is_file():
        return None
    return "/api/files/" + quote(target.relative_to(home / "runs").as_posix())


def _describe(turn: dict[str, Any], home: Path) -> dict[str, Any]:
    """A turn for the page: request (when known), agent, tier, tool calls, answer, and links to its artefacts."""
    result = turn.get("result") or {}
    artefacts = []
    for label, value in (result.get("artifacts") or {}).items():
        url = _url(Path(value), home) if isinstance(value, str) else None
        if url:
            image = Path(value).suffix.lower() in _IMAGE_TYPES
            artefacts.append({"label": label, "name": Path(value).name, "url": url, "image": image})
    calls = [{"tool": c.get("tool"), "args": c.get("args", {}), "planner": c.get("planner")} for c in turn.get("tool_calls") or []]
    return {"request": turn.get("request"), "agent": turn.get("agent"), "router_tier": turn.get("router_tier", ""),
            "tool_calls": calls, "answer": turn.get("answer", ""), "artifacts": artefacts}

