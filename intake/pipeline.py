"""The intake pipeline: one raw email in, one case (or the quarantine) out.

Like Mailman's ``pipelines/builtin.py``, the pipeline is a tuple of step names run in order
(:data:`STEPS`); each step is a small module in :mod:`intake.steps`. :meth:`Pipeline.process`
parses the message, runs the steps inside one transaction and commits before it returns, so
the caller (the IMAP poller, ``casework ingest``) may mark the message as logged on the server
only after it is safe in the store.

Nothing is lost: input that is not an email, or any unexpected exception inside a step, shunts
the raw bytes to the quarantine table with the reason (the traceback goes to the log) and the
pipeline goes on with the next message. Processing the same bytes twice changes nothing.
"""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from casework.settings import Settings
from intake import quarantine
from intake.message import ParsedMessage
from intake.prepare import Prepared, Preparer, Ticket
from intake.steps import Batch, ClassifierLike, Context
from store.models import Case, ClassifierModel, Message
from store.pending import resolve

log = logging.getLogger(__name__)

#: The steps every message goes through, in order (parsing happens before, in ``process``).
STEPS: tuple[str, ...] = (
    "outgoing", "dedupe", "thread", "automatic", "campaign", "classify", "store", "propose", "surgery",
    "acknowledge",
)  # fmt: skip

#: how often a running pipeline looks for a newer trained classifier model
MODEL_CHECK_SECONDS = 60.0

#: batches being prepared while one is stored: enough to keep the workers busy through the
#: store's slower moments (a checkpoint, a merge) without holding much mail in memory
LOOKAHEAD = 4

KINDS = ("opened", "attached", "automatic", "duplicate", "quarantined", "outgoing")
#: the kind a step gives a message it cannot log (``ctx.reason`` says why): it goes to the quarantine
QUARANTINE = "quarantine"


@dataclass
class Outcome:
    """What became of one message."""

    kind: str  # one of KINDS
    case_reference: str | None = None
    message_pk: int | None = None
    reason: str = ""


