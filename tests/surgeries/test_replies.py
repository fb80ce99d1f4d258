"""Replies to surgery emails go through intake like any reply: threaded to the case by
In-Reply-To, and a "cancel" to a confirmation (or a "yes" to an offer) acts on the booking."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from intake.steps.surgery import own_words
from store import surgeries
from store.db import session_scope
from store.models import Message, OutboxItem, SurgeryBooking
from store.workdays import LONDON, local_date
from tests.support.intake_mail import eml, make_pipeline

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)


def _sent_id(engine: Engine, booking_id: int, kind: str) -> str:
    with Session(engine) as session:
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.surgery")).scalars()  # type: ignore[arg-type]
        for row in rows:
            if row.key.startswith(f"surgery:{booking_id}:{kind}:"):
                return str(row.payload["message_id"])
    raise AssertionError(f"no {kind} email for booking {booking_id}")


def _setup(engine: Engine, settings: Settings) -> tuple[int, int, str]:
    with session_scope(engine) as session:
        sitting = surgeries.add_session(
            session,
            on=local_date(NOW).replace(day=13),
            at=NOW.time().replace(hour=18, minute=30),
            host="commissioner",
            venue="Dudley",
            slots=1,
        )
        booked, case = surgeries.book(
            session,
            settings=settings,
            session_id=sitting.id,
            name="Jane Public",  # type: ignore[arg-type]
            email="jane@example.org",
        )
        waiting, _ = surgeries.book(
            session,
            settings=settings,
            session_id=sitting.id,
            name="Sam Waiting",  # type: ignore[arg-type]
            email="sam@example.org",
        )
        assert booked.status == "booked" and waiting.status == "waitlisted"
        return booked.id, waiting.id, case.reference  # type: ignore[return-value]


def test_own_words_stop_at_the_quoted_message() -> None:
    body = "Thanks, see you then.\n\nOn Mon, 2 Nov 2026, Casework wrote:\n> reply with the word cancel\n"
    assert "cancel" not in own_words(body)
    assert "cancel" in own_words("Sorry, I have to cancel.\n> quoted")


def test_a_reply_saying_cancel_to_the_confirmation_cancels_and_offers_the_slot(
    surgery_settings: Settings, db: Engine
) -> None:
    with time_machine.travel(NOW, tick=False):
        booked, waiting, reference = _setup(db, surgery_settings)
        confirm = _sent_id(db, booked, "confirm")
        pipeline = make_pipeline(surgery_settings, db)
        # a thank-you (quoting the email's own "cancel") and a stranger's "cancel" change nothing
        thanks = eml(
            sender="Jane Public <jane@example.org>",
            subject="Re: your appointment",
            body='Thank you, see you then.\n\nOn Mon, Casework wrote:\n> reply with the word "cancel"\n',
            message_id="<r1@example.org>",
            in_reply_to=confirm,
            date=NOW,
        )
        stranger = eml(
            sender="Mallory <mallory@example.org>",
            subject="Re: your appointment",
            body="cancel",
            message_id="<r2@example.org>",
            in_reply_to=confirm,
            date=NOW,
        )
        for raw in (thanks, stranger):
            outcome = pipeline.process(raw, source="test")
            assert outcome.kind == "attached" and outcome.case_reference == reference
        with Session(db) as session:
            assert session.get(SurgeryBooking, booked).status == "booked"  # type: ignore[union-attr]
        cancel = eml(
            sender="Jane Public <jane@example.org>",
            subject="Re: your appointment",
            body="I'm so sorry, I need to cancel: my child is ill.\n",
            message_id="<r3@example.org>",
            in_reply_to=confirm,
            date=NOW,
        )
        outcome = pipeline.process(cancel, source="test")
        assert outcome.kind == "attached" and outcome.case_reference == reference
        with Session(db) as session:
            jane, sam = session.get(SurgeryBooking, booked), session.get(SurgeryBooking, waiting)
            assert (
                jane is not None
                and jane.status == "cancelled"
                and jane.reason == "cancelled by the person's reply"
            )
            assert sam is not None and sam.status == "offered" and sam.slot == 1
            # the reply is on the case like any reply, beside the emails sent
            directions = (
                session.execute(
                    select(Message.direction).where(Message.case_id == jane.case_id)  # type: ignore[call-overload]
                )
                .scalars()
                .all()
            )
            assert directions.count("in") == 3 and directions.count("out") == 2  # confirmation, cancellation
        offer = _sent_id(db, waiting, "offer")
        yes = eml(
            sender="Sam Waiting <sam@example.org>",
            subject="Re: an appointment is free",
            body="Yes please!\n",
            message_id="<r4@example.org>",
            in_reply_to=offer,
            date=NOW,
        )
        pipeline.process(yes, source="test")
        pipeline.close()
    with Session(db) as session:
        assert session.get(SurgeryBooking, waiting).status == "booked"  # type: ignore[union-attr]
    assert _sent_id(db, waiting, "confirm")


def test_cancel_to_the_waiting_list_notice_leaves_the_list_and_is_not_a_cancelled_appointment(
    surgery_settings: Settings, db: Engine
) -> None:
    from datetime import date

    from store.stats import surgeries_table

    with time_machine.travel(NOW, tick=False):
        booked, waiting, _ = _setup(db, surgery_settings)
        notice = _sent_id(db, waiting, "waitlisted")
        reply = eml(
            sender="sam@example.org",
            subject="Re: waiting list",
            body="Please cancel me, thanks.",
            message_id="<w1@example.org>",
            in_reply_to=notice,
            date=NOW,
        )
        with make_pipeline(surgery_settings, db) as pipeline:
            pipeline.process(reply, source="test")
    with Session(db) as session:
        assert session.get(SurgeryBooking, waiting).status == "cancelled"  # type: ignore[union-attr]
        assert session.get(SurgeryBooking, booked).status == "booked"  # type: ignore[union-attr]
        total = surgeries_table(session, start=date(2026, 11, 1), end=date(2026, 11, 30))[-1]
    assert (total["booked"], total["cancellations"]) == (1, 0)
