"""Clock stops, restarts, extensions, reviews and recomputation, from the command line, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from casework.settings import Settings
from intake.steps.thread import references_in
from store.cases import get_case, get_or_create_correspondent, history, open_case, set_status
from store.db import session_scope
from store.models import ClockEvent, OutboxItem
from store.recompute import follow_holidays
from store.workdays import set_extra_holidays
from tests.support.cli import Result, run_cli
from tests.uk_days import nth_working_after

REF = "WMOPC-2026-000001"
RECEIVED = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _no_extra_holidays() -> Iterator[None]:
    yield
    set_extra_holidays(())  # the CLI sets the process's extra holidays from its settings


Cli = Callable[..., Result]


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(list(args), database_url=database_url, monkeypatch=monkeypatch, capsys=capsys, env=env)

    return run


def _open(engine: Engine, settings: Settings, category: str = "foi", received: date = RECEIVED) -> str:
    with session_scope(engine) as session:
        person = get_or_create_correspondent(session, email="asker@example.org")
        case = open_case(
            session,
            settings=settings,
            category=category,
            correspondent=person,
            received_at=datetime(received.year, received.month, received.day, 9, tzinfo=UTC),
            subject="Stop and search figures",
        )
        return case.reference


def _export(cli: Cli) -> dict[str, dict[str, Any]]:
    result = cli("export", "cases", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {row["reference"]: row for row in json.loads(result.stdout)}


def _close(engine: Engine, reference: str, on: date) -> None:
    with session_scope(engine) as session:
        case = get_case(session, reference)
        assert case is not None
        set_status(
            session,
            case=case,
            status="closed",
            actor="t",
            at=datetime(on.year, on.month, on.day, 15, tzinfo=UTC),
        )


def test_a_fee_stop_pauses_and_the_days_stopped_are_not_counted(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    ref = _open(engine, settings)
    assert cli("case", "clock", ref, "stop", "--reason", "fee", "--on", "2026-10-08").exit_code == 0
    assert _export(cli)[ref]["clock"] == "stopped"
    result = cli("case", "clock", ref, "start", "--on", "2026-10-20")
    assert result.exit_code == 0, result.stderr
    row = _export(cli)[ref]
    # 2, 5, 6, 7 October used (4 of 20): 16 left, counted from the day after the restart
    assert row["due_on"] == nth_working_after(date(2026, 10, 20), 16).isoformat()
    assert row["original_due_on"] == nth_working_after(RECEIVED, 20).isoformat()
    assert row["clock"] == "running"
    assert row["stopped_working_days"] == 9  # 8, 9, 12–16, 19, 20 October
    assert row["extended_working_days"] == 0 and row["review_of"] is None
    with session_scope(engine) as session:
        case = get_case(session, ref)
        assert case is not None
        kinds = [(e.kind, e.new_value) for e in history(session, case=case) if e.kind == "clock"]
    assert kinds == [("clock", "stopped 2026-10-08 (fee)"), ("clock", "restarted 2026-10-20")]


def test_a_clarification_restart_is_a_fresh_period_and_lateness_counts_from_it(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    ref = _open(engine, settings)
    cli(
        "case",
        "clock",
        ref,
        "stop",
        "--reason",
        "clarification",
        "--on",
        "2026-10-05",
        "--note",
        "which year?",
    )
    cli("case", "clock", ref, "start", "--on", "2026-10-19")
    due = nth_working_after(date(2026, 10, 19), 20)
    closed = nth_working_after(due, 3)
    _close(engine, ref, closed)
    row = _export(cli)[ref]
    assert row["due_on"] == due.isoformat() and row["days_late"] == 3
    assert row["original_due_on"] == nth_working_after(RECEIVED, 20).isoformat()


def test_bad_dates_are_refused_clearly_and_change_nothing(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    ref = _open(engine, settings)
    future = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    for args, words in [
        (("stop", "--reason", "fee", "--on", future), "in the future"),
        (("stop", "--reason", "fee", "--on", "2026-09-30"), "before"),
        (("stop", "--reason", "lunch"), "not a reason"),
        (("stop",), "--reason"),
        (("start",), "running"),
        (("stop", "--reason", "fee", "--on", "2026-13-01"), "not a date"),
    ]:
        result = cli("case", "clock", ref, *args)
        assert result.exit_code == 2 and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(ClockEvent)).scalar_one() == 0
    assert _export(cli)[ref]["due_on"] == nth_working_after(RECEIVED, 20).isoformat()


def test_extensions_are_capped_per_category(engine: Engine, settings: Settings, cli: Cli) -> None:
    foi = _open(engine, settings, "foi")
    complaint = _open(engine, settings, "complaint")
    assert (
        cli("case", "extend", foi, "--working-days", "15", "--reason", "public interest test").exit_code == 0
    )
    refused = cli("case", "extend", foi, "--working-days", "6", "--reason", "more")
    assert refused.exit_code == 2 and "FOI cases can be extended by at most 20 working days" in refused.stderr
    original = nth_working_after(RECEIVED, 20)
    target = nth_working_after(original, 20)
    assert cli("case", "extend", foi, "--to", target.isoformat(), "--reason", "pit").exit_code == 0
    refused = cli("case", "extend", complaint, "--working-days", "1", "--reason", "busy")
    assert refused.exit_code == 2 and "at most 0 working days" in refused.stderr
    rows = _export(cli)
    assert rows[foi]["due_on"] == target.isoformat() and rows[foi]["extended_working_days"] == 20
    policy = '{"complaint": {"working_days": 15, "extension_cap_working_days": 5}}'
    allowed = cli(
        "case",
        "extend",
        complaint,
        "--working-days",
        "5",
        "--reason",
        "x",
        env={"CASEWORK_DEADLINE_POLICY": policy},
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert allowed.stdout.strip().endswith("(extended by 5 working days in all)")
    assert f"due {nth_working_after(RECEIVED, 20).isoformat()}" in allowed.stdout  # 15 + 5


def test_an_internal_review_is_a_linked_case_with_its_own_deadline(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    ref = _open(engine, settings, "foi")
    _close(engine, ref, date(2026, 10, 20))
    result = cli("case", "review", ref, "--on", "2026-11-02")
    assert result.exit_code == 0, result.stderr
    review = f"{ref}-R1"
    assert result.stdout.startswith(review)
    rows = _export(cli)
    assert rows[review]["review_of"] == ref and rows[review]["category"] == "foi"
    assert rows[review]["due_on"] == nth_working_after(date(2026, 11, 2), 20).isoformat()
    assert rows[review]["participants"] == ["asker@example.org"]
    assert cli("case", "extend", review, "--working-days", "20", "--reason", "complex").exit_code == 0
    refused = cli("case", "extend", review, "--working-days", "1", "--reason", "x")
    assert refused.exit_code == 2 and "internal review" in refused.stderr
    assert _export(cli)[review]["due_on"] == nth_working_after(date(2026, 11, 2), 40).isoformat()
    assert cli("case", "review", ref, "--on", "2026-11-03").stdout.startswith(f"{ref}-R2")
    # replies naming the review thread to it, not to the original
    assert references_in(f"Re: [{review}] my review", "WMOPC") == [review]
    assert references_in(f"Re: [{ref}]", "WMOPC") == [ref]
    with session_scope(engine) as session:
        original = get_case(session, ref)
        assert original is not None
        assert any(e.kind == "review" and e.new_value == review for e in history(session, case=original))


def test_a_cases_slack_view_lists_its_reviews_and_a_review_names_its_original(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    """`/casework case REF` on a reviewed case says so, with each review's state and due date."""
    from bot import blocks, queries

    ref = _open(engine, settings, "foi")
    _close(engine, ref, date(2026, 10, 20))
    assert cli("case", "review", ref, "--on", "2026-11-02").exit_code == 0
    today = date(2026, 11, 3)
    with session_scope(engine) as session:
        original, review = get_case(session, ref), get_case(session, f"{ref}-R1")
        assert original is not None and review is not None
        shown = json.dumps(blocks.case_blocks(queries.detail(session, case=original), settings, today))
        due = nth_working_after(date(2026, 11, 2), 20)
        assert f"Internal review: `{ref}-R1` (open, due {blocks.day(due)})" in shown
        of_review = json.dumps(blocks.case_blocks(queries.detail(session, case=review), settings, today))
        assert f"Internal review of {ref}" in of_review and "Internal review: `" not in of_review


