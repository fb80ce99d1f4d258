"""The hosts' calendar of sessions: one event per slot, "booked" or "free", nothing personal.

``casework surgery ics`` writes it to a file and the web server serves it at
``/calendar/<token>.ics`` (:mod:`casework.web.calendar`), so a diary can subscribe to it.
Cancelled sessions drop out of the feed, so a subscribed diary loses them at its next refresh.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from casework.settings import Settings
from store import surgeries
from store.surgery_mail import feed

#: how far back a feed reaches, so this week's sessions stay in the diary after they happen
FEED_PAST = timedelta(days=31)


def feed_bytes(
    session: Session, *, settings: Settings, host: str | None = None, start: date | None = None
) -> bytes:
    """The iCalendar feed of scheduled sessions from ``start`` (default a month ago)."""
    start = start or date.today() - FEED_PAST
    rows = []
    for sitting in surgeries.sessions_from(session, start=start):
        if sitting.status != "scheduled" or (host is not None and sitting.host != host):
            continue
        rows.append((sitting, {slot: True for slot in surgeries.taken_slots(session, sitting)}))
    return feed(settings, rows)
