"""A requester's answer to a request for clarification, fetched from a real Dovecot, restarts the clock."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from casework.settings import Settings
from intake.poller import poll_once
from store import clocks
from store.cases import get_case, history
from store.db import session_scope
from store.models import Case, OutboxItem
from tests.support.dovecot import Dovecot, dovecot_fixture, pipeline_for  # noqa: F401
from tests.uk_days import nth_working_after

pytestmark = pytest.mark.dovecot


def _mail(sender: str, message_id: str, day: str, body: str, in_reply_to: str | None = None) -> bytes:
    reply = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    subject = "Re: Freedom of Information request" if in_reply_to else "Freedom of Information request"
    return (
        f"From: {sender}\r\nTo: casework@opcc.example\r\nSubject: {subject}\r\n"
        f"Date: {day} 10:00:00 +0100\r\nMessage-ID: {message_id}\r\n{reply}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def test_a_clarification_reply_restarts_the_clock_on_its_day_of_receipt(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    cfg = dovecot.settings(settings.database_url, triage_channel="C_TRIAGE")
    pipeline = pipeline_for(cfg, engine)
    request = "<foi-1@example.org>"
    dovecot.deliver(
        _mail(
            "Asker <asker@example.org>",
            request,
            "Thu, 01 Oct 2026",
            "Under the Freedom of Information Act 2000 please send me the stop and search figures.",
        )
    )
    poll_once(cfg, engine, pipeline=pipeline)
    with session_scope(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        reference = case.reference
        assert case.received_on == date(2026, 10, 1)
        case.slack_channel, case.slack_ts = "C_TRIAGE", "1700000000.000100"  # as the sender saves it
        clocks.stop_clock(
            session,
            case=case,
            settings=cfg,
            reason="clarification",
            actor="U_CASEWORKER",
            on=date(2026, 10, 5),
            note="which years?",
        )
    # someone not on the case writes on the thread: the clock stays stopped
    dovecot.deliver(
        _mail(
            "Other <other@example.org>",
            "<other-1@example.org>",
            "Thu, 08 Oct 2026",
            "I would like these figures too.",
            in_reply_to=request,
        )
    )
    poll_once(cfg, engine, pipeline=pipeline)
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.clock_stopped_on == date(2026, 10, 5)
    # the requester answers on 12 October: a fresh 20 working days from then
    dovecot.deliver(
        _mail(
            "Asker <asker@example.org>",
            "<foi-2@example.org>",
            "Mon, 12 Oct 2026",
            "I mean the years 2023 to 2025.",
            in_reply_to=request,
        )
    )
    summary = poll_once(cfg, engine, pipeline=pipeline)
    assert sum(summary.values()) >= 1
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None
        assert case.clock_stopped_on is None
        assert case.due_on == nth_working_after(date(2026, 10, 12), 20)
        restarts = [e for e in history(session, case=case) if e.kind == "clock" and e.actor == "intake"]
        assert [e.new_value for e in restarts] == ["restarted 2026-10-12"]
        rows = {row.key: row for row in session.execute(select(OutboxItem)).scalars()}
    notice = rows[f"clock-restart:{reference}:2026-10-12"]
    assert notice.kind == "slack.post" and notice.payload["thread_ts"] == "1700000000.000100"
    assert "clarification received" in notice.payload["text"] and "restarted" in notice.payload["text"]
    assert rows[f"triage:{reference}:restart:2026-10-12"].kind == "slack.triage"  # the post is redrawn
