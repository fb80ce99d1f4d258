"""Opening cases and changing them, with every change written to the case's history.

All writes to a case go through these functions so that the history (who, what, when) is
complete: a Board report "as at" a past date is read from it, and so is Slack's case view.
They flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, SQLModel

from casework.settings import Settings
from store.enums import Category, EventKind, Stage, Status
from store.messages import first_message
from store.models import Case, CaseEvent, CaseParticipant, ClassifierLabel, Correspondent
from store.pending import PendingRows, Slot, resolve
from store.references import ReferenceBlocks, claim_reference
from store.types import utcnow
from store.workdays import LONDON, calendar, local_date


class CaseError(ValueError):
    """A request about a case that cannot be carried out (unknown reference, bad value)."""


def get_or_create_correspondent(session: Session, *, email: str, name: str = "") -> Correspondent:
    """The correspondent with this address (lower-cased), created if new; see :func:`correspondent_id`."""
    pk = correspondent_id(session, email=email, name=name)
    found = session.get(Correspondent, pk, populate_existing=True)
    assert found is not None
    return found


def insert_row(session: Session, row: SQLModel) -> int:
    """Write ``row`` with one Core ``INSERT … RETURNING id`` (no ORM flush); its id is set.

    The object stays outside the session (nothing tracks it); the row is in the session's
    transaction like any other write, so a query later in it sees the row.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    names = _column_names(table)
    pk = insert_values(session, type(row), {name: getattr(row, name) for name in names})
    row.id = pk  # type: ignore[attr-defined]
    return pk


def insert_values(session: Session, model: type[SQLModel], values: dict[str, Any]) -> int:
    """Insert one row of ``model`` from plain ``values`` (every column but ``id``); its id.

    No model object is built (validating one costs more than the insert): the statement is
    built once per table and run on the session's connection, past the ORM's execute path.
    """
    table = model.__table__  # type: ignore[attr-defined]
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = insert(table).returning(table.c.id)
    return int(session.connection().execute(stmt, values).scalar_one())


_INSERTS: dict[Any, Any] = {}


def _column_names(table: Any) -> list[str]:
    return [column.name for column in table.columns if column.name != "id"]


def correspondent_id(
    session: Session,
    *,
    email: str,
    name: str = "",
    known: dict[str, tuple[int | Slot, str]] | None = None,
    absent: set[str] | None = None,
    pending: PendingRows | None = None,
) -> int | Slot:
    """:func:`get_or_create_correspondent`'s id in one or two Core statements.

    ``known`` (email → id and name) caches correspondents already looked up or created by the
    caller's transaction, and ``absent`` holds addresses known to have no row yet (no need to
    look); the same rules apply (a name is filled in only when there was none). With
    ``pending`` a new correspondent is held there and its slot returned instead of an id.
    """
    email = email.strip().lower()
    found = known.get(email) if known is not None else None
    if found is None and absent is not None and email in absent:
        absent.discard(email)
    elif found is None:
        row = session.execute(
            select(Correspondent.id, Correspondent.name).where(Correspondent.email == email)  # type: ignore[call-overload]
        ).first()
        found = (row.id, row.name) if row is not None else None
    if found is None:
        values = {"email": email, "name": name[:300], "created_at": utcnow()}
        if pending is not None:
            pk: int | Slot = pending.add(Correspondent, values)
        else:
            pk = insert_values(session, Correspondent, values)
        found = (pk, name[:300])
    elif name and not found[1]:
        pk = found[0]
        if isinstance(pk, Slot):  # held back, no name yet: write it, then name it as any other
            assert pending is not None
            pending.flush(session)
            pk = resolve(pk)
        session.execute(update(Correspondent).where(Correspondent.id == pk).values(name=name[:300]))  # type: ignore[arg-type]
        found = (pk, name[:300])
    if known is not None:
        known[email] = found
    return found[0]


