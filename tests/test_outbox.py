"""The outbox: every row is claimed by one sender only, however many drain at once."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import Engine

from store.db import make_engine, session_scope
from store.outbox import claim, enqueue, mark_sent


def test_concurrent_senders_never_claim_the_same_row(engine: Engine, database_url: str) -> None:
    """Pins down the duplicate-post bug of a SELECT-then-UPDATE claim: on SQLite a second
    instance read the rows from its own snapshot and claimed them again after the first
    committed. Four senders on their own connections drain 300 rows; each row is taken once."""
    with session_scope(engine) as session:
        for n in range(300):
            enqueue(session, key=f"k{n}", kind="slack.post", payload={"n": n})
    taken: Counter[int] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def sender() -> None:
        own = make_engine(database_url)
        try:
            while True:
                with session_scope(own) as session:
                    items = claim(session, limit=7)
                    if not items:
                        return
                    for item in items:
                        mark_sent(session, item=item)
                with lock:
                    taken.update(item.id for item in items if item.id is not None)
        except BaseException as err:  # surfaced below: a thread's failure must fail the test
            errors.append(err)
        finally:
            own.dispose()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(taken) == 300
    assert max(taken.values()) == 1, [row for row, count in taken.items() if count > 1][:5]


def test_enqueue_is_idempotent_by_key(engine: Engine) -> None:
    warning = {
        "user": "U1",
        "reference": "X",
        "threshold": 5,
        "crossed_on": "2013-04-10",
        "due_on": "2013-04-17",
    }
    with session_scope(engine) as session:
        assert enqueue(session, key="warn:X:5:2013-04-10:dm:U1", kind="slack.warning", payload=warning)
        assert not enqueue(session, key="warn:X:5:2013-04-10:dm:U1", kind="slack.warning", payload=warning)
        assert len(claim(session)) == 1
        assert claim(session) == []  # claimed: not handed out again until the lease expires
