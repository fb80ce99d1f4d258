"""The IMAP poller: feed new mail from the office's IMAP folder through the intake pipeline.

* :func:`poll_once` makes one pass (``casework poll --once``) and returns what became of the
  messages: ``read, opened, attached, automatic, duplicates, quarantined``.
* :func:`run` is the long-running poller of the service: IMAP IDLE when the server offers it
  and ``CASEWORK_IMAP_IDLE`` is on, otherwise a pass every ``CASEWORK_IMAP_POLL_SECONDS``. A
  dropped connection or a restarting server is met with a reconnect after a capped,
  exponential back-off, until ``stop`` is set.

Only one poller works at a time: both take the ``imap-poller`` lease (:mod:`store.leases`).
Each message is committed by the pipeline before it is marked on the server (see
:mod:`intake.sources.imap`), so killing the poller at any moment loses and doubles nothing.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine

from casework.errors import UserError
from casework.metrics import IMAP_LAST_SUCCESS
from casework.settings import Settings
from intake.sources import batched
from intake.sources.imap import (
    IDLE_RENEW_SECONDS,
    ImapFolder,
    ImapRefused,
    Position,
    is_transient,
    load_position,
    save_position,
)
from store.leases import default_holder, hold

log = logging.getLogger(__name__)

LEASE_NAME = "imap-poller"
SUMMARY_KEYS = ("read", "opened", "attached", "automatic", "duplicates", "quarantined", "outgoing")
#: the pipeline's outcome kinds → summary keys
_KIND_TO_KEY = {"duplicate": "duplicates"}


class PollerBusy(UserError):
    """Another poller holds the lease."""


class _Outcome(Protocol):
    kind: str
    case_reference: str | None


class _Pipeline(Protocol):
    def process(self, raw: bytes, *, source: str) -> Any: ...

    def process_batch(self, items: Sequence[tuple[bytes, str]]) -> list[Any]: ...

    def process_batches(self, batches: Iterable[Sequence[tuple[bytes, str]]]) -> Iterator[list[Any]]: ...

    def close(self) -> None: ...


#: messages committed in one transaction (and then marked on the server together)
BATCH = 100
#: batches between two saves of the poller's position
SAVE_EVERY = 10


def new_summary() -> dict[str, int]:
    return dict.fromkeys(SUMMARY_KEYS, 0)


def _pipeline(settings: Settings, engine: Engine) -> _Pipeline:
    from intake.pipeline import Pipeline

    return Pipeline(settings, engine)


# --- one pass --------------------------------------------------------------------------------


def drain(
    folder: ImapFolder,
    pipeline: _Pipeline,
    engine: Engine,
    summary: dict[str, int],
    *,
    stop: threading.Event | None = None,
    on_message: Callable[[int, Any], None] | None = None,
    batch_size: int | None = None,
) -> None:
    """Log every message not yet marked in the selected folder, marking each batch after its commit.

    The pipeline commits up to ``batch_size`` (default :data:`BATCH`) fetched messages in one
    transaction; only then are they marked on the server. A crash before the mark makes the
    next pass read the batch again, which dedupe turns into duplicates. The saved position only
    narrows the next pass's search (marked mail is left out of it anyway), so it is written
    every :data:`SAVE_EVERY` batches and when the pass ends, not after every batch.
    """
    position: Position = load_position(engine, folder.key, folder.uidvalidity)
    uids = folder.pending(position.last_uid)
    if not uids:
        return
    log.info("IMAP %s: %d message(s) to log", folder.key, len(uids))
    fetched: deque[list[int]] = deque()  # the uids of the batches handed over, oldest first

    def batches() -> Iterator[list[tuple[bytes, str]]]:
        for batch in batched(folder.fetch(uids), batch_size or BATCH):
            fetched.append([uid for uid, _raw in batch])
            yield [(raw, folder.source(uid)) for uid, raw in batch]

    saved = position.last_uid
    try:
        # the pipeline reads batches ahead (its workers parse them while this one is stored)
        for count, outcomes in enumerate(pipeline.process_batches(batches()), 1):
            # Committed (or held in the quarantine): from here on it is safe to mark.
            done = fetched.popleft()
            try:
                for uid, outcome in zip(done, outcomes, strict=True):
                    summary["read"] += 1
                    key = _KIND_TO_KEY.get(outcome.kind, outcome.kind)
                    summary[key] = summary.get(key, 0) + 1
                    log.info("IMAP uid %d: %s %s", uid, outcome.kind, outcome.case_reference or "")
                    if on_message is not None:
                        on_message(uid, outcome)
            finally:
                folder.mark(done)
                position.last_uid = max(position.last_uid, *done)
            if count % SAVE_EVERY == 0:
                save_position(engine, folder.key, position)
                saved = position.last_uid
            if stop is not None and stop.is_set():
                break
    finally:
        if position.last_uid != saved:
            save_position(engine, folder.key, position)


def poll_once(settings: Settings, engine: Engine, *, pipeline: _Pipeline | None = None) -> dict[str, int]:
    """One pass over the configured folder; the summary of what became of each message read."""
    folder = ImapFolder(settings)  # checks the settings before anything else
    summary = new_summary()
    with hold(engine, LEASE_NAME, holder=default_holder()) as held:
        if not held:
            raise PollerBusy(
                "Another casework poller is reading the mailbox right now; nothing was done. "
                "Try again when it has finished (or stop the running `casework poll`)."
            )
        own = pipeline is None
        pipeline = pipeline or _pipeline(settings, engine)
        try:
            folder.connect()
            try:
                drain(folder, pipeline, engine, summary)
            finally:
                folder.close()
            drain_sent(settings, pipeline, engine, summary)
            IMAP_LAST_SUCCESS.set_to_current_time()
        finally:
            if own:
                pipeline.close()
    return summary


def drain_sent(
    settings: Settings,
    pipeline: _Pipeline,
    engine: Engine,
    summary: dict[str, int],
    *,
    stop: threading.Event | None = None,
) -> None:
    """One pass over the office's Sent folder (CASEWORK_IMAP_SENT_FOLDER; nothing when empty).

    Its messages go through the same pipeline, whose ``outgoing`` step records them as the
    office's replies; they are flagged (never moved) once committed, like the inbox's.
    """
    if not settings.imap_sent_folder:
        return
    folder = ImapFolder(settings, sent=True)
    folder.connect()
    try:
        drain(folder, pipeline, engine, summary, stop=stop)
    finally:
        folder.close()


# --- the long-running poller -----------------------------------------------------------------


class Backoff:
    """Capped exponential back-off with a little jitter, so restarted servers are not stampeded."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial, self.maximum = initial, maximum
        self.current = initial

    def next(self) -> float:
        delay = self.current * random.uniform(0.8, 1.2)
        self.current = min(self.current * 2, self.maximum)
        return min(delay, self.maximum)

    def reset(self) -> None:
        self.current = self.initial


