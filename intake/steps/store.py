"""Store: write the message (raw bytes kept) onto its case, opening the case when it is new.

A new case gets its ``slack.triage`` outbox row in the same transaction, so it reaches Slack
even if the process dies right after the commit. A person writing again on a closed case
re-opens it (the report's "re-opened as the person has been back in contact"); automatic mail
never opens or re-opens anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from intake.ack import own_addresses
from intake.steps import Context
from store.cases import (
    add_participant,
    correspondent_id,
    insert_values,
    open_case_quick,
    record_event,
    set_status,
)
from store.enums import Category, EventKind, Status
from store.models import Attachment, Case, Correspondent, FingerprintBand, Message
from store.outbox import enqueue_many
from store.types import utcnow

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


def enqueue_triage(ctx: Context, case: Case) -> None:
    # enqueue_many's statement is built once (enqueue builds one per call): same row, same rules
    enqueue_many(
        ctx.session,
        [{"key": f"triage:{case.reference}", "kind": "slack.triage",
          "payload": {"reference": case.reference}, "case_id": case.id}],
    )  # fmt: skip


def _open(ctx: Context) -> Case:
    cls = ctx.classification
    category = cls.category if cls else Category.CORRESPONDENCE.value
    # Core statements, not ORM flushes: this runs for every new case
    case = open_case_quick(
        ctx.session,
        settings=ctx.settings,
        category=category,
        received_at=received_at(ctx),
        subject=ctx.msg.subject,
        correspondent_id=ctx.extra.get("correspondent_id"),
        confidence=cls.confidence if cls else None,
        reasons=list(cls.reasons) if cls else ["no classifier ran"],
        needs_triage=cls.needs_triage if cls else True,
    )
    enqueue_triage(ctx, case)
    return case


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def run(ctx: Context) -> None:
    msg, session = ctx.msg, ctx.session
    person: int | None = None
    if msg.from_addr and not ctx.automatic and msg.from_addr not in own_addresses(ctx.settings):
        batch = ctx.batch
        person = correspondent_id(
            session,
            email=msg.from_addr,
            name=msg.from_name,
            known=batch.correspondents if batch is not None else None,
            absent=batch.no_correspondent if batch is not None else None,
        )
    ctx.extra["correspondent_id"] = person
    if ctx.case is None and not ctx.automatic:
        ctx.case = _open(ctx)
        ctx.opened = True
    elif ctx.case is not None and not ctx.automatic:
        if person is not None:
            correspondent = session.get(Correspondent, person)
            assert correspondent is not None
            add_participant(session, case=ctx.case, correspondent=correspondent)
        if ctx.case.status == Status.CLOSED.value:
            set_status(
                session,
                case=ctx.case,
                status=Status.OPEN,
                actor="intake",
                note=REOPEN_NOTE,
                settings=ctx.settings,
            )
    # plain values, not a Message object: building and validating one costs more than the insert
    message_pk = insert_values(
        session,
        Message,
        {
            "case_id": ctx.case.id if ctx.case is not None else None,
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
        insert_values(
            session,
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
    if ctx.case is not None and not ctx.automatic and ctx.bands:
        # one executemany instead of an ORM object per band
        # 24 plain rows in one executemany, past SQLAlchemy's per-row parameter processing
        connection = session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO {FingerprintBand.__tablename__} (band, message_pk) VALUES ({mark}, {mark})",
            [(band, message_pk) for band in ctx.bands],
        )
    if ctx.case is not None and not ctx.opened:
        note = f"message {msg.message_id or message_pk} ({ctx.joined_by or 'joined'})"
        record_event(session, case=ctx.case, kind=EventKind.MESSAGE, actor="intake", note=note[:2000])
    ctx.extra["message_pk"] = message_pk
    if ctx.batch is not None:
        ctx.batch.logged(msg, msg.from_addr.strip().lower() if person is not None else None)
    if ctx.automatic:
        ctx.kind, ctx.reason = "automatic", ctx.automatic
    elif ctx.opened:
        ctx.kind, ctx.reason = "opened", "new case"
    else:
        ctx.kind, ctx.reason = "attached", ctx.joined_by
