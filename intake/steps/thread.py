"""Thread: a reply, or the same message sent twice, joins the case it belongs to.

A message joins a case when its In-Reply-To/References name a message on the case (or one of
our acknowledgements, whose Message-IDs carry the case reference), when its subject carries
the case reference (``[WMOPC-2013-000123]``, with the configured prefix), or when the same
person sent the same subject and text a short while ago with a new Message-ID (people press
Send twice). Re-opening a closed case is the ``store`` step's job, because automatic mail that
threads onto a closed case must not re-open it.

References are sequential, so anyone can guess one. A reference alone (in the subject, or in a
made-up Message-ID) joins the case only when the sender is already on it (its correspondent or
a participant) or writes from the office's own or a force domain. Anyone else's mail opens a
new case linked to the referenced one and flagged for triage (``ctx.extra["link_to"]``), so a
stranger can neither read themselves into a case nor re-open it. A real In-Reply-To/References
match (the Message-ID of a message on the case) still joins: that is a reply to mail the
person was sent.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import or_, select
from sqlmodel import col

from intake.steps import Context
from store.cases import get_case
from store.enums import EventKind
from store.models import Case, CaseEvent, CaseParticipant, Correspondent, Message

NAME = "thread"
DESCRIPTION = "join a reply or a re-sent message to its case"

#: how far apart two identical messages from one person may be and still be "sent twice"
RESEND_WINDOW = timedelta(hours=24)


@lru_cache(maxsize=8)
def reference_pattern(prefix: str) -> re.Pattern[str]:
    """A case reference; an internal review's (``…-000123-R1``, :mod:`store.reviews`) whole."""
    return re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}-(\d{{4}})-(\d{{6}})(?:-R\d+(?!\d))?(?!\d)", re.IGNORECASE
    )


def references_in(text: str, prefix: str) -> list[str]:
    """Case references written in ``text``, in order, upper-cased."""
    return [m.group(0).upper() for m in reference_pattern(prefix).finditer(text)]


def case_by_reference(ctx: Context, reference: str) -> Case | None:
    """The case with ``reference``, or the campaign it was merged into."""
    ctx.sync()
    case = get_case(ctx.session, reference)
    if case is not None:
        return case
    from intake.steps.campaign import MERGED  # the campaign step records merges this way

    merged_into = ctx.session.execute(
        select(CaseEvent.case_id)  # type: ignore[call-overload]
        .where(
            CaseEvent.kind == EventKind.NOTE.value,
            CaseEvent.old_value == reference,
            CaseEvent.new_value == MERGED,
        )
        .limit(1)
    ).scalar_one_or_none()
    return ctx.session.get(Case, merged_into) if merged_into is not None else None


def trusted_domains(ctx: Context) -> set[str]:
    """The office's own domains and the force's: their people may write about any case."""
    s = ctx.settings
    own = {a.rpartition("@")[2].lower() for a in (*s.office_addresses, *s.consultation_addresses,
                                                   s.smtp_from, s.imap_user) if a and "@" in a}  # fmt: skip
    return own | {d.lower() for d in s.force_domains}


def on_the_case(ctx: Context, case: Case) -> bool:
    """Is the sender one of ``case``'s people, or writing from an office or force domain?"""
    address = ctx.msg.from_addr
    if not address:
        return False
    domain = address.rpartition("@")[2]
    if any(domain == d or domain.endswith("." + d) for d in trusted_domains(ctx)):
        return True
    ctx.sync()
    found = ctx.session.execute(
        select(col(Correspondent.id))
        .where(col(Correspondent.email) == address)
        .where(
            or_(
                col(Correspondent.id) == case.correspondent_id,
                col(Correspondent.id).in_(
                    select(col(CaseParticipant.correspondent_id)).where(
                        col(CaseParticipant.case_id) == case.id
                    )
                ),
            )
        )
        .limit(1)
    ).first()
    return found is not None


def case_by_guessable_reference(ctx: Context, reference: str) -> Case | None:
    """The case a written reference names, if the sender may join it; else remember the link."""
    case = case_by_reference(ctx, reference)
    if case is None:
        return None
    if on_the_case(ctx, case):
        return case
    ctx.extra.setdefault("link_to", (case.id, case.reference))
    return None


def case_for_message_ids(ctx: Context, ids: list[str]) -> Case | None:
    """The case of the newest of ``ids`` that is logged on a case."""
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids:
        return None
    ctx.sync()
    rows = ctx.session.execute(
        select(Message.message_id, Message.case_id).where(  # type: ignore[call-overload]
            Message.message_id.in_(ids),  # type: ignore[union-attr]
            Message.case_id.is_not(None),  # type: ignore[union-attr]
        )
    ).all()
    by_id = {row.message_id: row.case_id for row in rows}
    for message_id in reversed(ids):  # References run oldest → newest; In-Reply-To is last
        if message_id in by_id:
            return ctx.session.get(Case, by_id[message_id])
    prefix = ctx.settings.reference_prefix
    for message_id in reversed(ids):
        for reference in references_in(message_id, prefix):
            case = case_by_guessable_reference(ctx, reference)
            if case is not None:
                return case
    return None


def _normalised(text: str) -> str:
    return " ".join(text.split()).lower()


def resent_case(ctx: Context) -> Case | None:
    """The case of an identical message (sender, subject, text) sent shortly before."""
    msg = ctx.msg
    if not msg.from_addr or msg.date is None or msg.date.tzinfo is None:
        return None
    if ctx.batch is not None and msg.from_addr in ctx.batch.unknown_senders:
        return None  # no correspondent with this address: no message of theirs to match
    ctx.sync()
    # one indexed query (correspondent's email → their messages), filtered in SQL so that only
    # same-subject messages inside the window bring their text back
    rows = ctx.session.execute(
        select(Message.case_id, Message.body_text)  # type: ignore[call-overload]
        .join(Correspondent, Message.correspondent_id == Correspondent.id)
        .where(
            Correspondent.email == msg.from_addr,
            Message.subject == msg.subject[:1000],
            Message.case_id.is_not(None),  # type: ignore[union-attr]
            Message.sent_at.between(msg.date - RESEND_WINDOW, msg.date + RESEND_WINDOW),  # type: ignore[union-attr]
        )
        .order_by(Message.id.desc())  # type: ignore[union-attr]
        .limit(20)
    ).all()
    body = _normalised(msg.body_text)
    for row in rows:
        if _normalised(row.body_text) == body:
            return ctx.session.get(Case, row.case_id)
    return None


def run(ctx: Context) -> None:
    msg = ctx.msg
    ids = [*msg.references, *([msg.in_reply_to] if msg.in_reply_to else [])]
    case = case_for_message_ids(ctx, ids)
    if case is not None:
        ctx.case, ctx.joined_by = case, "In-Reply-To/References"
        return
    for reference in references_in(msg.subject, ctx.settings.reference_prefix):
        case = case_by_guessable_reference(ctx, reference)
        if case is not None:
            ctx.case, ctx.joined_by = case, "case reference in the subject"
            return
    case = resent_case(ctx)
    if case is not None:
        ctx.case, ctx.joined_by = case, "sent twice"
