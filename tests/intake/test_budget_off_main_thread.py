"""The time budget holds where ``casework serve`` polls: on a thread that is not the main one.

``SIGALRM`` reaches only a process's main thread, so a batch prepared on the poller thread
could not be interrupted and a slow message held intake until it finished. From any other
thread every batch now goes to the worker processes, whose tasks run on their main threads.
The slow and stuck messages here are made in the worker by swapping in a task that wraps the
real one: the parser has no input that is slow on purpose and stays slow as it gets fixed.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from intake import prepare as prepare_module
from intake.pipeline import Outcome
from store.models import QuarantinedMessage
from tests.conftest import make_settings
from tests.support.intake_mail import eml, make_pipeline

#: what a test message carries to be slow in the worker
SLOW = b"X-Test-Slow: yes"
#: far longer than any test waits: a message this slow that is not stopped fails the test
FOREVER = 120.0


def _slow_parse_in_worker(raws: list[bytes], model_id: int | None) -> list[Any]:
    """The real worker task, with a parser that sleeps for ever on marked messages."""
    real = prepare_module._prepare

    def slow(raw: bytes, settings: Any, classifier: Any) -> Any:
        if SLOW in raw:
            time.sleep(FOREVER)
        return real(raw, settings, classifier)

    prepare_module._prepare = slow
    try:
        return prepare_module._prepare_chunk(raws, model_id)
    finally:
        prepare_module._prepare = real


def _stuck_in_worker(raws: list[bytes], model_id: int | None) -> list[Any]:
    """As if the parser were stuck in C code on marked messages: no alarm reaches it."""
    if any(SLOW in raw for raw in raws):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            return _slow_parse_in_worker(raws, model_id)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    return prepare_module._prepare_chunk(raws, model_id)


def _in_a_thread(work: Callable[[], list[Outcome]]) -> tuple[list[Outcome], float]:
    """Run ``work`` on a thread of its own, as the poller of ``casework serve`` does."""
    result: list[list[Outcome]] = []
    started = time.monotonic()
    thread = threading.Thread(target=lambda: result.append(work()), name="poller")
    thread.start()
    thread.join(timeout=FOREVER / 2)
    assert not thread.is_alive(), "the pass did not end: the slow message was not stopped"
    return result[0], time.monotonic() - started


def _slow_message() -> bytes:
    return eml(message_id="<slow@example.org>").replace(b"Subject:", SLOW + b"\r\nSubject:", 1)


def _unrelated(message_id: str) -> bytes:
    return eml(
        message_id=message_id,
        sender="Dan Example <dan@example.org>",
        subject="Potholes on the ring road",
        body="Dear Commissioner,\n\nThe potholes on the ring road have damaged two of my tyres.\n",
    )


@pytest.fixture
def swap_task(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[..., Any]], None]:
    def swap(task: Callable[..., Any]) -> None:
        monkeypatch.setattr(prepare_module, "_prepare_chunk", task)

    return swap


def test_a_slow_message_on_the_poller_thread_is_stopped_at_the_budget(
    database_url: str, engine: Engine, swap_task: Callable[[Callable[..., Any]], None]
) -> None:
    settings = make_settings(database_url, message_time_budget_seconds=0.5, intake_workers=1)
    swap_task(_slow_parse_in_worker)
    fine = eml(message_id="<fine@example.org>", sender="Bob Example <bob@example.org>")
    pipeline = make_pipeline(settings, engine)
    try:
        outcomes, took = _in_a_thread(
            lambda: pipeline.process_batch([(_slow_message(), "slow"), (fine, "fine")])
        )
    finally:
        pipeline.close()
    assert [o.kind for o in outcomes] == ["quarantined", "opened"], outcomes
    assert outcomes[0].reason.startswith("took longer than 0.5 s to read")
    assert took < FOREVER / 4, took
    with Session(engine) as session:
        assert list(session.scalars(select(QuarantinedMessage.reason))) == ["took longer than 0.5 s to read"]


def test_a_worker_stuck_where_no_alarm_reaches_is_killed_and_the_pass_goes_on(
    database_url: str,
    engine: Engine,
    swap_task: Callable[[Callable[..., Any]], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch is past its hard stop; its messages go again one at a time; the stuck one is quarantined."""
    monkeypatch.setattr(prepare_module, "HARD_STOP_GRACE_SECONDS", 3.0)
    settings = make_settings(database_url, message_time_budget_seconds=0.2, intake_workers=1)
    swap_task(_stuck_in_worker)
    before = eml(message_id="<before@example.org>", sender="Bob Example <bob@example.org>")
    after = eml(message_id="<after@example.org>", sender="Carol Example <carol@example.org>")
    pipeline = make_pipeline(settings, engine)
    try:
        outcomes, took = _in_a_thread(
            lambda: pipeline.process_batch([(before, "before"), (_slow_message(), "slow"), (after, "after")])
        )
        # the pool was replaced: the next batch is prepared by new workers
        again, _ = _in_a_thread(lambda: pipeline.process_batch([(_unrelated("<next@example.org>"), "next")]))
    finally:
        pipeline.close()
    assert [o.kind for o in outcomes] == ["opened", "quarantined", "opened"], outcomes
    assert outcomes[1].reason.startswith("took longer than 0.2 s to read")
    assert took < FOREVER / 4, took
    assert again[0].kind == "opened", again


def test_on_the_main_thread_small_batches_stay_in_the_process(database_url: str, engine: Engine) -> None:
    """``casework poll`` keeps the budget with its own alarm: no pool round trip for one message."""
    settings = make_settings(database_url, intake_workers=1)
    preparer = prepare_module.Preparer(settings)
    try:
        ticket = preparer.start([eml()], model_id=None)
        assert preparer._pool is None
        assert ticket.results()[0].msg is not None
    finally:
        preparer.close()


def test_a_batch_prepared_ahead_is_timed_from_when_its_results_are_asked_for(database_url: str) -> None:
    """Batches submitted ahead wait behind earlier ones; that wait is not the batch being stuck."""
    from concurrent.futures import Future

    settings = make_settings(database_url, intake_workers=1)
    preparer = prepare_module.Preparer(settings)
    future: Future[list[prepare_module.Prepared]] = Future()
    ready = [prepare_module.Prepared(failure="a stand-in result")]
    ticket = prepare_module.Ticket([eml()], futures=[future], preparer=preparer, allowance=1.0)
    time.sleep(1.0)  # the earlier batches are being stored: longer than this batch's allowance
    threading.Timer(0.5, future.set_result, args=(ready,)).start()  # then its worker gets to it
    try:
        assert ticket.results() == ready  # not taken for stuck, not prepared again
    finally:
        preparer.close()