def open_case_quick(
    session: Session,
    *,
    settings: Settings,
    category: Category | str,
    received_at: datetime,
    subject: str = "",
    correspondent_id: int | None = None,
    confidence: float | None = None,
    reasons: list[str] | None = None,
    needs_triage: bool = False,
    actor: str = "intake",
    reference: str | None = None,
) -> Case:
    """:func:`open_case` in four Core statements (reference, case, history, participant).

    The returned case is not in the session (load it with ``session.get`` to change it); its
    history and participant rows are the same as :func:`open_case` writes.
    """
    received_on = local_date(received_at)
    reference = reference or claim_reference(session, prefix=settings.reference_prefix, year=received_on.year)
    values = _case_values(settings, reference, category, received_at, subject, correspondent_id,
                          confidence, reasons, needs_triage)  # fmt: skip
    case = Case(**values)
    insert_row(session, case)
    for model, row in _opening_rows(values, actor, correspondent_id, case_id=case.id):
        insert_values(session, model, row)
    return case


@dataclass
class OpenedCase:
    """What the opener of a case held back in :class:`PendingRows` reads of it.

    Not a :class:`Case`: building a table model object costs more than writing its row, and
    nobody changes this case before the batch is written. ``id`` is set then.
    """

    reference: str
    category: str
    received_on: date
    due_on: date
    id: int | None = None


def open_case_pending(
    session: Session,
    pending: PendingRows,
    references: ReferenceBlocks,
    *,
    settings: Settings,
    category: Category | str,
    received_at: datetime,
    subject: str = "",
    correspondent_id: int | Slot | None = None,
    confidence: float | None = None,
    reasons: list[str] | None = None,
    needs_triage: bool = False,
    actor: str = "intake",
    linked_to: tuple[int, str] | None = None,
) -> tuple[OpenedCase, Slot]:
    """:func:`open_case_quick` with its rows held in ``pending`` (written at its next flush).

    The case's reference is taken at once from ``references``; its id is in the returned slot
    (and on the returned case) once ``pending`` is flushed.
    """
    received_on = local_date(received_at)
    reference = references.take(session, year=received_on.year)
    values = _case_values(settings, reference, category, received_at, subject, correspondent_id,
                          confidence, reasons, needs_triage)  # fmt: skip
    if linked_to is not None:  # (id, reference) of the case this one is linked to
        values["linked_case_id"] = linked_to[0]
    opened = OpenedCase(reference, values["category"], values["received_on"], values["due_on"])
    slot = pending.add(Case, values, target=opened)
    for model, row in _opening_rows(values, actor, correspondent_id, case_id=slot):
        pending.add(model, row)
    if linked_to is not None:
        pending.add(CaseEvent, {"case_id": slot, "at": values["received_at"], "actor": actor,
                                "kind": EventKind.LINK.value, "old_value": None, "new_value": linked_to[1],
                                "note": "names this case's reference, from someone not on it"})  # fmt: skip
    return opened, slot


def _case_values(
    settings: Settings,
    reference: str,
    category: Category | str,
    received_at: datetime,
    subject: str,
    correspondent_id: int | Slot | None,
    confidence: float | None,
    reasons: list[str] | None,
    needs_triage: bool,
) -> dict[str, Any]:
    """Every column of a new case's row but ``id``."""
    category = Category(category)
    received_on = local_date(received_at)
    now = utcnow()
    return {
        "reference": reference,
        "category": category.value,
        "status": Status.OPEN.value,
        "received_at": received_at,
        "received_on": received_on,
        "due_on": due_on_for(settings, category=category.value, received_on=received_on),
        "closed_at": None,
        "closed_on": None,
        "days_taken": None,
        "working_days_taken": None,
        "status_changed_at": received_at,
        "correspondent_id": correspondent_id,
        "subject": subject[:1000],
        "assignee": None,
        "campaign_id": None,
        "linked_case_id": None,
        "confidence": confidence,
        "reasons": list(reasons or []),
        "needs_triage": needs_triage,
        "slack_channel": None,
        "slack_ts": None,
        "created_at": now,
        "updated_at": now,
        "stage": Stage.NEW.value,
        "responded_at": None,
        "drafts": 0,
    }


