"""Store: write the message (raw bytes kept) onto its case, opening the case when it is new.

A new case gets its ``slack.triage`` outbox row in the same transaction, so it reaches Slack
even if the process dies right after the commit. A person writing again on a closed case
re-opens it (the report's "re-opened as the person has been back in contact"); automatic mail
never opens or re-opens anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from intake.ack import own_addresses
from intake.review_requests import asks_for_review
from intake.steps import Context
from store.cases import (
    OpenedCase,
    add_participant,
    correspondent_id,
    open_case_pending,
    record_event,
    set_status,
)
from store.clocks import restart_on_reply
from store.enums import Category, EventKind, Status
from store.models import Attachment, Case, Correspondent, Message
from store.pending import PendingRows, Slot, resolve
from store.references import ReferenceBlocks
from store.reviews import propose_review
from store.types import utcnow
from store.workdays import local_date

NAME = "store"
DESCRIPTION = "store the message on its case, opening or re-opening the case"

REOPEN_NOTE = "re-opened: correspondent back in contact"


def received_at(ctx: Context) -> datetime:
    """When the office received the message: its Date, unless missing or in the future."""
    now = utcnow()
    date = ctx.msg.date
    if date is None or date.tzinfo is None or date > now + timedelta(hours=1):
        return now
    return date


def _held(ctx: Context, opening: bool) -> tuple[PendingRows, ReferenceBlocks, bool]:
    """Where this message's new rows go: the batch's held-back rows, or rows written at once.

    True with the latter: the step writes them itself before it returns. Only a new case's
    rows are held back; a message joining a case is written at once, like its history note.
    """
    batch = ctx.batch
    if opening and batch is not None and batch.pending is not None and batch.references is not None:
        return batch.pending, batch.references, False
    return PendingRows(), ReferenceBlocks(ctx.settings.reference_prefix, 1), True


def _open(ctx: Context, pending: PendingRows, references: ReferenceBlocks) -> tuple[OpenedCase, Slot]:
    """Open the case with its history, participant and ``slack.triage`` outbox row."""
    cls = ctx.classification
    link = ctx.extra.get("link_to")  # named a case's reference without being on it (thread step)
    reasons = list(cls.reasons) if cls else ["no classifier ran"]
    if link is not None:
        reasons.append(f"names {link[1]} but the sender is not on that case")
    case, case_id = open_case_pending(
        ctx.session,
        pending,
        references,
        settings=ctx.settings,
        category=cls.category if cls else Category.CORRESPONDENCE.value,
        received_at=received_at(ctx),
        subject=ctx.msg.subject,
        correspondent_id=ctx.extra.get("correspondent_id"),
        confidence=cls.confidence if cls else None,
        reasons=reasons,
        needs_triage=(cls.needs_triage if cls else True) or link is not None,
        linked_to=link,
    )
    pending.add_outbox({"key": f"triage:{case.reference}", "kind": "slack.triage",
                        "payload": {"reference": case.reference}, "case_id": case_id})  # fmt: skip
    return case, case_id


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _join(ctx: Context, case: Case, person: int | None) -> None:
    """A message on an existing case: its sender joins the case, which re-opens if closed."""
    session = ctx.session
    if case.clock_stopped_on is not None:  # an answer to a request for clarification restarts it
        restart_on_reply(session, case=case, settings=ctx.settings, correspondent_id=person,
                         received_on=local_date(received_at(ctx)))  # fmt: skip
    if person is not None:
        correspondent = session.get(Correspondent, person)
        assert correspondent is not None
        add_participant(session, case=case, correspondent=correspondent)
    if case.status == Status.CLOSED.value and _review_asked(ctx, case, person):
        return  # the review is a case of its own, opened when a caseworker confirms it
    if case.status == Status.CLOSED.value:
        set_status(session, case=case, status=Status.OPEN, actor="intake", note=REOPEN_NOTE,
                   settings=ctx.settings)  # fmt: skip


def _review_asked(ctx: Context, case: Case, person: int | None) -> bool:
    """A correspondent's reply on a closed FOI case asking for an internal review: propose it."""
    if case.category != Category.FOI.value or case.review_of_id is not None or person is None:
        return False
    if not asks_for_review(f"{ctx.msg.subject}\n{ctx.msg.body_text}"):
        return False
    asked_on = local_date(received_at(ctx))
    propose_review(ctx.session, case=case, settings=ctx.settings, asked_on=asked_on,
                   key=f"{case.reference}:{ctx.msg.message_id or ctx.msg.raw_sha256}"[:280])  # fmt: skip
    return True


