"""The 2013 Board report's tables, reproduced from the constructed reference dataset."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine

from casework.settings import Settings
from store.db import session_scope
from store.imports import import_calls_file, import_cases_file
from store.stats import board_tables
from tests.conftest import REFERENCE, shared_or_skip


@pytest.fixture
def reference_store(engine: Engine, settings: Settings) -> Engine:
    folder = shared_or_skip(REFERENCE)
    with session_scope(engine) as session:
        import_cases_file(session, settings=settings, path=folder / "wmopc-2012-13-cases.csv")
        import_calls_file(session, path=folder / "wmopc-2012-13-calls.csv")
    return engine


def test_every_table_equals_the_reference_json(reference_store: Engine) -> None:
    expected = json.loads((REFERENCE / "wmopc-2012-13-expected.json").read_text())
    with session_scope(reference_store) as session:
        got = board_tables(session, start=date(2012, 11, 1), end=date(2013, 7, 31), as_of=date(2013, 8, 8))
    assert list(got) == [
        "from",
        "to",
        "as_of",
        "categories",
        "statuses",
        "closure_times",
        "aged_unclosed",
        "calls",
        "surgeries",  # issue 13: no surgeries in the 2013 data, so a row of noughts a month
    ]
    assert [row["month"] for row in got["surgeries"]][-1] == "total" and len(got["surgeries"]) == 10
    assert all(value == 0 for row in got["surgeries"] for key, value in row.items() if key != "month")
    for key in ("from", "to", "as_of"):
        assert got[key] == expected[key]
    for table in ("categories", "statuses", "closure_times", "aged_unclosed", "calls"):
        assert len(got[table]) == len(expected[table]), table
        for want, row in zip(expected[table], got[table], strict=True):
            # `holiday` is an addition the contract asks for on bank-holiday weeks only.
            assert {k: v for k, v in row.items() if k != "holiday"} == want, (table, want)


def test_bank_holiday_weeks_are_marked_like_the_report(reference_store: Engine) -> None:
    with session_scope(reference_store) as session:
        calls = board_tables(session, start=date(2012, 11, 1), end=date(2013, 7, 31), as_of=date(2013, 8, 8))[
            "calls"
        ]
    marked = {row["week_commencing"]: row["holiday"] for row in calls if "holiday" in row}
    assert "Christmas Day" in marked["2012-12-24"]
    assert "Good Friday" in marked["2013-03-25"]
    assert "Easter Monday" in marked["2013-04-01"]
    assert "2013-03-04" not in marked and "2012-12-10" not in marked


def test_the_report_text_figures_follow_from_the_tables(reference_store: Engine) -> None:
    with session_scope(reference_store) as session:
        tables = board_tables(session, start=date(2012, 11, 1), end=date(2013, 7, 31), as_of=date(2013, 8, 8))
    total = tables["categories"][-1]["total"]
    assert total == 1111 and round(total / 9) == 123  # para 3 and para 4
    weeks = [r for r in tables["calls"][:-1] if r["received"]]
    assert round(sum(r["received"] for r in weeks) / len(weeks)) == 112  # para 11
    assert round(sum(r["within_target"] / r["received"] for r in weeks) / len(weeks) * 100) == 95
