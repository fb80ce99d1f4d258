"""The briefing pack: what it holds, in slot order; printed to PDF by Chromium; queued to the
hosts' Slack DMs the working day before (time-machine), once, audited on every case in it; and
uploaded by the bot's outbox sender to the fake Slack Web API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from bot.sender import OutboxSender
from casework.scheduler.surgeries import run_surgeries
from casework.settings import Settings
from casework.surgery_brief import queue_brief
from store import surgeries
from store.cases import get_or_create_correspondent, history, open_case, record_event
from store.db import session_scope
from store.enums import EventKind
from store.models import Message, OutboxItem, SurgerySession
from store.workdays import LONDON
from tests.support.cli import run_cli
from tests.support.slack_api import fake_slack_api

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
FRIDAY = date(2026, 11, 13)


def _setup(engine: Engine, settings: Settings) -> tuple[int, str]:
    """Jane (hearing loop) in slot 2 with a case, its messages and notes, and an earlier
    appointment; Sam in slot 1 with a new case."""
    with session_scope(engine) as session:
        jane = get_or_create_correspondent(session, email="jane@example.org", name="Jane Public")
        case = open_case(
            session,
            settings=settings,
            category="complaint",
            received_at=datetime(2026, 9, 1, 9, tzinfo=UTC),
            subject="Burglary report",
            correspondent=jane,
        )
        for n, text in enumerate(
            [
                "Nobody came after my burglary.",
                "> quoted\nStill waiting for a call back.",
                "Thank you for your letter.",
            ]
        ):
            session.add(
                Message(
                    case_id=case.id,
                    message_id=f"<b{n}@example.org>",
                    raw_sha256=f"b{n}".ljust(64, "0"),
                    from_addr="jane@example.org",
                    subject="Burglary",
                    body_text=text,
                    raw=b"x",
                    received_at=datetime(2026, 9, 1 + n, 9, tzinfo=UTC),
                )
            )
        record_event(
            session,
            case=case,
            kind=EventKind.NOTE,
            actor="U_CW",
            note="Referred to force PSD",
            at=datetime(2026, 9, 10, 9, tzinfo=UTC),
        )
        earlier = surgeries.add_session(
            session, on=date(2026, 10, 9), at=time(18, 30), host="deputy", venue="Walsall"
        )
        before, _ = surgeries.book(
            session,
            settings=settings,
            session_id=earlier.id,
            name="Jane Public",  # type: ignore[arg-type]
            email="jane@example.org",
            case_reference=case.reference,
            now=datetime(2026, 10, 1, tzinfo=UTC),
        )
        surgeries.record_outcome(
            session, booking_id=before.id, attended=True, note="Asked about the PSD delay"
        )  # type: ignore[arg-type]
        sitting = surgeries.add_session(
            session, on=FRIDAY, at=time(18, 30), host="commissioner", venue="Dudley"
        )
        surgeries.book(
            session,
            settings=settings,
            session_id=sitting.id,
            name="Jane Public",
            email="jane@example.org",  # type: ignore[arg-type]
            slot=2,
            needs="hearing loop",
            case_reference=case.reference,
            now=NOW,
        )
        surgeries.book(
            session,
            settings=settings,
            session_id=sitting.id,
            name="Sam Newcomer",  # type: ignore[arg-type]
            email="sam@example.org",
            slot=1,
            now=NOW,
        )
        return sitting.id, case.reference  # type: ignore[return-value]


def test_the_brief_holds_each_slot_in_time_order_with_case_history(
    surgery_settings: Settings,
    db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid, reference = _setup(db, surgery_settings)
    result = run_cli(
        ["surgery", "brief", str(sid), "--out", str(tmp_path), "--json"],
        database_url=surgery_settings.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 0, result.stderr
    files = [Path(p) for p in json.loads(result.stdout)["files"]]
    page = files[0].read_text()
    assert page.index("Sam Newcomer") < page.index("Jane Public")  # slot 1 at 18:30, then slot 2 at 18:45
    assert "18:45–19:00" in page and "Access needs: hearing loop" in page
    assert reference in page and "Complaint" in page and "Open" in page and "1 Sep 2026" in page
    assert "Still waiting for a call back." in page and "quoted" not in page  # each message's first own line
    assert "Referred to force PSD" in page
    assert "9 Oct 2026 (surgery, deputy): attended — Asked about the PSD delay" in page
    if len(files) > 1:  # Chromium is installed here: the PDF is the same page printed
        assert files[1].suffix == ".pdf" and files[1].read_bytes().startswith(b"%PDF")
    missing = run_cli(
        ["surgery", "brief", "999", "--out", str(tmp_path)],
        database_url=surgery_settings.database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert missing.exit_code == 2 and "No session" in missing.stderr


def test_the_brief_goes_to_the_hosts_the_working_day_before_once_and_is_audited(
    surgery_settings: Settings, db: Engine
) -> None:
    with time_machine.travel(NOW, tick=False):
        sid, reference = _setup(db, surgery_settings)
    thursday_nine = datetime(2026, 11, 12, 9, 0, tzinfo=LONDON)
    with time_machine.travel(thursday_nine - timedelta(minutes=1), tick=False):
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["briefs"] == []
    with time_machine.travel(thursday_nine + timedelta(minutes=5), tick=False):
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["briefs"] == [sid]
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["briefs"] == []
    with Session(db) as session:
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.file")).scalars().all()  # type: ignore[arg-type]
        assert sorted(r.target for r in rows) == ["U_DPCC", "U_PCC"]
        case = surgeries.case_of(
            session, surgeries.taken_slots(session, surgeries.require_session(session, sid))[2]
        )
        assert case is not None and case.reference == reference
        audited = [
            e for e in history(session, case=case) if e.note.startswith(f"surgery brief for session {sid}")
        ]
        assert sorted(e.note.rsplit(" ", 1)[1] for e in audited) == ["U_DPCC", "U_PCC"]
    with fake_slack_api() as api:
        client = WebClient(token="xoxb-test", base_url=api.base_url)
        assert OutboxSender(surgery_settings, db, client).drain_once() == 2
        assert sorted(c.body["users"] for c in api.of("conversations.open")) == ["U_DPCC", "U_PCC"]
        completed = api.of("files.completeUploadExternal")
        assert len(completed) == 2 and {c.body["channel_id"] for c in completed} == {"D_PCC", "D_DPCC"}
        uploads = [c for c in api.calls if c.path.startswith("/upload/")]
        assert uploads and all(
            b"Jane Public" in u.raw or u.raw.startswith(b"%PDF") or b"%PDF" in u.raw for u in uploads
        )


def test_only_caseworkers_and_hosts_may_receive_a_brief(surgery_settings: Settings, db: Engine) -> None:
    with time_machine.travel(NOW, tick=False):
        sid, _ = _setup(db, surgery_settings)
    with session_scope(db) as session, pytest.raises(surgeries.SurgeryError, match="may not receive"):
        queue_brief(session, settings=surgery_settings, session_id=sid, recipients=["U_PCC", "U_OUTSIDER"])
    with Session(db) as session:
        assert session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.file")).first() is None  # type: ignore[arg-type]


def test_the_brief_moment_skips_bank_holidays(surgery_settings: Settings) -> None:
    """A session on Tuesday 7 April 2026: Easter Monday and Good Friday are holidays, so Thursday."""
    sitting = SurgerySession(
        host="deputy", held_on=date(2026, 4, 7), starts_at=datetime(2026, 4, 7, 17, 30, tzinfo=UTC)
    )
    assert surgeries.brief_moment(surgery_settings, sitting) == datetime(2026, 4, 2, 9, 0, tzinfo=LONDON)
