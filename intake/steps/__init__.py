"""The intake steps, one module each, and the :class:`Context` they pass along.

A step is a module with a ``NAME``, a one-line ``DESCRIPTION`` and ``run(ctx)``. It reads the
parsed message and what earlier steps decided from the context, and writes its own decision
back. A step that settles the message's fate (a duplicate, say) calls :meth:`Context.finish`,
and the pipeline runs no further steps. Steps flush but never commit: the pipeline owns the
transaction, so a message is stored with everything it caused, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session

from casework.settings import Settings
from intake.message import Classification, ParsedMessage
from store.models import Case, Message


class ClassifierLike(Protocol):
    def classify(
        self, msg: ParsedMessage, *, campaign_senders: int = 0, campaign_min_senders: int = 3
    ) -> Classification: ...


@dataclass
class Context:
    settings: Settings
    session: Session
    msg: ParsedMessage
    source: str
    #: gives the classifier (loaded on first use, so duplicates and replies never load it)
    classifier_factory: Callable[[], ClassifierLike] | None = None
    #: the case this message belongs to (found by threading, a campaign, or opened by ``store``)
    case: Case | None = None
    #: why it joined ``case`` ("In-Reply-To", "reference in subject", "sent twice", "campaign")
    joined_by: str = ""
    #: the automatic-mail reason (out-of-office, bounce, …) or None for mail from a person
    automatic: str | None = None
    classification: Classification | None = None
    campaign_senders: int = 0
    #: campaign fingerprint bands of the text, stored with the message by ``store``
    bands: list[str] = field(default_factory=list)
    message: Message | None = None
    opened: bool = False
    kind: str = ""
    reason: str = ""
    done: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def finish(self, kind: str, reason: str) -> None:
        """Settle the message's fate; later steps are skipped."""
        self.kind, self.reason, self.done = kind, reason, True
