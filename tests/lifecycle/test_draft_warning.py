"""The draft-deadline warning: CASEWORK_DRAFT_WORKING_DAYS from receipt, to the assignee, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, select

from casework.scheduler.drafts import run_draft_pass
from casework.scheduler.jobs import warnings_job
from casework.settings import Settings
from store.cases import assign, get_or_create_correspondent, open_case
from store.db import session_scope
from store.lifecycle import approve, request_signoff, save_draft
from store.models import OutboxItem
from tests.conftest import make_settings

# received Monday 2 November 2026; 15 working days on is Monday 23 November
RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
DRAFT_DUE = date(2026, 11, 23)


def _cases(engine: Engine, settings: Settings) -> list[str]:
    references = []
    with session_scope(engine) as session:
        person = get_or_create_correspondent(session, email="ann@example.org", name="Ann")
        for assignee, stage in (
            ("U1", "drafting"),
            ("U2", "awaiting_signoff"),
            ("U3", "ready_to_send"),
            (None, "drafting"),
        ):
            case = open_case(
                session,
                settings=settings,
                category="complaint",
                received_at=RECEIVED,
                subject="Rude officer",
                correspondent=person,
            )
            if assignee:
                assign(session, case=case, assignee=assignee, actor="U0")
            save_draft(session, case=case, author="U0", body="Dear Ann", settings=settings)
            if stage != "drafting":
                request_signoff(session, case=case, actor="U0", settings=settings)
            if stage == "ready_to_send":
                approve(session, case=case, actor="U9", settings=settings)
            references.append(case.reference)
    return references


def _dms(engine: Engine) -> list[OutboxItem]:
    with session_scope(engine) as session:
        rows = (
            session.execute(select(OutboxItem).where(OutboxItem.key.startswith("draftwarn:"))).scalars().all()
        )  # type: ignore[union-attr]
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_a_case_still_in_draft_warns_its_assignee_once(engine: Engine, settings: Settings) -> None:
    settings = make_settings(settings.database_url, approvers=["U9"])
    drafting, awaiting, _ready, _unassigned = _cases(engine, settings)
    assert run_draft_pass(engine, settings, today=date(2026, 11, 20)).queued == []  # the day before
    result = run_draft_pass(engine, settings, today=DRAFT_DUE)
    assert len(result.late) == 3  # the ready-to-send case is past drafting
    rows = _dms(engine)
    assert sorted((r.kind, r.target, r.payload["reference"]) for r in rows) == [
        ("slack.dm", "U1", drafting),
        ("slack.dm", "U2", awaiting),
    ]
    for row in rows:
        assert row.payload["user"] == row.target and "23 Nov" in row.payload["text"]
        for block in row.payload["blocks"]:
            assert Block.parse(block) is not None  # valid Block Kit
    assert run_draft_pass(engine, settings, today=DRAFT_DUE).queued == []  # twice: recorded once
    # the scheduler's warning job runs it too (a later day: the same keys, nothing new)
    warnings_job(settings, engine, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert len(_dms(engine)) == 2


def test_the_draft_deadline_is_a_setting(engine: Engine, settings: Settings) -> None:
    settings = make_settings(settings.database_url, approvers=["U9"], draft_working_days=5)
    _cases(engine, settings)
    assert len(run_draft_pass(engine, settings, today=date(2026, 11, 9)).queued) == 2
