"""Dedupe: a message logged before (same raw bytes, or same Message-ID) changes nothing.

This is what makes a crash between commit and marking the message on the server harmless: on
restart the message comes round again and is recognised here. Raw bytes are compared by their
SHA-256 (``messages.raw_sha256`` is unique), which also covers mail without a Message-ID. A
Message-ID match counts only when sender, subject and text match too: the same message that
came by another route (a second address, another relay) is a duplicate, but a sender that
reuses one Message-ID for different letters (broken mailers do) must not lose the second one.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from intake.steps import Context
from store.models import Case, Message

NAME = "dedupe"
DESCRIPTION = "drop a message that was logged before (same bytes or same Message-ID)"


def _same(text: str, other: str) -> bool:
    return " ".join(text.split()) == " ".join(other.split())


def run(ctx: Context) -> None:
    session, msg = ctx.session, ctx.msg
    if ctx.batch is not None and not ctx.batch.may_be_logged(msg):
        return  # neither its bytes nor its Message-ID are in the store (checked for the batch)
    ctx.sync()
    condition = Message.raw_sha256 == msg.raw_sha256
    if msg.message_id:
        condition = or_(condition, Message.message_id == msg.message_id)  # type: ignore[assignment,arg-type]
    # one round trip for both questions: this runs for every message, new or not
    rows = session.execute(
        select(
            Message.id,
            Message.case_id,
            Message.raw_sha256,
            Message.from_addr,
            Message.subject,  # type: ignore[call-overload]
            Message.body_text,
        )
        .where(condition)
        .order_by(Message.id)
        .limit(20)
    ).all()
    found, how = None, ""
    for row in rows:
        if row.raw_sha256 == msg.raw_sha256:
            found, how = row, "same bytes"
            break
    else:
        for row in rows:
            if (
                row.from_addr == msg.from_addr[:320]
                and row.subject == msg.subject[:1000]
                and _same(row.body_text, msg.body_text)
            ):
                found, how = row, "same Message-ID"
                break
    if found is None:
        return
    ctx.case = session.get(Case, found.case_id) if found.case_id else None
    ctx.extra["message_pk"] = found.id
    ctx.finish("duplicate", f"already logged ({how})")
