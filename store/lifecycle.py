"""The case lifecycle: stages and the one table of moves, notes, drafts, sign-off and dispatch.

A case keeps one of the Board's four statuses and, inside it, a finer :class:`Stage`. Every
move between stages is asked of :data:`MOVES` (as the MoJ correspondence tool asks its state
machine's YAML): the Slack buttons and the CLI offer what :func:`allowed_moves` gives and
never decide for themselves. Each move, note, draft, decision, reply and read of the case
file is one :class:`store.models.CaseEvent` row, never edited: the case's timeline, its
audit and the figures' source at once.

All functions take a session, flush but never commit (the caller owns the transaction), and
refuse what makes no sense with a :class:`LifecycleError` saying what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from casework.errors import UserError
from casework.settings import Settings
from store import audit
from store.cases import CaseError, record_event, redate_closure, set_status
from store.enums import Category, DraftState, EventKind, Stage, Status
from store.models import Case, CaseFile, Correspondent, Draft, Message, Note
from store.outbox import enqueue
from store.types import utcnow


class LifecycleError(CaseError):
    """A lifecycle request that cannot be carried out (a move that makes no sense, no draft)."""


class MoveRefused(LifecycleError):
    """The table of moves does not allow this move (or not without a reason)."""


# --- the one table of moves ------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One allowed move from a stage.

    ``needs_note``: the move must say why (kept in the event row). ``via``: the move is made
    only by that step of the lifecycle (``signoff``: asking for or giving sign-off), never by a
    plain stage change. ``unless_signoff``: refused when the case's category needs sign-off
    (a reply that needs it reaches *ready to send* only by being approved).
    """

    to: Stage
    needs_note: bool = False
    via: str = ""
    unless_signoff: bool = False


S = Stage
MOVES: dict[Stage, tuple[Move, ...]] = {
    S.NEW: (Move(S.ALLOCATED), Move(S.WITH_FORCE), Move(S.DRAFTING), Move(S.MONITORING), Move(S.CLOSED)),
    S.ALLOCATED: (Move(S.NEW), Move(S.WITH_FORCE), Move(S.DRAFTING), Move(S.MONITORING), Move(S.CLOSED)),
    S.WITH_FORCE: (Move(S.ALLOCATED), Move(S.DRAFTING), Move(S.MONITORING), Move(S.CLOSED)),
    S.DRAFTING: (
        Move(S.ALLOCATED),
        Move(S.WITH_FORCE),
        Move(S.AWAITING_SIGNOFF, via="signoff"),
        Move(S.READY_TO_SEND, unless_signoff=True),
        Move(S.MONITORING),
        Move(S.CLOSED),
    ),
    S.AWAITING_SIGNOFF: (
        # returned for redraft: always with the approver's reason
        Move(S.DRAFTING, needs_note=True),
        Move(S.READY_TO_SEND, via="signoff"),
        # answered some other way while the approvers had it (a reply sent from Outlook)
        Move(S.CLOSED, needs_note=True),
    ),
    S.READY_TO_SEND: (Move(S.DRAFTING, needs_note=True), Move(S.MONITORING), Move(S.CLOSED)),
    S.MONITORING: (Move(S.ALLOCATED), Move(S.WITH_FORCE), Move(S.DRAFTING), Move(S.CLOSED)),
    S.CLOSED: (
        Move(S.NEW, needs_note=True),
        Move(S.ALLOCATED, needs_note=True),
        Move(S.DRAFTING, needs_note=True),
    ),
}
del S


def rule(current: Stage | str, to: Stage | str) -> Move | None:
    """The row of :data:`MOVES` for ``current`` → ``to`` (None: not allowed)."""
    for candidate in MOVES[Stage(current)]:
        if candidate.to is Stage(to):
            return candidate
    return None


def allowed_moves(case: Case, settings: Settings | None = None) -> list[Stage]:
    """The stages a plain stage change may move ``case`` to now (sign-off steps excluded)."""
    signoff = needs_signoff(settings, case.category) if settings is not None else True
    return [m.to for m in MOVES[Stage(case.stage)] if not m.via and not (m.unless_signoff and signoff)]


