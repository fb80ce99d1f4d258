"""Case hijacking by reference: a guessed (sequential) reference no longer joins a stranger to a case.

Before, anyone who wrote ``[WMOPC-2013-000001]`` in a subject joined that case, re-opened it
and became a participant.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from casework.settings import Settings
from store.cases import require_case, set_status
from store.enums import EventKind, Status
from store.models import CaseEvent, CaseParticipant
from tests.support.intake_mail import eml, later, make_pipeline


def _open_case(settings: Settings, engine: Engine) -> str:
    outcome = make_pipeline(settings, engine).process(eml(), source="a")
    assert outcome.case_reference
    with Session(engine) as session:
        set_status(
            session,
            case=require_case(session, outcome.case_reference),
            status=Status.CLOSED,
            actor="U1",
            settings=settings,
        )
        session.commit()
    return outcome.case_reference


def _participants(engine: Engine, reference: str) -> int:
    with Session(engine) as session:
        case = require_case(session, reference)
        return int(session.scalar(select(func.count()).where(CaseParticipant.case_id == case.id)) or 0)


def test_a_guessed_reference_from_a_stranger_opens_a_new_linked_case(
    settings: Settings, engine: Engine
) -> None:
    ref = _open_case(settings, engine)
    attack = eml(
        sender="Stranger <stranger@evil.example>",
        subject=f"Re: [{ref}] update",
        message_id="<s1@evil.example>",
        date=later(30),
    )
    outcome = make_pipeline(settings, engine).process(attack, source="a")
    assert outcome.kind == "opened" and outcome.case_reference != ref
    with Session(engine) as session:
        original = require_case(session, ref)
        assert original.status == Status.CLOSED.value  # not re-opened
        new = require_case(session, outcome.case_reference or "")
        assert new.linked_case_id == original.id and new.needs_triage
        assert any("not on that case" in reason for reason in new.reasons)
        link = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == new.id, CaseEvent.kind == EventKind.LINK.value)
        ).one()
        assert link.new_value == ref
    assert _participants(engine, ref) == 1  # the stranger did not join


def test_a_made_up_message_id_with_the_reference_does_not_join_either(
    settings: Settings, engine: Engine
) -> None:
    ref = _open_case(settings, engine)
    attack = eml(
        sender="Stranger <stranger@evil.example>",
        subject="hello",
        message_id="<s2@evil.example>",
        in_reply_to=f"<{ref}.0000000000000000@pcc.example.gov.uk>",
        date=later(30),
    )
    outcome = make_pipeline(settings, engine).process(attack, source="a")
    assert outcome.kind == "opened" and outcome.case_reference != ref
    assert _participants(engine, ref) == 1


def test_the_correspondent_and_the_force_still_join_by_reference(settings: Settings, engine: Engine) -> None:
    ref = _open_case(settings, engine)
    pipeline = make_pipeline(settings, engine)
    again = eml(
        subject=f"[{ref}] more", message_id="<a2@example.org>", body="More from me.\n", date=later(10)
    )
    assert pipeline.process(again, source="a").case_reference == ref
    officer = eml(
        sender="PC Smith <p.smith@west-midlands.pnn.police.uk>",
        subject=f"{ref} our reply",
        message_id="<p1@west-midlands.pnn.police.uk>",
        body="We have spoken to the resident.\n",
        date=later(20),
    )
    assert pipeline.process(officer, source="a").case_reference == ref
