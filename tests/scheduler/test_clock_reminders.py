"""Stopped clocks: no deadline warnings, one reminder after a long stop, "Close as lapsed" later."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from bot.blocks import validated
from casework.scheduler.warnings import run_pass
from casework.settings import Settings
from store import clocks
from store.cases import get_case
from store.db import session_scope
from tests.conftest import make_settings
from tests.scheduler.support import make_case, outbox
from tests.uk_days import nth_working_after

DUE = date(2026, 10, 29)
STOP = date(2026, 10, 20)


def _stop(engine: Engine, settings: Settings, ref: str, reason: str) -> None:
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        clocks.stop_clock(session, case=case, settings=settings, reason=reason, actor="test", on=STOP)


def test_a_stopped_clock_is_not_warned_and_is_reminded_once(engine: Engine, settings: Settings) -> None:
    alerts = make_settings(settings.database_url, alerts_channel="C0ALERTS")
    stopped = make_case(engine, alerts, due=DUE, category="foi")
    running = make_case(engine, alerts, due=DUE, category="foi")
    _stop(engine, alerts, stopped, "clarification")
    five_left = date(2026, 10, 22)
    result = run_pass(engine, alerts, today=five_left)
    assert {w.line.reference for w in result.warnings} == {running}
    after = run_pass(engine, alerts, today=date(2026, 11, 2))
    assert after.overdue is not None
    assert [r.reference for r in after.overdue.first["U0CASEWKR"]] == [running]
    assert all(stopped not in key for key in after.queued)
    remind_day = nth_working_after(STOP - timedelta(days=1), 20)
    assert not [
        k for k in run_pass(engine, alerts, today=remind_day - timedelta(days=1)).queued if "clock-" in k
    ]
    queued = run_pass(engine, alerts, today=remind_day).queued
    assert f"clock-remind:{stopped}:{STOP.isoformat()}" in queued
    assert run_pass(engine, alerts, today=remind_day).queued == []  # once
    lapse_day = nth_working_after(STOP - timedelta(days=1), 60)
    queued = run_pass(engine, alerts, today=lapse_day).queued
    assert f"clock-lapse:{stopped}:{STOP.isoformat()}" in queued
    [row] = [r for r in outbox(engine) if r.key.startswith("clock-lapse:")]
    assert row.kind == "slack.dm" and row.payload["user"] == "U0CASEWKR"
    blocks = validated(row.payload["blocks"])
    button = blocks[1]["elements"][0]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "clock_lapse",
        stopped,
        "Close as lapsed",
    )


def test_a_fee_stop_is_reminded_but_never_offered_as_lapsed(engine: Engine, settings: Settings) -> None:
    ref = make_case(engine, settings, due=DUE, category="foi", assignee="U0CASEWKR")
    _stop(engine, settings, ref, "fee")
    run_pass(engine, settings, today=nth_working_after(STOP, 70))
    rows = {r.key: r for r in outbox(engine)}
    assert rows[f"clock-remind:{ref}:{STOP.isoformat()}"].kind == "slack.dm"
    assert rows[f"clock-remind:{ref}:{STOP.isoformat()}"].payload["user"] == "U0CASEWKR"
    assert not any(k.startswith("clock-lapse:") for k in rows)


def test_a_warning_recorded_before_the_clock_stopped_is_not_sent(engine: Engine, settings: Settings) -> None:
    from bot.deadlines import moot

    ref = make_case(engine, settings, due=DUE, category="foi")
    payload = {"reference": ref, "threshold": 5, "crossed_on": "2026-10-22", "due_on": DUE.isoformat()}
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert moot(case, payload) is None
    _stop(engine, settings, ref, "fee")
    with session_scope(engine) as session:
        reason = moot(get_case(session, ref), payload)
    assert reason is not None and "clock stopped" in reason
