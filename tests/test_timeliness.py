"""``casework stats --json``'s timeliness tables: in time or late against the final due date."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from store import clocks
from store.cases import open_case, set_status
from store.db import session_scope
from store.workdays import set_extra_holidays
from tests.support.cli import run_cli
from tests.uk_days import nth_working_after

KEYS = [
    "month",
    "received",
    "responded_in_time",
    "responded_late",
    "open_in_time",
    "open_late",
    "performance_pct",
]


@pytest.fixture(autouse=True)
def _no_extra_holidays() -> Iterator[None]:
    yield
    set_extra_holidays(())


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=UTC)


def _stats(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], as_of: str
) -> dict:  # type: ignore[type-arg]
    result = run_cli(
        ["stats", "--from", "2026-06-01", "--to", "2026-07-31", "--as-of", as_of, "--json"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_each_kind_of_case_lands_in_its_column(
    engine: Engine,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    june = date(2026, 6, 1)
    due = nth_working_after(june, 20)
    with session_scope(engine) as session:

        def new(category: str = "foi") -> object:
            return open_case(session, settings=settings, category=category, received_at=_at(june))

        on_time = new()
        set_status(session, case=on_time, status="closed", actor="t", at=_at(due))
        late = new()
        set_status(session, case=late, status="closed", actor="t", at=_at(nth_working_after(due, 2)))
        # extended: closed after the original due date, before the final one: in time
        extended = new()
        steps = clocks.extend(
            session,
            case=extended,
            settings=settings,
            reason="pit",
            actor="t",
            working_days=10,
            today=june + timedelta(days=3),
        )
        set_status(session, case=extended, status="closed", actor="t", at=_at(nth_working_after(due, 5)))
        assert steps.due_on == nth_working_after(due, 10)
        open_late = new("complaint")
        stopped = new()
        clocks.stop_clock(
            session,
            case=stopped,
            settings=settings,
            reason="clarification",
            actor="t",
            on=june + timedelta(days=2),
        )
        open_in_time = open_case(
            session, settings=settings, category="complaint", received_at=_at(date(2026, 7, 20))
        )
        assert open_late and open_in_time
    tables = _stats(database_url, monkeypatch, capsys, "2026-08-05")
    rows = {row["month"]: row for row in tables["timeliness"]}
    assert list(tables["timeliness"][0]) == KEYS
    assert [r["month"] for r in tables["timeliness"]] == ["2026-06", "2026-07", "total"]
    assert rows["2026-06"] == {
        "month": "2026-06",
        "received": 5,
        "responded_in_time": 2,
        "responded_late": 1,
        "open_in_time": 1,
        "open_late": 1,
        "performance_pct": 60.0,
    }
    assert rows["2026-07"]["open_in_time"] == 1 and rows["total"]["received"] == 6
    foi = {r["month"]: r for r in tables["timeliness_by_category"]["foi"]}
    assert foi["2026-06"]["received"] == 4 and foi["2026-06"]["open_late"] == 0
    complaint = {r["month"]: r for r in tables["timeliness_by_category"]["complaint"]}
    assert complaint["total"]["open_late"] == 1 and complaint["total"]["open_in_time"] == 1
    assert set(tables["timeliness_by_category"]) >= {"foi", "complaint", "correspondence"}
    closure = {r["month"]: r for r in tables["closure_times"]}
    assert closure["total"]["within_deadline"] == 2  # on time, and extended (final due date)


def test_the_four_counts_add_up_to_received_on_every_row(
    engine: Engine,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(11)
    with session_scope(engine) as session:
        for _ in range(80):
            received = date(2026, 6, 1) + timedelta(days=rng.randrange(61))
            case = open_case(
                session,
                settings=settings,
                category=rng.choice(["foi", "complaint", "correspondence"]),
                received_at=_at(received),
            )
            if rng.random() < 0.3:
                on = received + timedelta(days=rng.randrange(10))
                clocks.stop_clock(
                    session, case=case, settings=settings, actor="t", on=on, reason=rng.choice(clocks.REASONS)
                )
                if rng.random() < 0.5:
                    clocks.start_clock(
                        session,
                        case=case,
                        settings=settings,
                        actor="t",
                        on=on + timedelta(days=rng.randrange(15)),
                    )
            if rng.random() < 0.6:
                closed = received + timedelta(days=rng.randrange(60))
                set_status(session, case=case, status="closed", actor="t", at=_at(closed))
    tables = _stats(database_url, monkeypatch, capsys, "2026-08-20")
    for rows in [tables["timeliness"], *tables["timeliness_by_category"].values()]:
        for row in rows:
            four = row["responded_in_time"] + row["responded_late"] + row["open_in_time"] + row["open_late"]
            assert four == row["received"], row
            assert min(row[k] for k in KEYS[1:-1]) >= 0
        assert rows[-1]["received"] == sum(r["received"] for r in rows[:-1])
    assert tables["timeliness"][-1]["received"] == 80
