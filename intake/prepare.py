"""The CPU-bound half of intake, done ahead of the store's half and, for big batches, in parallel.

Parsing a message, recognising automatic mail, fingerprinting its text for campaigns and
classifying it depend on nothing but the raw bytes, the settings and the classifier model, and
they were most of intake's CPU time. :func:`prepare` does them for one message. A
:class:`Preparer` does them in the pipeline's own process for small batches (a message that
IDLE announced), and in a pool of worker processes (``CASEWORK_INTAKE_WORKERS``, default one
per CPU) for big ones: while the main process writes one batch to the store, the workers
prepare the next (:meth:`intake.pipeline.Pipeline.process_batches`).

The time budget (``CASEWORK_MESSAGE_TIME_BUDGET_SECONDS``) is a ``SIGALRM`` timer, and signals
reach only a process's main thread. ``casework poll`` prepares on its main thread; ``casework
serve`` polls from a thread of its own, so there every batch, however small, goes to the
workers, whose tasks run on their main threads. A worker stuck where the alarm cannot reach it
(inside C code) is killed once its batch is past any time the budget allows, and the messages it
had are tried again one at a time: the one that is stuck again is quarantined.

A worker decides exactly what the steps would have decided. The classification assumes no
campaign, which is what the classify step sees whenever it runs (a message that joins or
forms a campaign is never classified), and every step computes for itself what it is not given.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from casework.settings import Settings
from intake import campaigns
from intake.automatic import automatic_reason
from intake.message import Classification, ParsedMessage
from intake.parse import Unparseable, parse_message
from intake.steps import ClassifierLike

log = logging.getLogger(__name__)

#: batches smaller than this are prepared in the calling process (a pool round trip costs more)
MIN_PARALLEL = 20
#: messages per task handed to a worker: small enough that the store's half starts early
CHUNK = 10
#: the model id that tells a worker not to classify (the pipeline was given a classifier object)
_NO_CLASSIFIER = -1
#: how much lower the workers' CPU priority is than the poller's own
WORKER_NICENESS = 5
#: how often a worker checks that the process that started it is still there
PARENT_CHECK_SECONDS = 1.0
#: time allowed over the budget before a stuck worker is killed: starting the pool and loading
#: the classifier model in it take a few seconds on a busy machine
HARD_STOP_GRACE_SECONDS = 30.0


@dataclass
class Prepared:
    """One message made ready for the steps, or why it cannot be (then ``msg`` is None)."""

    msg: ParsedMessage | None = None
    #: the quarantine reason when ``msg`` is None
    failure: str = ""
    #: the parser's traceback when it failed (a bug, not bad input): logged by the pipeline
    fault: str = ""
    automatic: str | None = None
    grams: set[int] = field(default_factory=set)
    bands: list[str] = field(default_factory=list)
    classification: Classification | None = None


class OverBudget(BaseException):
    """The message took longer than ``CASEWORK_MESSAGE_TIME_BUDGET_SECONDS`` to prepare.

    A ``BaseException`` so that the parser's own ``except Exception`` (which degrades rather
    than lose a message) cannot swallow it.
    """


def over_budget_reason(seconds: float) -> str:
    return f"took longer than {seconds:g} s to read"


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise :class:`OverBudget` in this block once ``seconds`` have passed.

    A ``SIGALRM`` timer interrupts the parser between two Python bytecodes, so one hostile
    message cannot hold a worker (or ``casework poll``) for ever. Signals reach only the main
    thread: elsewhere the block runs to its end and :func:`prepare` quarantines it afterwards
    if it took too long. That happens only with no workers (``CASEWORK_INTAKE_WORKERS=0``):
    otherwise :meth:`Preparer.start` sends batches from other threads to the workers.
    """
    if seconds <= 0 or not on_main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise OverBudget()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def prepare(raw: bytes, settings: Settings, classifier: ClassifierLike | None = None) -> Prepared:
    """Parse ``raw`` and work out all that depends on it alone, within the time budget; never raises."""
    budget = settings.message_time_budget_seconds
    started = time.monotonic()
    try:
        with time_budget(budget):
            prepared = _prepare(raw, settings, classifier)
    except OverBudget:
        log.warning("a message took longer than %g s to read; quarantined", budget)
        return Prepared(failure=over_budget_reason(budget))
    if budget > 0 and time.monotonic() - started > budget:
        return Prepared(failure=over_budget_reason(budget))
    return prepared


