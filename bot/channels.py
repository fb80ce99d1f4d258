"""The privacy check of the triage and alerts channels, at start-up and hourly.

A channel may carry more than a minimal post (``CASEWORK_CHANNEL_DETAIL`` ``subject`` or
``full``) only while ``conversations.info`` says it is private and not shared outside the
workspace, and ``conversations.members`` are all caseworkers (user groups expanded as
:mod:`bot.access` does) plus the bot itself. The result goes into the store
(:mod:`store.channels`), where every post reads it. When a check fails, posts fall back to
minimal at once and the managers get one DM saying why (one per run of failures, keyed in the
outbox); details stay one click away for caseworkers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.access import Access
from casework.settings import Settings
from store.channels import MINIMAL, save_check
from store.db import session_scope
from store.outbox import enqueue

log = logging.getLogger(__name__)

_SHARED_FLAGS = ("is_ext_shared", "is_pending_ext_shared", "is_shared", "is_org_shared")


@dataclass(frozen=True)
class Verdict:
    channel: str
    passed: bool
    reason: str


def _bot_user(client: WebClient) -> str | None:
    try:
        return str(client.auth_test().get("user_id") or "") or None
    except SlackApiError:
        return None


def _members(client: WebClient, channel: str) -> list[str]:
    members: list[str] = []
    cursor = ""
    while True:
        response = client.conversations_members(channel=channel, cursor=cursor or None, limit=200)
        members += list(response.get("members") or [])
        cursor = ((response.get("response_metadata") or {}).get("next_cursor")) or ""
        if not cursor:
            return members


def check_channel(client: WebClient, access: Access, channel: str) -> Verdict:
    """Whether ``channel`` may carry case details, and if not, why (for the managers' DM)."""
    try:
        info: dict[str, Any] = client.conversations_info(channel=channel).get("channel") or {}
        if not (info.get("is_private") or info.get("is_group")):
            return Verdict(channel, False, "it is a public channel: anyone in the workspace can read it")
        shared = [flag for flag in _SHARED_FLAGS if info.get(flag)]
        if shared:
            return Verdict(channel, False, "it is shared outside the workspace (Slack Connect)")
        bot = _bot_user(client)
        others = [m for m in _members(client, channel) if m != bot and not access.may_act(m)]
    except SlackApiError as err:
        error = err.response.get("error") if hasattr(err.response, "get") else str(err)
        return Verdict(channel, False, f"Slack would not say who is in it ({error})")
    if others:
        shown = ", ".join(f"<@{m}>" for m in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        return Verdict(channel, False, f"members who are not caseworkers are in it: {shown}{more}")
    return Verdict(channel, True, "private, not shared, caseworkers only")


def channels_to_check(settings: Settings) -> list[str]:
    return list(dict.fromkeys(c for c in (settings.triage_channel, settings.alerts_channel) if c))


def run_checks(
    settings: Settings, engine: Engine, client: WebClient, access: Access, *, now: datetime | None = None
) -> list[Verdict]:
    """Check each configured channel, record the result, and tell the managers of a new failure."""
    if settings.channel_detail == MINIMAL:
        return []
    verdicts = []
    for channel in channels_to_check(settings):
        verdict = check_channel(client, access, channel)
        verdicts.append(verdict)
        with session_scope(engine) as session:
            row, newly = save_check(
                session,
                channel=channel,
                wanted=settings.channel_detail,
                passed=verdict.passed,
                reason=verdict.reason,
                now=now,
            )
            if newly and row.failing_since is not None:
                text = (
                    f":lock: Posts to <#{channel}> now show only the reference, category, due date and "
                    f"assignee, not the {settings.channel_detail} detail CASEWORK_CHANNEL_DETAIL asks for, "
                    f"because {verdict.reason}. Make the channel private and caseworkers only, and the "
                    "next hourly check restores it. Caseworkers can still open each case's details."
                )
                since = row.failing_since.isoformat()
                for manager in access.managers():
                    enqueue(
                        session,
                        key=f"channel-check:{channel}:{since}:dm:{manager}",
                        kind="slack.dm",
                        target=manager,
                        payload={"user": manager, "text": text},
                    )
        log.info(
            "channel check %s: %s (%s)", channel, "passed" if verdict.passed else "failed", verdict.reason
        )
    return verdicts