def test_recompute_follows_an_extra_holiday(engine: Engine, settings: Settings, cli: Cli) -> None:
    ref = _open(engine, settings, "foi")
    closed = _open(engine, settings, "foi")
    _close(engine, closed, date(2026, 10, 9))
    before = nth_working_after(RECEIVED, 20)
    env = {"CASEWORK_EXTRA_HOLIDAYS": "2026-10-14", "CASEWORK_ALERTS_CHANNEL": "C_ALERTS"}
    dry = cli("deadlines", "recompute", "--dry-run", env=env)
    assert dry.exit_code == 0 and f"{ref}: {before} → {nth_working_after(before, 1)}" in dry.stdout
    assert "1 due date would move" in dry.stdout and closed not in dry.stdout
    assert _export(cli)[ref]["due_on"] == before.isoformat()
    done = cli("deadlines", "recompute", env=env)
    assert "1 due date moved" in done.stdout
    assert _export(cli)[ref]["due_on"] == nth_working_after(before, 1).isoformat()
    assert _export(cli)[closed]["due_on"] == before.isoformat()  # closed cases keep theirs
    with session_scope(engine) as session:
        [notice] = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.post")).scalars().all()  # type: ignore[arg-type]
        assert notice.target == "C_ALERTS" and ref in json.dumps(notice.payload)
        case = get_case(session, ref)
        assert case is not None
        assert [e.new_value for e in history(session, case=case) if e.kind == "clock"] == [
            f"due {nth_working_after(before, 1).isoformat()}"
        ]
    again = cli("deadlines", "recompute", env=env)
    assert "0 due dates moved" in again.stdout


