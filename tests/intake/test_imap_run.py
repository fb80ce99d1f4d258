"""The long-running poller (``intake.poller.run``) against a real Dovecot: IDLE, polling,
a server restart in the middle, and two pollers on one database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, select

from casework.settings import Settings
from intake.poller import run
from store.db import session_scope
from store.models import Message
from tests.support.dovecot import Dovecot, dovecot_fixture, make_message, message_id_of, pipeline_for  # noqa: F401

pytestmark = pytest.mark.dovecot


def logged(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [m for (m,) in session.execute(select(Message.message_id))]


def wait_until(check: Callable[[], bool], *, seconds: float, what: str) -> float:
    """Seconds it took for ``check`` to become true; fails the test after ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"not within {seconds} s: {what}")


@contextmanager
def running(cfg: Settings, engine: Engine, **kwargs: Any) -> Iterator[threading.Event]:
    stop = threading.Event()
    kwargs = {"pipeline": pipeline_for(cfg, engine), **kwargs}
    thread = threading.Thread(target=run, args=(cfg, engine, stop), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=15)
        assert not thread.is_alive(), "run() did not stop when asked"


def test_idle_picks_up_an_appended_message_within_seconds(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """With IDLE on and a 10-minute poll interval, only IDLE can explain a message logged in seconds."""
    cfg = dovecot.settings(settings.database_url, imap_idle=True, imap_poll_seconds=600)
    first = make_message(1, tag="idle")
    dovecot.deliver(first)
    with running(cfg, engine):
        wait_until(lambda: len(logged(engine)) == 1, seconds=10, what="the first pass")
        time.sleep(0.5)  # let it enter IDLE
        second = make_message(2, tag="idle")
        dovecot.append(second)
        took = wait_until(lambda: len(logged(engine)) == 2, seconds=8, what="the appended message logged")
    assert sorted(logged(engine)) == sorted([message_id_of(first), message_id_of(second)])
    assert took < 8


def test_polling_without_idle(dovecot: Dovecot, settings: Settings, engine: Engine) -> None:
    """CASEWORK_IMAP_IDLE off: a pass every CASEWORK_IMAP_POLL_SECONDS picks new mail up."""
    cfg = dovecot.settings(settings.database_url, imap_idle=False, imap_poll_seconds=1)
    with running(cfg, engine):
        time.sleep(0.3)
        dovecot.deliver(make_message(1, tag="poll"))
        wait_until(lambda: len(logged(engine)) == 1, seconds=8, what="the delivered message logged")


@pytest.mark.parametrize("crash", [True, False], ids=["killed", "shutdown"])
def test_server_restart_mid_run_is_survived(
    dovecot: Dovecot, settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture, crash: bool
) -> None:
    """Dovecot goes away (killed, or a clean shutdown) while the poller idles: it backs off,
    reconnects, and logs the mail delivered meanwhile once."""
    caplog.set_level(logging.WARNING, logger="intake.poller")
    cfg = dovecot.settings(settings.database_url, imap_idle=True, imap_poll_seconds=600)
    before = [make_message(i, tag="restart") for i in range(3)]
    for raw in before:
        dovecot.deliver(raw)
    with running(cfg, engine, backoff_initial=0.2, backoff_max=1.0):
        wait_until(lambda: len(logged(engine)) == 3, seconds=10, what="the first three")
        dovecot.stop(fast=crash)  # the connection drops mid-IDLE
        after = make_message(9, tag="restart")
        dovecot.deliver(after)
        time.sleep(1.5)  # a few failed reconnects
        dovecot.start()
        wait_until(lambda: len(logged(engine)) == 4, seconds=15, what="the message delivered while down")
    ids = logged(engine)
    assert sorted(ids) == sorted(message_id_of(r) for r in [*before, after])
    if crash:
        # (After a clean shutdown Dovecot lets connections already open carry on, so only a
        # crash is sure to force a reconnect.)
        assert any("reconnecting" in r.getMessage() for r in caplog.records)


def test_two_pollers_on_one_database_only_one_reads(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """Two run() loops at once: one holds the lease and logs everything, the other stands by."""
    cfg = dovecot.settings(settings.database_url, imap_idle=True, imap_poll_seconds=600)
    seen: dict[str, list[int]] = {"a": [], "b": []}
    raws = [make_message(i, tag="two") for i in range(5)]
    with (
        running(cfg, engine, on_message=lambda uid, _o: seen["a"].append(uid)),
        running(cfg, engine, on_message=lambda uid, _o: seen["b"].append(uid)),
    ):
        time.sleep(0.5)
        for raw in raws:
            dovecot.append(raw)
        wait_until(lambda: len(logged(engine)) == 5, seconds=10, what="all five logged")
        time.sleep(0.5)
    assert sorted(len(v) for v in seen.values()) == [0, 5]
    assert sorted(logged(engine)) == sorted(message_id_of(r) for r in raws)