def needs_note(case: Case, to: Stage | str) -> bool:
    found = rule(case.stage, to)
    return bool(found and found.needs_note)


def move(
    session: Session,
    *,
    case: Case,
    to: Stage | str,
    actor: str,
    note: str = "",
    settings: Settings,
    at: datetime | None = None,
    via: str = "",
) -> bool:
    """Move ``case`` to stage ``to`` (and its status with it); False when it is there already.

    One ``stage`` event row (from → to, the note); the status goes through
    :func:`store.cases.set_status`, so closing keeps the closure times the Board counts.
    ``via`` is for this module's sign-off steps only.
    """
    try:
        to = Stage(to)
    except ValueError:
        raise MoveRefused(
            f"{to!r} is not a stage; use one of: {', '.join(s.value for s in Stage)}."
        ) from None
    current = Stage(case.stage)
    if to is current:
        return False
    found = rule(current, to)
    if found is None or (found.via and found.via != via):
        raise MoveRefused(_refusal(case, current, to, settings, found))
    if found.unless_signoff and needs_signoff(settings, case.category):
        raise MoveRefused(
            f"{case.reference}'s reply needs sign-off ({Category(case.category).label}): "
            "request sign-off; an approver's approval makes it ready to send."
        )
    if found.needs_note and not note.strip():
        raise MoveRefused(
            f"Moving {case.reference} from {current.label.lower()} to {to.label.lower()} needs a reason; "
            "say why in the note."
        )
    if current in (Stage.AWAITING_SIGNOFF, Stage.READY_TO_SEND) and to is not Stage.CLOSED and not via:
        _withdraw(session, case, actor=actor, note=note.strip())
    _enter(session, case=case, to=to, actor=actor, note=note.strip(), settings=settings, at=at or utcnow())
    return True


def _enter(
    session: Session, *, case: Case, to: Stage, actor: str, note: str, settings: Settings, at: datetime
) -> None:
    """Put ``case`` in stage ``to``: one ``stage`` event row, and its status with it."""
    old = case.stage
    case.stage = to.value
    case.updated_at = utcnow()
    session.add(case)
    record_event(
        session, case=case, kind=EventKind.STAGE, actor=actor, old=old, new=to.value, note=note, at=at
    )
    set_status(session, case=case, status=to.status, actor=actor, at=at, note=note, settings=settings)
    session.flush()


def _withdraw(session: Session, case: Case, *, actor: str, note: str) -> None:
    """A draft taken back from the approvers (or an approval set aside) needs sign-off again."""
    draft = current_draft(session, case=case)
    if draft is not None and draft.state in (DraftState.AWAITING_SIGNOFF.value, DraftState.APPROVED.value):
        draft.state, draft.decided_by, draft.decided_at = DraftState.RETURNED.value, actor[:100], utcnow()
        draft.decision_note = note[:2000]
        session.add(draft)


def _refusal(case: Case, current: Stage, to: Stage, settings: Settings, found: Move | None) -> str:
    if found is not None and to is Stage.AWAITING_SIGNOFF:
        return f"{case.reference} goes to sign-off by *Request sign-off* (the draft goes to the approvers)."
    if found is not None and to is Stage.READY_TO_SEND:
        return f"{case.reference} is ready to send only once an approver approves the draft."
    options = ", ".join(s.value for s in allowed_moves(case, settings)) or "nowhere"
    return (
        f"{case.reference} is {current.label.lower()}: it cannot move to {to.label.lower()}. "
        f"From here it can go to: {options}."
    )


# --- notes and reads of the case file --------------------------------------------------------


def add_note(
    session: Session,
    *,
    case: Case,
    author: str,
    text: str,
    source: str = "slack",
    slack_ts: str | None = None,
) -> Note | None:
    """Record a note; None when the Slack message ``slack_ts`` is recorded already (a redelivery)."""
    text = text.strip()
    if not text:
        raise LifecycleError("A note needs some text.")
    assert case.id is not None
    if slack_ts is not None:
        exists = session.execute(
            select(Note.id).where(Note.case_id == case.id, Note.slack_ts == slack_ts)  # type: ignore[call-overload,arg-type]
        ).first()
        if exists:
            return None
    pk = _insert_once(
        session,
        Note(case_id=case.id, author=author[:100], text=text, source=source, slack_ts=slack_ts),
        ["case_id", "slack_ts"],
    )
    if pk is None:
        return None  # the same Slack message, recorded meanwhile by another delivery
    note = session.get(Note, pk)
    assert note is not None
    record_event(session, case=case, kind=EventKind.NOTE, actor=author, new=source, note=text[:2000])
    return note


