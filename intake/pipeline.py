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
from dataclasses import dataclass
from types import ModuleType

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from casework.settings import Settings
from intake import quarantine
from intake.message import ParsedMessage
from intake.parse import Unparseable, parse_message
from intake.steps import ClassifierLike, Context
from store.models import Case, ClassifierModel, Message

log = logging.getLogger(__name__)

#: The steps every message goes through, in order (parsing happens before, in ``process``).
STEPS: tuple[str, ...] = ("dedupe", "thread", "automatic", "campaign", "classify", "store", "acknowledge")

#: how often a running pipeline looks for a newer trained classifier model
MODEL_CHECK_SECONDS = 60.0

KINDS = ("opened", "attached", "automatic", "duplicate", "quarantined")


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
    ) -> None:
        self.settings = settings
        self.engine = engine
        #: a classifier given by the caller (tests, eval) is used as it is, never reloaded
        self._fixed_classifier = classifier
        self._classifier: ClassifierLike | None = None
        self._model_id: int | None = None
        self._model_checked_at = 0.0
        self.steps: list[tuple[str, ModuleType]] = [
            (name, importlib.import_module(f"intake.steps.{name}")) for name in steps
        ]

    # --- the public contract ---------------------------------------------------------------
    def process(self, raw: bytes, *, source: str) -> Outcome:
        """Log one message; the returned outcome is committed (or the message is quarantined)."""
        try:
            msg = self._parse(raw)
        except Unparseable as err:  # bad input from outside: logged briefly
            text = str(err)
            reason = text if text.startswith("not an email") else f"not an email: {text}"
            log.warning("quarantined message from %s: %s", source, reason)
            return self._shunt(raw, reason=reason, source=source)
        except Exception as err:  # a fault in the parser: logged with its traceback
            _log_fault("the parser failed on a message from %s", source, err)
            return self._shunt(raw, reason=f"the parser failed: {describe(err)}", source=source)
        try:
            return self._run(msg, source=source)
        except IntegrityError:
            # Another process logged the same message between our dedupe and our commit.
            found = self._already_logged(msg)
            if found is not None:
                return found
            log.error("store refused message %s from %s (integrity error)", msg.message_id, source)
            return self._shunt(raw, reason="the store refused the message (integrity error)", source=source)
        except Exception as err:
            _log_fault(f"intake failed on message {msg.message_id} from %s", source, err)
            return self._shunt(raw, reason=f"intake failed: {describe(err)}", source=source)

    # --- inside ----------------------------------------------------------------------------
    def _parse(self, raw: bytes) -> ParsedMessage:
        msg = parse_message(raw, attachment_max_bytes=self.settings.attachment_max_bytes)
        # PostgreSQL text cannot hold NUL characters, which broken mail sometimes carries
        for name in ("subject", "from_name", "body_text"):
            value = getattr(msg, name)
            if "\x00" in value:
                setattr(msg, name, value.replace("\x00", "\ufffd"))
        for info in msg.attachments:
            info.filename = info.filename.replace("\x00", "\ufffd")
        return msg

    def classifier(self, session: Session) -> ClassifierLike:
        """The classifier of the store's newest model (or the built-in one).

        A long-running poller must pick up a model retrained by the scheduler or on demand, so
        the newest model's id is looked up again every ``MODEL_CHECK_SECONDS``.
        """
        if self._fixed_classifier is not None:
            return self._fixed_classifier
        now = time.monotonic()
        if self._classifier is None or now - self._model_checked_at >= MODEL_CHECK_SECONDS:
            newest = session.execute(select(func.max(ClassifierModel.id))).scalar_one_or_none()  # type: ignore[arg-type]
            self._model_checked_at = now
            if self._classifier is None or newest != self._model_id:
                from intake.classify import load_classifier

                self._classifier = load_classifier(session, self.settings)
                self._model_id = newest
        return self._classifier

    def _run(self, msg: ParsedMessage, *, source: str) -> Outcome:
        with Session(self.engine, expire_on_commit=False) as session:
            ctx = Context(
                settings=self.settings,
                session=session,
                msg=msg,
                source=source,
                classifier_factory=lambda: self.classifier(session),
            )
            for _name, step in self.steps:
                step.run(ctx)
                if ctx.done:
                    break
            if not ctx.kind:
                raise RuntimeError("no step logged the message")  # never lose it: quarantine
            if ctx.kind == "duplicate":
                session.rollback()
            else:
                session.commit()
            outcome = Outcome(
                kind=ctx.kind,
                case_reference=ctx.case.reference if ctx.case is not None else None,
                message_pk=ctx.message.id if ctx.message is not None else ctx.extra.get("message_pk"),
                reason=ctx.reason,
            )
        log.info(
            "message %s from %s: %s %s", msg.message_id, source, outcome.kind, outcome.case_reference or ""
        )
        return outcome

    def _already_logged(self, msg: ParsedMessage) -> Outcome | None:
        with Session(self.engine) as session:
            query = select(Message.id, Message.case_id).where(Message.raw_sha256 == msg.raw_sha256)  # type: ignore[call-overload]
            row = session.execute(query).first()
            if row is None:
                return None
            case = session.get(Case, row.case_id) if row.case_id else None
            return Outcome("duplicate", case.reference if case else None, row.id, "already logged")

    def _shunt(self, raw: bytes, *, reason: str, source: str) -> Outcome:
        pk = quarantine.hold(self.engine, raw=raw, reason=reason, source=source)
        return Outcome("quarantined", None, None, f"{reason} (quarantine #{pk})")


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
