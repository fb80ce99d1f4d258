"""Classify: the category of a message that opens a new case, with confidence and reasons.

The classifier itself lives in :mod:`intake.classify`; this step only asks it, for mail from a
person that joined no case and no campaign.
"""

from __future__ import annotations

from intake.steps import Context

NAME = "classify"
DESCRIPTION = "choose the category of a new case"


def run(ctx: Context) -> None:
    if ctx.case is not None or ctx.automatic or ctx.classifier_factory is None:
        return
    ahead = ctx.prepared.classification if ctx.prepared is not None else None
    if ahead is not None and ctx.campaign_senders < ctx.settings.campaign_min_senders:
        ctx.classification = ahead  # the same answer: below the minimum, senders change no vote
        return
    classifier = ctx.classifier_factory()
    ctx.classification = classifier.classify(
        ctx.msg,
        campaign_senders=ctx.campaign_senders,
        campaign_min_senders=ctx.settings.campaign_min_senders,
    )