def notes(session: Session, *, case: Case) -> list[Note]:
    query = select(Note).where(Note.case_id == case.id).order_by(Note.at, Note.id)  # type: ignore[arg-type]
    return list(session.execute(query).scalars())


#: the reads of the case file that are written to its log
VIEW_ACTIONS = (EventKind.VIEWED, EventKind.MESSAGE_READ, EventKind.ATTACHMENT_DOWNLOADED)


def record_view(
    session: Session, *, case: Case, actor: str, action: EventKind | str, detail: str = ""
) -> None:
    """Write a read of the case file (the case view, a letter, an attachment) to its log and to
    the audit trail (:mod:`store.audit`). ``detail`` names what was read by its id, never by
    its content: it goes into the audit, which keeps no personal data."""
    kind = EventKind(action)
    if kind not in VIEW_ACTIONS:
        raise LifecycleError(f"{action!r} is not a read of the case file.")
    record_event(session, case=case, kind=kind, actor=actor, new=detail[:200] or None)
    audit.record(session, actor=actor, action=kind.value, case=case, detail=_audit_detail(detail))


def _audit_detail(detail: str) -> str:
    return f"slack: {detail}" if detail else "slack"


# --- response templates and drafts -----------------------------------------------------------

DEFAULT_TEMPLATES = Path(__file__).parent / "templates" / "responses"
TEMPLATE_PLACEHOLDERS = ("name", "reference", "subject", "received_on", "due_on", "office_name", "category")


def template_dir(settings: Settings) -> Path:
    return Path(settings.response_template_dir) if settings.response_template_dir else DEFAULT_TEMPLATES


def template_path(settings: Settings, category: str) -> Path:
    """The office's ``<category>.txt``, else ``default.txt`` there, else the built-in one."""
    own = template_dir(settings)
    for candidate in (own / f"{category}.txt", own / "default.txt", DEFAULT_TEMPLATES / f"{category}.txt"):
        if candidate.is_file():
            return candidate
    return DEFAULT_TEMPLATES / "correspondence.txt"


def correspondent_of(session: Session, case: Case) -> Correspondent | None:
    return session.get(Correspondent, case.correspondent_id) if case.correspondent_id else None


def render_template(session: Session, *, case: Case, settings: Settings, name: str | None = None) -> str:
    """The response template for the case's category with its placeholders filled."""
    person = correspondent_of(session, case)
    values = {
        "name": name if name is not None else (person.name if person and person.name else "Sir or Madam"),
        "reference": case.reference,
        "subject": case.subject,
        "received_on": case.received_on.strftime("%-d %B %Y"),
        "due_on": case.due_on.strftime("%-d %B %Y"),
        "office_name": settings.office_name,
        "category": Category(case.category).label,
    }
    path = template_path(settings, case.category)
    try:
        return path.read_text(encoding="utf-8").format(**values)
    except OSError as err:
        raise UserError(
            f"Cannot read the response template {path}: {err.strerror}. "
            "Check CASEWORK_RESPONSE_TEMPLATE_DIR, or unset it to use the built-in templates."
        ) from err
    except (KeyError, IndexError, ValueError) as err:
        raise UserError(
            f"The response template {path} uses an unknown placeholder or a stray brace ({err}). "
            f"Use only {{{'}, {'.join(TEMPLATE_PLACEHOLDERS)}}}; write {{{{ and }}}} for literal braces."
        ) from err


def default_subject(case: Case) -> str:
    subject = case.subject.strip() or "your message"
    if case.reference not in subject:
        subject = f"[{case.reference}] {subject}"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def current_draft(session: Session, *, case: Case) -> Draft | None:
    query = select(Draft).where(Draft.case_id == case.id).order_by(Draft.version.desc()).limit(1)  # type: ignore[attr-defined,arg-type]
    return session.execute(query).scalar_one_or_none()


