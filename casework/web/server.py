"""Serving the front door on uvicorn, with every limit taken from the settings in one place.

Why uvicorn: bolt's Starlette adapter gives an ASGI app, and uvicorn is the ASGI server with
the most production use; one event loop holds hundreds of idle or slow connections for the
price of a few kilobytes each, where a thread-per-connection server would run out of threads.
What uvicorn does not do itself (a deadline for the request headers, a hard connection cap,
a deadline for the body) is added by :mod:`casework.web.protocol` and :mod:`casework.web.limits`.

On SIGTERM or Ctrl-C uvicorn stops accepting, lets requests in flight finish (up to
``CASEWORK_HTTP_SHUTDOWN_SECONDS``) and then returns.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

import uvicorn

from casework.settings import Settings
from casework.web.limits import ASGIApp
from casework.web.protocol import GuardedH11Protocol

#: seconds an idle kept-alive connection stays open between two requests
KEEP_ALIVE_SECONDS = 5


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port; read it from ``getsockname()``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def make_server(app: ASGIApp, settings: Settings) -> uvicorn.Server:
    protocol = type(
        "Protocol",
        (GuardedH11Protocol,),
        {
            "header_timeout": settings.http_read_timeout_seconds,
            "max_connections": settings.http_max_connections,
        },
    )
    config = uvicorn.Config(
        app,
        http=protocol,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        # 503 for requests past the cap; the protocol closes surplus connections outright
        limit_concurrency=settings.http_max_connections + 1,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=int(settings.http_shutdown_seconds),
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
    )
    return uvicorn.Server(config)


@dataclass
class Running:
    """A front door served from a background thread (tests, benchmarks)."""

    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def start_in_thread(app: ASGIApp, settings: Settings, *, host: str = "127.0.0.1", port: int = 0) -> Running:
    server = make_server(app, settings)
    sock = bind(host, port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.01)
    return Running(server=server, sock=sock, thread=thread)
