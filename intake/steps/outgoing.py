"""Outgoing: the office's own replies, seen in its mail, are recorded on their case and never open one.

A message is outgoing when it was read from the office's Sent folder
(``CASEWORK_IMAP_SENT_FOLDER``) or when its From is one of the office's addresses
(``CASEWORK_OFFICE_ADDRESSES``, or ``CASEWORK_SMTP_FROM``): a Bcc to the casework mailbox, a
forwarded copy. It is matched to its case, in this order, by:

1. In-Reply-To/References naming a message logged on a case;
2. a case reference in the subject;
3. the only unclosed case of its recipients.

A match is recorded as an outgoing message dated by its Date header (see
:func:`store.outgoing.record_captured` for what ``CASEWORK_CLOSE_ON_RESPONSE`` then does); no
match goes to the quarantine with the reason. A message whose Message-ID is an outgoing
message already stored (a reply casework sent itself, or one captured before) is that
message seen again: it is never recorded twice, and a reply whose send was not yet recorded
is recorded as sent (the send-then-record window, docs/lifecycle.md). The office's
automatic acknowledgements are skipped: they are not replies.
"""

from __future__ import annotations

from sqlalchemy import select

from intake.sources.imap import is_sent_source
from intake.steps import Context
from intake.steps.thread import case_by_reference, case_for_message_ids, references_in
from store.models import Case, Message
from store.outgoing import (
    Captured,
    confirm_sent,
    known_outgoing,
    office_addresses,
    open_cases_of,
    record_captured,
)
from store.types import utcnow

NAME = "outgoing"
DESCRIPTION = "record the office's own replies (Sent folder, copies from office addresses) on their case"


def how_outgoing(ctx: Context) -> str | None:
    """Why this message is the office's own (None: it is not)."""
    if is_sent_source(ctx.settings, ctx.source):
        return "Sent folder"
    if ctx.msg.from_addr and ctx.msg.from_addr.lower() in office_addresses(ctx.settings):
        return "copy from an office address"
    return None


def match(ctx: Context) -> tuple[Case | None, str]:
    """The case the outgoing message answers, and how it was found (or why none was)."""
    msg = ctx.msg
    ids = [*msg.references, *([msg.in_reply_to] if msg.in_reply_to else [])]
    case = case_for_message_ids(ctx, ids)
    if case is not None:
        return case, "In-Reply-To/References"
    for reference in references_in(msg.subject, ctx.settings.reference_prefix):
        case = case_by_reference(ctx, reference)
        if case is not None:
            return case, "case reference in the subject"
    own = office_addresses(ctx.settings)
    recipients = [a for a in [*msg.to_addrs, *msg.cc_addrs] if a.lower() not in own]
    cases = open_cases_of(ctx.session, addresses=recipients)
    if len(cases) == 1:
        return cases[0], "the only open case of its recipient"
    why = "its recipients have no open case" if not cases else f"its recipients have {len(cases)} open cases"
    return None, (
        "an outgoing message that matches no case: no In-Reply-To/References of a logged message, "
        f"no case reference in the subject, and {why}"
    )


def run(ctx: Context) -> None:
    how = how_outgoing(ctx)
    if how is None:
        return
    msg, session = ctx.msg, ctx.session
    ctx.sync()
    known = known_outgoing(session, message_id=msg.message_id)
    if known is not None:  # casework's own reply (often the very bytes it sent), or one captured before
        confirm_sent(session, message=known, seen_in=how)
        ctx.finish("duplicate", f"an outgoing message already recorded ({how})")
        return
    seen = session.execute(select(Message.id).where(Message.raw_sha256 == msg.raw_sha256)).first()  # type: ignore[call-overload]
    if seen is not None:
        ctx.finish("duplicate", "already logged")
        return
    auto = msg.headers.get("auto-submitted", "").split("(", 1)[0].strip().lower()
    if auto and auto != "no":
        ctx.finish("automatic", f"the office's automatic mail ({how}), not a reply")
        return
    case, matched_by = match(ctx)
    if case is None:
        ctx.finish("quarantine", f"{matched_by} ({how})")
        return
    now = utcnow()
    sent_at = msg.date if msg.date is not None and msg.date.tzinfo is not None and msg.date <= now else now
    captured = Captured(
        message_id=msg.message_id,
        raw=msg.raw,
        raw_sha256=msg.raw_sha256,
        from_addr=msg.from_addr,
        from_name=msg.from_name,
        to_addrs=[*msg.to_addrs, *msg.cc_addrs],
        subject=msg.subject,
        sent_at=sent_at,
        in_reply_to=msg.in_reply_to,
        references=list(msg.references),
        body_text=msg.body_text,
        source=ctx.source,
        attachments=[(a.filename, a.content_type, a.size, a.content, a.truncated) for a in msg.attachments],
    )
    message = record_captured(session, case=case, captured=captured, settings=ctx.settings, how=matched_by)
    ctx.case = case
    ctx.joined_by = matched_by
    ctx.extra["message_pk"] = message.id
    ctx.finish("outgoing", f"the office's reply ({how}), matched by {matched_by}")
