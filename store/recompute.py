"""Due dates follow the calendar: recompute every unclosed case when the holidays change.

The set of non-working weekdays (the ``holidays`` package's UK bank holidays plus
``CASEWORK_EXTRA_HOLIDAYS``) is fingerprinted and the fingerprint kept in ``store_state``. When a
start finds another fingerprint (a new ``holidays`` release, a new extra holiday), every unclosed
case's due date is computed again from its clock events (Alaveteli's issue #7292: requests open
at the 2023 coronation kept their old dates). Each moved case gets a history entry, and one
Slack notice lists the moves.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from casework.settings import Settings
from store import clocks
from store.cases import record_event
from store.db import session_scope
from store.enums import UNCLOSED, EventKind
from store.models import Case, StoreState
from store.outbox import enqueue
from store.types import utcnow
from store.workdays import non_working_weekdays

log = logging.getLogger(__name__)

FINGERPRINT = "holidays_fingerprint"
#: the years fingerprinted: any case open now was received in these or is due in them
FIRST_YEAR = 2000
YEARS_AHEAD = 5
PAGE = 2000
#: moves listed by name in the Slack notice (the rest are counted)
NOTICE_LINES = 50


@dataclass(frozen=True)
class Move:
    reference: str
    old: date
    new: date

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "old_due_on": self.old.isoformat(),
            "new_due_on": self.new.isoformat(),
        }


def fingerprint(*, today: date | None = None) -> str:
    last = (today or clocks.today_london()).year + YEARS_AHEAD
    days = non_working_weekdays(FIRST_YEAR, last)
    return hashlib.sha256(",".join(d.isoformat() for d in days).encode()).hexdigest()


def recompute(
    session: Session,
    *,
    settings: Settings,
    dry_run: bool = False,
    actor: str = "system",
    note: str = "working days changed",
) -> list[Move]:
    """Every unclosed case whose computed due date differs from its stored one (moved unless dry)."""
    moves: list[Move] = []
    last_id = 0
    while True:
        cases = list(
            session.execute(
                select(Case)
                .where(col(Case.status).in_([s.value for s in UNCLOSED]), col(Case.id) > last_id)
                .order_by(col(Case.id))
                .limit(PAGE)
            ).scalars()
        )
        if not cases:
            return moves
        last_id = cases[-1].id or 0
        steps = clocks.steps_by_case(session, [c.id for c in cases if c.id is not None])
        for case in cases:
            assert case.id is not None
            state = clocks.state_of(session, case=case, settings=settings, steps=steps.get(case.id, []))
            if state.due_on == case.due_on:
                continue
            moves.append(Move(case.reference, case.due_on, state.due_on))
            if not dry_run:
                old = case.due_on
                case.due_on = state.due_on
                case.clock_stopped_on = state.stopped_on
                case.updated_at = utcnow()
                session.add(case)
                record_event(
                    session,
                    case=case,
                    kind=EventKind.CLOCK,
                    actor=actor,
                    old=old.isoformat(),
                    new=f"due {state.due_on.isoformat()}",
                    note=note,
                )


def notify(session: Session, *, settings: Settings, moves: list[Move], key: str) -> bool:
    """One Slack post listing ``moves`` (the alerts channel, else the triage channel)."""
    channel = settings.alerts_channel or settings.triage_channel
    if not moves or not channel:
        return False
    lines = [f"• {m.reference}: due {m.old:%a %d %b %Y} → {m.new:%a %d %b %Y}" for m in moves[:NOTICE_LINES]]
    if len(moves) > NOTICE_LINES:
        lines.append(f"…and {len(moves) - NOTICE_LINES} more")
    text = f"The working-day calendar changed: {len(moves)} due date{'s' if len(moves) != 1 else ''} moved."
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}},
    ]
    return enqueue(
        session,
        key=key,
        kind="slack.post",
        target=channel,
        payload={"channel": channel, "text": text, "blocks": blocks},
    )


def follow_holidays(engine: Engine, settings: Settings, *, today: date | None = None) -> list[Move]:
    """At start: recompute due dates if the non-working days changed since the last start."""
    print_ = fingerprint(today=today)
    with session_scope(engine) as session:
        state = session.get(StoreState, FINGERPRINT, with_for_update=True)
        if state is not None and state.value == print_:
            return []
        # a store that never recorded one may hold dates from another calendar: recompute it too
        moves = recompute(session, settings=settings)
        state = state or StoreState(name=FINGERPRINT)
        # keyed by the change (old → new), so a calendar changed back is announced again
        key = f"deadlines-moved:{state.value[:16] or 'none'}:{print_[:16]}"
        state.value, state.updated_at = print_, utcnow()
        session.add(state)
        notify(session, settings=settings, moves=moves, key=key)
    if moves:
        log.info("working days changed: %d due dates moved", len(moves))
    return moves


def remember(session: Session) -> None:
    """Record the current fingerprint (after ``casework deadlines recompute`` moved the dates)."""
    print_ = fingerprint()
    state = session.get(StoreState, FINGERPRINT) or StoreState(name=FINGERPRINT)
    state.value, state.updated_at = print_, utcnow()
    session.add(state)