def run(ctx: Context) -> None:
    msg, session = ctx.msg, ctx.session
    opening = ctx.case is None and not ctx.automatic
    if not opening:
        ctx.sync()  # joining reads and changes stored rows: the batch's must be written first
    pending, references, write_now = _held(ctx, opening)
    person: int | Slot | None = None
    if msg.from_addr and not ctx.automatic and msg.from_addr not in own_addresses(ctx.settings):
        batch = ctx.batch
        person = correspondent_id(
            session,
            email=msg.from_addr,
            name=msg.from_name,
            known=batch.correspondents if batch is not None else None,
            absent=batch.no_correspondent if batch is not None else None,
            pending=None if write_now else pending,
        )
    ctx.extra["correspondent_id"] = person
    case_id: int | Slot | None = None
    if opening:
        ctx.new_case, case_id = _open(ctx, pending, references)
        ctx.extra["case_slot"] = case_id  # for rows of later steps that refer to the case
        ctx.opened = True
    elif ctx.case is not None:
        case_id = ctx.case.id
        if not ctx.automatic:
            _join(ctx, ctx.case, resolve(person))
    # plain values, not a Message object: building and validating one costs more than the insert
    message_pk = pending.add(
        Message,
        {
            "case_id": case_id,
            "message_id": _clip(msg.message_id, 998),
            "raw_sha256": msg.raw_sha256,
            "direction": "in",
            "correspondent_id": person,
            "from_addr": msg.from_addr[:320],
            "from_name": msg.from_name[:300],
            "to_addrs": [*msg.to_addrs, *msg.cc_addrs],
            "subject": msg.subject[:1000],
            "sent_at": msg.date if msg.date is not None and msg.date.tzinfo is not None else None,
            "received_at": utcnow(),
            "in_reply_to": _clip(msg.in_reply_to, 998),
            "references": list(msg.references),
            "body_text": msg.body_text,
            "automatic": ctx.automatic[:200] if ctx.automatic else None,
            "source": ctx.source[:500],
            "raw": msg.raw,
        },
    )
    for info in msg.attachments:
        pending.add(
            Attachment,
            {
                "message_pk": message_pk,
                "filename": info.filename[:500],
                "content_type": info.content_type[:200],
                "size": info.size,
                "truncated": info.truncated,
                "content": info.content,
            },
        )
    if case_id is not None and not ctx.automatic and ctx.bands:
        pending.add_bands(ctx.bands, message_pk)
    if write_now:
        written = pending.flush(session)
        references.give_back(session)
        if ctx.batch is not None:
            ctx.batch.wrote_bands(written)
    if ctx.case is not None and not ctx.opened:
        note = f"message {msg.message_id or resolve(message_pk)} ({ctx.joined_by or 'joined'})"
        record_event(session, case=ctx.case, kind=EventKind.MESSAGE, actor="intake", note=note[:2000])
    #: a slot until the batch writes its rows (the pipeline reads the id after that)
    ctx.extra["message_pk"] = message_pk
    if ctx.batch is not None:
        ctx.batch.logged(msg, msg.from_addr.strip().lower() if person is not None else None)
    if ctx.automatic:
        ctx.kind, ctx.reason = "automatic", ctx.automatic
    elif ctx.opened:
        ctx.kind, ctx.reason = "opened", "new case"
    else:
        ctx.kind, ctx.reason = "attached", ctx.joined_by
