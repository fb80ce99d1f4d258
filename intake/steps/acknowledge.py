"""Acknowledge: queue the acknowledgement email for a person whose case was logged.

Only when SMTP is configured; never for automatic mail, no-reply addresses or the office's own
addresses; at most one per correspondent per case (the outbox key ``ack:REF:ADDRESS``). The
``email.ack`` row is written in the message's transaction and sent by
:mod:`intake.smtp_sender`.

Against backscatter (a forged From makes the office mail a stranger): with
``CASEWORK_ACK_REQUIRE_AUTH`` (the default) only a sender the office's own server authenticated
(:mod:`intake.authresults`) is acknowledged; no address gets more than
``CASEWORK_ACK_MAX_PER_ADDRESS_PER_DAY`` acknowledgements in 24 hours; and the sender's name and
subject are echoed back only to an authenticated sender, so a forged letter cannot make the
office's mail carry someone else's words.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from casework.errors import UserError
from intake import ack
from intake.authresults import sender_authenticated
from intake.steps import Context
from store.enums import Category
from store.models import OutboxItem
from store.outbox import enqueue_many
from store.types import utcnow

log = logging.getLogger(__name__)

NAME = "acknowledge"
DESCRIPTION = "queue an acknowledgement email for the sender of a new case"


def should_acknowledge(ctx: Context) -> bool:
    from intake.automatic import is_no_reply

    address = ctx.msg.from_addr
    if not ctx.settings.smtp_enabled or ctx.automatic or ctx.reference is None or not address:
        return False
    if ctx.kind not in ("opened", "attached") or ctx.joined_by not in ("", "campaign"):
        return False  # replies and re-sends on a case were acknowledged when it was opened
    return not is_no_reply(address) and address not in ack.own_addresses(ctx.settings)


def authenticated(ctx: Context) -> bool:
    return sender_authenticated(
        ctx.msg.auth_results, trusted_id=ctx.settings.trusted_authserv_id, from_addr=ctx.msg.from_addr
    )


def sent_today(ctx: Context, address: str) -> int:
    """Acknowledgements queued for ``address`` in the last 24 hours (this batch's included)."""
    since = utcnow() - timedelta(days=1)
    stored = ctx.session.scalar(
        select(func.count())
        .select_from(OutboxItem)
        .where(OutboxItem.kind == "email.ack", OutboxItem.target == address, OutboxItem.created_at >= since)  # type: ignore[arg-type]
    )
    pending = ctx.batch.pending if ctx.batch is not None else None
    held = pending.outbox_count(kind="email.ack", target=address) if pending is not None else 0
    return int(stored or 0) + held


def run(ctx: Context) -> None:
    if not should_acknowledge(ctx):
        return
    case = ctx.case or ctx.new_case
    assert case is not None
    trusted = authenticated(ctx)
    if ctx.settings.ack_require_auth and not trusted:
        log.info("%s: not acknowledged, the sender is not authenticated by our server", case.reference)
        return
    address = ctx.msg.from_addr
    if sent_today(ctx, address) >= ctx.settings.ack_max_per_address_per_day:
        log.info("%s: not acknowledged, the address had its acknowledgements for today", case.reference)
        return
    values = {
        "reference": case.reference,
        "name": (ctx.msg.from_name if trusted else "") or "Sir or Madam",
        "subject": (ctx.msg.subject if trusted else "your message") or "(no subject)",
        "received_on": case.received_on.strftime("%-d %B %Y"),
        "due_on": case.due_on.strftime("%A %-d %B %Y"),
        "office_name": ctx.settings.office_name,
        "category": Category(case.category).label,
    }
    try:
        body = ack.payload(ctx.settings, to=address, in_reply_to=ctx.msg.message_id, values=values)
    except UserError as err:  # a broken template must not hold up the logging of mail
        log.error("acknowledgement for %s not queued: %s", case.reference, err)
        return
    row = {"key": f"ack:{case.reference}:{address}", "kind": "email.ack", "target": address,
           "payload": body, "case_id": case.id}  # fmt: skip
    batch = ctx.batch
    if case.id is None and batch is not None and batch.pending is not None:
        batch.pending.add_outbox({**row, "case_id": ctx.extra["case_slot"]})  # the case is held back too
    else:
        enqueue_many(ctx.session, [row])
