"""The intake steps, one module each, and the :class:`Context` they pass along.

A step is a module with a ``NAME``, a one-line ``DESCRIPTION`` and ``run(ctx)``. It reads the
parsed message and what earlier steps decided from the context, and writes its own decision
back. A step that settles the message's fate (a duplicate, say) calls :meth:`Context.finish`,
and the pipeline runs no further steps. Steps flush but never commit: the pipeline owns the
transaction, so a message is stored with everything it caused, or not at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session

from casework.settings import Settings
from intake.message import Classification, ParsedMessage

if TYPE_CHECKING:
    from intake.prepare import Prepared
from store.cases import OpenedCase
from store.models import Case, Message
from store.pending import PendingRows, Slot
from store.references import ReferenceBlocks


class ClassifierLike(Protocol):
    def classify(
        self, msg: ParsedMessage, *, campaign_senders: int = 0, campaign_min_senders: int = 3
    ) -> Classification: ...


@dataclass
class Batch:
    """What the messages of one batch (one transaction) share, to save round trips.

    Filled once per batch by :meth:`prefetch` (two queries for the whole batch) and kept up to
    date as each message is stored, so that messages of one batch still see each other. It only
    ever lets a step *skip* a query whose answer is known to be empty; when in doubt the step
    asks the store as before. :meth:`forget` drops what a rolled-back message may have added.
    """

    #: raw SHA-256s and Message-IDs that may be logged (found at the start, or seen since)
    seen_hashes: set[str] = field(default_factory=set)
    seen_ids: set[str] = field(default_factory=set)
    #: sender addresses with no correspondent row (so nothing of theirs to thread onto)
    unknown_senders: set[str] = field(default_factory=set)
    #: correspondents looked up or created in this transaction: email → (id or slot, name)
    correspondents: dict[str, tuple[int | Slot, str]] = field(default_factory=dict)
    #: lower-cased addresses with no correspondent row yet (created without looking first)
    no_correspondent: set[str] = field(default_factory=set)
    #: new rows held back and written together (None: every row is written at once); see
    #: :mod:`store.pending`. Only the optimistic pass holds rows back: with a SAVEPOINT per
    #: message each message's rows must be written inside its own savepoint.
    pending: PendingRows | None = None
    #: reference numbers claimed ahead for ``pending``'s new cases
    references: ReferenceBlocks | None = None
    #: band key → stored messages, read once for the batch's keys and kept up to date as bands
    #: are written (None: the campaign step asks the store for each message)
    bands: dict[str, list[int]] | None = None
    _shared_bands: set[str] = field(default_factory=set)

    def hold_back(self, session: Session, settings: Settings, *, size: int, band_keys: Iterable[str]) -> None:
        """Hold new rows back until :meth:`sync` or :meth:`finish` (the optimistic pass).

        ``size`` messages are in the batch; the stored messages of their ``band_keys`` are read
        at once.
        """
        from intake import campaigns

        self.pending = PendingRows()
        self.references = ReferenceBlocks(settings.reference_prefix, size)
        counts = Counter(band_keys)
        self.bands = campaigns.band_index(session, counts)
        # a band written now matters only to a later message of the batch with the same band
        self._shared_bands = {key for key, count in counts.items() if count > 1}

    def sync(self, session: Session) -> None:
        """Write the held-back rows, so that a query sees them."""
        if self.pending:
            self.wrote_bands(self.pending.flush(session))

    def wrote_bands(self, written: list[tuple[str, int]]) -> None:
        """Fingerprint bands written in this transaction: later messages must find them."""
        if self.bands is not None:
            shared = self._shared_bands
            for band, message_pk in written:
                if band in shared:
                    self.bands.setdefault(band, []).append(message_pk)

    def finish(self, session: Session) -> None:
        """Write everything held back and give back unused reference numbers (before commit)."""
        self.sync(session)
        if self.references is not None:
            self.references.give_back(session)

    def prefetch(self, session: Session, messages: list[ParsedMessage]) -> None:
        from sqlalchemy import or_, select

        from store.models import Correspondent

        hashes = {m.raw_sha256 for m in messages}
        ids = {m.message_id for m in messages if m.message_id}
        condition = Message.raw_sha256.in_(hashes)  # type: ignore[attr-defined]
        if ids:
            condition = or_(condition, Message.message_id.in_(ids))  # type: ignore[union-attr]
        query = select(Message.raw_sha256, Message.message_id).where(condition)  # type: ignore[call-overload]
        for sha, message_id in session.execute(query):
            self.seen_hashes.add(sha)
            if message_id:
                self.seen_ids.add(message_id)
        senders = {m.from_addr for m in messages if m.from_addr}
        if senders:
            emails = senders | {s.strip().lower() for s in senders}
            known = {
                row.email: row
                for row in session.execute(
                    select(Correspondent.id, Correspondent.email, Correspondent.name).where(  # type: ignore[call-overload]
                        Correspondent.email.in_(emails)  # type: ignore[attr-defined]
                    )
                )
            }
            self.unknown_senders = {s for s in senders if s not in known}
            self.correspondents = {email: (row.id, row.name) for email, row in known.items()}
            self.no_correspondent = {s.strip().lower() for s in senders} - set(known)

    def may_be_logged(self, msg: ParsedMessage) -> bool:
        return msg.raw_sha256 in self.seen_hashes or bool(msg.message_id and msg.message_id in self.seen_ids)

    def logged(self, msg: ParsedMessage, sender: str | None) -> None:
        """``msg`` went through (stored, or found a duplicate): later messages must look for it."""
        self.seen_hashes.add(msg.raw_sha256)
        if msg.message_id:
            self.seen_ids.add(msg.message_id)
        if sender is not None:
            self.unknown_senders.discard(sender)
        self.unknown_senders.discard(msg.from_addr)

    def forget(self, msg: ParsedMessage) -> None:
        """``msg`` was rolled back: whatever it created is gone, so stop relying on the caches."""
        self.logged(msg, None)  # harmless: only makes later steps ask the store
        self.correspondents.clear()
        self.no_correspondent.clear()


@dataclass
class Context:
    settings: Settings
    session: Session
    msg: ParsedMessage
    source: str
    #: gives the classifier (loaded on first use, so duplicates and replies never load it)
    classifier_factory: Callable[[], ClassifierLike] | None = None
    #: the case this message belongs to (found by threading or a campaign)
    case: Case | None = None
    #: the case ``store`` opened for this message (its rows held back with the batch's)
    new_case: OpenedCase | None = None
    #: why it joined ``case`` ("In-Reply-To", "reference in subject", "sent twice", "campaign")
    joined_by: str = ""
    #: the automatic-mail reason (out-of-office, bounce, …) or None for mail from a person
    automatic: str | None = None
    classification: Classification | None = None
    campaign_senders: int = 0
    #: campaign fingerprint bands of the text, stored with the message by ``store``
    bands: list[str] = field(default_factory=list)
    opened: bool = False
    kind: str = ""
    reason: str = ""
    done: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: shared by the messages of one batch (None: ask the store for everything)
    batch: Batch | None = None
    #: what was worked out ahead from the raw bytes alone (:mod:`intake.prepare`)
    prepared: Prepared | None = None

    def sync(self) -> None:
        """Before a query that could see them: write the rows the batch holds back."""
        if self.batch is not None:
            self.batch.sync(self.session)

    @property
    def reference(self) -> str | None:
        """The reference of the case the message is on (found, or opened for it)."""
        case = self.case or self.new_case
        return case.reference if case is not None else None

    def finish(self, kind: str, reason: str) -> None:
        """Settle the message's fate; later steps are skipped."""
        self.kind, self.reason, self.done = kind, reason, True
