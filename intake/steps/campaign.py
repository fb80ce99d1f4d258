"""Campaign: near-identical text from several different people becomes one campaign case.

When a message's text matches messages already on a campaign case, it joins that case. When it
matches messages from other senders on ordinary cases and, with this sender, they reach
``CASEWORK_CAMPAIGN_MIN_SENDERS``, the campaign is recognised: the earliest of those cases
becomes the campaign case (re-categorised ``campaign``, with a ``Campaign`` row), and the other
cases are merged into it — their messages, participants and labels move across, a history note
records each merge, and the merged-away cases are deleted so the Board counts the campaign
once. A ``slack.triage`` outbox row of a deleted case keeps its payload with ``case_id``
emptied; the Slack sender skips it.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlmodel import Session

from casework.settings import Settings
from intake import campaigns
from intake.steps import Context
from store.cases import add_participant, record_event, set_category
from store.enums import Category, EventKind
from store.models import (
    Campaign,
    Case,
    CaseEvent,
    CaseParticipant,
    ClassifierLabel,
    Correspondent,
    Message,
    OutboxItem,
)
from store.outbox import enqueue

NAME = "campaign"
DESCRIPTION = "group near-identical text from different senders into one campaign case"
MERGED = "merged into campaign"


def merge_case(session: Session, *, old: Case, into: Case) -> None:
    """Move everything of ``old`` onto ``into`` and delete ``old``."""
    participants = (
        session.execute(
            select(CaseParticipant).where(CaseParticipant.case_id == old.id)  # type: ignore[arg-type]
        )
        .scalars()
        .all()
    )
    for participant in participants:
        correspondent = session.get(Correspondent, participant.correspondent_id)
        if correspondent is not None:
            add_participant(session, case=into, correspondent=correspondent)
        session.delete(participant)
    session.flush()
    session.execute(update(Message).where(Message.case_id == old.id).values(case_id=into.id))  # type: ignore[arg-type]
    session.execute(update(ClassifierLabel).where(ClassifierLabel.case_id == old.id).values(case_id=into.id))  # type: ignore[arg-type]
    session.execute(update(OutboxItem).where(OutboxItem.case_id == old.id).values(case_id=None))  # type: ignore[arg-type]
    session.execute(update(Case).where(Case.linked_case_id == old.id).values(linked_case_id=into.id))  # type: ignore[arg-type]
    session.execute(delete(CaseEvent).where(CaseEvent.case_id == old.id))  # type: ignore[arg-type]
    # old/new values let the thread step find the campaign from the old reference, which the
    # person saw in their acknowledgement and may still write in a subject line
    record_event(
        session,
        case=into,
        kind=EventKind.NOTE,
        actor="intake",
        old=old.reference,
        new=MERGED,
        note=f"merged {old.reference} (received {old.received_on.isoformat()}) into this campaign",
    )
    session.delete(old)
    session.flush()


def form_campaign(session: Session, *, settings: Settings, cases: list[Case], senders: int) -> Case:
    """Turn the earliest of ``cases`` into the campaign case and merge the rest into it."""
    cases = sorted(cases, key=lambda c: (c.received_at, c.id or 0))
    first = cases[0]
    set_category(session, case=first, category=Category.CAMPAIGN, actor="intake", settings=settings)
    campaign = Campaign(title=first.subject[:500], case_id=first.id)
    session.add(campaign)
    session.flush()
    first.campaign_id = campaign.id
    first.confidence = 1.0
    first.reasons = [f"campaign: near-identical text from {senders} different senders"]
    session.add(first)
    for old in cases[1:]:
        _retire_triage_post(session, old=old, into=first)
        merge_case(session, old=old, into=first)
    # The campaign case's triage post (if already out) still shows its old category: redraw it.
    enqueue(session, key=f"triage:{first.reference}:campaign", kind="slack.triage",
            payload={"reference": first.reference}, case_id=first.id)  # fmt: skip
    return first


def _retire_triage_post(session: Session, *, old: Case, into: Case) -> None:
    """Rewrite a merged-away case's triage post so nobody acts on a case that no longer exists."""
    if not (old.slack_channel and old.slack_ts):
        return
    text = f"{old.reference} was merged into campaign case {into.reference}: act on that case instead."
    enqueue(
        session,
        key=f"merged:{old.reference}",
        kind="slack.update",
        target=old.slack_channel,
        payload={
            "channel": old.slack_channel,
            "ts": old.slack_ts,
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":link: {text}"}}],
        },
    )


def run(ctx: Context) -> None:
    if ctx.automatic:
        return
    if ctx.prepared is not None:
        grams, ctx.bands = ctx.prepared.grams, ctx.prepared.bands
    else:
        grams = campaigns.shingles(ctx.msg.body_text)
        ctx.bands = campaigns.bands(grams)
    if ctx.case is not None or not ctx.bands:
        return
    batch = ctx.batch
    if batch is not None and batch.pending is not None and not batch.pending.band_keys.isdisjoint(ctx.bands):
        ctx.sync()  # a message of this batch shares a band: the lookup must see its rows
    matches = campaigns.similar_messages(
        ctx.session,
        grams=grams,
        band_keys=ctx.bands,
        threshold=ctx.settings.campaign_similarity,
        index=batch.bands if batch is not None else None,
    )
    cases: dict[int, Case] = {}
    senders = {ctx.msg.from_addr}
    for match in matches:
        if match.case_id is None or match.from_addr == ctx.msg.from_addr:
            continue
        case = cases.get(match.case_id) or ctx.session.get(Case, match.case_id)
        if case is None:
            continue
        if case.campaign_id is not None:  # a known campaign: join it, no need to look further
            ctx.case, ctx.joined_by = case, "campaign"
            return
        cases[match.case_id] = case
        senders.add(match.from_addr)
    if not cases:
        return
    ctx.sync()  # merging moves and deletes rows: none of the batch's may be held back
    ctx.campaign_senders = len(senders)
    if len(senders) < ctx.settings.campaign_min_senders:
        return
    ctx.case = form_campaign(
        ctx.session, settings=ctx.settings, cases=list(cases.values()), senders=len(senders)
    )
    ctx.joined_by = "campaign"
