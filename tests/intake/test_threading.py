"""Threading: replies join their case, a reply to a closed case re-opens it, re-sends are one case."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from casework.settings import Settings
from intake.steps.store import REOPEN_NOTE
from intake.steps.thread import references_in
from store.cases import history, require_case, set_status
from store.enums import Status
from store.models import Case
from tests.support.intake_mail import eml, later, make_pipeline


def cases(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def test_reply_by_in_reply_to_joins_the_case(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    reply = eml(
        subject="Re: Street lighting",
        message_id="<m2@example.org>",
        in_reply_to="<m1@example.org>",
        body="Still out, a week later.\n",
        date=later(60 * 24 * 7),
    )
    outcome = pipeline.process(reply, source="a")
    assert (outcome.kind, outcome.case_reference) == ("attached", first.case_reference)
    assert cases(engine) == 1


def test_reference_in_subject_joins_the_case(settings: Settings, engine: Engine) -> None:
    # a reply to our acknowledgement, from a client that drops In-Reply-To
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    reply = eml(
        subject=f"RE: [{first.case_reference}] Your message",
        message_id="<m9@example.org>",
        body="Thank you, here are the photos I mentioned.\n",
        date=later(600),
    )
    outcome = pipeline.process(reply, source="a")
    assert (outcome.kind, outcome.case_reference) == ("attached", first.case_reference)


def test_reference_pattern_uses_the_configured_prefix() -> None:
    assert references_in("Re: [wmopc-2013-000123] x", "WMOPC") == ["WMOPC-2013-000123"]
    assert references_in("Re: [XYZ-2013-000123] x", "WMOPC") == []
    assert references_in("AWMOPC-2013-0001234", "WMOPC") == []


def test_unknown_reference_in_subject_opens_a_new_case(settings: Settings, engine: Engine) -> None:
    outcome = make_pipeline(settings, engine).process(
        eml(subject="Re: [WMOPC-2013-999999] hello"), source="a"
    )
    assert outcome.kind == "opened"


def test_reply_to_a_closed_case_reopens_it_with_a_note(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    assert first.case_reference
    with Session(engine) as session:
        case = require_case(session, first.case_reference)
        set_status(session, case=case, status=Status.CLOSED, actor="U1", at=later(60))
        session.commit()
    reply = eml(
        subject="Re: Street lighting",
        message_id="<m2@example.org>",
        in_reply_to="<m1@example.org>",
        body="They are out again.\n",
        date=later(60 * 24 * 30),
    )
    assert pipeline.process(reply, source="a").case_reference == first.case_reference
    with Session(engine) as session:
        case = require_case(session, first.case_reference)
        assert case.status == Status.OPEN.value and case.closed_at is None
        notes = [
            (e.old_value, e.new_value, e.note) for e in history(session, case=case) if e.kind == "status"
        ]
        assert notes[-1] == ("closed", "open", REOPEN_NOTE)


def test_message_sent_twice_is_one_case(settings: Settings, engine: Engine) -> None:
    # corpus d075/d076: same sender, subject and body, new Message-ID, four minutes later
    pipeline = make_pipeline(settings, engine)
    first = pipeline.process(eml(), source="a")
    again = pipeline.process(eml(message_id="<m1-resent@example.org>", date=later(4)), source="a")
    assert (again.kind, again.case_reference) == ("attached", first.case_reference)
    assert cases(engine) == 1


def test_same_text_from_another_person_is_not_a_resend(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    pipeline.process(eml(), source="a")
    other = pipeline.process(
        eml(sender="bob@example.net", message_id="<b1@example.net>", date=later(4)), source="a"
    )
    assert other.kind == "opened" and cases(engine) == 2


def test_same_subject_new_text_from_same_person_is_a_new_case(settings: Settings, engine: Engine) -> None:
    pipeline = make_pipeline(settings, engine)
    pipeline.process(eml(), source="a")
    second = pipeline.process(
        eml(message_id="<m3@example.org>", date=later(30), body="A different lamp post is now broken too.\n"),
        source="a",
    )
    assert second.kind == "opened" and cases(engine) == 2
