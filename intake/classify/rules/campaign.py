"""Campaign signals: the pipeline's grouping of many senders, and campaign-site footers."""

from __future__ import annotations

from intake.classify.base import CAMPAIGN, Context, Vote, phrases


def campaign(ctx: Context) -> list[Vote]:
    if ctx.campaign_senders >= ctx.campaign_min_senders:
        return [(CAMPAIGN, 20.0, f"near-identical text from {ctx.campaign_senders} different senders")]
    return []


_CAMPAIGN_SITE = phrases(
    r"sent (?:by [^\n]{0,60} )?(?:using|via|through) (?:the )?[^\n]{0,60}(?:online action|campaign|"
    r"petition|action page)",
    r"this (?:message|email) was sent (?:by|using|via)",
)


def campaign_site(ctx: Context) -> list[Vote]:
    if "x-campaign-action" in ctx.msg.headers or _CAMPAIGN_SITE.search(ctx.msg.body_text.lower()):
        return [(CAMPAIGN, 1.5, "sent through a campaign website's action page")]
    return []
