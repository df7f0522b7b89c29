"""``chipcrew web``: a local web workspace over the same ``ChipCrew`` app, sessions and tools as the CLI.

:func:`serve` is what the command runs; :func:`chipcrew.web.server.create_app` builds the FastAPI app (imported
only here, so the rest of the CLI never pays for FastAPI or uvicorn).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from chipcrew.settings import Settings
from tools.common import InputError

__all__ = ("serve", "serve_in_thread", "check_binding", "bind")

_LOOPBACK_NAMES = ("localhost",)


def check_binding(host: str, settings: Settings) -> None:
    """Refuse a non-loopback address without a token: anyone on the network could run tools as this user.

    Raises:
        InputError: ``host`` is not loopback and neither ``CHIPCREW_WEB_TOKEN`` nor ``web_token`` is set.
    """
    if settings.web_token or _is_loopback(host):
        return
    raise InputError("--host", host, "127.0.0.1 or localhost, or set CHIPCREW_WEB_TOKEN (or web_token in the "
                     "settings file) to serve beyond this machine with a token")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), so the real port is known before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: a response written in two pieces (headers, then body) would otherwise wait
    # for the client's delayed ACK on a kept-alive connection, ~40 ms per request
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError("--port", port, f"a free port on {host} ({exc.strerror})") from exc
    sock.listen(128)
    return sock


def serve(host: str, port: int, settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Build the app once, bind, announce the URL, and serve until interrupted."""
    check_binding(host, settings)
    import uvicorn

    from .server import create_app

    sock = bind(host, port)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    ask_token = "?token=YOUR_TOKEN" if settings.web_token else ""
    announce(f"web workspace on http://{shown}:{sock.getsockname()[1]}/{ask_token} (Ctrl-C stops)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=30))
    server.run(sockets=[sock])


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """Serve ``app`` from a daemon thread; returns the uvicorn server (``should_exit = True`` stops it) and its URL."""
    import uvicorn

    sock = bind(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    return server, f"http://{host}:{sock.getsockname()[1]}"
