"""Properties of the Board tables that must hold for any data, not only the reference set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from store.cases import open_case, set_status
from store.db import make_engine, session_scope, upgrade
from store.models import Case, CaseEvent, ReferenceCounter
from store.stats import board_tables
from tests.conftest import make_settings

case_strategy = st.tuples(
    st.integers(0, 120),  # received: days after 1 Jan 2013
    st.sampled_from(
        ["correspondence", "complaint", "foi", "campaign", "officer_correspondence", "consultation"]
    ),
    st.sampled_from(["open", "in_progress", "monitoring", "closed"]),
    st.integers(0, 90),  # days until the status change
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(case_strategy, max_size=25), as_of_offset=st.integers(0, 200))
def test_tables_agree_with_each_other(tmp_path_factory, cases, as_of_offset) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('p') / 'p.db'}"
    engine = make_engine(url)
    upgrade(engine)
    cfg = make_settings(url)
    start, end = date(2013, 1, 1), date(2013, 4, 30)
    as_of = start + timedelta(days=as_of_offset)
    with session_scope(engine) as session:
        for offset, category, status, later in cases:
            received = datetime(2013, 1, 1, 12, tzinfo=UTC) + timedelta(days=offset)
            case = open_case(session, settings=cfg, category=category, received_at=received)
            set_status(
                session,
                case=case,
                status=status,
                actor="t",
                at=received + timedelta(days=later),
                settings=cfg,
            )
    with session_scope(engine) as session:
        t = board_tables(session, start=start, end=end, as_of=as_of)
        for model in (CaseEvent, Case, ReferenceCounter):
            session.execute(delete(model))
    in_range = sum(1 for offset, *_ in cases if offset <= (end - start).days)
    assert t["categories"][-1]["total"] == t["statuses"][-1]["total"] == in_range
    for row in t["statuses"]:
        assert row["total"] == row["open"] + row["in_progress"] + row["monitoring"] + row["closed"]
    for aged, status in zip(t["aged_unclosed"], t["statuses"], strict=True):
        for key in ("open", "in_progress", "monitoring"):
            assert aged[key] <= status[key]
    for row in t["closure_times"]:
        assert row["within_deadline"] <= row["closed"] and row["within_28"] <= row["closed"]
        assert (row["avg_days"] is None) == (row["closed"] == 0)
    closed_by_as_of = sum(
        1
        for offset, _, status, later in cases
        if status == "closed" and offset + later <= min((end - start).days, (as_of - start).days)
    )
    assert t["closure_times"][-1]["closed"] == closed_by_as_of
    engine.dispose()
