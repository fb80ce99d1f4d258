"""ASGI middleware: the body limits, applied before any route sees a request.

* The request headers are at most ``max_header`` bytes (431).
* ``Content-Length`` is checked before a byte of the body is read: over ``max_body`` is 413;
  missing on a request that has a body (chunked), negative or not a number is 400. (h11 already
  refuses most malformed lengths itself with a 400; this is the rule in one place whatever the
  server underneath.)
* The body is then read here, in full, within ``read_timeout`` seconds (408 otherwise) and never
  past the declared length, and handed on to the app from memory. So no route can be made to
  buffer more than ``max_body`` bytes or to wait on a slow client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BODYLESS = {"GET", "HEAD", "OPTIONS", "DELETE"}


async def refuse(send: Send, status: int, error: str) -> None:
    body = json.dumps({"ok": False, "error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def declared_length(scope: Scope) -> int | str | None:
    """The Content-Length as an int, None when absent, or the word for what is wrong with it."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
    if not values:
        return None
    if len(set(values)) > 1:
        return "conflicting Content-Length headers"
    raw = values[0].strip()
    if not raw.isdigit():  # rejects "-1", "abc", "1e3", "+5"
        return "Content-Length is not a non-negative whole number"
    return int(raw)


class BodyLimits:
    def __init__(self, app: ASGIApp, *, max_body: int, read_timeout: float, max_header: int) -> None:
        self.app = app
        self.max_header = max_header
        self.max_body = max_body
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # h11 caps only headers that arrive in pieces; headers sent in one packet are counted here
        header_bytes = sum(len(k) + len(v) + 4 for k, v in scope.get("headers", []))
        if header_bytes + len(scope.get("raw_path", b"")) > self.max_header:
            await refuse(send, 431, f"request headers over {self.max_header} bytes")
            return
        length = declared_length(scope)
        if isinstance(length, str):
            await refuse(send, 400, length)
            return
        chunked = any(
            k.lower() == b"transfer-encoding" and b"chunked" in v.lower() for k, v in scope.get("headers", [])
        )
        if length is None:
            if chunked or scope.get("method") not in _BODYLESS:
                await refuse(send, 400, "Content-Length is required")
                return
            length = 0
        if length > self.max_body:
            await refuse(send, 413, f"body over {self.max_body} bytes")
            return
        body = await self._read(receive, length)
        if body is None:
            await refuse(send, 408, f"body not received within {self.read_timeout:g} s")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only http.disconnect can come

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, length: int) -> bytes | None:
        chunks: list[bytes] = []
        got = 0
        with anyio.move_on_after(self.read_timeout if self.read_timeout > 0 else math.inf) as scope:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                got += len(chunk)
                if got > length:  # more than declared: h11 stops this, but never trust it
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if scope.cancelled_caught:
            return None
        return b"".join(chunks)
