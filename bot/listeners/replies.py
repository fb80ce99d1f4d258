"""What the case-file listeners share: where a click came from, refusals and errors to the
asker only, and redrawing the case's triage post after a change."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import blocks, triage
from bot.access import REFUSAL, SUMMARY_ONLY
from bot.deps import Deps
from store.cases import get_case
from store.db import session_scope

log = logging.getLogger(__name__)


def where(body: dict[str, Any]) -> dict[str, Any]:
    """The message a click came from (channel, ts), kept in a modal's private_metadata."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return {"channel": channel, "ts": ts}


def action_value(body: dict[str, Any]) -> str:
    return str(body["actions"][0].get("value") or "")


def action_json(body: dict[str, Any]) -> dict[str, Any]:
    """A button's value written by :mod:`bot.case_file` (JSON); {} when it is not."""
    try:
        found = json.loads(action_value(body))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def reference_of(body: dict[str, Any]) -> str:
    """The case a case-file control belongs to: its block id ``case:REF``, else its value."""
    action = body["actions"][0]
    block_id = action.get("block_id") or ""
    if block_id.startswith(blocks.CASE_FILE_BLOCK):
        return block_id[len(blocks.CASE_FILE_BLOCK) :]
    return str(action.get("value") or "")


def refusal_text(deps: Deps, user: str | None) -> str:
    return SUMMARY_ONLY if deps.access.may_see_summary(user) else REFUSAL


def tell(respond: Respond, text: str, *, refusal: bool = False) -> None:
    """An answer only the person who clicked sees (never a change to the message clicked)."""
    respond(
        text=text,
        blocks=blocks.refusal(text) if refusal else blocks.error(text),
        response_type="ephemeral",
        replace_original=False,
    )


def caseworker(deps: Deps, body: dict[str, Any], respond: Respond) -> str | None:
    """The Slack user when they are a caseworker; anyone else is refused, only to them."""
    user = (body.get("user") or {}).get("id")
    if deps.access.may_act(user):
        return str(user)
    tell(respond, refusal_text(deps, user), refusal=True)
    log.info("case-file action refused for %s", user)
    return None


def redraw_post(client: WebClient, deps: Deps, *, reference: str, channel: str, ts: str) -> None:
    """Redraw the case's triage post at a known channel and ts, as of the bot's today."""
    triage.refresh(
        client,
        engine=deps.engine,
        settings=deps.settings,
        reference=reference,
        channel=channel,
        ts=ts,
        today=deps.today(),
    )


def refresh_post(client: WebClient, deps: Deps, reference: str) -> None:
    """Redraw the case's triage post (wherever the click came from) so it shows the case as it is."""
    with session_scope(deps.engine) as session:
        case = get_case(session, reference)
        if case is None or not case.slack_channel or not case.slack_ts:
            return
        channel, ts = case.slack_channel, case.slack_ts
    try:
        redraw_post(client, deps, reference=reference, channel=channel, ts=ts)
    except Exception:  # the change is made and recorded; a stale post is redrawn by the next one
        log.exception("triage post of %s not redrawn", reference)


def post_in_thread(client: WebClient, deps: Deps, reference: str, text: str) -> None:
    """A short line in the case's triage thread (who approved, returned, sent)."""
    with session_scope(deps.engine) as session:
        case = get_case(session, reference)
        if case is None or not case.slack_channel or not case.slack_ts:
            return
        channel, ts = case.slack_channel, case.slack_ts
    try:
        client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=blocks.context_only(text))
    except Exception:
        log.exception("thread notice for %s not posted", reference)