def run(
    settings: Settings,
    engine: Engine,
    stop: threading.Event,
    *,
    pipeline: _Pipeline | None = None,
    backoff_initial: float = 1.0,
    backoff_max: float = 60.0,
    lease_ttl: float = 60.0,
    on_message: Callable[[int, Any], None] | None = None,
) -> None:
    """Log new mail until ``stop`` is set; only one instance works, the others stand by."""
    ImapFolder(settings)  # refuse missing settings at once, not after the first back-off
    holder = default_holder()
    own = pipeline is None
    pipeline = pipeline or _pipeline(settings, engine)
    standby_logged = False
    try:
        while not stop.is_set():
            with hold(engine, LEASE_NAME, holder=holder, ttl_seconds=lease_ttl) as held:
                if held:
                    log.info("IMAP poller %s: holding the lease, reading the mailbox", holder)
                    backoff = Backoff(backoff_initial, backoff_max)
                    _serve(settings, engine, stop, pipeline, backoff, on_message)
                    continue
            if not standby_logged:
                log.info("IMAP poller %s: another poller holds the lease; standing by", holder)
                standby_logged = True
            stop.wait(min(lease_ttl / 3, 10.0))
    finally:
        if own:
            pipeline.close()


def _serve(
    settings: Settings,
    engine: Engine,
    stop: threading.Event,
    pipeline: _Pipeline,
    backoff: Backoff,
    on_message: Callable[[int, Any], None] | None,
) -> None:
    while not stop.is_set():
        folder = ImapFolder(settings)
        try:
            folder.connect()
            use_idle = settings.imap_idle and folder.can_idle
            while not stop.is_set():
                summary = new_summary()
                drain(folder, pipeline, engine, summary, stop=stop, on_message=on_message)
                drain_sent(settings, pipeline, engine, summary, stop=stop)
                IMAP_LAST_SUCCESS.set_to_current_time()
                backoff.reset()  # a whole pass worked: the next fault starts small again
                if summary["read"]:
                    log.info("IMAP pass: %s", summary)
                if use_idle:
                    # IDLE watches the inbox only: the Sent folder is read at least every poll
                    renew = (
                        min(IDLE_RENEW_SECONDS, settings.imap_poll_seconds)
                        if settings.imap_sent_folder
                        else IDLE_RENEW_SECONDS
                    )
                    folder.wait_for_mail(stop, seconds=renew)
                else:
                    stop.wait(settings.imap_poll_seconds)
        except Exception as err:
            delay = backoff.next()
            if is_transient(err):
                log.warning("IMAP connection lost (%s: %s); reconnecting in %.1f s",
                            type(err).__name__, err, delay)  # fmt: skip
            elif isinstance(err, ImapRefused):
                log.error("IMAP server refused us: %s; trying again in %.1f s", err, delay)
            else:
                # A fault in our own code or the store: keep the traceback, and keep going.
                log.exception("IMAP poller failed; trying again in %.1f s", delay)
            stop.wait(delay)
        finally:
            folder.close()