def test_a_start_recomputes_when_the_non_working_days_changed(engine: Engine, settings: Settings) -> None:
    ref = _open(engine, settings, "complaint")
    alerts = settings.model_copy(update={"alerts_channel": "C_ALERTS"})
    assert follow_holidays(engine, alerts) == []  # the first start remembers the calendar
    assert follow_holidays(engine, alerts) == []
    before = nth_working_after(RECEIVED, 20)
    set_extra_holidays({date(2026, 10, 2), date(2026, 10, 5)})
    [move] = follow_holidays(engine, alerts)
    assert (move.reference, move.old, move.new) == (ref, before, nth_working_after(before, 2))
    assert follow_holidays(engine, alerts) == []  # remembered: the next start moves nothing
    with session_scope(engine) as session:
        notices = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.post")).scalars().all()  # type: ignore[arg-type]
    assert len(notices) == 1 and "1 due date moved" in notices[0].payload["text"]


def test_a_complaint_review_must_be_asked_for_within_28_days(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    ref = _open(engine, settings, "complaint")
    _close(engine, ref, date(2026, 10, 2))
    late = cli("case", "review", ref, "--on", "2026-10-31")
    assert late.exit_code == 2 and "within 28 days" in late.stderr and "by 2026-10-30" in late.stderr
    assert f"{ref}-R1" not in _export(cli)
    assert cli("case", "review", ref, "--on", "2026-10-30").exit_code == 0
    assert cli("case", "review", ref, "--on", "2026-11-20", "--out-of-time").stdout.startswith(f"{ref}-R2")


def test_stops_entered_late_after_an_extension_still_count(
    engine: Engine, settings: Settings, cli: Cli
) -> None:
    """An extension is dated when it was granted; a stop entered afterwards with an earlier date is fine."""
    ref = _open(engine, settings, "foi")
    assert cli("case", "extend", ref, "--working-days", "10", "--reason", "pit").exit_code == 0
    assert cli("case", "clock", ref, "stop", "--reason", "fee", "--on", "2026-10-08").exit_code == 0
    assert cli("case", "clock", ref, "start", "--on", "2026-10-20").exit_code == 0
    before = cli("case", "clock", ref, "stop", "--reason", "fee", "--on", "2026-10-19")
    assert before.exit_code == 2 and "cannot be dated before" in before.stderr
    row = _export(cli)[ref]
    assert row["due_on"] == nth_working_after(date(2026, 10, 20), 16 + 10).isoformat()
    assert row["extended_working_days"] == 10 and row["stopped_working_days"] == 9
