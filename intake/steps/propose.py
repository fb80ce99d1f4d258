"""Propose: a reply whose own words make its case a complaint asks a caseworker to re-categorise.

Only for mail from a person that joined an existing case that is not already a complaint (or a
campaign). The sender's own words (no quoted earlier mail, which may be our acknowledgement) are
classified as a letter of their own; if that says complaint, :func:`store.proposals.propose`
records the proposal and queues the one-click Slack prompt. The category is never changed here.
One classification more per such reply, nothing per new case.
"""

from __future__ import annotations

from dataclasses import replace

from intake.campaigns import own_text
from intake.steps import Context
from store.enums import Category
from store.pending import resolve
from store.proposals import propose

NAME = "propose"
DESCRIPTION = "ask a caseworker to make a case a complaint when a later message reads as one"

#: categories a later message is never proposed to move a case from
_SETTLED = (Category.COMPLAINT.value, Category.CAMPAIGN.value)


def run(ctx: Context) -> None:
    case = ctx.case
    if case is None or ctx.opened or ctx.automatic or ctx.classifier_factory is None:
        return
    if case.category in _SETTLED or ctx.kind != "attached":
        return
    words = own_text(ctx.msg.body_text)
    if len(words.split()) < 4:
        return
    reply = replace(ctx.msg, body_text=words)
    result = ctx.classifier_factory().classify(reply, campaign_min_senders=ctx.settings.campaign_min_senders)
    if result.category != Category.COMPLAINT.value:
        return
    message_pk = resolve(ctx.extra.get("message_pk"))
    if not isinstance(message_pk, int):
        return
    propose(ctx.session, case=case, category=Category.COMPLAINT, message_pk=message_pk, text=words,
            reasons=list(result.reasons), confidence=result.confidence)  # fmt: skip
