"""The office's replies: dispatched from casework, or captured from the office's own mail.

**Dispatch** (:func:`queue_reply`). Each recipient gets their own message (a campaign's every
participant: the report says each got an individual response), with the case reference in
the subject and In-Reply-To/References pointing at that person's latest message. In ONE
transaction the message's bytes are stored as an outgoing :class:`Message` (with its
Message-ID) and an ``email.reply`` outbox row holds the same rendered message for the SMTP
sender. So a reply is recorded before it is sent, and a crash after the send cannot lose the
record; the sender's side of the window is in :mod:`intake.smtp_sender`.

**Capture** (:func:`record_captured`). A reply sent from elsewhere (found in the Sent folder,
or an office address's copy in the inbox) is recorded on its case, dated by its Date header,
and ``CASEWORK_CLOSE_ON_RESPONSE`` decides what it does. A captured message whose Message-ID is
an outgoing message already stored is the same message seen again (:func:`known_outgoing`),
never a second reply.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from casework.settings import Settings
from store.cases import record_event, redate_closure
from store.enums import Category, CloseOnResponse, DraftState, EventKind, Status
from store.lifecycle import (
    LifecycleError,
    current_draft,
    default_subject,
    force_close,
    mark_responded,
    needs_signoff,
    pending_files,
)
from store.mail import render
from store.models import Attachment, Case, CaseFile, CaseParticipant, Correspondent, Message, OutboxItem
from store.outbox import enqueue, mark_sent
from store.types import utcnow
from store.workdays import local_date

REPLY_KIND = "email.reply"
CLOSE_PROMPT_KIND = "slack.close_prompt"
#: ``messages.source`` of a reply dispatched from casework
DISPATCH_SOURCE = "casework:reply"


def sent_as_recorded(payload: dict[str, Any], message: Message, files: list[CaseFile]) -> dict[str, Any]:
    """The outbox payload of a reply: the SMTP sender sends the recorded message's own bytes.

    So the case file holds exactly what went out (a MIME boundary rendered twice would differ),
    and the attachments are not kept a third time in the outbox: a campaign's reply with a
    leaflet goes to every participant, and each copy is already in ``messages.raw`` and in
    ``attachments``. The payload keeps each attachment's name, type and size for the record.
    """
    listed = [{"filename": f.filename, "content_type": f.content_type, "size": f.size} for f in files]
    return {**payload, "attachments": listed, "message_pk": message.id}


def office_addresses(settings: Settings) -> set[str]:
    """The addresses whose mail is the office's own (CASEWORK_OFFICE_ADDRESSES and the SMTP From)."""
    found = {*settings.office_addresses, settings.smtp_from}
    return {a.strip().lower() for a in found if a and "@" in a}


def reply_message_id(reference: str, settings: Settings) -> str:
    """A new Message-ID that carries the case reference (threading also recognises it)."""
    domain = (settings.smtp_from.rpartition("@")[2] or "casework.invalid").strip(">")
    return f"<{reference}.reply.{uuid.uuid4().hex[:16]}@{domain}>"


def recipients(session: Session, *, case: Case, settings: Settings) -> list[Correspondent]:
    """Who a reply goes to: every participant of a campaign case, else the correspondent."""
    own = office_addresses(settings)
    people: list[Correspondent] = []
    if (
        case.category == Category.CAMPAIGN.value
        or case.campaign_id is not None
        or case.correspondent_id is None
    ):
        query = (
            select(Correspondent)
            .join(CaseParticipant, CaseParticipant.correspondent_id == Correspondent.id)  # type: ignore[arg-type]
            .where(CaseParticipant.case_id == case.id)  # type: ignore[arg-type]
            .order_by(CaseParticipant.id)  # type: ignore[arg-type]
        )
        people = list(session.execute(query).scalars())
    if not people and case.correspondent_id is not None:
        person = session.get(Correspondent, case.correspondent_id)
        people = [person] if person is not None else []
    return [p for p in people if p.email and p.email.lower() not in own]