def drafts(session: Session, *, case: Case) -> list[Draft]:
    query = select(Draft).where(Draft.case_id == case.id).order_by(Draft.version)  # type: ignore[arg-type]
    return list(session.execute(query).scalars())


#: stages from which saving a draft moves the case to drafting by itself
_INTO_DRAFTING = (Stage.NEW, Stage.ALLOCATED, Stage.WITH_FORCE, Stage.MONITORING)


def save_draft(
    session: Session, *, case: Case, author: str, body: str, subject: str | None = None, settings: Settings
) -> Draft:
    """Save a new version of the reply (``case.drafts`` counts them); the case moves to drafting.

    Saving the same text again changes nothing. A draft with the approvers cannot be changed
    (they would approve a text that is no longer the one sent); an approved draft can, and the
    new version needs sign-off again.
    """
    stage = Stage(case.stage)
    if stage is Stage.CLOSED:
        raise LifecycleError(f"{case.reference} is closed: re-open it before drafting a reply.")
    if stage is Stage.AWAITING_SIGNOFF:
        raise LifecycleError(
            f"{case.reference}'s draft is with the approvers: wait for their decision, "
            "or have it returned for redraft, before changing it."
        )
    if not body.strip():
        raise LifecycleError("A draft needs some text.")
    subject = (subject or "").strip() or default_subject(case)
    current = current_draft(session, case=case)
    if (
        current is not None
        and current.state in (DraftState.DRAFT.value, DraftState.APPROVED.value)
        and current.body == body
        and current.subject == subject
    ):
        return current
    assert case.id is not None
    draft = Draft(
        case_id=case.id,
        version=(current.version + 1) if current else 1,
        subject=subject[:1000],
        body=body,
        author=author[:100],
    )
    session.add(draft)
    case.drafts = (case.drafts or 0) + 1
    session.add(case)
    session.flush()
    record_event(session, case=case, kind=EventKind.DRAFT, actor=author, new=f"v{draft.version}")
    if stage in _INTO_DRAFTING:
        move(session, case=case, to=Stage.DRAFTING, actor=author, settings=settings)
    elif stage is Stage.READY_TO_SEND:
        move(
            session,
            case=case,
            to=Stage.DRAFTING,
            actor=author,
            settings=settings,
            note=f"redrafted after sign-off (v{draft.version})",
        )
    session.flush()
    return draft


# --- sign-off ----------------------------------------------------------------------------------


def needs_signoff(settings: Settings | None, category: str) -> bool:
    """Whether a final reply in ``category`` needs sign-off (CASEWORK_SIGNOFF_CATEGORIES).

    Empty means every category; ``none`` means none.
    """
    if settings is None:
        return True
    listed = {c.strip().lower() for c in settings.signoff_categories if c.strip()}
    if not listed:
        return True
    if listed == {"none"}:
        return False
    return category in listed


def is_approver(settings: Settings, user_id: str) -> bool:
    """Whether ``user_id`` is listed in CASEWORK_APPROVERS itself (groups are the bot's to expand)."""
    return user_id in settings.approvers


def request_signoff(session: Session, *, case: Case, actor: str, settings: Settings) -> Draft:
    """Send the current draft to the approvers: one ``slack.signoff`` outbox row per approver entry."""
    draft = current_draft(session, case=case)
    if draft is None or draft.state not in (DraftState.DRAFT.value, DraftState.RETURNED.value):
        if draft is not None and draft.state == DraftState.AWAITING_SIGNOFF.value:
            raise LifecycleError(f"{case.reference}'s draft v{draft.version} is already with the approvers.")
        if draft is not None and draft.state == DraftState.APPROVED.value:
            raise LifecycleError(f"{case.reference}'s draft v{draft.version} is approved already: send it.")
        raise LifecycleError(f"{case.reference} has no draft to sign off: draft the reply first.")
    if draft.state == DraftState.RETURNED.value:
        raise LifecycleError(
            f"{case.reference}'s draft v{draft.version} was returned for redraft: save a new version first."
        )
    if not settings.approvers:
        raise LifecycleError(
            "Nobody can sign replies off: CASEWORK_APPROVERS is empty. "
            "Add the approvers' Slack user or group ids to it."
        )
    if Stage(case.stage) is not Stage.DRAFTING:
        move(session, case=case, to=Stage.DRAFTING, actor=actor, settings=settings)
    move(
        session,
        case=case,
        to=Stage.AWAITING_SIGNOFF,
        actor=actor,
        settings=settings,
        via="signoff",
        note=f"draft v{draft.version}",
    )
    draft.state = DraftState.AWAITING_SIGNOFF.value
    session.add(draft)
    record_event(
        session,
        case=case,
        kind=EventKind.SIGNOFF,
        actor=actor,
        new="requested",
        note=f"draft v{draft.version}",
    )
    for approver in settings.approvers:
        enqueue(
            session,
            key=f"signoff:{case.reference}:{draft.id}:{approver}",
            kind="slack.signoff",
            target=approver,
            payload={"reference": case.reference, "draft_id": draft.id, "approver": approver},
            case_id=case.id,
        )
    session.flush()
    return draft


