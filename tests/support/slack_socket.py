"""A stand-in for Slack's Socket Mode endpoint: a local WebSocket server that records every ack.

Slack's side of Socket Mode, as far as the bot can tell: the app asks the Web API for a URL
(``apps.connections.open``, answered by :mod:`tests.support.slack_api` with ``socket.url``),
opens a WebSocket there, receives ``hello``, then envelopes (``slash_commands``,
``events_api``, ``interactive``), and answers each with ``{"envelope_id": …, "payload": …}``.
``send(type, payload)`` pushes an envelope to the connected app; ``wait_ack(envelope_id)``
returns its answer. Built on the ``websockets`` package's threaded server.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class FakeSlackSocket:
    server: Server | None = None
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: list[ServerConnection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=test-ticket&app_id=A111"

    def handle(self, connection: ServerConnection) -> None:
        """One app connection: say hello as Slack does, then record every ack it sends."""
        with self.changed:
            self.connections.append(connection)
            self.changed.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}))
        try:
            for message in connection:
                answer = json.loads(message)
                with self.changed:
                    self.acks[answer.get("envelope_id", "")] = answer
                    self.changed.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self.changed:
                self.connections.remove(connection)
                self.changed.notify_all()

    def wait_connected(self, timeout: float = 10.0) -> ServerConnection:
        with self.changed:
            if not self.changed.wait_for(lambda: self.connections, timeout):
                raise AssertionError("the app did not connect to the Socket Mode endpoint")
            return self.connections[-1]

    def send(self, type_: str, payload: dict[str, Any], *, accepts_response_payload: bool = True) -> str:
        """Push an envelope to the connected app; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self.wait_connected().send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.changed:
            if not self.changed.wait_for(lambda: envelope_id in self.acks, deadline - time.monotonic()):
                raise AssertionError(f"no ack for envelope {envelope_id} within {timeout} s")
            return self.acks[envelope_id]

    def close(self) -> None:
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            connection.close()
        if self.server is not None:
            self.server.shutdown()


@contextmanager
def fake_slack_socket() -> Iterator[FakeSlackSocket]:
    fake = FakeSlackSocket()
    fake.server = serve(fake.handle, "127.0.0.1", 0, compression=None)
    thread = threading.Thread(target=fake.server.serve_forever, name="fake-slack-socket", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.close()
        thread.join(timeout=5)
