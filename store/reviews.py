"""Internal reviews: a linked case of its own, with its own deadline, for a reviewed case.

A review's reference is its original's with ``-R1`` (``-R2``… for later ones), so whoever reads
it sees what it reviews and intake threads replies naming it onto the review (see
:func:`intake.steps.thread.reference_pattern`). It takes the original's category and
correspondent, is received on the day the review was asked for, and is due after the
category's ``review_working_days`` (default 20; ICO guidance: 20 working days, 40 at most),
extendable up to ``review_cap_working_days``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from casework.settings import Settings
from store import clocks
from store.cases import CaseError, add_participant, open_case, record_event
from store.enums import EventKind
from store.models import Case, CaseParticipant, Correspondent
from store.outbox import enqueue


def review_reference(session: Session, *, original: Case) -> str:
    count = session.execute(
        select(func.count()).select_from(Case).where(col(Case.review_of_id) == original.id)
    ).scalar_one()
    return f"{original.reference}-R{int(count) + 1}"


def open_review(
    session: Session,
    *,
    original: Case,
    settings: Settings,
    actor: str,
    on: date | None = None,
    today: date | None = None,
    out_of_time: bool = False,
) -> Case:
    """Open the internal review of ``original``, asked for on ``on`` (default today).

    A category with a review window (complaints: 28 days after the outcome, the IOPC's statutory
    guidance) refuses a later request unless ``out_of_time`` says the office accepts it anyway.
    """
    if original.review_of_id is not None:
        raise CaseError(f"{original.reference} is itself an internal review; review its original instead.")
    today = today or clocks.today_london()
    on = on or today
    if on > today:
        raise CaseError(f"A review asked for on {on} is in the future (today is {today}).")
    if on < original.received_on:
        raise CaseError(
            f"A review asked for on {on} is before {original.reference} "
            f"was received ({original.received_on})."
        )
    window = settings.policy(original.category).review_window_days
    if window and original.closed_on is not None and not out_of_time:
        last = original.closed_on + timedelta(days=window)
        if on > last:
            raise CaseError(
                f"A review of {original.reference} had to be asked for within {window} days of its outcome "
                f"({original.closed_on}), by {last}; this request is dated {on}. "
                "To accept it anyway, use --out-of-time."
            )
    correspondent = (
        session.get(Correspondent, original.correspondent_id) if original.correspondent_id else None
    )
    review = open_case(
        session,
        settings=settings,
        category=original.category,
        received_at=clocks.received_at_for(on, today),
        subject=f"Internal review: {original.subject}"[:1000],
        correspondent=correspondent,
        actor=actor,
        reference=review_reference(session, original=original),
    )
    review.review_of_id = original.id
    review.linked_case_id = original.id
    session.add(review)
    session.flush()
    clocks.refresh(session, case=review, settings=settings)
    for (person,) in session.execute(
        select(CaseParticipant.correspondent_id).where(col(CaseParticipant.case_id) == original.id)  # type: ignore[call-overload]
    ).all():
        found = session.get(Correspondent, person)
        if found is not None:
            add_participant(session, case=review, correspondent=found)
    record_event(
        session,
        case=review,
        kind=EventKind.REVIEW,
        actor=actor,
        old=original.reference,
        new=review.reference,
        note=f"internal review of {original.reference}",
    )
    record_event(
        session,
        case=original,
        kind=EventKind.REVIEW,
        actor=actor,
        old=original.reference,
        new=review.reference,
        note=f"internal review opened as {review.reference}",
    )
    enqueue(
        session,
        key=f"triage:{review.reference}",
        kind="slack.triage",
        payload={"reference": review.reference},
        case_id=review.id,
    )
    return review


def proposal_message(reference: str, asked_on: date) -> tuple[str, list[dict[str, Any]]]:
    """The Slack post proposing a review, with its one-click button (action ``clock_review``,
    value ``REF|YYYY-MM-DD``, handled by :mod:`bot.listeners.actions.clocks`)."""
    text = (
        f"A reply on closed FOI case {reference} asks for an internal review "
        f"(received {asked_on:%a %-d %b %Y}). Open it?"
    )
    button = {
        "type": "button",
        "action_id": "clock_review",
        "style": "primary",
        "text": {"type": "plain_text", "text": "Open internal review"},
        "value": f"{reference}|{asked_on.isoformat()}",
    }
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f":scales: {text}"}},
        {"type": "actions", "block_id": f"review:{reference}", "elements": [button]},
    ]
    return text, blocks


def propose_review(session: Session, *, case: Case, settings: Settings, asked_on: date, key: str) -> bool:
    """Post the proposal in the case's thread (or the triage channel); False when nowhere to post."""
    channel = case.slack_channel or settings.triage_channel
    if not channel:
        return False
    text, blocks = proposal_message(case.reference, asked_on)
    payload: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
    if case.slack_channel and case.slack_ts:
        payload["thread_ts"] = case.slack_ts
    record_event(
        session,
        case=case,
        kind=EventKind.NOTE,
        actor="intake",
        note=f"internal review asked for on {asked_on.isoformat()}: proposed in Slack",
    )
    return enqueue(
        session,
        key=f"review-proposal:{key}",
        kind="slack.post",
        target=channel,
        payload=payload,
        case_id=case.id,
    )


def reviews_of(session: Session, *, case: Case) -> list[Case]:
    return list(
        session.execute(
            select(Case).where(col(Case.review_of_id) == case.id).order_by(col(Case.id))
        ).scalars()
    )
