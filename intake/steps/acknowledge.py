"""Acknowledge: queue the acknowledgement email for a person whose case was logged.

Only when SMTP is configured; never for automatic mail, no-reply addresses or the office's own
addresses; at most one per correspondent per case (the outbox key ``ack:REF:ADDRESS``). The
``email.ack`` row is written in the message's transaction and sent by
:mod:`intake.smtp_sender`.
"""

from __future__ import annotations

import logging

from casework.errors import UserError
from intake import ack
from intake.steps import Context
from store.enums import Category
from store.outbox import enqueue_many

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


def run(ctx: Context) -> None:
    if not should_acknowledge(ctx):
        return
    case = ctx.case or ctx.new_case
    assert case is not None
    values = {
        "reference": case.reference,
        "name": ctx.msg.from_name or "Sir or Madam",
        "subject": ctx.msg.subject or "(no subject)",
        "received_on": case.received_on.strftime("%-d %B %Y"),
        "due_on": case.due_on.strftime("%A %-d %B %Y"),
        "office_name": ctx.settings.office_name,
        "category": Category(case.category).label,
    }
    address = ctx.msg.from_addr
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
