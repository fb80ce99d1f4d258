"""uvicorn's h11 protocol with the limits uvicorn itself does not have.

uvicorn (0.55) starts no timer when a connection opens: a client that connects and sends
nothing, or sends its headers a byte at a time, holds the connection for ever (its
``timeout_keep_alive`` only runs *between* requests, and every byte received resets it). And
``limit_concurrency`` answers 503 to requests but still accepts every connection. So:

* a header deadline: from the moment a connection opens (or a keep-alive request ends) the
  client has ``header_timeout`` seconds to finish sending its request line and headers, however
  slowly the bytes trickle in, or the connection is closed;
* a connection cap: past ``max_connections`` a new connection is closed as soon as it is made;
* a smaller read: asyncio reads up to 256 KiB from a socket at a time. ``read_size`` (64 KiB,
  four times the largest header block allowed and more than any Slack request) is what a
  connection holds while it waits to be answered, so a flood of clients that each send a
  megabyte behind a bad header holds a quarter as much (in the flood test, a peak 5 MB lower);
* no reference cycle per malformed request. h11 re-raises a parse error from inside its own
  ``except`` block, so the exception's traceback holds h11's frame, which holds the exception:
  a cycle that also held the h11 connection, its receive buffer and the frames that read the
  socket (two copies of all that was read). Only the garbage collector's oldest generation
  frees it, and in a process as big as ``casework serve`` that comes thousands of connections
  later: a flood of 3,000 hostile connections grew the server by 66 MB. :class:`Connection`
  drops that traceback, and the memory goes back as each connection closes;
* one log line a minute, with a count, for the requests h11 refuses as malformed, where
  uvicorn logs every one: a flood must not fill the disk either.

The body's own deadline is the ASGI middleware's job (:mod:`casework.web.limits`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


class RepeatedWarnings(logging.Filter):
    """Let one record of each repeated warning through a minute, telling how many were held back."""

    def __init__(self, messages: set[str], every: float = 60.0) -> None:
        super().__init__()
        self.messages = messages
        self.every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message not in self.messages:
            return True
        now = time.monotonic()
        if now - self._last.get(message, -math.inf) < self.every:
            self._held[message] = self._held.get(message, 0) + 1
            return False
        self._last[message] = now
        held = self._held.pop(message, 0)
        if held:
            record.msg, record.args = f"{message} ({held} more since the last of these)", None
        return True


#: uvicorn's warning for a request h11 cannot parse, once per hostile connection
MALFORMED = "Invalid HTTP request received."
_malformed_filter = RepeatedWarnings({MALFORMED})
logging.getLogger("uvicorn.error").addFilter(_malformed_filter)


class Connection(h11.Connection):
    """h11's connection, raising its parse errors without the traceback that makes a cycle."""

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as err:
            raise err.with_traceback(None)  # noqa: B904 - the same error, h11's frames dropped


class GuardedH11Protocol(H11Protocol):
    #: set by :func:`casework.web.server.make_server` (class attributes: uvicorn builds the protocol)
    header_timeout: float = 10.0
    max_connections: int = 1000
    #: bytes read from the socket at a time (asyncio's default is 256 KiB)
    read_size: int = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.__class__ = Connection  # built by uvicorn with its settings; no state of its own
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if hasattr(transport, "max_size"):  # asyncio's selector transport reads this per recv()
            transport.max_size = self.read_size
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
