"""The surgeries pass: reminders, the waiting list's offer clock and the briefing packs.

Run every few minutes. Each part recomputes from the store and records what it sends under an
outbox key (``surgery:{booking}:reminder:…``, ``surgery.brief:{session}:{user}``), so a
second run, a late run or a second instance sends nothing twice:

* an offer whose hold has run out lapses and the slot goes to the next person on the list
  (never less than four hours before the slot);
* each appointment gets its reminder ``CASEWORK_SURGERY_REMINDER_HOURS`` before;
* each session's brief goes to the hosts the working day before, at the digest time.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from casework.settings import Settings
from casework.surgery_brief import send_due_briefs
from store.db import session_scope
from store.surgeries import expire_offers, send_reminders

log = logging.getLogger(__name__)


def run_surgeries(engine: Engine, settings: Settings, *, now: datetime) -> dict[str, Any]:
    with session_scope(engine) as session:
        lapsed = expire_offers(session, settings=settings, now=now)
    with session_scope(engine) as session:
        reminded = send_reminders(session, settings=settings, now=now)
    with session_scope(engine) as session:
        briefed = send_due_briefs(session, settings=settings)
    if lapsed or reminded or briefed:
        log.info("surgeries: %d offers lapsed, %d reminders, briefs for %s", len(lapsed), reminded, briefed)
    return {"lapsed": lapsed, "reminders": reminded, "briefs": briefed}
