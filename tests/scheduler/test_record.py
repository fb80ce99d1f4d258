"""Recording many rows: ``store.outbox.enqueue_many`` and the scheduler's ``record``, each key once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

from casework.scheduler.record import Row, existing_keys, record
from store.db import session_scope
from store.models import OutboxItem
from store.outbox import enqueue, enqueue_many


def test_enqueue_many_matches_enqueue_and_skips_recorded_keys(engine: Engine) -> None:
    """Columns as ``enqueue`` writes them (JSON payload, UTC times); a recorded or repeated key is skipped."""
    later = datetime(2013, 4, 10, 12, tzinfo=UTC)
    payload = {"user": "U0CASEWKR", "text": "é & <b>", "blocks": [{"type": "divider"}]}
    with session_scope(engine) as session:
        assert enqueue(
            session, key="one", kind="slack.dm", target="U0CASEWKR", payload=payload, not_before=later
        )
        rows: list[dict[str, object]] = [
            {
                "key": "two",
                "kind": "slack.dm",
                "target": "U0CASEWKR",
                "payload": payload,
                "not_before": later,
            },
            {"key": "one", "kind": "slack.post"},
            {"key": "three", "kind": "slack.post", "target": "C0ALERTS"},
            {"key": "three", "kind": "slack.post", "target": "C0ALERTS"},
        ]
        assert enqueue_many(session, rows) == ["three", "two"]
        assert enqueue_many(session, rows) == []
        assert enqueue_many(session, []) == []
    with session_scope(engine) as session:
        items = {i.key: i for i in session.execute(select(OutboxItem)).scalars()}
    one, two, three = items["one"], items["two"], items["three"]
    assert (two.kind, two.target, two.payload, two.next_attempt_at) == (one.kind, one.target, payload, later)
    assert one.kind == "slack.dm"  # the recorded row is left as it was
    assert three.payload == {} and three.attempts == 0 and three.last_error == "" and three.sent_at is None
    assert three.created_at.tzinfo is not None and three.next_attempt_at == three.created_at


def test_record_writes_what_enqueue_many_writes(engine: Engine) -> None:
    """``record`` (one ``unnest`` insert on PostgreSQL) stores the same columns as ``enqueue_many``,
    skips recorded and repeated keys, and returns the inserted keys sorted."""
    payload = {"channel": "C0ALERTS", "text": "é & <b>", "blocks": [{"type": "divider"}]}
    with session_scope(engine) as session:
        first = {"key": "a", "kind": "slack.post", "target": "C0ALERTS", "payload": payload}
        assert enqueue_many(session, [first]) == ["a"]
        rows = [
            Row(key="c", kind="slack.dm", target="U0CASEWKR", payload=payload),
            Row(key="a", kind="slack.dm", target="U0X"),
            Row(key="b", kind="slack.post", target="C0ALERTS", payload=payload),
            Row(key="b", kind="slack.post", target="C0ALERTS", payload=payload),
        ]
        assert record(session, rows) == ["b", "c"]
        assert record(session, rows) == [] and record(session, []) == []
    with session_scope(engine) as session:
        items = {i.key: i for i in session.execute(select(OutboxItem)).scalars()}
    a, b, c = items["a"], items["b"], items["c"]
    assert (a.kind, a.target) == ("slack.post", "C0ALERTS")  # the recorded row is left as it was
    assert (b.kind, b.target, b.payload, b.case_id) == (a.kind, a.target, a.payload, a.case_id)
    assert (c.kind, c.target, c.payload) == ("slack.dm", "U0CASEWKR", payload)
    for item in (b, c):
        assert item.attempts == 0 and item.last_error == "" and item.sent_at is None
        assert item.created_at.tzinfo is not None and item.next_attempt_at == item.created_at


def test_existing_keys_says_which_are_recorded_every_time(engine: Engine) -> None:
    """The recorded subset of many keys, the same on the sixth call as on the first (psycopg
    prepares a statement run five times, and PostgreSQL may then keep a generic plan)."""
    with session_scope(engine) as session:
        record(
            session, [Row(key=f"warn:{n:05d}", kind="slack.warning", target="U0X") for n in range(0, 3000, 3)]
        )
    wanted = [f"warn:{n:05d}" for n in range(3000)] + ["overdue:2013-04-10:dm:U0X"]
    for _ in range(7):
        with session_scope(engine) as session:
            assert existing_keys(session, wanted) == {f"warn:{n:05d}" for n in range(0, 3000, 3)}
    with session_scope(engine) as session:
        assert existing_keys(session, []) == set()
