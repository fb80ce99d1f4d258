"""``store.outbox.enqueue_many``: the same rows as ``enqueue``, each key once, in one statement."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select

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
        rows = [
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
