"""Re-categorisation proposed by later mail: recorded, put to a caseworker, decided by a person.

A reply on a correspondence case may turn it into a complaint ("I still want my complaint about
PC X looked at"). Intake never changes a case's category on its own: it records the proposal in
the case's history and queues a ``slack.proposal`` outbox row (one per case and category). A
caseworker's click accepts it, through :func:`store.cases.set_category`, with the reply as the
label the classifier learns from; declining it is learnt too (the reply, labelled with the case's
own category). No new table: the proposal is a history note, the prompt an outbox row.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from casework.settings import Settings
from store.cases import CaseError, record_event, set_category
from store.enums import Category, EventKind
from store.models import Case, ClassifierLabel, Message, OutboxItem
from store.outbox import enqueue

KIND = "slack.proposal"
#: the history note's ``new_value`` prefix, so a proposal can be told from other notes
PROPOSED = "proposed:"


def key(reference: str, category: str) -> str:
    return f"proposal:{reference}:{category}"


def propose(
    session: Session,
    *,
    case: Case,
    category: Category | str,
    message_pk: int,
    text: str,
    reasons: list[str],
    confidence: float,
) -> bool:
    """Record that ``message_pk`` (whose own words are ``text``) makes ``case`` look like
    ``category`` and queue the Slack prompt.

    False (nothing recorded) when the case is already of that category or was proposed it before.
    """
    category = Category(category)
    if case.category == category.value:
        return False
    payload = {
        "reference": case.reference,
        "category": category.value,
        "message_pk": message_pk,
        "text": text[:4000],
        "reasons": reasons[:5],
        "confidence": confidence,
    }
    if not enqueue(session, key=key(case.reference, category.value), kind=KIND, payload=payload,
                   case_id=case.id):  # fmt: skip
        return False
    record_event(
        session,
        case=case,
        kind=EventKind.NOTE,
        actor="intake",
        old=case.category,
        new=PROPOSED + category.value,
        note=(
            f"a later message reads as {category.label.lower()}; asked a caseworker to decide: "
            + "; ".join(reasons[:3])
        )[:2000],
    )
    return True


def proposal(session: Session, *, reference: str, category: str) -> dict[str, Any] | None:
    """The payload of the proposal queued for ``reference`` (None when there was none)."""
    row = session.exec(select(OutboxItem).where(OutboxItem.key == key(reference, category))).first()
    return dict(row.payload or {}) if row is not None else None


def _label_text(session: Session, case: Case, category: str, message: Message) -> str:
    """What the classifier learns from: the reply's subject and the sender's own words (as intake
    read them when it proposed the change)."""
    found = proposal(session, reference=case.reference, category=category) or {}
    return f"{message.subject}\n\n{found.get('text') or message.body_text}".strip()


def accept(
    session: Session, *, case: Case, category: Category | str, message_pk: int | None, actor: str,
    settings: Settings,
) -> bool:  # fmt: skip
    """The caseworker's yes: re-categorise, learning from the reply. False if it already was."""
    message = session.get(Message, message_pk) if message_pk else None
    if message is not None and message.case_id != case.id:
        raise CaseError(f"That message is not on case {case.reference}.")
    changed = set_category(
        session,
        case=case,
        category=category,
        actor=actor,
        settings=settings,
        label_text=_label_text(session, case, Category(category).value, message)
        if message is not None
        else None,
        label_message_pk=message.id if message is not None else None,
    )
    if changed:
        record_event(session, case=case, kind=EventKind.NOTE, actor=actor,
                     note=f"accepted the proposal: {Category(category).label}")  # fmt: skip
    return changed


def decline(
    session: Session, *, case: Case, category: Category | str, message_pk: int | None, actor: str
) -> None:
    """The caseworker's no: the category stays; the reply is learnt as the case's own category."""
    category = Category(category)
    message = session.get(Message, message_pk) if message_pk else None
    if message is not None and message.case_id == case.id:
        session.add(
            ClassifierLabel(
                case_id=case.id,
                message_pk=message.id,
                category=case.category,
                predicted=category.value,
                text=_label_text(session, case, category.value, message),
                actor=actor,
            )
        )
    kept = Category(case.category).label
    note = f"declined the proposal: {category.label}; kept {kept}"
    record_event(session, case=case, kind=EventKind.NOTE, actor=actor, note=note)