def _opening_rows(
    case: dict[str, Any], actor: str, correspondent_id: int | Slot | None, *, case_id: int | Slot | None
) -> list[tuple[type[SQLModel], dict[str, Any]]]:
    """The history and participant rows that come with a new case (``case``: its row)."""
    event = {"case_id": case_id, "at": case["received_at"], "actor": actor, "kind": EventKind.CREATED.value,
             "old_value": None, "new_value": Status.OPEN.value, "note": ""}  # fmt: skip
    rows: list[tuple[type[SQLModel], dict[str, Any]]] = [(CaseEvent, event)]
    if correspondent_id is not None:
        participant = {"case_id": case_id, "correspondent_id": correspondent_id, "joined_at": utcnow()}
        rows.append((CaseParticipant, participant))
    return rows


def due_on_for(settings: Settings, *, category: str, received_on: date) -> date:
    # ``calendar`` is cached per set of closure days: building its index costs more than a case
    return calendar(settings.closure_dates).due_date(received_on, settings.deadline_days(category))


def record_event(
    session: Session,
    *,
    case: Case,
    kind: EventKind,
    actor: str,
    old: str | None = None,
    new: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CaseEvent:
    assert case.id is not None, "flush the case before recording its history"
    event = CaseEvent(
        case_id=case.id,
        at=at or utcnow(),
        actor=actor,
        kind=kind.value,
        old_value=old,
        new_value=new,
        note=note,
    )
    session.add(event)
    return event


def add_participant(session: Session, *, case: Case, correspondent: Correspondent) -> bool:
    """Put ``correspondent`` on ``case``; False when they were on it already."""
    exists = session.execute(
        select(CaseParticipant.id).where(  # type: ignore[call-overload]
            CaseParticipant.case_id == case.id,  # type: ignore[arg-type]
            CaseParticipant.correspondent_id == correspondent.id,  # type: ignore[arg-type]
        )
    ).first()
    if exists:
        return False
    assert case.id is not None and correspondent.id is not None
    session.add(CaseParticipant(case_id=case.id, correspondent_id=correspondent.id))
    return True


def open_case(
    session: Session,
    *,
    settings: Settings,
    category: Category | str,
    received_at: datetime,
    subject: str = "",
    correspondent: Correspondent | None = None,
    confidence: float | None = None,
    reasons: list[str] | None = None,
    needs_triage: bool = False,
    actor: str = "intake",
    reference: str | None = None,
) -> Case:
    """Log a new case, due on the 20th working day (by category policy) after its receipt."""
    quick = open_case_quick(
        session,
        settings=settings,
        category=category,
        received_at=received_at,
        subject=subject,
        correspondent_id=correspondent.id if correspondent is not None else None,
        confidence=confidence,
        reasons=reasons,
        needs_triage=needs_triage,
        actor=actor,
        reference=reference,
    )
    case = session.get(Case, quick.id)
    assert case is not None
    return case


def set_status(
    session: Session,
    *,
    case: Case,
    status: Status | str,
    actor: str,
    at: datetime | None = None,
    note: str = "",
    settings: Settings | None = None,
) -> bool:
    """Move ``case`` to ``status``; closing records how long it took, re-opening clears that.

    The case's lifecycle stage follows, so that status and stage never disagree: a stage
    inside the new status is kept, otherwise the case takes the status's first stage (the
    triage buttons' *Closed* closes the stage too; see :meth:`store.enums.Stage.for_status`).
    """
    status = Status(status)
    if case.status == status.value:
        return False
    at = at or utcnow()
    old = case.status
    case.status = status.value
    case.status_changed_at = at
    if status is Status.CLOSED:
        closures = settings.closure_dates if settings else frozenset()
        case.closed_at = at
        case.closed_on = local_date(at)
        case.days_taken = (case.closed_on - case.received_on).days
        case.working_days_taken = calendar(closures).working_days_between(case.received_on, case.closed_on)
    else:
        case.closed_at = case.closed_on = case.days_taken = case.working_days_taken = None
    case.updated_at = utcnow()
    session.add(case)
    record_event(
        session, case=case, kind=EventKind.STATUS, actor=actor, old=old, new=status.value, note=note, at=at
    )
    stage = Stage.for_status(status, case.stage)
    if stage.value != case.stage:
        old_stage, case.stage = case.stage, stage.value
        record_event(session, case=case, kind=EventKind.STAGE, actor=actor, old=old_stage, new=stage.value,
                     note=note, at=at)  # fmt: skip
    return True


def redate_closure(
    session: Session, *, case: Case, at: datetime, actor: str, note: str, settings: Settings | None = None
) -> bool:
    """Date a closed case's closure ``at`` (when its final reply went out, found after it was closed).

    The closure times the Board counts follow; one history row says so. False when the case
    is not closed, or ``at`` is not earlier than its closure or before its receipt.
    """
    if case.status != Status.CLOSED.value or case.closed_at is None:
        return False
    if not case.received_at <= at < case.closed_at:
        return False
    old = case.closed_at
    closures = settings.closure_dates if settings else frozenset()
    case.closed_at = case.status_changed_at = at
    case.closed_on = local_date(at)
    case.days_taken = (case.closed_on - case.received_on).days
    case.working_days_taken = calendar(closures).working_days_between(case.received_on, case.closed_on)
    case.updated_at = utcnow()
    session.add(case)
    note = f"{note} (closure re-dated from {old:%Y-%m-%d %H:%M})"
    closed = Status.CLOSED.value
    record_event(
        session, case=case, kind=EventKind.STATUS, actor=actor, old=closed, new=closed, note=note, at=at
    )
    return True


def set_category(
    session: Session,
    *,
    case: Case,
    category: Category | str,
    actor: str,
    settings: Settings,
    label_text: str | None = None,
    label_message_pk: int | None = None,
) -> bool:
    """Re-categorise ``case``; a person's decision is also stored as a label the classifier learns from.

    The label is about the case's first message unless ``label_message_pk`` names another one
    (a reply that made the case a complaint).
    """
    category = Category(category)
    if case.category == category.value:
        return False
    old = case.category
    case.category = category.value
    from store.clocks import refresh  # the new period, with the case's clock events

    refresh(session, case=case, settings=settings)
    case.needs_triage = False
    case.updated_at = utcnow()
    session.add(case)
    record_event(session, case=case, kind=EventKind.CATEGORY, actor=actor, old=old, new=category.value)
    if label_text is not None:
        # The label points at the message it is about, so retraining can read it as the
        # classifier does (sender and recipient included), not only the text given here.
        first = first_message(session, case=case) if label_message_pk is None else None
        session.add(
            ClassifierLabel(
                case_id=case.id,
                message_pk=label_message_pk if label_message_pk is not None else first.id if first else None,
                category=category.value,
                predicted=old,
                text=label_text,
                actor=actor,
            )
        )
    return True


def assign(session: Session, *, case: Case, assignee: str | None, actor: str) -> bool:
    if case.assignee == assignee:
        return False
    old = case.assignee
    case.assignee = assignee
    case.updated_at = utcnow()
    session.add(case)
    record_event(session, case=case, kind=EventKind.ASSIGN, actor=actor, old=old, new=assignee)
    return True


def link(session: Session, *, case: Case, other: Case, actor: str) -> bool:
    if case.id == other.id:
        raise CaseError(f"{case.reference} cannot be linked to itself")
    if case.linked_case_id == other.id:
        return False
    case.linked_case_id = other.id
    case.updated_at = utcnow()
    session.add(case)
    record_event(session, case=case, kind=EventKind.LINK, actor=actor, new=other.reference)
    return True


def get_case(session: Session, reference: str) -> Case | None:
    return session.execute(
        select(Case).where(Case.reference == reference.strip().upper())  # type: ignore[arg-type]
    ).scalar_one_or_none()


def require_case(session: Session, reference: str) -> Case:
    case = get_case(session, reference)
    if case is None:
        raise CaseError(f"No case has the reference {reference!r}. Check it with `casework export cases`.")
    return case


def history(session: Session, *, case: Case) -> list[CaseEvent]:
    return list(
        session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)  # type: ignore[arg-type]
        ).scalars()
    )


@dataclass(frozen=True)
class Deadline:
    """Where a case stands against its due date, as a person would say it."""

    due_on: date
    working_days_left: int
    closures: tuple[date, ...]

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


def deadline(case: Case, *, today: date | None = None, settings: Settings | None = None) -> Deadline:
    today = today or datetime.now(LONDON).date()
    cal = calendar(settings.closure_dates if settings else frozenset())
    return Deadline(
        due_on=case.due_on,
        working_days_left=cal.working_days_left(today, case.due_on),
        closures=tuple(cal.closures_before(case.received_on, case.due_on)),
    )
