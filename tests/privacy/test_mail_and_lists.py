"""Automatic and quarantined mail go after their own periods; lists that named an anonymised
case (digests, overdue posts) lose their text; the period arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from casework.settings import Settings
from store.anonymise import REMOVED, anonymise_cases
from store.cases import get_case, get_or_create_correspondent
from store.db import session_scope
from store.models import Correspondent, Message, OutboxItem, QuarantinedMessage
from store.outbox import enqueue
from store.retention import add_period, parse_period, purge_mail, subtract_period
from tests.bot.conftest import make_case

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def test_automatic_and_quarantined_mail_expire(engine: Engine) -> None:
    with session_scope(engine) as session:
        away = get_or_create_correspondent(session, email="away@example.org")
        for n, days in enumerate((91, 89)):
            session.add(
                Message(
                    raw_sha256=f"auto{n}".ljust(64, "0"),
                    automatic="auto-replied",
                    correspondent_id=away.id,
                    from_addr="away@example.org",
                    received_at=NOW - timedelta(days=days),
                    raw=b"I am away",
                )
            )
            session.add(
                QuarantinedMessage(
                    raw_sha256=f"q{n}".ljust(64, "0"),
                    raw=b"junk",
                    reason="unreadable",
                    created_at=NOW - timedelta(days=days),
                )
            )
    with session_scope(engine) as session:
        purged = purge_mail(session, automatic_days=90, quarantine_days=90, now=NOW)
    assert (purged.automatic, purged.quarantined) == (1, 1)
    with session_scope(engine) as session:
        left = session.execute(select(col(Message.received_at))).scalars().all()
        assert [NOW - t for t in left] == [timedelta(days=89)]
        assert len(session.execute(select(QuarantinedMessage)).scalars().all()) == 1
        # still the sender of the newer reply: kept
        assert session.execute(
            select(Correspondent).where(col(Correspondent.email) == "away@example.org")
        ).first()
    with session_scope(engine) as session:
        purge_mail(session, automatic_days=90, quarantine_days=90, now=NOW + timedelta(days=2))
    with session_scope(engine) as session:
        assert (
            session.execute(
                select(Correspondent).where(col(Correspondent.email) == "away@example.org")
            ).first()
            is None
        )


def test_lists_that_named_an_anonymised_case_lose_their_text(engine: Engine, settings: Settings) -> None:
    gone = make_case(engine, settings, subject="Noisy neighbours at number 4")
    kept = make_case(engine, settings, subject="Potholes", email="kim@example.org")
    with session_scope(engine) as session:
        enqueue(
            session,
            key="digest:1",
            kind="slack.post",
            payload={"channel": "C", "text": f"*{gone}* · Noisy neighbours at number 4"},
        )
        enqueue(
            session,
            key="digest:2",
            kind="slack.post",
            payload={"channel": "C", "text": f"*{kept}* · Potholes"},
        )
        case = get_case(session, gone)
        assert case is not None
        removal = anonymise_cases(session, case_ids=[case.id or 0], actor="U_MGR")
    assert removal.cases == [gone]
    with session_scope(engine) as session:
        rows = {r.key: r for r in session.execute(select(OutboxItem)).scalars()}
    assert rows["digest:1"].payload == REMOVED and rows["digest:1"].sent_at is not None
    assert "Potholes" in rows["digest:2"].payload["text"] and rows["digest:2"].sent_at is None


@pytest.mark.parametrize(
    ("closed", "period", "due"),
    [
        (date(2013, 3, 20), "6y", date(2019, 3, 20)),
        (date(2012, 2, 29), "1y", date(2013, 2, 28)),
        (date(2013, 1, 31), "1m", date(2013, 2, 28)),
        (date(2013, 1, 31), "18M", date(2014, 7, 31)),
        (date(2013, 1, 1), "90d", date(2013, 4, 1)),
    ],
)
def test_periods(closed: date, period: str, due: date) -> None:
    assert add_period(closed, period) == due
    assert subtract_period(due, period) <= closed


@pytest.mark.parametrize("bad", ["6", "y6", "6w", "six years", "", "-1y"])
def test_bad_periods_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(ValueError, match="N followed by d, m or y"):
        parse_period(bad, key="foi")


def test_review_at_a_month_end(engine: Engine, settings: Settings) -> None:
    from store.cases import set_status
    from store.retention import review

    ref = make_case(engine, settings, received=datetime(2013, 1, 2, 10, tzinfo=UTC))
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        set_status(
            session, case=case, status="closed", actor="U_CW", at=datetime(2013, 1, 31, 12, tzinfo=UTC)
        )
    schedule = {"default": "1m"}
    with session_scope(engine) as session:
        assert review(session, schedule=schedule, as_of=date(2013, 2, 27)) == []
        [due] = review(session, schedule=schedule, as_of=date(2013, 2, 28))
    assert due.reference == ref and due.expired_on == date(2013, 2, 28)
