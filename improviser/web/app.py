"""The studio page as an ASGI app (Starlette): the page, its API and its event stream.

``GET /`` the page; ``GET /api/stream`` Server-Sent Events (a snapshot, then every
message of every instance, and the broker's state); ``POST /api/instances/<name>/set/<key>``
one control, sent as MQTT ``set/<key>`` to the session, which applies it through its one
``Controls.apply`` and answers ``ack`` or ``error`` (returned as they are);
``POST /api/token`` checks a token; ``GET /api/sessions`` the recordings, and per
recording its ``roll`` (JSON), ``midi`` and ``audio``. Changes are guarded as
:mod:`improviser.web.guard` says.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from improviser.config.mqtt import MqttConfig
from improviser.errors import ControlError, MidiFileError, MqttError
from improviser.telemetry.remote import send_control
from improviser.web import sessions
from improviser.web.guard import LOOPBACK_HOSTS, SecurityHeaders, refusal
from improviser.web.hub import Hub

__all__ = ["STATIC_DIR", "WebSettings", "control_schemas", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
KEEPALIVE_SECONDS = 15.0
"""A comment line on the event stream this often, so proxies keep it open."""
MAX_BODY = 65536
_INSTANCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the app serves and how it reaches the broker."""

    mqtt: MqttConfig
    token: str
    """The token every change must carry."""
    token_in_page: bool
    """Serve the token inside the page (loopback without ``web.token_file``)."""
    sessions_dir: Path
    loopback: bool
    """Bound to a loopback address: only loopback ``Host`` names are answered."""
    mqtt_password: str | None = None
    notes_kept: int = 2000
    control_wait: float = 5.0
    """Seconds to wait for a session's ``ack`` or ``error``."""


def control_schemas() -> dict[str, Any]:
    """The JSON Schema of every control, by key (the checked-in ``set.json``)."""
    text = resources.files("improviser.telemetry").joinpath("schemas/set.json").read_text()
    defs: dict[str, Any] = json.loads(text)["$defs"]
    return defs


class _RefusedError(Exception):
    """A change refused before it reaches the broker."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _refusal(message: str, status: int) -> JSONResponse:
    return JSONResponse({"ok": False, "message": message}, status_code=status)


def _no_store(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    return response


def create_app(settings: WebSettings, hub: Hub | None = None) -> Starlette:
    """The app; ``hub`` (made from ``settings`` if not given) follows the broker while it runs."""
    hub = hub or Hub(settings.mqtt, settings.mqtt_password, notes_kept=settings.notes_kept)
    schemas = control_schemas()
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    page = page.replace(
        "{{token}}", html.escape(settings.token if settings.token_in_page else "")
    ).replace("{{token_needed}}", "false" if settings.token_in_page else "true")

    async def index(_: Request) -> Response:
        return _no_store(HTMLResponse(page))

    async def stream(request: Request) -> Response:
        async def events() -> AsyncIterator[str]:
            updates = hub.updates()
            pending: asyncio.Task[Any] | None = None
            closing = asyncio.ensure_future(hub.closing.wait())
            try:
                yield "retry: 1000\n\n"  # the browser reconnects after 1 s, not 3
                while True:
                    if pending is None:
                        pending = asyncio.ensure_future(anext(updates))
                    done, _ = await asyncio.wait(
                        {pending, closing}, timeout=KEEPALIVE_SECONDS,
                        return_when=asyncio.FIRST_COMPLETED,
                    )  # fmt: skip
                    if closing in done:
                        return  # the server stops: end the stream, so it need not be cut
                    if not done:
                        yield ": keepalive\n\n"
                        continue
                    update, pending = pending.result(), None
                    yield f"data: {json.dumps(update, separators=(',', ':'))}\n\n"
            finally:
                for task in (pending, closing):
                    if task is not None:
                        task.cancel()
                with contextlib.suppress(BaseException):
                    await updates.aclose()

        headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    async def controls(_: Request) -> Response:
        return _no_store(JSONResponse({"controls": schemas}))

    async def check_token(request: Request) -> Response:
        problem = refusal(request.headers, settings.token)
        if problem is not None:
            return _refusal(problem, 403)
        return JSONResponse({"ok": True, "message": "token accepted"})

    async def set_control(request: Request) -> Response:
        instance, key = request.path_params["instance"], request.path_params["key"]
        try:
            value = _control_value(request, instance, key, await request.body())
            reply = await send_control(
                settings.mqtt, settings.mqtt_password, instance, key, value,
                wait=settings.control_wait,
            )  # fmt: skip
        except _RefusedError as refused:
            return _refusal(refused.message, refused.status)
        except ControlError as exc:
            return _refusal(str(exc), 422)
        except MqttError as exc:
            return _refusal(str(exc), 502)
        body_out = {"ok": True, "message": f"{instance}: {reply.message}", "value": reply.value}
        return JSONResponse(body_out)

    def _control_value(request: Request, instance: str, key: str, body: bytes) -> object:
        """The value of a control request, or :class:`_RefusedError` saying why not."""
        problem = refusal(request.headers, settings.token)
        if problem is not None:
            raise _RefusedError(problem, 403)
        if not _INSTANCE.match(instance):
            raise _RefusedError("no such instance", 404)
        if key not in schemas:
            raise _RefusedError(f"no control {key!r} (known: {', '.join(sorted(schemas))})", 404)
        if len(body) > MAX_BODY:
            raise _RefusedError("value too large", 413)
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _RefusedError("not JSON", 400) from None

    async def session_list(_: Request) -> Response:
        rows = await asyncio.to_thread(sessions.listing, settings.sessions_dir)
        folder = str(settings.sessions_dir)
        return _no_store(JSONResponse({"folder": folder, "sessions": rows}))

    def _recording(request: Request) -> Path | None:
        return sessions.find(settings.sessions_dir, request.path_params["name"])

    async def session_roll(request: Request) -> Response:
        path = _recording(request)
        if path is None:
            return JSONResponse({"message": "no such recording"}, status_code=404)
        try:
            data = await asyncio.to_thread(sessions.roll, path)
        except MidiFileError as exc:
            return JSONResponse({"message": str(exc)}, status_code=422)
        return JSONResponse(data)

    async def session_midi(request: Request) -> Response:
        path = _recording(request)
        if path is None:
            return JSONResponse({"message": "no such recording"}, status_code=404)
        return FileResponse(path, media_type="audio/midi", filename=path.name)

    async def session_audio(request: Request) -> Response:
        path = _recording(request)
        audio = sessions.audio_of(path) if path is not None else None
        if audio is None:
            return JSONResponse({"message": "no rendered audio"}, status_code=404)
        return FileResponse(audio, media_type=sessions.AUDIO_TYPES[audio.suffix])

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with hub.running():
            yield

    routes = [
        Route("/", index),
        Route("/api/stream", stream),
        Route("/api/controls", controls),
        Route("/api/token", check_token, methods=["POST"]),
        Route("/api/instances/{instance}/set/{key}", set_control, methods=["POST"]),
        Route("/api/sessions", session_list),
        Route("/api/sessions/{name}/roll", session_roll),
        Route("/api/sessions/{name}/midi", session_midi),
        Route("/api/sessions/{name}/audio", session_audio),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if settings.loopback:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.hub = hub
    return app
