"""Rendering a case's triage message from the store, for the first post and every update.

The sender posts it when intake's ``slack.triage`` outbox row comes due; the action listeners
call :func:`refresh` after each change so the message in the channel always shows the case as
it stands now, whatever was clicked.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import blocks, queries
from casework.settings import Settings
from store.cases import get_case
from store.channels import detail_for
from store.db import session_scope

log = logging.getLogger(__name__)


def render(
    session: Any, *, reference: str, settings: Settings, today: date
) -> tuple[str, blocks.Blocks] | None:
    case = get_case(session, reference)
    if case is None:
        return None
    # the channel it is (or will be) in decides how much it shows: minimal unless checked safe
    level = detail_for(session, settings=settings, channel=case.slack_channel or settings.triage_channel)
    return blocks.triage_message(queries.detail(session, case=case), settings, today, level=level)


def refresh(
    client: WebClient,
    *,
    engine: Engine,
    settings: Settings,
    reference: str,
    channel: str,
    ts: str,
    today: date,
) -> None:
    """Redraw the triage message at ``channel``/``ts`` and remember where it is."""
    with session_scope(engine) as session:
        rendered = render(session, reference=reference, settings=settings, today=today)
        if rendered is None:
            return
        case = get_case(session, reference)
        assert case is not None
        if (case.slack_channel, case.slack_ts) != (channel, ts):
            case.slack_channel, case.slack_ts = channel, ts
            session.add(case)
    text, message = rendered
    client.chat_update(channel=channel, ts=ts, text=text, blocks=message)
    log.info("triage message of %s updated", reference)
