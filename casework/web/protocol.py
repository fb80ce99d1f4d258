"""uvicorn's h11 protocol with the two limits uvicorn itself does not have.

uvicorn (0.55) starts no timer when a connection opens: a client that connects and sends
nothing, or sends its headers a byte at a time, holds the connection for ever (its
``timeout_keep_alive`` only runs *between* requests, and every byte received resets it). And
``limit_concurrency`` answers 503 to requests but still accepts every connection. So:

* a header deadline: from the moment a connection opens (or a keep-alive request ends) the
  client has ``header_timeout`` seconds to finish sending its request line and headers, however
  slowly the bytes trickle in, or the connection is closed;
* a connection cap: past ``max_connections`` a new connection is closed as soon as it is made.

The body's own deadline is the ASGI middleware's job (:mod:`casework.web.limits`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class GuardedH11Protocol(H11Protocol):
    #: set by :func:`casework.web.server.make_server` (class attributes: uvicorn builds the protocol)
    header_timeout: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("connection limit (%d) reached; closing a new connection", self.max_connections)
            transport.abort()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on a kept-alive connection gets the same deadline

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("client sent no complete request headers in %.0f s; closing", self.header_timeout)
            self.transport.abort()