class Pipeline:
    """Runs :data:`STEPS` over raw messages, one transaction per message."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        classifier: ClassifierLike | None = None,
        steps: tuple[str, ...] = STEPS,
        workers: int | None = None,
    ) -> None:
        """``workers``: processes that prepare big batches (default ``CASEWORK_INTAKE_WORKERS``)."""
        self.settings = settings
        self.engine = engine
        #: a classifier given by the caller (tests, eval) is used as it is, never reloaded
        self._fixed_classifier = classifier
        self._classifier: ClassifierLike | None = None
        self._model_id: int | None = None
        self._model_checked_at = 0.0
        self._newest: int | None = None
        self.preparer = Preparer(settings, settings.intake_workers if workers is None else workers)
        self.steps: list[tuple[str, ModuleType]] = [
            (name, importlib.import_module(f"intake.steps.{name}")) for name in steps
        ]

    # --- the public contract ---------------------------------------------------------------
    def process(self, raw: bytes, *, source: str) -> Outcome:
        """Log one message; the returned outcome is committed (or the message is quarantined)."""
        return self.process_batch([(raw, source)])[0]

    def process_batch(
        self, items: Sequence[tuple[bytes, str]], *, ticket: Ticket | None = None
    ) -> list[Outcome]:
        """Log ``(raw, source)`` messages in one transaction; every outcome returned is committed.

        The batch is first tried without savepoints, its new rows held back and written
        together (:mod:`store.pending`). If any message fails, that transaction is rolled back
        whole and the batch is done again with a SAVEPOINT per message: the one that fails is
        rolled back alone and quarantined (after the commit, in its own transaction) while the
        others are kept. The messages see each other as they go, so a reply or a campaign
        member in the same batch as its original joins it. If the commit itself fails, the
        batch is done again one message at a time, so a fault costs speed, never a message.
        ``ticket`` is the batch's preparation when it was started earlier (:meth:`prepare`).
        """
        outcomes: list[Outcome | None] = [None] * len(items)
        held: list[tuple[int, str]] = []  # (index, reason): quarantined after the commit
        parsed: list[tuple[int, Prepared]] = []
        ticket = ticket or self.prepare(items)
        for index, prepared in enumerate(ticket.results()):
            source = items[index][1]
            if prepared.msg is not None:
                parsed.append((index, prepared))
            elif prepared.fault:  # a fault in the parser: logged with its traceback
                log.error("the parser failed on a message from %s:\n%s", source, prepared.fault)
                held.append((index, prepared.failure))
            else:  # bad input from outside: logged briefly
                log.warning("quarantined message from %s: %s", source, prepared.failure)
                held.append((index, prepared.failure))
        if parsed and not self._optimistic(parsed, items, outcomes, held):
            before = len(held)
            try:
                self._run_batch(parsed, items, outcomes, held)
            except Exception as err:
                del held[before:]  # nothing of the failed transaction stands
                if len(parsed) == 1:
                    index, prepared = parsed[0]
                    _log_fault(f"intake failed on message {_id(prepared)} from %s", items[index][1], err)
                    held.append((index, f"intake failed: {describe(err)}"))
                else:  # the transaction broke (the commit, the connection): one at a time
                    log.warning("batch of %d failed (%s); logging its messages one by one",
                                len(parsed), type(err).__name__)  # fmt: skip
                    for index, prepared in parsed:
                        outcomes[index] = None
                        before = len(held)
                        try:
                            self._run_batch([(index, prepared)], items, outcomes, held)
                        except Exception as one:
                            del held[before:]
                            where = items[index][1]
                            _log_fault(f"intake failed on message {_id(prepared)} from %s", where, one)
                            held.append((index, f"intake failed: {describe(one)}"))
        for index, reason in held:
            raw, source = items[index]
            outcomes[index] = self._shunt(raw, reason=reason, source=source)
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(items), "every message has an outcome"
        return done

    def process_batches(self, batches: Iterable[Sequence[tuple[bytes, str]]]) -> Iterator[list[Outcome]]:
        """:meth:`process_batch` over each batch, preparing the next batch while storing this one.

        Each list of outcomes is committed when it is yielded, as with :meth:`process_batch`;
        the next :data:`LOOKAHEAD` batches have been read from ``batches`` by then (and are being
        parsed and classified by the workers), but nothing of them is stored.
        """
        ahead: deque[tuple[Sequence[tuple[bytes, str]], Ticket]] = deque()
        for items in batches:
            ahead.append((items, self.prepare(items)))
            if len(ahead) > LOOKAHEAD:
                items, ticket = ahead.popleft()
                yield self.process_batch(items, ticket=ticket)
        while ahead:
            items, ticket = ahead.popleft()
            yield self.process_batch(items, ticket=ticket)

    def prepare(self, items: Sequence[tuple[bytes, str]]) -> Ticket:
        """Start the CPU-bound half (parse, automatic mail, fingerprints, classification)."""
        raws = [raw for raw, _source in items]
        if self._fixed_classifier is not None:  # an object workers cannot share: all in here
            return self.preparer.start(raws, model_id=None, parallel=False)
        return self.preparer.start(raws, model_id=self._newest_model_id())

    def close(self) -> None:
        """Stop the worker processes (a pipeline used again starts new ones)."""
        self.preparer.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------------
    def _newest_model_id(self, session: Session | None = None) -> int | None:
        """The id of the store's newest classifier model, looked up every ``MODEL_CHECK_SECONDS``.

        A long-running poller must pick up a model retrained by the scheduler or on demand.
        """
        now = time.monotonic()
        if not self._model_checked_at or now - self._model_checked_at >= MODEL_CHECK_SECONDS:
            query = select(func.max(ClassifierModel.id))  # type: ignore[arg-type]
            if session is None:
                with Session(self.engine) as own:
                    self._newest = own.execute(query).scalar_one_or_none()
            else:
                self._newest = session.execute(query).scalar_one_or_none()
            self._model_checked_at = now
        return self._newest

    def classifier(self, session: Session) -> ClassifierLike:
        """The classifier of the store's newest model (or the built-in one)."""
        if self._fixed_classifier is not None:
            return self._fixed_classifier
        newest = self._newest_model_id(session)
        if self._classifier is None or newest != self._model_id:
            from intake.classify import load_classifier

            self._classifier = load_classifier(session, self.settings, newest)  # the one workers use
            self._model_id = newest
        return self._classifier

    def _optimistic(
        self,
        parsed: list[tuple[int, Prepared]],
        items: Sequence[tuple[bytes, str]],
        outcomes: list[Outcome | None],
        held: list[tuple[int, str]],
    ) -> bool:
        """The batch in one transaction without savepoints; False (nothing kept) if anything failed."""
        refused: list[tuple[int, str]] = []
        try:
            self._run_batch(parsed, items, outcomes, refused, savepoints=False)
            held.extend(refused)
            return True
        except Exception as err:  # the careful pass that follows logs and quarantines the fault
            log.info(
                "batch of %d: %s; doing it again a SAVEPOINT per message", len(parsed), type(err).__name__
            )
            for index, _prepared in parsed:
                outcomes[index] = None
            return False

    def _run_batch(
        self,
        parsed: list[tuple[int, Prepared]],
        items: Sequence[tuple[bytes, str]],
        outcomes: list[Outcome | None],
        held: list[tuple[int, str]],
        *,
        savepoints: bool = True,
    ) -> None:
        """Run the steps over ``parsed`` in one transaction, a SAVEPOINT per message.

        Without ``savepoints`` any failure propagates and the caller rolls everything back.
        """
        logged: list[tuple[int, ParsedMessage]] = []
        with Session(self.engine, expire_on_commit=False) as session:
            if self.engine.dialect.name == "sqlite":
                # pysqlite opens its transaction lazily, and a SAVEPOINT outside one would
                # commit on release; take the write lock up front (no upgrade races either)
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            elif self.engine.dialect.name == "postgresql":
                # psycopg prepares a statement run five times; PostgreSQL may then keep one
                # generic plan for it, made when fingerprint_bands was small (a sequential scan)
                # and never revised until the next ANALYZE. A fresh plan per statement costs
                # microseconds; the stale one cost a scan of the whole table per message.
                session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            batch = Batch()
            batch.prefetch(session, [prepared.msg for _index, prepared in parsed if prepared.msg])
            if not savepoints:
                keys = [key for _index, prepared in parsed for key in prepared.bands]
                batch.hold_back(session, self.settings, size=len(parsed), band_keys=keys)
            slots: list[tuple[int, Any]] = []
            for index, prepared in parsed:
                source = items[index][1]
                if savepoints:
                    ctx = self._one(session, prepared, index=index, source=source, batch=batch,
                                    outcomes=outcomes, held=held)  # fmt: skip
                else:
                    ctx = self._steps(session, prepared, source=source, batch=batch)
                if ctx is None:
                    continue
                if ctx.kind == QUARANTINE:  # a step refused it, writing nothing: held with the reason
                    held.append((index, ctx.reason))
                    continue
                msg = ctx.msg
                batch.logged(msg, None)
                outcomes[index] = Outcome(
                    kind=ctx.kind,
                    case_reference=ctx.reference,
                    reason=ctx.reason,
                )
                slots.append((index, ctx.extra.get("message_pk")))
                logged.append((index, msg))
            batch.finish(session)
            for index, message_pk in slots:  # every held-back row is written: ids are known
                outcome = outcomes[index]
                assert outcome is not None
                outcome.message_pk = resolve(message_pk)
            session.commit()
        for index, msg in logged:
            outcome = outcomes[index]
            assert outcome is not None
            log.info("message %s from %s: %s %s", msg.message_id, items[index][1], outcome.kind,
                     outcome.case_reference or "")  # fmt: skip

    def _one(
        self,
        session: Session,
        prepared: Prepared,
        *,
        index: int,
        source: str,
        batch: Batch,
        outcomes: list[Outcome | None],
        held: list[tuple[int, str]],
    ) -> Context | None:
        """Run the steps over one message in a SAVEPOINT; None when it was settled otherwise."""
        msg = prepared.msg
        assert msg is not None
        for attempt in (1, 2):
            savepoint = session.begin_nested()
            try:
                # the second attempt asks the store for everything, as a batch of one would
                ctx = self._steps(session, prepared, source=source, batch=batch if attempt == 1 else None)
                if ctx.kind == "duplicate":
                    savepoint.rollback()
                else:
                    savepoint.commit()
                return ctx
            except IntegrityError:
                savepoint.rollback()
                batch.forget(msg)
                # Another process logged the same message between our dedupe and now ...
                found = self._already_logged(session, msg)
                if found is not None:
                    outcomes[index] = found
                    return None
                if attempt == 1:
                    continue  # ... or wrote a row (a correspondent) the batch's caches did not know
                log.error("store refused message %s from %s (integrity error)", msg.message_id, source)
                held.append((index, "the store refused the message (integrity error)"))
            except Exception as err:
                savepoint.rollback()
                batch.forget(msg)
                _log_fault(f"intake failed on message {msg.message_id} from %s", source, err)
                held.append((index, f"intake failed: {describe(err)}"))
                return None
        return None

    def _steps(self, session: Session, prepared: Prepared, *, source: str, batch: Batch | None) -> Context:
        assert prepared.msg is not None
        ctx = Context(
            settings=self.settings,
            session=session,
            msg=prepared.msg,
            prepared=prepared,
            source=source,
            classifier_factory=lambda: self.classifier(session),
            batch=batch,
        )
        for _name, step in self.steps:
            step.run(ctx)
            if ctx.done:
                break
        if not ctx.kind:
            raise RuntimeError("no step logged the message")  # never lose it: quarantine
        return ctx

    def _already_logged(self, session: Session, msg: ParsedMessage) -> Outcome | None:
        query = select(Message.id, Message.case_id).where(Message.raw_sha256 == msg.raw_sha256)  # type: ignore[call-overload]
        row = session.execute(query).first()
        if row is None:
            return None
        case = session.get(Case, row.case_id) if row.case_id else None
        return Outcome("duplicate", case.reference if case else None, row.id, "already logged")

    def _shunt(self, raw: bytes, *, reason: str, source: str) -> Outcome:
        pk = quarantine.hold(self.engine, raw=raw, reason=reason, source=source)
        return Outcome("quarantined", None, None, f"{reason} (quarantine #{pk})")


def _id(prepared: Prepared) -> str | None:
    return prepared.msg.message_id if prepared.msg is not None else None


def describe(err: BaseException) -> str:
    """The error for the quarantine's reason, without the SQL parameters (a body, an address)."""
    if isinstance(err, StatementError) and err.orig is not None:
        first_line = str(err.orig).strip().splitlines()[0] if str(err.orig).strip() else ""
        return f"{type(err.orig).__name__}: {first_line}"[:1900]
    return f"{type(err).__name__}: {err}"[:1900]


def _log_fault(message: str, source: str, err: BaseException) -> None:
    """Log a fault with where it happened but not its text, which may quote the mail."""
    frames = "".join(traceback.format_tb(err.__traceback__))
    log.error(message + ": %s\nTraceback (most recent call last):\n%s", source, type(err).__name__, frames)
