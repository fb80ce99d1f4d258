"""How much a post to a channel may show, from the last privacy check of that channel.

``CASEWORK_CHANNEL_DETAIL`` asks for ``minimal``, ``subject`` or ``full``; anything beyond
``minimal`` is used only while the channel's latest check (:mod:`bot.channels`, at start-up
and hourly) passed and is fresh. No check, a failed one, or one older than :data:`FRESH`
(the checker stopped) all mean ``minimal``: the safe answer when nobody knows who is in the
channel. The result is kept in the store so the bot, the sender and the scheduler, in any
process, read the same answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from casework.settings import Settings
from store.models import ChannelCheck
from store.types import utcnow

MINIMAL, SUBJECT, FULL = "minimal", "subject", "full"
DETAILS = (MINIMAL, SUBJECT, FULL)

#: a check older than this no longer counts (it runs hourly)
FRESH = timedelta(hours=3)


def detail_for(
    session: Session, *, settings: Settings, channel: str | None, now: datetime | None = None
) -> str:
    """The detail posts to ``channel`` may carry now."""
    wanted = settings.channel_detail
    if wanted == MINIMAL or not channel:
        return MINIMAL
    check = session.get(ChannelCheck, channel)
    if check is None or not check.passed or (now or utcnow()) - check.checked_at > FRESH:
        return MINIMAL
    return wanted


def shows_subject(session: Session, *, settings: Settings, channel: str | None) -> bool:
    return detail_for(session, settings=settings, channel=channel) != MINIMAL


def save_check(
    session: Session, *, channel: str, wanted: str, passed: bool, reason: str, now: datetime | None = None
) -> tuple[ChannelCheck, bool]:
    """Record a check; the second value is True when this failure starts a new run of failures
    (the managers are told then, once)."""
    now = now or utcnow()
    row = session.get(ChannelCheck, channel)
    newly_failing = False
    if row is None:
        row = ChannelCheck(channel=channel, detail=MINIMAL, checked_at=now)
        newly_failing = not passed
    elif not passed and (row.passed or row.failing_since is None):
        newly_failing = True
    row.passed, row.reason, row.checked_at = passed, reason[:1000], now
    row.detail = wanted if passed else MINIMAL
    if passed:
        row.failing_since = None
    elif newly_failing:
        row.failing_since = now
    session.add(row)
    session.flush()
    return row, newly_failing
