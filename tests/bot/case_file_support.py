"""Driving the case file from signed Slack requests: a bot with approvers and SMTP set, a case
whose triage post was sent, clicks shaped like Slack's fixtures, and modal submissions built
from the very view the bot opened."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.models.views import View

from bot.blocks import validated, validated_view
from bot.sender import OutboxSender
from store.cases import get_case
from store.db import session_scope
from store.outbox import enqueue
from tests.bot.conftest import CASEWORKER, RunningBot, bot_settings, make_case, serving
from tests.conftest import SLACK_FIXTURES, shared_or_skip
from tests.support.slack_api import Call, FakeSlackAPI
from tests.support.slack_requests import Response

APPROVER, GROUP_APPROVER = "U_APP", "U_APP2"


@contextmanager
def running_bot(database_url: str, api: FakeSlackAPI, **overrides: object) -> Iterator[RunningBot]:
    """``casework serve``'s HTTP server with approvers (a user and the group ``S_APPROVERS``)."""
    api.usergroups["S_APPROVERS"] = [GROUP_APPROVER]
    values: dict[str, object] = {"approvers": [APPROVER, "S_APPROVERS"]}
    values.update(overrides)
    with serving(bot_settings(database_url, api, **values), api) as running:
        yield running


def sender(bot: RunningBot) -> OutboxSender:
    return OutboxSender(bot.settings, bot.engine, bot.client)


def posted_case(bot: RunningBot, **case: Any) -> tuple[str, str, str]:
    """A case whose triage post the sender made: (reference, channel, ts)."""
    ref = make_case(bot.engine, bot.settings, **case)
    with session_scope(bot.engine) as session:
        enqueue(session, key=f"triage:{ref}", kind="slack.triage", payload={"reference": ref})
    assert sender(bot).drain_once() == 1
    with session_scope(bot.engine) as session:
        found = get_case(session, ref)
        assert found is not None
        return ref, str(found.slack_channel), str(found.slack_ts)


def post_blocks(call: Call) -> list[dict[str, Any]]:
    raw = call.body.get("blocks")
    found = json.loads(raw) if isinstance(raw, str) else raw
    validated(found)  # what Slack would accept
    return list(found)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e.get("action_id", "") for b in blocks if b["type"] == "actions" for e in b["elements"]]


def element(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for block in blocks:
        for candidate in block.get("elements") or []:
            if candidate.get("action_id") == action_id:
                return {**candidate, "block_id": block.get("block_id")}
    raise AssertionError(f"no {action_id} in {action_ids(blocks)}")


def click(
    bot: RunningBot,
    action: dict[str, Any],
    *,
    user: str = CASEWORKER,
    channel: str = "C_TRIAGE",
    ts: str = "1.1",
    view: dict[str, Any] | None = None,
    response_name: str = "action",
) -> Response:
    """A ``block_actions`` request shaped like Slack's (the shared fixture), signed."""
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "block_actions_button.json").read_text())
    payload["user"]["id"] = user
    payload["response_url"] = bot.api.response_url(response_name)
    if view is not None:  # a control inside a modal
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        payload.pop("channel", None)
        payload.pop("response_url", None)
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel, "name": "triage"}
        payload["message"] = {"ts": ts, "type": "message"}
    action = dict(action)
    # every click is its own request, as Slack sends it: its own action_ts (so two clicks on
    # one button within a second are two signed requests, not a replay of one)
    action.setdefault("action_ts", f"{time.time():.6f}")
    if action.get("type") == "button" and "text" not in action:
        action["text"] = {"type": "plain_text", "text": "Button"}
    payload["actions"] = [action]
    answer = bot.interact(payload)
    assert answer.status == 200, answer.body
    return answer


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    """What Slack sends back for a click on ``action_id`` in ``blocks``."""
    found = element(blocks, action_id)
    sent = {k: v for k, v in found.items() if k in ("action_id", "block_id", "value", "type", "text")}
    return sent


def choose(blocks: list[dict[str, Any]], action_id: str, value: str) -> dict[str, Any]:
    found = element(blocks, action_id)
    option = next(o for o in found["options"] if o["value"] == value)
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": found["block_id"],
        "selected_option": option,
    }


def opened_views(bot: RunningBot, method: str = "views.open") -> list[dict[str, Any]]:
    """Every view the bot opened (or updated), as dicts, each checked as Slack would."""
    views = []
    for call in bot.api.of(method):
        view = call.body["view"]
        view = json.loads(view) if isinstance(view, str) else view
        View(**view).validate_json()
        validated_view(view)
        views.append(view)
    return views


def wait_view(bot: RunningBot, count: int = 1, method: str = "views.open") -> dict[str, Any]:
    bot.api.wait_for(method, count)
    return opened_views(bot, method)[count - 1]


def as_shown(view: dict[str, Any], view_id: str = "V_OPEN") -> dict[str, Any]:
    """The view as Slack hands it back in later payloads (with its id, hash and an empty state)."""
    shown = copy.deepcopy(view)
    shown.update({"id": view_id, "hash": "1700000000.abc", "team_id": "T111", "app_id": "A111"})
    shown.setdefault("state", {"values": {}})
    return shown


def submit(
    bot: RunningBot, view: dict[str, Any], values: dict[str, Any], *, user: str = CASEWORKER
) -> Response:
    """A ``view_submission`` of ``view`` with ``values`` ({block_id: text or ("select", value)})."""
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "view_submission.json").read_text())
    payload["user"]["id"] = user
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        bid, element_ = block["block_id"], block["element"]
        value = values.get(bid, element_.get("initial_value"))
        if element_["type"] == "static_select":
            chosen = next((o for o in element_["options"] if o["value"] == value), None)
            state[bid] = {element_["action_id"]: {"type": "static_select", "selected_option": chosen}}
        else:
            state[bid] = {element_["action_id"]: {"type": "plain_text_input", "value": value}}
    shown = as_shown(view)
    shown["state"] = {"values": state}
    payload["view"] = shown
    answer = bot.interact(payload)
    assert answer.status == 200, answer.body
    return answer


def errors_of(answer: Response) -> dict[str, str]:
    """The field errors a modal submission was answered with ({} when accepted)."""
    if not answer.body.strip():
        return {}
    body = answer.json()
    return dict(body.get("errors") or {}) if body.get("response_action") == "errors" else {}


def responses_to(bot: RunningBot, name: str = "action") -> list[dict[str, Any]]:
    return [c.body for c in bot.api.responses() if c.path == f"/response/{name}"]