def _awaiting(session: Session, case: Case) -> Draft:
    draft = current_draft(session, case=case)
    if (
        Stage(case.stage) is not Stage.AWAITING_SIGNOFF
        or draft is None
        or (draft.state != DraftState.AWAITING_SIGNOFF.value)
    ):
        raise LifecycleError(
            f"{case.reference} has no draft awaiting sign-off (it is {Stage(case.stage).label.lower()})."
        )
    return draft


def approve(session: Session, *, case: Case, actor: str, settings: Settings, note: str = "") -> Draft:
    """The approver's *Approve*: the draft is approved and the case ready to send."""
    draft = _awaiting(session, case)
    draft.state, draft.decided_by, draft.decided_at = DraftState.APPROVED.value, actor[:100], utcnow()
    draft.decision_note = note.strip()[:2000]
    session.add(draft)
    move(
        session,
        case=case,
        to=Stage.READY_TO_SEND,
        actor=actor,
        settings=settings,
        via="signoff",
        note=note.strip() or f"draft v{draft.version} approved",
    )
    record_event(
        session,
        case=case,
        kind=EventKind.SIGNOFF,
        actor=actor,
        new="approved",
        note=note.strip() or f"draft v{draft.version}",
    )
    session.flush()
    return draft


def return_for_redraft(session: Session, *, case: Case, actor: str, reason: str, settings: Settings) -> Draft:
    """The approver's *Return for redraft*, with the reason (required): the case goes back to drafting."""
    if not reason.strip():
        raise MoveRefused("Returning a draft for redraft needs a reason: say what should change.")
    draft = _awaiting(session, case)
    draft.state, draft.decided_by, draft.decided_at = DraftState.RETURNED.value, actor[:100], utcnow()
    draft.decision_note = reason.strip()[:2000]
    session.add(draft)
    move(session, case=case, to=Stage.DRAFTING, actor=actor, settings=settings, note=reason.strip())
    record_event(session, case=case, kind=EventKind.SIGNOFF, actor=actor, new="returned", note=reason.strip())
    session.flush()
    return draft


def _insert_once(session: Session, row: Note | CaseFile, keys: list[str]) -> int | None:
    """Insert ``row`` unless its unique ``keys`` are taken (``ON CONFLICT DO NOTHING``); its id or None.

    The check before it answers the common case; this answers two deliveries at once (two
    instances, or Slack retrying while the first is still being handled) on both databases,
    without a savepoint and without breaking the caller's transaction.
    """
    table = type(row).__table__  # type: ignore[attr-defined,union-attr]
    values = {c.name: getattr(row, c.name) for c in table.columns if c.name != "id"}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys).returning(table.c.id)
    pk = session.execute(stmt).scalar_one_or_none()
    return int(pk) if pk is not None else None


# --- the files of a reply ----------------------------------------------------------------------


