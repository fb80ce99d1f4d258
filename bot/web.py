"""The HTTP front door: ``POST /slack/events`` for Slack, ``GET /healthz`` for monitoring.

A threading ``http.server`` is enough for one office's traffic and needs nothing beyond the
standard library. Each request is handed to bolt as a ``BoltRequest``; bolt checks the
signature and the timestamp (five minutes) and answers 401 when either is wrong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


class SlackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: SlackHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _reply(
        self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, values in (headers or {}).items():
            if name.lower() in ("content-type", "content-length"):
                continue
            for value in values if isinstance(values, list) else [values]:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/healthz":
            self._reply(200, json.dumps({"ok": True}).encode())
        else:
            self._reply(404, b'{"ok": false, "error": "not_found"}')

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != "/slack/events":
            self._reply(404, b'{"ok": false, "error": "not_found"}')
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, b'{"ok": false, "error": "too_large"}')
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        headers: dict[str, str | Sequence[str]] = {
            name.lower(): [value] for name, value in self.headers.items()
        }
        response = self.server.app.dispatch(BoltRequest(body=body, query=parts.query, headers=headers))
        content_type = (response.headers.get("content-type") or ["text/plain;charset=utf-8"])[0]
        self._reply(response.status, (response.body or "").encode("utf-8"), content_type, response.headers)


def make_server(app: App, *, host: str = "127.0.0.1", port: int = 3000) -> SlackHTTPServer:
    """A server bound to ``host:port`` (port 0: any free port; read it from ``server_address``)."""
    return SlackHTTPServer((host, port), app)