def _prepare(raw: bytes, settings: Settings, classifier: ClassifierLike | None) -> Prepared:
    try:
        msg = _parse(raw, settings)
    except Unparseable as err:  # bad input from outside
        text = str(err)
        return Prepared(failure=text if text.startswith("not an email") else f"not an email: {text}")
    except Exception as err:  # a fault in the parser
        name = f"{type(err).__name__}: {err}"[:1900]
        return Prepared(failure=f"the parser failed: {name}", fault=traceback.format_exc())
    automatic = automatic_reason(msg)
    prepared = Prepared(msg=msg, automatic=automatic)
    if not automatic:
        prepared.grams = campaigns.shingles(msg.body_text)
        prepared.bands = campaigns.bands(prepared.grams)
        if classifier is not None:
            minimum = settings.campaign_min_senders
            prepared.classification = classifier.classify(msg, campaign_min_senders=minimum)
    return prepared


def _parse(raw: bytes, settings: Settings) -> ParsedMessage:
    msg = parse_message(
        raw, attachment_max_bytes=settings.attachment_max_bytes, html_max_bytes=settings.html_max_bytes
    )
    # PostgreSQL text cannot hold NUL characters, which broken mail sometimes carries
    for name in ("subject", "from_name", "body_text"):
        value = getattr(msg, name)
        if "\x00" in value:
            setattr(msg, name, value.replace("\x00", "\ufffd"))
    for info in msg.attachments:
        info.filename = info.filename.replace("\x00", "\ufffd")
    return msg


class Ticket:
    """Preparations under way for one batch; :meth:`results` waits for them, in order."""

    def __init__(
        self,
        raws: Sequence[bytes],
        futures: list[Future[list[Prepared]]] | None = None,
        done: list[Prepared] | None = None,
        preparer: Preparer | None = None,
        allowance: float = math.inf,
    ) -> None:
        self._raws = raws
        self._futures = futures or []
        self._done = done
        self._preparer = preparer
        #: seconds, from when the results are asked for, after which a worker still on this
        #: batch is taken to be stuck. Counted from then and not from submission: batches
        #: submitted ahead wait behind earlier ones, but the pipeline asks for results in
        #: order, so by then every batch in front of this one is done.
        self._allowance = allowance

    def results(self) -> list[Prepared]:
        if self._done is None:
            assert self._preparer is not None
            try:
                self._done = self._collect(self._preparer)
            except Exception as err:  # a worker died (the OOM killer, a crash): never lose the batch
                log.warning("intake workers failed (%s); preparing this batch again",
                            type(err).__name__)  # fmt: skip
                self._preparer.reset()
                self._done = self._preparer.again(self._raws)
            for raw, prepared in zip(self._raws, self._done, strict=True):
                if prepared.msg is not None and not prepared.msg.raw:
                    prepared.msg.raw = raw  # a worker sent the message back without its bytes
        return self._done

    def _collect(self, preparer: Preparer) -> list[Prepared]:
        done: list[Prepared] = []
        deadline = time.monotonic() + self._allowance
        for future in self._futures:
            try:
                done.extend(future.result(timeout=max(0.0, deadline - time.monotonic())))
            except FutureTimeout:
                log.warning("an intake worker is stuck past the time budget; killing the workers")
                preparer.kill()
                return done + preparer.one_at_a_time(self._raws[len(done) :])
        return done