def attach_file(
    session: Session,
    *,
    case: Case,
    filename: str,
    content_type: str,
    data: bytes,
    actor: str,
    source: str,
    slack_file_id: str | None = None,
) -> int:
    """Keep a file for the case's next reply; its id (the same file from Slack twice: one row)."""
    assert case.id is not None
    if slack_file_id:
        found = session.execute(
            select(CaseFile.id).where(CaseFile.case_id == case.id, CaseFile.slack_file_id == slack_file_id)  # type: ignore[call-overload,arg-type]
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
    row = CaseFile(
        case_id=case.id,
        filename=(filename or "attachment")[:500],
        content_type=(content_type or "application/octet-stream")[:200],
        size=len(data),
        content=data,
        actor=actor[:100],
        source=source[:16],
        slack_file_id=slack_file_id,
    )
    pk = _insert_once(session, row, ["case_id", "slack_file_id"])
    if pk is None:  # the same Slack file, attached meanwhile by another delivery
        found = session.execute(
            select(CaseFile.id).where(CaseFile.case_id == case.id, CaseFile.slack_file_id == slack_file_id)  # type: ignore[call-overload,arg-type]
        ).scalar_one()
        return int(found)
    row.id = pk
    record_event(session, case=case, kind=EventKind.FILE, actor=actor, new=row.filename[:200], note=source)
    assert row.id is not None
    return row.id


def pending_files(session: Session, *, case: Case) -> list[CaseFile]:
    """Files waiting for the next reply, oldest first."""
    query = (
        select(CaseFile)
        .where(CaseFile.case_id == case.id, CaseFile.message_pk.is_(None))  # type: ignore[arg-type,union-attr]
        .order_by(CaseFile.id)  # type: ignore[arg-type]
    )
    return list(session.execute(query).scalars())


# --- dispatch and captured replies -----------------------------------------------------------


def queue_reply(
    session: Session,
    *,
    case: Case,
    actor: str,
    body: str,
    settings: Settings,
    final: bool,
    attachments: list[int] | None = None,
    subject: str | None = None,
) -> list[Message]:
    """Dispatch a reply: one outgoing message and ``email.reply`` outbox row per recipient.

    See :func:`store.outgoing.queue_reply`.
    """
    from store.outgoing import queue_reply as queue

    return queue(
        session,
        case=case,
        actor=actor,
        body=body,
        settings=settings,
        final=final,
        attachments=attachments,
        subject=subject,
    )


def close_on_response(
    session: Session, *, case: Case, message_pk: int, actor: str, settings: Settings
) -> bool:
    """Close ``case`` as answered by the outgoing message ``message_pk`` (the close prompt's button).

    closed_at and (when unset) responded_at are that message's Date. False when the case is
    closed already (the prompt clicked twice).
    """
    message = session.get(Message, message_pk)
    if message is None or message.case_id != case.id or message.direction != "out":
        raise LifecycleError(f"Message {message_pk} is not a reply on {case.reference}.")
    at = message.sent_at or message.received_at
    if case.status == Status.CLOSED.value:
        # closed by hand meanwhile: the reply that went out dates the closure the Board counts
        if case.responded_at is not None:
            return False
        mark_responded(case, at)
        redate_closure(
            session, case=case, at=at, actor=actor, note=f"response sent on {at:%Y-%m-%d}", settings=settings
        )
        session.add(case)
        session.flush()
        return True
    mark_responded(case, at)
    force_close(
        session, case=case, actor=actor, settings=settings, at=at, note=f"response sent on {at:%Y-%m-%d}"
    )
    return True


def mark_responded(case: Case, at: datetime) -> None:
    """The first final reply's time is the case's ``responded_at``; later ones leave it."""
    if case.responded_at is None:
        case.responded_at = at


def force_close(
    session: Session, *, case: Case, actor: str, settings: Settings, at: datetime, note: str
) -> None:
    """Close ``case`` at ``at`` because a reply went out, whatever stage it was in.

    A reply that went out is a fact, not a request: the table's reasons are given by ``note``.
    """
    if case.status == Status.CLOSED.value:
        return
    _enter(session, case=case, to=Stage.CLOSED, actor=actor, note=note, settings=settings, at=at)


def message_count(session: Session, *, case: Case, direction: str | None = None) -> int:
    query = select(func.count()).select_from(Message).where(Message.case_id == case.id)  # type: ignore[arg-type]
    if direction:
        query = query.where(Message.direction == direction)  # type: ignore[arg-type]
    return int(session.execute(query).scalar_one())
