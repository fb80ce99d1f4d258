"""A reply on a closed FOI case asking for an internal review is proposed in Slack, not re-opened."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from bot.blocks import validated
from casework.settings import Settings
from intake.review_requests import asks_for_review
from store.cases import get_case, set_status
from store.db import session_scope
from store.models import Case, OutboxItem
from tests.conftest import make_settings
from tests.support.intake_mail import make_pipeline

REQUEST = (
    "From: Asker <asker@example.org>\r\nTo: foi@opcc.example\r\nSubject: Freedom of Information request\r\n"
    "Date: Thu, 01 Oct 2026 10:00:00 +0100\r\nMessage-ID: <req-1@example.org>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Under the Freedom of Information Act please send me the stop and search figures for 2025.\r\n"
)


def _reply(body: str, n: int, sender: str = "Asker <asker@example.org>") -> bytes:
    return (
        f"From: {sender}\r\nTo: foi@opcc.example\r\nSubject: Re: Freedom of Information request\r\n"
        f"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <reply-{n}@example.org>\r\n"
        "In-Reply-To: <req-1@example.org>\r\nReferences: <req-1@example.org>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_the_words_that_ask_for_a_review() -> None:
    assert asks_for_review("I am writing to request an internal review of your handling of my request")
    assert asks_for_review("Please review your decision to withhold the figures")
    assert not asks_for_review("Thank you for the figures, this is very helpful")


def test_a_review_request_on_a_closed_foi_case_is_proposed_with_one_click(
    engine: Engine, settings: Settings
) -> None:
    cfg = make_settings(settings.database_url, triage_channel="C_TRIAGE")
    pipeline = make_pipeline(cfg, engine)
    pipeline.process(REQUEST.encode(), source="t")
    with session_scope(engine) as session:
        case = session.execute(select(Case)).scalar_one()
        case.category = "foi"
        set_status(session, case=case, status="closed", actor="t", at=datetime(2026, 10, 20, 12, tzinfo=UTC))
        reference = case.reference
    pipeline.process(_reply("I am writing to request an internal review of Essex's handling.", 1), source="t")
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.status == "closed"  # not re-opened
        [row] = session.execute(
            select(OutboxItem).where(OutboxItem.key.startswith("review-proposal:"))
        ).scalars()  # type: ignore[attr-defined]
    assert row.kind == "slack.post" and row.payload["channel"] == "C_TRIAGE"
    button = validated(row.payload["blocks"])[1]["elements"][0]
    assert button["action_id"] == "clock_review" and button["value"] == f"{reference}|2026-11-02"
    # an ordinary reply re-opens the case as before
    pipeline.process(_reply("Thanks, one more question about the figures.", 2), source="t")
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None and case.status == "open"
