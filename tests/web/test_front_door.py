"""The front door against hostile clients, over real sockets to a real uvicorn server.

Each test reproduces one attack on the old hand-written ``http.server`` (which read
``Content-Length: -1`` as "read everything", had no timeouts and no connection limit) and
pins down that the server now refuses or contains it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from casework.web import app as web_app
from casework.web import routes
from casework.web.server import start_in_thread
from tests.bot.conftest import MANAGER, SECRET, make_case
from tests.conftest import make_settings
from tests.support.slack_requests import post, signature, slash_command_body
from tests.web.conftest import (
    FrontDoor,
    closed_by_server,
    connect,
    exchange,
    read_answer,
    rss_bytes,
    status_of,
)

HEAD = b"POST /slack/events HTTP/1.1\r\nHost: casework\r\nContent-Type: application/x-www-form-urlencoded\r\n"


def test_negative_length_is_400_and_the_body_is_never_read(front_door: FrontDoor) -> None:
    """``Content-Length: -1`` used to mean ``rfile.read(-1)``: buffer all the client sends."""
    door = front_door()
    answer = exchange(door, HEAD + b"Content-Length: -1\r\n\r\n" + b"x" * 100_000)
    assert status_of(answer) == 400


def test_non_numeric_length_is_400_not_a_crash(front_door: FrontDoor) -> None:
    door = front_door()
    for bad in (b"abc", b"1e3", b"+5", b"12 34"):
        assert status_of(exchange(door, HEAD + b"Content-Length: " + bad + b"\r\n\r\n")) == 400, bad
    # and the server is still there for the next request
    assert status_of(exchange(door, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200


def test_huge_length_is_413_before_any_body_is_sent(front_door: FrontDoor) -> None:
    door = front_door()
    with connect(door) as sock:
        sock.sendall(HEAD + b"Content-Length: 10000000000\r\n\r\n")  # no body at all
        answer = read_answer(sock)
    assert status_of(answer) == 413
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["ok"] is False


def test_length_just_over_the_limit_is_413(front_door: FrontDoor) -> None:
    door = front_door(http_max_body_bytes=1000)
    assert status_of(exchange(door, HEAD + b"Content-Length: 1001\r\n\r\n")) == 413


def test_missing_length_and_chunked_bodies_are_400(front_door: FrontDoor) -> None:
    door = front_door()
    assert status_of(exchange(door, HEAD + b"\r\n")) == 400
    chunked = HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    assert status_of(exchange(door, chunked)) == 400


def test_oversized_headers_are_refused(front_door: FrontDoor) -> None:
    door = front_door(http_max_header_bytes=8192)
    pad = b"X-Pad: " + b"a" * 20_000 + b"\r\n"
    # in one packet (counted by the app) and trickled in pieces (h11's own cap)
    assert status_of(exchange(door, HEAD + pad + b"Content-Length: 0\r\n\r\n")) == 431
    with connect(door) as sock:
        sock.sendall(HEAD)
        for start in range(0, len(pad), 4000):
            try:
                sock.sendall(pad[start : start + 4000])
            except OSError:
                break
            time.sleep(0.05)
        assert status_of(read_answer(sock)) in (400, 431)


def test_silent_client_is_dropped_after_the_header_timeout(front_door: FrontDoor) -> None:
    """Connect and send nothing: the old server kept the connection (and a thread) for ever."""
    door = front_door(http_read_timeout_seconds=1)
    with connect(door) as sock:
        after = closed_by_server(sock, within=5)
    assert after is not None and 0.8 < after < 3


def test_slow_loris_headers_are_dropped_after_the_timeout(front_door: FrontDoor) -> None:
    """A byte of headers every 0.2 s resets any idle timer; the deadline counts from the connect."""
    door = front_door(http_read_timeout_seconds=1)
    with connect(door) as sock:
        start = time.monotonic()
        closed = False
        for byte in HEAD * 10:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            if time.monotonic() - start > 5:
                break
        if not closed:
            closed = closed_by_server(sock, within=0.5) is not None
        assert closed and time.monotonic() - start < 3


def test_slow_body_is_408_after_the_timeout(front_door: FrontDoor) -> None:
    door = front_door(http_read_timeout_seconds=1)
    with connect(door) as sock:
        sock.sendall(HEAD + b"Content-Length: 100\r\n\r\n" + b"x" * 10)
        start = time.monotonic()
        answer = read_answer(sock)
    assert status_of(answer) == 408
    assert 0.8 < time.monotonic() - start < 3


def test_connections_past_the_cap_are_closed_at_once(front_door: FrontDoor) -> None:
    door = front_door(http_max_connections=20)
    held = [connect(door) for _ in range(20)]
    try:
        time.sleep(0.3)
        with connect(door) as extra:
            assert closed_by_server(extra, within=2) is not None
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)  # once they are gone, new connections are served again
    assert status_of(exchange(door, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200


def test_signed_summary_answers_within_3s_while_200_idle_and_150_slow_clients_hold_on(
    front_door: FrontDoor,
) -> None:
    door = front_door()
    make_case(door.engine, door.settings)
    idle = [connect(door) for _ in range(200)]
    slow = [connect(door) for _ in range(150)]
    stop = threading.Event()

    def trickle() -> None:  # each slow client sends a header byte every half second
        offset = 0
        while not stop.is_set():
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(HEAD[offset % len(HEAD) : offset % len(HEAD) + 1])
            offset += 1
            stop.wait(0.5)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        time.sleep(0.5)
        before = len(door.api.responses())
        start = time.monotonic()
        body = slash_command_body("summary", user_id=MANAGER, response_url=door.api.response_url())
        answer = post(door.url, body, secret=SECRET)
        acked = time.monotonic() - start
        door.api.wait_for("/response/", before + 1, timeout=3)
        answered = time.monotonic() - start
    finally:
        stop.set()
        trickler.join()
        for sock in idle + slow:
            sock.close()
    assert answer.status == 200
    assert acked < 3 and answered < 3, (acked, answered)
    assert "Casework summary" in json.dumps(door.api.responses()[before].body)


def test_memory_stays_flat_under_a_flood_of_bodies_with_negative_lengths(front_door: FrontDoor) -> None:
    """The old server took 200 MiB of such a flood into memory; now each is refused unread."""
    door = front_door()
    chunk = b"x" * (1024 * 1024)

    def flood() -> None:
        try:
            with connect(door) as sock:
                sock.sendall(HEAD + b"Content-Length: -1\r\n\r\n")
                for _ in range(10):
                    sock.sendall(chunk)
        except OSError:  # refused and closed: the point
            pass

    for _ in range(2):  # warm up whatever the first requests allocate
        flood()
    baseline = rss_bytes()
    samples = []
    for _ in range(4):
        workers = [threading.Thread(target=flood) for _ in range(5)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        samples.append(rss_bytes())
    assert max(samples) - baseline < 30 * 1024 * 1024, (baseline, samples)
    assert status_of(exchange(door, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200


def test_a_malformed_request_leaves_no_reference_cycle_holding_what_was_read() -> None:
    """h11 re-raises parse errors inside its own ``except``: plain h11 keeps the connection in a cycle.

    The cycle held the connection's buffer and the frames that read the socket until the
    collector's oldest generation ran; in ``casework serve`` that was 66 MB over 3,000 hostile
    connections. With the collector off, the connection must go as soon as it is let go.
    """
    import gc
    import weakref

    import h11

    from casework.web.protocol import Connection

    def refused(kind: type[h11.Connection]) -> weakref.ref[h11.Connection]:
        conn = kind(h11.SERVER)
        conn.receive_data(HEAD + b"Content-Length: -1\r\n\r\n" + b"x" * 65536)
        with contextlib.suppress(h11.RemoteProtocolError):
            conn.next_event()
        return weakref.ref(conn)

    gc.disable()
    try:
        plain, ours = refused(h11.Connection), refused(Connection)
        assert plain() is not None, "h11 no longer makes this cycle: Connection.next_event can go"
        assert ours() is None
    finally:
        gc.enable()
        gc.collect()


def test_malformed_requests_are_logged_once_a_minute_with_a_count() -> None:
    """uvicorn logs every refused request: a flood would fill the disk with the same line."""
    import logging

    from casework.web.protocol import MALFORMED, RepeatedWarnings

    quiet = RepeatedWarnings({MALFORMED}, every=3600)

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, message, None, None)

    assert quiet.filter(record(MALFORMED))
    assert not any(quiet.filter(record(MALFORMED)) for _ in range(500))
    assert quiet.filter(record("something else"))
    quiet.every = 0
    last = record(MALFORMED)
    assert quiet.filter(last)
    assert last.getMessage() == f"{MALFORMED} (500 more since the last of these)"


def test_memory_stays_flat_under_a_flood_of_oversized_declared_bodies(front_door: FrontDoor) -> None:
    """Each client declares and then sends 2 MB; each is refused unread with 413."""
    door = front_door()
    payload = HEAD + b"Content-Length: 2000000\r\n\r\n" + b"x" * 2_000_000  # one copy, shared

    def flood() -> None:
        try:
            with connect(door) as sock:
                sock.sendall(payload)
                read_answer(sock)
        except OSError:
            pass

    for _ in range(3):
        flood()
    baseline = rss_bytes()
    samples = []
    for _ in range(5):
        workers = [threading.Thread(target=flood) for _ in range(20)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        samples.append(rss_bytes())
    assert max(samples) - baseline < 40 * 1024 * 1024, (baseline, samples)


def test_a_replayed_signed_request_is_refused_and_runs_once(front_door: FrontDoor) -> None:
    door = front_door()
    body = slash_command_body("help", user_id="U_CW", response_url=door.api.response_url())
    ts = str(int(time.time()))
    headers = (
        f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature(SECRET, ts, body)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    first = exchange(door, HEAD + headers + body.encode())
    second = exchange(door, HEAD + headers + body.encode())
    assert status_of(first) == 200
    assert status_of(second) == 401
    retry = exchange(door, HEAD + b"X-Slack-Retry-Num: 1\r\n" + headers + body.encode())
    assert status_of(retry) == 200  # Slack's own retry of a delivered request: received, not run
    time.sleep(0.5)
    assert len(door.api.responses()) == 1


def test_non_utf8_body_is_400(front_door: FrontDoor) -> None:
    door = front_door()
    raw = b"\xff\xfe\xfa"
    ts = str(int(time.time()))
    headers = f"X-Slack-Request-Timestamp: {ts}\r\nContent-Length: {len(raw)}\r\n\r\n".encode()
    assert status_of(exchange(door, HEAD + headers + raw)) == 400


def test_metrics_is_off_without_a_token_and_needs_the_bearer_token(front_door: FrontDoor) -> None:
    off = front_door()
    assert status_of(exchange(off, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
    on = front_door(metrics_token="s3cret-token")
    assert status_of(exchange(on, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")) == 401
    wrong = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n"
    assert status_of(exchange(on, wrong)) == 401
    make_case(on.engine, on.settings)
    from store.db import session_scope
    from store.outbox import enqueue

    with session_scope(on.engine) as session:
        enqueue(session, key="post:x", kind="slack.post", payload={"channel": "C1", "text": "x"})
    answer = exchange(on, b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\n\r\n")
    assert status_of(answer) == 200
    text = answer.split(b"\r\n\r\n", 1)[1].decode()
    for name in (
        "casework_intake_messages",
        'casework_outbox_pending{kind="slack.post"} 1.0',
        "casework_outbox_oldest_pending_age_seconds",
        "casework_slack_api_errors",
        "casework_imap_last_success_timestamp_seconds",
        "casework_scheduler_job_runs",
    ):
        assert name in text, name
    assert 'casework_intake_messages{outcome="case"} 1.0' in text


def test_extra_routes_are_served_behind_the_same_limits(tmp_path: object, database_url: str) -> None:
    def calendar(request: Request) -> PlainTextResponse:
        return PlainTextResponse("BEGIN:VCALENDAR", media_type="text/calendar")

    def upload(request: Request) -> PlainTextResponse:
        return PlainTextResponse("took it")

    settings = make_settings(database_url, http_max_body_bytes=100)
    routes.add(Route("/calendar/{token}.ics", calendar))
    try:
        door = start_in_thread(
            web_app.build(settings, routes_=[Route("/upload", upload, methods=["POST"])]), settings
        )
    finally:
        routes._REGISTERED.clear()
    try:
        with socket.create_connection(door.address, timeout=5) as sock:
            sock.sendall(b"GET /calendar/abc.ics HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"BEGIN:VCALENDAR" in read_answer(sock)
        with socket.create_connection(door.address, timeout=5) as sock:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
            assert status_of(read_answer(sock)) == 413
    finally:
        door.stop()
