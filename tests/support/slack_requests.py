"""Requests exactly as Slack sends them, signed with the app's signing secret.

Slash commands are form-encoded; interactivity (``block_actions``, ``view_submission``) is a
form with one field, ``payload``, holding JSON; the Events API posts JSON. Each is signed with
``v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`` in ``X-Slack-Signature`` beside
``X-Slack-Request-Timestamp`` (https://api.slack.com/authentication/verifying-requests-from-slack).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_command_body(
    text: str,
    *,
    user_id: str,
    response_url: str,
    channel_id: str = "C111",
    command: str = "/casework",
    trigger_id: str = "111.111.xxx",
) -> str:
    return urlencode(
        {
            "token": "verification_token",
            "team_id": "T111",
            "team_domain": "test-domain",
            "channel_id": channel_id,
            "channel_name": "casework",
            "user_id": user_id,
            "user_name": "someone",
            "command": command,
            "text": text,
            "api_app_id": "A111",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    return "payload=" + quote(json.dumps(payload))


def event_body(event: dict[str, Any], *, team_id: str = "T111") -> str:
    return json.dumps(
        {
            "token": "verification_token",
            "team_id": team_id,
            "api_app_id": "A111",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev111",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": team_id, "user_id": "UBOT", "is_bot": True}
            ],
        }
    )


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    url: str,
    body: str,
    *,
    secret: str,
    content_type: str = "application/x-www-form-urlencoded",
    timestamp: int | None = None,
    bad_signature: bool = False,
) -> Response:
    """POST ``body`` to ``url`` signed as Slack would (or wrongly, when asked)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = signature(secret, ts, body)
    if bad_signature:
        sig = signature(secret + "x", ts, body)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return Response(answer.status, answer.read().decode(), dict(answer.headers.items()))
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read().decode(), dict(err.headers.items()))
