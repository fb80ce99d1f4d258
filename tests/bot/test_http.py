"""The HTTP front door: signatures, timestamps, health check and URL verification."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.bot.conftest import SECRET, RunningBot
from tests.conftest import SLACK_FIXTURES, shared_or_skip
from tests.support.slack_requests import post, signature, slash_command_body


def test_signature_helper_matches_slacks_published_vector() -> None:
    """Our signing helper is the one Slack documents (the official test vector)."""
    vector = json.loads(shared_or_skip(SLACK_FIXTURES / "signature_vector.json").read_text())
    got = signature(vector["signing_secret"], vector["x_slack_request_timestamp"], vector["body"])
    assert got == vector["x_slack_signature"]


def test_healthz_answers(bot: RunningBot) -> None:
    with urllib.request.urlopen(f"{bot.server.url}/healthz", timeout=5) as answer:
        assert answer.status == 200
        assert json.loads(answer.read()) == {"ok": True}


def test_bad_signature_is_refused_with_401_and_nothing_runs(bot: RunningBot) -> None:
    body = slash_command_body("help", user_id="U_CW", response_url=bot.api.response_url())
    answer = post(bot.url, body, secret=SECRET, bad_signature=True)
    assert answer.status == 401
    time.sleep(0.3)
    assert bot.api.responses() == []


def test_stale_timestamp_is_refused_with_401(bot: RunningBot) -> None:
    """A correctly signed request older than five minutes is a replay."""
    body = slash_command_body("help", user_id="U_CW", response_url=bot.api.response_url())
    answer = post(bot.url, body, secret=SECRET, timestamp=int(time.time()) - 10 * 60)
    assert answer.status == 401


def test_signed_with_another_secret_is_refused(bot: RunningBot) -> None:
    body = slash_command_body("help", user_id="U_CW", response_url=bot.api.response_url())
    assert post(bot.url, body, secret="someone-else").status == 401


def test_url_verification_echoes_the_challenge(bot: RunningBot) -> None:
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "url_verification.json").read_text())
    answer = post(bot.url, json.dumps(payload), secret=SECRET, content_type="application/json")
    assert answer.status == 200
    assert answer.json()["challenge"] == payload["challenge"]


def test_fixture_slash_command_shape_is_accepted(bot: RunningBot) -> None:
    """The real form body Slack sends (enterprise fields and all), re-pointed at our command."""
    raw = shared_or_skip(SLACK_FIXTURES / "slash_command.form.txt").read_text().strip()
    from urllib.parse import parse_qsl, urlencode

    fields = dict(parse_qsl(raw))
    fields.update(command="/casework", text="help", user_id="U_CW", response_url=bot.api.response_url())
    answer = post(bot.url, urlencode(fields), secret=SECRET)
    assert answer.status == 200
    reply = bot.api.wait_for("/response/")[0].body
    assert reply["response_type"] == "ephemeral"
    assert "/casework summary" in json.dumps(reply["blocks"])
