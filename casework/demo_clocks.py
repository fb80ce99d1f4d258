"""Demo data for the statutory clocks: FOI requests clarified, paused for a fee and extended.

Runs after the demo's cases are loaded and uses the real clock functions (:mod:`store.clocks`,
:mod:`store.reviews`), so ``casework demo`` shows the due dates moving as the law moves them:
a request stopped for clarification and restarted (a fresh 20 working days), one paused for a
fee (the paused days not counted), one extended for the public interest test, one still waiting
for its requester, and an internal review of an answered request. A second run changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from casework.settings import Settings
from store import clocks, reviews
from store.enums import Category, Status
from store.models import Case, ClockEvent
from store.workdays import calendar

ACTOR = "U0DEMOCW1"


def load(session: Session, *, settings: Settings, today: date) -> Counter[str]:
    """Put clock events on a few demo FOI cases; how many of each were made."""
    done: Counter[str] = Counter()
    if session.execute(select(func.count()).select_from(ClockEvent)).scalar_one():
        return done  # loaded before
    cal = calendar(settings.closure_dates)
    foi = list(
        session.execute(
            select(Case)
            .where(col(Case.category) == Category.FOI.value, col(Case.review_of_id).is_(None))
            .where(col(Case.received_on) >= today - timedelta(days=120))
            .order_by(col(Case.received_at).desc())
        ).scalars()
    )
    unclosed = [
        c for c in foi if c.status != Status.CLOSED.value and c.received_on < today - timedelta(days=7)
    ]
    closed = [c for c in foi if c.status == Status.CLOSED.value and c.closed_on and c.closed_on < today]

    def working_days_after(day: date, n: int) -> date:
        for _ in range(n):
            day += timedelta(days=1)
            while not cal.is_working_day(day):
                day += timedelta(days=1)
        return day

    plan = ["clarified", "fee", "extended", "waiting"]
    for case, what in zip(unclosed, plan, strict=False):
        stop = working_days_after(case.received_on, 2)
        if stop >= today:
            continue
        if what == "extended":
            clocks.extend(session, case=case, settings=settings, reason="public interest test (s10(3))",
                          actor=ACTOR, working_days=10, today=today)  # fmt: skip
        else:
            reason = "fee" if what == "fee" else "clarification"
            clocks.stop_clock(session, case=case, settings=settings, reason=reason, actor=ACTOR, on=stop,
                              note="demo", today=today)  # fmt: skip
            restart = working_days_after(stop, 3)
            if what != "waiting" and restart <= today:
                clocks.start_clock(
                    session, case=case, settings=settings, actor=ACTOR, on=restart, today=today
                )
        done[what] += 1
    for original in closed:  # the newest answer whose requester has had a week to ask
        asked = working_days_after(original.closed_on or today, 5)
        if asked <= today:
            reviews.open_review(
                session, original=original, settings=settings, actor=ACTOR, on=asked, today=today
            )
            done["internal review"] += 1
            break
    return done
