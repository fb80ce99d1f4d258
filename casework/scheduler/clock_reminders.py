"""Stopped clocks: a reminder once a stop has lasted long, and "Close as lapsed" for clarifications.

A stopped clock gets no deadline warnings (there is no running deadline). Instead, on a working
day's warning pass, each unclosed case whose clock has stood stopped for
``CASEWORK_CLOCK_STOP_REMIND_WORKING_DAYS`` working days (the stop day included) gets one
reminder — a DM to its assignee, else a post to the alerts channel — keyed by the case and the
day it stopped, so it is sent once per stop. A case stopped for clarification for
``CASEWORK_CLARIFICATION_LAPSE_WORKING_DAYS`` gets one more message with a one-click *Close as
lapsed* button (the ICO's guidance: a request not clarified may be treated as closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from casework.scheduler.record import Row
from casework.settings import Settings
from store import clocks
from store.enums import UNCLOSED
from store.models import Case
from store.workdays import WorkingCalendar

REMIND_KIND = "slack.dm"
LAPSE_ACTION = "clock_lapse"


@dataclass(frozen=True)
class Stopped:
    reference: str
    case_id: int
    assignee: str | None
    stopped_on: date
    reason: str
    working_days: int


def stopped_cases(session: Session, *, today: date, cal: WorkingCalendar) -> list[Stopped]:
    rows = session.execute(
        select(Case)
        .where(col(Case.status).in_([s.value for s in UNCLOSED]), col(Case.clock_stopped_on).is_not(None))
        .order_by(col(Case.clock_stopped_on), col(Case.reference))
    ).scalars()
    found = []
    for case in rows:
        assert case.id is not None and case.clock_stopped_on is not None
        days = cal.working_days_between(case.clock_stopped_on - clocks.ONE_DAY, today)
        reason = clocks.stop_reason(session, case=case) or clocks.OTHER
        found.append(Stopped(case.reference, case.id, case.assignee, case.clock_stopped_on, reason, days))
    return found


def lapse_blocks(stop: Stopped) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"*{stop.reference}* has waited {stop.working_days} working days for clarification "
                    f"(asked on {stop.stopped_on:%a %d %b %Y}). Close it as lapsed?"
                ),
            },
        },
        {
            "type": "actions",
            "block_id": f"lapse:{stop.reference}",
            "elements": [
                {
                    "type": "button",
                    "action_id": LAPSE_ACTION,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Close as lapsed"},
                    "value": stop.reference,
                }
            ],
        },
    ]


def reminder_rows(session: Session, settings: Settings, *, today: date, cal: WorkingCalendar) -> list[Row]:
    rows = []
    for stop in stopped_cases(session, today=today, cal=cal):
        if stop.assignee:
            address, target = "user", stop.assignee
        elif settings.alerts_channel:
            address, target = "channel", settings.alerts_channel
        else:
            continue
        kind = "slack.dm" if address == "user" else "slack.post"
        stem = f"{stop.reference}:{stop.stopped_on.isoformat()}"
        if stop.working_days >= settings.clock_stop_remind_working_days:
            text = (
                f"{stop.reference}: the clock has been stopped ({stop.reason}) for {stop.working_days} "
                f"working days, since {stop.stopped_on:%a %d %b %Y}. Restart it, or chase the correspondent."
            )
            rows.append(
                Row(
                    key=f"clock-remind:{stem}",
                    kind=kind,
                    target=target,
                    payload={address: target, "text": text},
                    case_id=stop.case_id,
                )
            )
        if (
            stop.reason == clocks.CLARIFICATION
            and stop.working_days >= settings.clarification_lapse_working_days
        ):
            blocks = lapse_blocks(stop)
            text = f"{stop.reference}: no clarification in {stop.working_days} working days; close as lapsed?"
            rows.append(
                Row(
                    key=f"clock-lapse:{stem}",
                    kind=kind,
                    target=target,
                    payload={address: target, "text": text, "blocks": blocks},
                    case_id=stop.case_id,
                )
            )
    return rows