class Preparer:
    """Prepares batches in this process, or in worker processes when they are big enough."""

    def __init__(self, settings: Settings, workers: int | None = None) -> None:
        self.settings = settings
        self.workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self, raws: Sequence[bytes], *, model_id: int | None, parallel: bool = True) -> Ticket:
        """Begin preparing ``raws``; workers classify with stored model ``model_id`` (None: seed).

        ``parallel=False`` (a pipeline given its own classifier object, which workers cannot
        share) prepares in this process, or, off the main thread, in the workers without
        classifying. In this process nothing is classified ahead: the classify step does it
        only for the messages that need it.
        """
        guarded = self.workers >= 1 and self._needs_guard()
        if not guarded and (not parallel or self.workers < 1 or len(raws) < MIN_PARALLEL):
            return Ticket(raws, done=self.here(raws))
        chunks = [list(raws[i : i + CHUNK]) for i in range(0, len(raws), CHUNK)]
        model = model_id if parallel else _NO_CLASSIFIER
        try:
            pool = self._ensure_pool()
            futures = [pool.submit(_prepare_chunk, chunk, model) for chunk in chunks]
        except BrokenProcessPool:  # a worker died since the last batch: start again
            log.warning("intake workers are gone; preparing this batch again")
            self.reset()
            return Ticket(raws, done=self.again(raws, model))
        rounds = math.ceil(len(chunks) / self.workers)
        return Ticket(raws, futures=futures, preparer=self, allowance=self._hard_stop(rounds * CHUNK))

    def here(self, raws: Sequence[bytes]) -> list[Prepared]:
        """Prepare ``raws`` in this process (nothing classified ahead: the classify step does it)."""
        return [prepare(raw, self.settings) for raw in raws]

    def again(self, raws: Sequence[bytes], model_id: int | None = _NO_CLASSIFIER) -> list[Prepared]:
        """Prepare ``raws`` after the workers failed: here, unless only a worker can keep the budget."""
        if self.workers >= 1 and self._needs_guard():
            return self.one_at_a_time(raws, model_id)
        return self.here(raws)

    def one_at_a_time(self, raws: Sequence[bytes], model_id: int | None = _NO_CLASSIFIER) -> list[Prepared]:
        """Prepare each message alone in a worker; one still stuck past its time is quarantined.

        Slow, and only for the messages a stuck worker left: it finds which one stuck it.
        """
        done: list[Prepared] = []
        budget = self.settings.message_time_budget_seconds
        for raw in raws:
            try:
                future = self._ensure_pool().submit(_prepare_chunk, [raw], model_id)
                done.extend(future.result(timeout=self._hard_stop(1)))
            except FutureTimeout:
                log.warning("a message held an intake worker past the time budget; quarantined")
                self.kill()
                done.append(Prepared(failure=over_budget_reason(budget)))
            except Exception as err:  # the worker died on this message
                log.warning("an intake worker died on a message (%s); quarantined", type(err).__name__)
                self.reset()
                done.append(Prepared(failure=f"the parser failed: the worker died ({type(err).__name__})"))
        return done

    def _needs_guard(self) -> bool:
        """True when the time budget can only be kept by a worker (this is not the main thread)."""
        return self.settings.message_time_budget_seconds > 0 and not on_main_thread()

    def _hard_stop(self, messages: int) -> float:
        """Seconds after which a worker with ``messages`` to prepare in turn is taken to be stuck."""
        budget = self.settings.message_time_budget_seconds
        return math.inf if budget <= 0 else messages * budget + HARD_STOP_GRACE_SECONDS

    def warm(self) -> None:
        """Start the worker processes now, and wait until each has started (about half a second).

        Otherwise the first big batch waits for them. A benchmark of steady-state speed warms
        the pool first; the service starts it when the first big batch comes.
        """
        if self.workers >= 1:
            pool = self._ensure_pool()
            for future in [pool.submit(_prepare_chunk, [], None) for _ in range(self.workers)]:
                future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def reset(self) -> None:
        """Drop a broken pool without waiting for it; the next big batch starts a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def kill(self) -> None:
        """Kill the workers (one is stuck) and drop the pool; the next batch starts a new one.

        ``ProcessPoolExecutor`` has no public way to stop a running task before Python 3.14's
        ``kill_workers``, so the processes are killed from its own table of them.
        """
        pool = self._pool
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(OSError, AttributeError):
                    process.kill()
        self.reset()

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # forkserver: workers fork from a clean server process, never from this one with its
            # open database connections and threads
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["intake.prepare"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.settings, os.getpid()),
            )
        return self._pool


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# --- inside a worker process -----------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start_worker(settings: Settings, parent: int) -> None:
    _worker.clear()
    _worker["settings"] = settings
    # The process storing the batches is the one everything waits for; the workers run batches
    # ahead and can afford to yield the CPU to it when both want it.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when the process that started the pool is gone.

    A pool's workers wait on a queue whose writing end they hold themselves, so a parent
    killed with SIGKILL (a crash, the OOM killer) would leave them waiting for ever.
    """
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # the pid was reused by another user's process: ours is gone
            os._exit(0)


def _prepare_chunk(raws: list[bytes], model_id: int | None) -> list[Prepared]:
    settings: Settings = _worker["settings"]
    classifier = None if model_id == _NO_CLASSIFIER else _worker_classifier(settings, model_id)
    prepared = [prepare(raw, settings, classifier) for raw in raws]
    for item in prepared:
        if item.msg is not None:
            item.msg.raw_sha256  # noqa: B018 - worked out here, on the worker's core
            item.msg.raw = b""  # the pipeline has the bytes already: do not send them back
    return prepared


def _worker_classifier(settings: Settings, model_id: int | None) -> Any:
    """The classifier of stored model ``model_id`` (None: the seed model), loaded once per worker."""
    if _worker.get("model_id", -1) != model_id or "classifier" not in _worker:
        from intake.classify import Classifier, load_classifier

        if model_id is None:
            _worker["classifier"] = Classifier.from_settings(settings)
        else:
            from sqlmodel import Session

            from store.db import make_engine

            engine = make_engine(settings.database_url)
            try:
                with Session(engine) as session:
                    _worker["classifier"] = load_classifier(session, settings, model_id)
            finally:
                engine.dispose()
        _worker["model_id"] = model_id
    return _worker["classifier"]
