"""The CPU-bound half of intake, done ahead of the store's half and, for big batches, in parallel.

Parsing a message, recognising automatic mail, fingerprinting its text for campaigns and
classifying it depend on nothing but the raw bytes, the settings and the classifier model, and
they were most of intake's CPU time. :func:`prepare` does them for one message. A
:class:`Preparer` does them in the pipeline's own process for small batches (a message that
IDLE announced), and in a pool of worker processes (``CASEWORK_INTAKE_WORKERS``, default one
per CPU) for big ones: while the main process writes one batch to the store, the workers
prepare the next (:meth:`intake.pipeline.Pipeline.process_batches`).

A worker decides exactly what the steps would have decided. The classification assumes no
campaign, which is what the classify step sees whenever it runs (a message that joins or
forms a campaign is never classified), and every step computes for itself what it is not given.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
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
#: how much lower the workers' CPU priority is than the poller's own
WORKER_NICENESS = 5
#: how often a worker checks that the process that started it is still there
PARENT_CHECK_SECONDS = 1.0


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
    thread: elsewhere (the poller thread of ``casework serve``) the block runs to its end and
    :func:`prepare` quarantines it afterwards if it took too long; the caps on headers and HTML
    keep that end near.
    """
    usable = seconds > 0 and threading.current_thread() is threading.main_thread()
    if not usable:
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
    ) -> None:
        self._raws = raws
        self._futures = futures or []
        self._done = done
        self._preparer = preparer

    def results(self) -> list[Prepared]:
        if self._done is None:
            try:
                self._done = [prepared for future in self._futures for prepared in future.result()]
            except Exception as err:  # a worker died (the OOM killer, a crash): never lose the batch
                assert self._preparer is not None
                log.warning("intake workers failed (%s); preparing this batch in the poller's process",
                            type(err).__name__)  # fmt: skip
                self._preparer.reset()
                self._done = self._preparer.here(self._raws)
            for raw, prepared in zip(self._raws, self._done, strict=True):
                if prepared.msg is not None and not prepared.msg.raw:
                    prepared.msg.raw = raw  # a worker sent the message back without its bytes
        return self._done


class Preparer:
    """Prepares batches in this process, or in worker processes when they are big enough."""

    def __init__(self, settings: Settings, workers: int | None = None) -> None:
        self.settings = settings
        self.workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self, raws: Sequence[bytes], *, model_id: int | None, parallel: bool = True) -> Ticket:
        """Begin preparing ``raws``; workers classify with stored model ``model_id`` (None: seed).

        ``parallel=False`` (a pipeline given its own classifier object, which workers cannot
        share) prepares in this process. In this process nothing is classified ahead: the
        classify step does it only for the messages that need it.
        """
        if not parallel or self.workers < 1 or len(raws) < MIN_PARALLEL:
            return Ticket(raws, done=self.here(raws))
        chunks = [list(raws[i : i + CHUNK]) for i in range(0, len(raws), CHUNK)]
        try:
            pool = self._ensure_pool()
            futures = [pool.submit(_prepare_chunk, chunk, model_id) for chunk in chunks]
        except BrokenProcessPool:  # a worker died since the last batch: this one is done here
            log.warning("intake workers are gone; preparing this batch in the poller's process")
            self.reset()
            return Ticket(raws, done=self.here(raws))
        return Ticket(raws, futures=futures, preparer=self)

    def here(self, raws: Sequence[bytes]) -> list[Prepared]:
        """Prepare ``raws`` in this process (nothing classified ahead: the classify step does it)."""
        return [prepare(raw, self.settings) for raw in raws]

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
    classifier = _worker_classifier(settings, model_id)
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
