"""``casework serve --socket`` as a real process, against a local Socket Mode endpoint.

The process asks the fake Web API for a WebSocket URL with the app-level token, connects to
:mod:`tests.support.slack_socket`, and receives envelopes exactly as Slack sends them. One
process serves the whole module (starting one costs about a second); it must stop cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.access import REFUSAL
from tests.bot.conftest import CASEWORKER, OUTSIDER, SECRET
from tests.support.slack_api import FakeSlackAPI, fake_slack_api
from tests.support.slack_requests import event_body, slash_command_body
from tests.support.slack_socket import FakeSlackSocket, fake_slack_socket

pytestmark = pytest.mark.timeout(60)

APP_TOKEN = "xapp-1-A111-test"


@dataclass
class SocketBot:
    api: FakeSlackAPI
    socket: FakeSlackSocket
    process: subprocess.Popen[str]


def _serve_command() -> list[str]:
    return [sys.executable, "-c", "from casework.cli import main; main()", "serve", "--socket"]


def _env(tmp_path: Path, api: FakeSlackAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEWORK_", "SLACK_"))}
    env.update(
        CASEWORK_DATABASE_URL=f"sqlite:///{tmp_path / 'socket.db'}",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        CASEWORK_SLACK_API_URL=api.base_url,
        CASEWORK_TRIAGE_CHANNEL="C_TRIAGE",
        CASEWORK_CASEWORKERS=CASEWORKER,
    )
    return env


@pytest.fixture(scope="module")
def socket_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketBot]:
    tmp_path: Path = tmp_path_factory.mktemp("socket")
    with fake_slack_api() as api, fake_slack_socket() as socket:
        api.socket_url = socket.url
        process = subprocess.Popen(
            _serve_command(),
            env=_env(tmp_path, api),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not socket.connections:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve --socket did not connect"
                time.sleep(0.05)
            yield SocketBot(api=api, socket=socket, process=process)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "connected to Slack in Socket Mode" in out and "stopped" in out


def _command(bot: SocketBot, text: str, *, user: str, name: str) -> tuple[dict[str, object], float]:
    """Send ``/casework text`` as a slash_commands envelope; the ack and seconds it took."""
    payload = dict(parse_qsl(slash_command_body(text, user_id=user, response_url=bot.api.response_url(name))))
    started = time.monotonic()
    envelope_id = bot.socket.send("slash_commands", payload)
    ack = bot.socket.wait_ack(envelope_id, timeout=3.0)
    return ack, time.monotonic() - started


def test_connection_url_is_asked_for_with_the_app_level_token(socket_bot: SocketBot) -> None:
    """The WebSocket URL comes from apps.connections.open, authorised by xapp-, not xoxb-."""
    calls = socket_bot.api.of("apps.connections.open")
    assert calls
    assert calls[0].headers.get("Authorization") == f"Bearer {APP_TOKEN}"


def test_help_is_acknowledged_at_once_and_answered_through_response_url(socket_bot: SocketBot) -> None:
    """Ack within Slack's 3 s with the same envelope_id; the answer goes to response_url as in HTTP mode."""
    ack, seconds = _command(socket_bot, "help", user=CASEWORKER, name="help")
    assert seconds < 3.0
    assert not ack.get("payload")  # an empty ack: Slack shows nothing extra
    reply = socket_bot.api.wait_for("/response/help", timeout=5)[0].body
    assert reply["response_type"] == "ephemeral"
    assert "/casework summary" in json.dumps(reply["blocks"])


def test_outsider_gets_the_polite_refusal(socket_bot: SocketBot) -> None:
    _command(socket_bot, "overdue", user=OUTSIDER, name="outsider")
    reply = socket_bot.api.wait_for("/response/outsider", timeout=5)[0].body
    assert reply["text"] == REFUSAL
    assert "Traceback" not in json.dumps(reply)


def test_app_home_opened_publishes_the_home_view(socket_bot: SocketBot) -> None:
    event = {"type": "app_home_opened", "user": CASEWORKER, "channel": "D111", "tab": "home"}
    envelope_id = socket_bot.socket.send("events_api", json.loads(event_body(event)))
    socket_bot.socket.wait_ack(envelope_id, timeout=3.0)
    published = socket_bot.api.wait_for("views.publish", timeout=5)
    assert published[0].body["user_id"] == CASEWORKER
    view = published[0].body["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["type"] == "home"


def test_a_refused_app_token_is_a_clear_error(tmp_path: Path) -> None:
    """apps.connections.open saying ok=false (a wrong or revoked xapp-): exit 2, a message, no traceback."""
    with fake_slack_api() as api:  # no socket_url: the fake refuses apps.connections.open
        process = subprocess.run(
            _serve_command(),
            env=_env(tmp_path, api),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert process.returncode == 2, process.stderr
    assert "Slack refused the Socket Mode connection (socket_mode_not_enabled)" in process.stderr
    assert "Traceback" not in process.stderr
