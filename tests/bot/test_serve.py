"""``casework serve`` as a real process: refuses missing secrets, serves, drains the outbox,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from store.db import make_engine, session_scope
from store.outbox import enqueue
from tests.bot.conftest import SECRET, make_case
from tests.conftest import make_settings
from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_requests import post, slash_command_body


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEWORK_", "SLACK_"))}
    env.update(CASEWORK_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", **extra)
    return env


def _casework(*args: str) -> list[str]:
    return [sys.executable, "-c", "from casework.cli import main; main()", *args]


def test_missing_slack_secrets_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (a subprocess per case costs seconds): exit 2, a clear message, no traceback."""
    from casework.cli import main
    from casework.settings import get_settings

    for name in list(os.environ):
        if name.startswith(("CASEWORK_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["serve"])
        assert exit_.value.code == 2
        assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in capsys.readouterr().err
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
        get_settings.cache_clear()
        with pytest.raises(SystemExit) as exit_:
            main(["serve", "--socket"])
        assert exit_.value.code == 2
        assert "SLACK_APP_TOKEN is not set" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_signed_requests_sends_outbox_and_stops_on_sigterm(
    tmp_path: Path, api: FakeSlackAPI
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    settings = make_settings(url)
    engine = make_engine(url)
    from store.db import upgrade

    upgrade(engine)
    ref = make_case(engine, settings)
    with session_scope(engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    engine.dispose()

    port = _free_port()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        CASEWORK_SLACK_API_URL=api.base_url,
        CASEWORK_TRIAGE_CHANNEL="C_TRIAGE",
        CASEWORK_CASEWORKERS="U_CW",
    )
    process = subprocess.Popen(
        _casework("serve", "--port", str(port)),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        events = f"http://127.0.0.1:{port}/slack/events"
        body = slash_command_body(f"case {ref}", user_id="U_CW", response_url=api.response_url())
        assert post(events, body, secret=SECRET).status == 200
        assert post(events, body, secret="wrong").status == 401
        reply = api.wait_for("/response/")[0].body
        assert ref in str(reply["blocks"])
        posted = api.wait_for("chat.postMessage", timeout=15)
        assert any(call.body.get("channel") == "C_TRIAGE" and ref in call.body["text"] for call in posted)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out


def _start_serve(tmp_path: Path, api: FakeSlackAPI, **extra: str) -> tuple[subprocess.Popen[str], int]:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    from store.db import upgrade

    upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = _env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        CASEWORK_SLACK_API_URL=api.base_url,
        CASEWORK_CASEWORKERS="U_CW",
        **extra,
    )
    process = subprocess.Popen(
        _casework("serve", "--port", str(port)),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)


def test_sigterm_lets_a_request_in_flight_finish_then_refuses_new_ones(
    tmp_path: Path, api: FakeSlackAPI
) -> None:
    """Half a signed request is sent, then SIGTERM, then the rest: it is still answered 200."""
    from tests.support.slack_requests import signature

    process, port = _start_serve(tmp_path, api)
    try:
        body = slash_command_body("help", user_id="U_CW", response_url=api.response_url()).encode()
        ts = str(int(time.time()))
        head = (
            "POST /slack/events HTTP/1.1\r\nHost: casework\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: {signature(SECRET, ts, body.decode())}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head + body[:20])
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            # no new connections once shutting down (how soon the signal is handled depends on
            # the machine's load, so wait for it rather than for a fixed time)
            refused, deadline = False, time.monotonic() + 10
            while not refused and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    time.sleep(0.1)
                except OSError:
                    refused = True
            assert refused, "the server still took new connections 10 s after SIGTERM"
            sock.sendall(body[20:])
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        if not answer.startswith(b"HTTP/1.1 200"):
            process.send_signal(signal.SIGTERM)
            raise AssertionError((answer, process.communicate(timeout=30)))
        assert api.wait_for("/response/")[0].body["response_type"] == "ephemeral"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_serving_process_memory_stays_flat_under_a_flood(tmp_path: Path, api: FakeSlackAPI) -> None:
    """The old server grew from 30 to 232 MB on one ``Content-Length: -1`` request of 200 MiB.

    Then 500 connections that each send a megabyte behind that header grew ``casework serve``
    by about 50 MB, most of it held in a reference cycle per refused request
    (:mod:`casework.web.protocol`); now it grows by a few megabytes and stays there.
    """
    process, port = _start_serve(tmp_path, api)

    def rss() -> int:
        status = Path(f"/proc/{process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024

    chunk = b"x" * (1024 * 1024)
    try:
        # the service's first minute (scheduler catch-up, lazy imports) grows it whatever the
        # traffic: measure from once it has settled
        settled = [rss()]
        for _ in range(40):
            time.sleep(0.25)
            settled.append(rss())
            if len(settled) > 8 and max(settled[-8:]) - min(settled[-8:]) < 512 * 1024:
                break
        baseline = rss()
        samples = []
        for _ in range(10):
            for _ in range(50):  # 50 MiB a round, 500 MiB in all
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
                        sock.sendall(chunk)
                except OSError:
                    pass
            samples.append(rss())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
            assert answer.status == 200  # answered once the server has worked through the flood
        samples.append(rss())
        assert max(samples) - baseline < 20 * 1024 * 1024, (settled, baseline, samples)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