def latest_from(session: Session, *, case: Case, correspondent: Correspondent) -> Message | None:
    """``correspondent``'s latest message on the case (what their reply answers)."""
    query = (
        select(Message)
        .where(
            Message.case_id == case.id,  # type: ignore[arg-type]
            Message.direction == "in",  # type: ignore[arg-type]
            Message.correspondent_id == correspondent.id,  # type: ignore[arg-type]
        )
        .order_by(Message.received_at.desc(), Message.id.desc())  # type: ignore[attr-defined,union-attr]
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


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
    """Record and queue a reply to everyone on ``case``; the outgoing messages, one per recipient.

    ``attachments``: ids of :func:`store.lifecycle.attach_file` files (None: every file waiting
    for the next reply). A final reply closes the case (responded_at is set the first time); a
    holding reply does not. A final reply in a category that needs sign-off must be the
    approved draft's text; holding replies need no sign-off.
    """
    if case.status == Status.CLOSED.value:
        raise LifecycleError(f"{case.reference} is closed: re-open it before sending a reply.")
    if not body.strip():
        raise LifecycleError("A reply needs some text.")
    if not settings.smtp_enabled:
        raise LifecycleError(
            "Replies go by SMTP, which is off: set CASEWORK_SMTP_HOST and CASEWORK_SMTP_FROM."
        )
    draft = current_draft(session, case=case)
    approved = draft is not None and draft.state == DraftState.APPROVED.value and _same_text(draft.body, body)
    if final and needs_signoff(settings, case.category) and not approved:
        raise LifecycleError(
            f"{Category(case.category).label} replies need sign-off before they go as final: save this text "
            f"as {case.reference}'s draft, request sign-off, and send it once approved (or send it as a "
            "holding reply)."
        )
    _refuse_repeat(session, case, body)
    people = recipients(session, case=case, settings=settings)
    if not people:
        raise LifecycleError(f"{case.reference} has no correspondent with an email address to reply to.")
    if draft is not None and _same_text(draft.body, body) and not subject:
        subject = draft.subject
    subject = " ".join((subject or default_subject(case)).split())
    if case.reference not in subject:
        subject = f"[{case.reference}] {subject}"
    files = _files(session, case, attachments)
    parts = [
        {
            "filename": f.filename,
            "content_type": f.content_type,
            "data_b64": base64.b64encode(f.content).decode(),
        }
        for f in files
    ]
    now = utcnow()
    sent: list[Message] = []
    for person in people:
        latest = latest_from(session, case=case, correspondent=person)
        in_reply_to = latest.message_id if latest is not None else None
        references = [*(latest.references if latest else []), *([in_reply_to] if in_reply_to else [])][-20:]
        message_id = reply_message_id(case.reference, settings)
        payload: dict[str, Any] = {
            "to": person.email,
            "subject": subject,
            "body": body,
            "message_id": message_id,
            "in_reply_to": in_reply_to,
            "references": references,
            "date": format_datetime(now),
            "attachments": parts,
            "reference": case.reference,
            "final": final,
        }
        raw = render(settings, payload)
        message = Message(
            case_id=case.id,
            message_id=message_id,
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            direction="out",
            correspondent_id=person.id,
            from_addr=(settings.smtp_from or "").lower()[:320],
            to_addrs=[person.email],
            subject=subject[:1000],
            sent_at=now,
            received_at=now,
            in_reply_to=in_reply_to,
            references=references,
            body_text=body,
            source=DISPATCH_SOURCE,
            raw=raw,
        )
        session.add(message)
        session.flush()
        for f in files:
            assert message.id is not None
            session.add(
                Attachment(
                    message_pk=message.id,
                    filename=f.filename,
                    content_type=f.content_type,
                    size=f.size,
                    content=f.content,
                )
            )
        enqueue(
            session,
            key=f"reply:{message_id}",
            kind=REPLY_KIND,
            target=person.email,
            payload=sent_as_recorded(payload, message, files),
            case_id=case.id,
        )
        record_event(
            session,
            case=case,
            kind=EventKind.OUTGOING,
            actor=actor,
            new=message_id[:200],
            note="final reply" if final else "holding reply",
            at=now,
        )
        sent.append(message)
    for f in files:
        f.message_pk = sent[0].id
        session.add(f)
    if approved and draft is not None and final:
        draft.state = DraftState.SENT.value
        session.add(draft)
    if final:
        mark_responded(case, now)
        force_close(session, case=case, actor=actor, settings=settings, at=now, note="final reply sent")
    session.add(case)
    session.flush()
    return sent


#: the same text sent on the same case this recently is a second click, not a second reply
REPEAT_WINDOW = timedelta(minutes=10)


def _refuse_repeat(session: Session, case: Case, body: str) -> None:
    recent = session.execute(
        select(Message.body_text, Message.sent_at).where(  # type: ignore[call-overload]
            Message.case_id == case.id,  # type: ignore[arg-type]
            Message.direction == "out",  # type: ignore[arg-type]
            Message.source == DISPATCH_SOURCE,  # type: ignore[arg-type]
            Message.sent_at >= utcnow() - REPEAT_WINDOW,  # type: ignore[operator]
        )
    ).all()
    if any(_same_text(row.body_text, body) for row in recent):
        raise LifecycleError(
            f"This reply was sent on {case.reference} a few minutes ago; it is not sent twice. "
            "Check the case file, or change the text if a second reply is meant."
        )


def _files(session: Session, case: Case, ids: list[int] | None) -> list[CaseFile]:
    waiting = pending_files(session, case=case)
    if ids is None:
        return waiting
    by_id = {f.id: f for f in waiting}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise LifecycleError(f"File(s) {missing} are not waiting to go with {case.reference}'s next reply.")
    return [by_id[i] for i in ids]


# --- captured replies ----------------------------------------------------------------------


@dataclass
class Captured:
    """What capture knows of one outgoing message found in the office's mail."""

    message_id: str | None
    raw: bytes
    raw_sha256: str
    from_addr: str
    from_name: str
    to_addrs: list[str]
    subject: str
    sent_at: datetime
    in_reply_to: str | None
    references: list[str]
    body_text: str
    source: str
    #: (filename, content_type, size, content or None, truncated)
    attachments: list[tuple[str, str, int, bytes | None, bool]] = field(default_factory=list)


def known_outgoing(session: Session, *, message_id: str | None) -> Message | None:
    """The outgoing message already stored with this Message-ID (ours, or captured before)."""
    if not message_id:
        return None
    query = select(Message).where(Message.message_id == message_id, Message.direction == "out").limit(1)  # type: ignore[arg-type]
    return session.execute(query).scalar_one_or_none()


def confirm_sent(session: Session, *, message: Message, seen_in: str) -> bool:
    """Our own reply was seen in the office's mail: its outbox row, if still unsent, is sent.

    This closes the window between the SMTP send and recording it: a reply whose send was not
    recorded (a crash) but which the server filed in Sent is never sent again.
    """
    row = session.execute(
        select(OutboxItem).where(OutboxItem.key == f"reply:{message.message_id}")  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if row is None or row.sent_at is not None:
        return False
    mark_sent(session, item=row, result={"message_id": message.message_id, "confirmed_by": seen_in})
    return True


def open_cases_of(session: Session, *, addresses: list[str]) -> list[Case]:
    """The unclosed cases on which any of ``addresses`` is a participant."""
    emails = sorted({a.strip().lower() for a in addresses if a})
    if not emails:
        return []
    query = (
        select(Case)
        .join(CaseParticipant, CaseParticipant.case_id == Case.id)  # type: ignore[arg-type]
        .join(Correspondent, Correspondent.id == CaseParticipant.correspondent_id)  # type: ignore[arg-type]
        .where(Correspondent.email.in_(emails), Case.status != Status.CLOSED.value)  # type: ignore[attr-defined,arg-type]
        .distinct()
    )
    return list(session.execute(query).scalars())


def record_captured(
    session: Session, *, case: Case, captured: Captured, settings: Settings, how: str
) -> Message:
    """Record a reply sent from elsewhere on ``case`` and apply CASEWORK_CLOSE_ON_RESPONSE.

    ``always``: the case closes at the reply's Date, which becomes responded_at; ``ask``: a
    ``slack.close_prompt`` row asks in the case's triage thread; ``never``: only recorded.
    """
    assert case.id is not None
    recipients_ = {a.strip().lower() for a in captured.to_addrs}
    person = None
    if recipients_:
        person = session.execute(
            select(Correspondent)
            .join(CaseParticipant, CaseParticipant.correspondent_id == Correspondent.id)  # type: ignore[arg-type]
            .where(CaseParticipant.case_id == case.id, Correspondent.email.in_(recipients_))  # type: ignore[arg-type,attr-defined]
            .limit(1)
        ).scalar_one_or_none()
    message = Message(
        case_id=case.id,
        message_id=captured.message_id[:998] if captured.message_id else None,
        raw_sha256=captured.raw_sha256,
        direction="out",
        correspondent_id=person.id if person else None,
        from_addr=captured.from_addr[:320],
        from_name=captured.from_name[:300],
        to_addrs=list(captured.to_addrs),
        subject=captured.subject[:1000],
        sent_at=captured.sent_at,
        received_at=utcnow(),
        in_reply_to=captured.in_reply_to[:998] if captured.in_reply_to else None,
        references=list(captured.references),
        body_text=captured.body_text,
        source=captured.source[:500],
        raw=captured.raw,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    for filename, content_type, size, content, truncated in captured.attachments:
        session.add(
            Attachment(
                message_pk=message.id,
                filename=filename[:500],
                content_type=content_type[:200],
                size=size,
                truncated=truncated,
                content=content,
            )
        )
    record_event(
        session,
        case=case,
        kind=EventKind.OUTGOING,
        actor="intake",
        new=(captured.message_id or "")[:200] or None,
        note=f"reply sent from the office's mail, matched by {how}",
        at=captured.sent_at,
    )
    policy = CloseOnResponse(settings.close_on_response)
    if case.status == Status.CLOSED.value and case.responded_at is None and policy is CloseOnResponse.ALWAYS:
        # closed by hand before the reply was seen: the reply's Date is when it was answered
        mark_responded(case, captured.sent_at)
        redate_closure(
            session,
            case=case,
            at=captured.sent_at,
            actor="intake",
            settings=settings,
            note=f"response sent on {local_date(captured.sent_at):%Y-%m-%d}",
        )
    elif case.status != Status.CLOSED.value:
        if policy is CloseOnResponse.ALWAYS:
            mark_responded(case, captured.sent_at)
            force_close(
                session,
                case=case,
                actor="intake",
                settings=settings,
                at=captured.sent_at,
                note=f"response sent on {local_date(captured.sent_at):%Y-%m-%d}",
            )
        elif policy is CloseOnResponse.ASK:
            assert message.id is not None
            enqueue(
                session,
                key=f"close_prompt:{case.reference}:{message.id}",
                kind=CLOSE_PROMPT_KIND,
                payload={
                    "reference": case.reference,
                    "message_pk": message.id,
                    "sent_on": local_date(captured.sent_at).isoformat(),
                },
                case_id=case.id,
            )
    session.add(case)
    session.flush()
    return message
