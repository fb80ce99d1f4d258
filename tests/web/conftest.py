"""A front door on a real uvicorn server for hostile-client tests, with settings per test.

``front_door(**overrides)`` starts ``casework serve``'s ASGI app (bolt included) on a free
port of 127.0.0.1 against the test's database and the fake Web API, and stops it afterwards.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from slack_sdk import WebClient

from bot.app import build_app
from casework.web import app as web_app
from casework.web.server import start_in_thread
from store.db import make_engine
from tests.bot.conftest import RunningBot, api, bot_settings  # noqa: F401  (the api fixture)
from tests.support.slack_api import FakeSlackAPI

FrontDoor = Callable[..., RunningBot]


@pytest.fixture
def front_door(database_url: str, api: FakeSlackAPI) -> Iterator[FrontDoor]:  # noqa: F811
    started: list[RunningBot] = []

    def start(**overrides: object) -> RunningBot:
        settings = bot_settings(database_url, api, **overrides)
        engine = make_engine(settings.database_url)
        client = WebClient(token="xoxb-test", base_url=api.base_url, timeout=2)
        bolt = build_app(settings, engine, client=client)
        server = start_in_thread(web_app.build(settings, bolt=bolt, engine=engine), settings)
        running = RunningBot(api=api, server=server, settings=settings, engine=engine, client=client)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop()
        running.engine.dispose()


def connect(running: RunningBot) -> socket.socket:
    sock = socket.create_connection(running.server.address, timeout=10)
    return sock


def exchange(running: RunningBot, raw: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``raw`` on a fresh connection and read until the server closes or answers."""
    with connect(running) as sock:
        sock.settimeout(timeout)
        sock.sendall(raw)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> bytes:
    data = b""
    deadline = time.monotonic() + (sock.gettimeout() or 5.0)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if _ and b"content-length:" in head.lower():
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            if len(body) >= length:
                break
    return data


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), None if still open after ``within``."""
    sock.settimeout(0.2)
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - start
    return None


def rss_bytes() -> int:
    """This process's resident memory (the server runs in it, in a thread)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")
