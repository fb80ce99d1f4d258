"""The daily digest and the managers' weekly summary: content, timing, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine

from casework.scheduler.digest import run_digest
from casework.scheduler.weekly import run_weekly, summary_day
from casework.settings import Settings
from store.cases import open_case
from store.channels import save_check
from store.db import session_scope
from store.models import Call
from tests.conftest import make_settings
from tests.scheduler.support import keys, london, make_case, outbox


def test_digest_lists_due_overdue_unassigned_and_triage(engine: Engine, settings: Settings) -> None:
    """Tue 9 Apr 2013, 09:00 BST: one post with the four lists, recorded once."""
    cfg = make_settings(settings.database_url, alerts_channel="C0ALERTS", channel_detail="subject")
    with session_scope(engine) as session:  # the channel passed its privacy check: subjects may go
        save_check(session, channel="C0ALERTS", wanted="subject", passed=True, reason="ok")
    due_week = make_case(engine, cfg, due=date(2013, 4, 12))
    overdue = make_case(engine, cfg, due=date(2013, 4, 5), subject="Noise & <b>")
    unassigned = make_case(engine, cfg, due=date(2013, 5, 20), assignee=None)
    make_case(engine, cfg, due=date(2013, 4, 11), status="monitoring")  # not the team's to act on
    with session_scope(engine) as session:
        triage = open_case(
            session,
            settings=cfg,
            category="foi",
            received_at=london(date(2013, 4, 8)),
            needs_triage=True,
            confidence=0.3,
        ).reference
    early = run_digest(engine, cfg, now=london(date(2013, 4, 9), time(8, 59)))
    assert not early.sent and "09:00" in early.reason and keys(engine) == []
    result = run_digest(engine, cfg, now=london(date(2013, 4, 9), time(9, 0)))
    assert result.sent and len(result.queued) == 1
    assert result.counts == {
        "Due this week": 1,
        "Overdue": 1,
        "Unassigned": 2,  # the plain unassigned case and the triage case
        "Awaiting triage (low confidence)": 1,
    }
    [item] = outbox(engine)
    assert item.key == "digest:2013-04-09:channel:C0ALERTS" and item.kind == "slack.post"
    assert set(item.payload) == {"channel", "text", "blocks"}
    body = json.dumps(item.payload["blocks"])
    for ref in (due_week, overdue, unassigned, triage):
        assert ref in body
    assert "Noise &amp; &lt;b&gt;" in body
    # a catch-up later the same day (restart, second instance) records nothing new
    assert run_digest(engine, cfg, now=london(date(2013, 4, 9), time(15, 0))).queued == []
    assert not run_digest(engine, cfg, now=london(date(2013, 4, 13), time(9, 0))).sent  # Saturday


def add_calls(engine: Engine, day: date, waits: list[float]) -> None:
    with session_scope(engine) as session:
        for n, wait in enumerate(waits):
            start = london(day, time(10, n))
            session.add(
                Call(
                    call_id=f"{day.isoformat()}-{n}",
                    started_at=start,
                    started_on=day,
                    answered_at=start + timedelta(seconds=wait),
                    ended_at=start + timedelta(seconds=wait + 60),
                    outcome="answered",
                    wait_s=wait,
                    talk_s=60.0,
                )
            )


def test_weekly_summary_compares_last_week_with_the_week_before(engine: Engine, settings: Settings) -> None:
    """Mon 15 Apr 2013: week of 8 Apr against week of 1 Apr, from the Board tables, DM to each manager."""
    cfg = make_settings(settings.database_url, managers="U0BOSS1 U0BOSS2")
    with session_scope(engine) as session:
        for day, count in ((date(2013, 4, 2), 2), (date(2013, 4, 9), 3)):
            for _ in range(count):
                open_case(session, settings=cfg, category="complaint", received_at=london(day))
    add_calls(engine, date(2013, 4, 3), [3.0])
    add_calls(engine, date(2013, 4, 10), [3.0, 20.0, 4.0, 5.0])
    early = run_weekly(engine, cfg, now=london(date(2013, 4, 15), time(8, 0)))
    assert early.queued == [] and "09:00" in early.reason
    result = run_weekly(engine, cfg, now=london(date(2013, 4, 15), time(9, 5)))
    assert result.week_start == date(2013, 4, 8)
    rows = {name.strip(): (last, before) for name, last, before in result.rows}
    assert rows["Cases received"] == ("3", "2")
    assert rows["Complaint"] == ("3", "2")
    assert rows["Calls received"] == ("4", "1")
    assert rows["Answered within 9s"] == ("75.0%", "100.0%")
    items = outbox(engine)
    assert [i.key for i in items] == ["weekly:2013-04-08:dm:U0BOSS1", "weekly:2013-04-08:dm:U0BOSS2"]
    assert all(set(i.payload) == {"user", "text", "blocks"} and i.kind == "slack.dm" for i in items)
    assert run_weekly(engine, cfg, now=london(date(2013, 4, 16), time(9, 0))).queued == []


def test_weekly_summary_waits_for_easter_monday_to_pass(engine: Engine, settings: Settings) -> None:
    """Easter Monday 2013 is a bank holiday: the Monday summary goes out on Tuesday 2 April."""
    cfg = make_settings(settings.database_url, managers="U0BOSS1")
    assert summary_day(cfg, date(2013, 4, 1)) == date(2013, 4, 2)
    assert run_weekly(engine, cfg, now=datetime(2013, 4, 1, 9, 30, tzinfo=UTC)).queued == []
    result = run_weekly(engine, cfg, now=datetime(2013, 4, 2, 8, 30, tzinfo=UTC))  # 09:30 BST
    assert result.week_start == date(2013, 3, 25) and keys(engine) == ["weekly:2013-03-25:dm:U0BOSS1"]
