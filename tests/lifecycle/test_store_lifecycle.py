"""The lifecycle's store API: the table of moves, drafts, sign-off and the dispatch rows."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.settings import Settings
from store.cases import get_or_create_correspondent, history, open_case, set_status
from store.enums import DraftState, EventKind, Stage, Status
from store.lifecycle import (
    MOVES,
    LifecycleError,
    MoveRefused,
    add_note,
    allowed_moves,
    approve,
    attach_file,
    move,
    needs_signoff,
    notes,
    record_view,
    render_template,
    request_signoff,
    return_for_redraft,
    save_draft,
)
from store.models import Case, Message, OutboxItem
from store.outgoing import queue_reply
from tests.conftest import make_settings

RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _settings(settings: Settings, **extra: object) -> Settings:
    values = {"smtp_host": "127.0.0.1", "smtp_from": "casework@opcc.example", "approvers": ["U0APPROVER"]}
    values.update(extra)
    return make_settings(settings.database_url, **values)


def _case(session: Session, settings: Settings, category: str = "correspondence") -> Case:
    person = get_or_create_correspondent(session, email="ann@example.org", name="Ann Smith")
    case = open_case(
        session,
        settings=settings,
        category=category,
        received_at=RECEIVED,
        subject="Speeding on Elm Road",
        correspondent=person,
    )
    session.add(
        Message(
            case_id=case.id,
            message_id="<letter-1@example.org>",
            raw_sha256="a" * 64,
            correspondent_id=person.id,
            from_addr="ann@example.org",
            subject=case.subject,
            sent_at=RECEIVED,
            raw=b"x",
        )
    )
    session.flush()
    return case


def test_every_stage_lies_inside_one_board_status_and_every_move_is_in_the_table() -> None:
    assert {s.status for s in Stage} == set(Status)
    assert Stage.WITH_FORCE.status is Status.IN_PROGRESS and Stage.NEW.status is Status.OPEN
    assert set(MOVES) == set(Stage)


def test_a_move_changes_stage_and_status_with_one_event_and_nonsense_is_refused(
    engine: Engine, settings: Settings
) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        assert move(
            session, case=case, to="with_force", actor="U1", settings=settings, note="asked the force"
        )
        assert (case.stage, case.status) == ("with_force", "in_progress")
        stage_events = [e for e in history(session, case=case) if e.kind == EventKind.STAGE.value]
        assert [(e.old_value, e.new_value, e.note, e.actor) for e in stage_events] == [
            ("new", "with_force", "asked the force", "U1")
        ]
        with pytest.raises(MoveRefused, match=r"cannot move to ready to send|sign-off"):
            move(session, case=case, to="ready_to_send", actor="U1", settings=settings)
        with pytest.raises(MoveRefused, match="sign-off"):
            move(session, case=case, to="awaiting_signoff", actor="U1", settings=settings)
        assert Stage.READY_TO_SEND not in allowed_moves(case, settings)
        assert case.stage == "with_force"


def test_the_triage_buttons_status_keeps_the_stage_consistent(engine: Engine, settings: Settings) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        save_draft(session, case=case, author="U1", body="Dear Ann", settings=settings)
        assert (case.stage, case.status) == ("drafting", "in_progress")
        set_status(session, case=case, status=Status.IN_PROGRESS, actor="U1", settings=settings)
        assert case.stage == "drafting"  # already inside in_progress: kept
        set_status(session, case=case, status=Status.CLOSED, actor="U1", settings=settings)
        assert (case.stage, case.status) == ("closed", "closed")
        set_status(session, case=case, status=Status.OPEN, actor="intake", settings=settings)
        assert (case.stage, case.status, case.closed_at) == ("new", "open", None)


def test_draft_signoff_return_and_approve(engine: Engine, settings: Settings) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        text = render_template(session, case=case, settings=settings)
        assert "Dear Ann Smith" in text and case.reference in text and "Speeding on Elm Road" in text
        first = save_draft(session, case=case, author="U1", body=text, settings=settings)
        assert save_draft(session, case=case, author="U1", body=text, settings=settings) is first
        assert case.drafts == 1 and case.stage == "drafting"
        request_signoff(session, case=case, actor="U1", settings=settings)
        assert case.stage == "awaiting_signoff"
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.signoff")).scalars().all()
        assert [(r.key, r.payload) for r in rows] == [
            (
                f"signoff:{case.reference}:{first.id}:U0APPROVER",
                {"reference": case.reference, "draft_id": first.id, "approver": "U0APPROVER"},
            )
        ]
        with pytest.raises(LifecycleError, match="with the approvers"):
            save_draft(session, case=case, author="U1", body="changed", settings=settings)
        with pytest.raises(MoveRefused, match="reason"):
            return_for_redraft(session, case=case, actor="U0APPROVER", reason=" ", settings=settings)
        return_for_redraft(session, case=case, actor="U0APPROVER", reason="too long", settings=settings)
        assert case.stage == "drafting" and first.state == DraftState.RETURNED.value
        second = save_draft(session, case=case, author="U1", body=text + "\nShorter.", settings=settings)
        assert (second.version, case.drafts) == (2, 2)
        request_signoff(session, case=case, actor="U1", settings=settings)
        approve(session, case=case, actor="U0APPROVER", settings=settings)
        assert case.stage == "ready_to_send" and second.state == DraftState.APPROVED.value
        events = [(e.kind, e.new_value) for e in history(session, case=case) if e.kind == "signoff"]
        assert events == [
            ("signoff", "requested"),
            ("signoff", "returned"),
            ("signoff", "requested"),
            ("signoff", "approved"),
        ]


def test_signoff_categories_setting() -> None:
    every = make_settings("sqlite://")
    assert needs_signoff(every, "foi") and needs_signoff(every, "complaint")
    some = make_settings("sqlite://", signoff_categories="complaint,foi")
    assert needs_signoff(some, "foi") and not needs_signoff(some, "correspondence")
    assert not needs_signoff(make_settings("sqlite://", signoff_categories="none"), "foi")


def test_a_final_reply_needs_the_approved_text_and_closes_the_case(
    engine: Engine, settings: Settings
) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        with pytest.raises(LifecycleError, match="need sign-off"):
            queue_reply(session, case=case, actor="cli", body="Dear Ann", settings=settings, final=True)
        save_draft(session, case=case, author="U1", body="Dear Ann,\nDone.", settings=settings)
        request_signoff(session, case=case, actor="U1", settings=settings)
        approve(session, case=case, actor="U0APPROVER", settings=settings)
        file_id = attach_file(
            session,
            case=case,
            filename="letter.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4",
            actor="U1",
            source="slack",
        )
        (message,) = queue_reply(
            session, case=case, actor="U1", body="Dear Ann,\nDone.", settings=settings, final=True
        )
        assert (case.stage, case.status) == ("closed", "closed")
        assert case.responded_at == message.sent_at == case.closed_at
        row = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).scalar_one()
        assert row.payload["in_reply_to"] == "<letter-1@example.org>"
        assert row.payload["attachments"][0]["filename"] == "letter.pdf"
        stored = email.message_from_bytes(message.raw, policy=policy.default)
        assert stored["Message-ID"] == row.payload["message_id"] == message.message_id
        assert case.reference in stored["Subject"]
        assert file_id


def test_notes_and_reads_are_recorded_once(engine: Engine, settings: Settings) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        assert add_note(session, case=case, author="U1", text="rang her", source="thread", slack_ts="1.2")
        assert (
            add_note(session, case=case, author="U1", text="rang her", source="thread", slack_ts="1.2")
            is None
        )
        record_view(session, case=case, actor="U2", action="attachment_downloaded", detail="photo.jpg")
        assert [n.text for n in notes(session, case=case)] == ["rang her"]
        kinds = [e.kind for e in history(session, case=case)]
        assert kinds.count("note") == 1 and "attachment_downloaded" in kinds


def test_the_same_reply_twice_in_a_row_is_refused(engine: Engine, settings: Settings) -> None:
    settings = _settings(settings, signoff_categories="none")
    with Session(engine) as session:
        case = _case(session, settings)
        queue_reply(session, case=case, actor="U1", body="We are on it.", settings=settings, final=False)
        with pytest.raises(LifecycleError, match="not sent twice"):
            queue_reply(
                session, case=case, actor="U1", body="We are  on it.\n", settings=settings, final=False
            )
        assert len(session.execute(select(OutboxItem).where(OutboxItem.kind == "email.reply")).all()) == 1


def test_a_draft_taken_back_from_sign_off_needs_sign_off_again(engine: Engine, settings: Settings) -> None:
    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        draft = save_draft(session, case=case, author="U1", body="Dear Ann", settings=settings)
        request_signoff(session, case=case, actor="U1", settings=settings)
        approve(session, case=case, actor="U0APPROVER", settings=settings)
        move(session, case=case, to="drafting", actor="U1", settings=settings, note="the force wrote again")
        assert (case.stage, draft.state) == ("drafting", "returned")
        assert draft.decision_note == "the force wrote again"
        with pytest.raises(LifecycleError, match="need sign-off"):
            queue_reply(session, case=case, actor="U1", body="Dear Ann", settings=settings, final=True)


def test_a_slack_file_or_thread_reply_delivered_twice_is_one_row(engine: Engine, settings: Settings) -> None:
    """Both the check and, for two deliveries at once, the unique key (ON CONFLICT DO NOTHING)."""
    from store.lifecycle import _insert_once
    from store.models import CaseFile, Note

    settings = _settings(settings)
    with Session(engine) as session:
        case = _case(session, settings)
        first = attach_file(
            session,
            case=case,
            filename="a.pdf",
            content_type="application/pdf",
            data=b"1",
            actor="U1",
            source="slack",
            slack_file_id="F1",
        )
        again = attach_file(
            session,
            case=case,
            filename="a.pdf",
            content_type="application/pdf",
            data=b"1",
            actor="U1",
            source="slack",
            slack_file_id="F1",
        )
        assert first == again
        racing = CaseFile(case_id=case.id, filename="a.pdf", content=b"1", slack_file_id="F1")
        assert _insert_once(session, racing, ["case_id", "slack_file_id"]) is None
        add_note(session, case=case, author="U1", text="hi", source="thread", slack_ts="9.9")
        assert (
            _insert_once(
                session,
                Note(case_id=case.id, author="U1", text="hi", slack_ts="9.9"),
                ["case_id", "slack_ts"],
            )
            is None
        )
        session.commit()  # the transaction is intact
        assert len(session.execute(select(CaseFile)).all()) == 1
