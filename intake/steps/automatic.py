"""Automatic mail: out-of-office replies, bounces, Auto-Submitted and bulk mail.

Such mail never opens a case and never gets an acknowledgement. When it relates to a case (it
threads onto one, or a bounce quotes the original message we sent) it is kept on that case;
otherwise it is stored on its own (``case_id`` empty, ``automatic`` = the reason).
"""

from __future__ import annotations

import re

from intake.steps import Context
from intake.steps.thread import case_by_reference, case_for_message_ids, references_in
from store.models import Case

NAME = "automatic"
DESCRIPTION = "recognise automatic mail and relate it to its case"

_QUOTED_IDS = re.compile(rb"^(?:message-id|in-reply-to|references):[ \t]*(.+(?:\r?\n[ \t].+)*)", re.I | re.M)
_ANGLE = re.compile(rb"<[^<>\s]+>")
#: how much of a bounce to search for the quoted original (the headers come first)
_SCAN_BYTES = 256 * 1024


def quoted_case(ctx: Context) -> Case | None:
    """The case of the original message a bounce or auto-reply quotes, if any."""
    raw = ctx.msg.raw[:_SCAN_BYTES]
    ids: list[str] = []
    for match in _QUOTED_IDS.finditer(raw):
        ids.extend(m.decode("ascii", "replace") for m in _ANGLE.findall(match.group(1)))
    own = ctx.msg.message_id
    case = case_for_message_ids(ctx, [i for i in ids if i != own])
    if case is not None:
        return case
    text = raw.decode("latin-1")
    for reference in references_in(text, ctx.settings.reference_prefix):
        case = case_by_reference(ctx, reference)
        if case is not None:
            return case
    return None


def run(ctx: Context) -> None:
    from intake.automatic import automatic_reason

    reason = ctx.prepared.automatic if ctx.prepared is not None else automatic_reason(ctx.msg)
    if not reason:
        return
    ctx.automatic = reason
    if ctx.case is None:
        ctx.case = quoted_case(ctx)
        if ctx.case is not None:
            ctx.joined_by = "quotes a message on the case"
    elif ctx.joined_by == "sent twice":
        ctx.case = None  # identical automatic mail is not a person pressing Send twice
