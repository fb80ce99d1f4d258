"""The Board report's timeliness table and its commentary on FOI extensions and clarifications."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine

from casework.report.data import gather
from casework.report.document import build_document
from casework.settings import Settings
from store import clocks
from store.cases import open_case
from store.db import session_scope


def test_the_report_shows_timeliness_and_names_extensions_and_clarifications(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        at = datetime(2026, 6, 1, 10, tzinfo=UTC)
        extended = open_case(session, settings=settings, category="foi", received_at=at)
        clocks.extend(
            session,
            case=extended,
            settings=settings,
            reason="public interest test",
            actor="t",
            working_days=15,
            today=date(2026, 6, 10),
        )
        for _ in range(2):
            asked = open_case(session, settings=settings, category="foi", received_at=at)
            clocks.stop_clock(
                session, case=asked, settings=settings, reason="clarification", actor="t", on=date(2026, 6, 3)
            )
        open_case(session, settings=settings, category="complaint", received_at=at)
        data = gather(
            session, settings=settings, start=date(2026, 6, 1), end=date(2026, 6, 30), as_of=date(2026, 8, 1)
        )
    document = build_document(data)
    section = next(s for s in document.sections if s.key == "timeliness")
    assert section.table is not None and section.table.rows[-1]["received"] == 4
    text = " ".join(section.paragraphs)
    assert "1 request was extended" in text and "15 working days in all" in text
    assert "clarification of 2 requests" in text
    # 2 stopped (in time), the extended one due 15 days later than 20 (open late by 1 Aug), the complaint late
    assert "2 were still open and in time and 2 open and late" in text
