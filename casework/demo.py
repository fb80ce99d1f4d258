"""Demo data: a year of invented casework and telephone calls, so casework runs with no accounts.

The figures follow the shape of the 2013 Board report (about 120 cases a month, mostly
correspondence and complaints, campaigns of many senders counted once, a little over 100
calls a week, most answered within three rings) but every person and address is invented
(``example.org``). The generator is seeded, so the same day always gives the same data.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from store.enums import Category, Status
from store.imports import _CaseRow
from store.workdays import LONDON, calendar, is_working_day

CATEGORY_WEIGHTS = {
    Category.CORRESPONDENCE: 70,
    Category.COMPLAINT: 22,
    Category.FOI: 4,
    Category.CAMPAIGN: 1,
    Category.OFFICER_CORRESPONDENCE: 2,
    Category.CONSULTATION: 1,
}
SUBJECTS = {
    Category.CORRESPONDENCE: [
        "Police and Crime Plan priorities",
        "Congratulations on your election",
        "PCSO numbers",
        "Invitation to our community meeting",
        "Metal theft",
        "Speeding on our road",
    ],
    Category.COMPLAINT: [
        "Complaint about officer conduct",
        "Delay in PSD investigation",
        "Appeal against complaint outcome",
        "Handling of my burglary report",
    ],
    Category.FOI: [
        "Freedom of Information request: staff costs",
        "Request for gifts and hospitality register",
        "Information request: stop and search figures",
    ],
    Category.CAMPAIGN: [
        "Do not privatise the police",
        "Tackle child sexual exploitation",
        "Fight wildlife crime",
    ],
    Category.OFFICER_CORRESPONDENCE: [
        "Shift pattern and childcare",
        "Rest days cancelled",
        "Body armour fit",
    ],
    Category.CONSULTATION: ["Precept survey response", "Estates review response"],
}
FIRST = ["sam", "alex", "priya", "jo", "mohammed", "kate", "daniel", "amrit", "lucy", "tom", "grace", "imran"]


def demo_period(today: date, months: int = 12) -> tuple[date, date]:
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(months - 2):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, today


def _moment(day: date, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(8, 0), tzinfo=LONDON) + timedelta(minutes=rng.randint(0, 9 * 60))
    return local.astimezone(UTC)


def demo_cases(today: date, *, prefix: str = "DEMO") -> list[_CaseRow]:
    """About 120 cases a month for the last twelve months, as they stand ``today``."""
    rng = random.Random(f"casework-demo-{today.isoformat()}")
    start, _ = demo_period(today)
    cal = calendar()
    rows: list[_CaseRow] = []
    day, serial = start, 0
    categories, weights = zip(*CATEGORY_WEIGHTS.items(), strict=True)
    while day <= today:
        for _ in range(rng.randint(4, 8) if is_working_day(day) else rng.randint(0, 1)):
            serial += 1
            category = rng.choices(categories, weights)[0]
            received = _moment(day, rng)
            # Closure time: most within the deadline, a long tail waiting on the force.
            taken = int(rng.expovariate(1 / 22)) + 1
            closed_on = cal.add_working_days(day, max(1, int(taken * 5 / 7)))
            if closed_on <= today and rng.random() < 0.93:
                status, closed_at = (
                    Status.CLOSED.value,
                    max(_moment(closed_on, rng), received + timedelta(hours=1)),
                )
            else:
                status = rng.choices(
                    [Status.OPEN.value, Status.IN_PROGRESS.value, Status.MONITORING.value], [3, 4, 2]
                )[0]
                closed_at = None
            person = f"{rng.choice(FIRST)}{rng.randint(1, 999)}@home.example.org"
            rows.append(
                _CaseRow(
                    f"{prefix}-{received.year}-{serial:06d}",
                    received,
                    category.value,
                    status,
                    closed_at,
                    person,
                    rng.choice(SUBJECTS[category]),
                )
            )
        day += timedelta(days=1)
    return rows


def demo_calls(today: date) -> list[dict[str, Any]]:
    """About 110 calls a week on working days over the same twelve months."""
    rng = random.Random(f"casework-calls-{today.isoformat()}")
    start, _ = demo_period(today)
    rows: list[dict[str, Any]] = []
    day = start
    while day <= today:
        if is_working_day(day):
            for n in range(rng.randint(14, 30)):
                started = _moment(day, rng)
                roll = rng.random()
                wait = rng.choice([2, 3, 4, 5, 5, 6, 7, 8]) if roll < 0.95 else rng.randint(10, 40)
                if roll < 0.965:
                    answered = started + timedelta(seconds=wait)
                    ended = answered + timedelta(seconds=rng.randint(30, 400))
                    outcome = "answered"
                elif roll < 0.998:
                    answered, ended, outcome = (
                        None,
                        started + timedelta(seconds=rng.randint(3, 40)),
                        "abandoned",
                    )
                else:
                    answered, ended, outcome = None, started, "busy"
                wait_s = (
                    (answered - started).total_seconds() if answered else (ended - started).total_seconds()
                )
                rows.append(
                    {
                        "call_id": f"DEMO-{day:%Y%m%d}-{n:04d}",
                        "started_at": started,
                        "started_on": day,
                        "answered_at": answered,
                        "ended_at": ended,
                        "outcome": outcome,
                        "wait_s": 0.0 if outcome == "busy" else wait_s,
                        "talk_s": (ended - answered).total_seconds() if answered else None,
                    }
                )
        day += timedelta(days=1)
    return rows


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def demo_master_csv(today: date) -> str:
    """:func:`demo_calls` as an Asterisk ``cdr_csv`` Master.csv, so the demo imports its calls
    the way an office does: a ring group of two phones, one row per phone rung, legs sharing a
    linkedid (``newcdrcolumns`` on), local Europe/London times."""
    lines = []
    stamp = "%Y-%m-%d %H:%M:%S"
    for number, call in enumerate(demo_calls(today)):
        started = call["started_at"].astimezone(LONDON).replace(tzinfo=None)
        ended = call["ended_at"].astimezone(LONDON).replace(tzinfo=None)
        answered = (
            call["answered_at"].astimezone(LONDON).replace(tzinfo=None) if call["answered_at"] else None
        )
        linked = f"{int(call['started_at'].timestamp())}.{number * 2}"
        caller = f"0121496{number % 10000:04d}"
        if call["outcome"] == "busy":
            legs = [("201", None, ended, "BUSY")]
        elif answered is not None:  # phone 201 rings until 202 answers
            legs = [("201", None, answered, "NO ANSWER"), ("202", answered, ended, "ANSWERED")]
        else:
            legs = [("201", None, ended, "NO ANSWER"), ("202", None, ended, "NO ANSWER")]
        for leg, (phone, answer, end, disposition) in enumerate(legs):
            fields = [
                _quoted(""), _quoted(caller), _quoted("600"), _quoted("from-trunk"),
                _quoted(f'"Demo caller" <{caller}>'), _quoted("SIP/trunk-00000001"),
                _quoted(f"SIP/{phone}-0000000{leg + 2}"), _quoted("Dial"), _quoted(f"SIP/{phone},30"),
                _quoted(started.strftime(stamp)), _quoted(answer.strftime(stamp) if answer else ""),
                _quoted(end.strftime(stamp)), str(int((end - started).total_seconds())),
                str(int((end - answer).total_seconds()) if answer else 0), _quoted(disposition),
                _quoted("DOCUMENTATION"), _quoted(f"{linked.split('.')[0]}.{number * 2 + leg}"), _quoted(""),
                _quoted(""), _quoted(linked), str(leg + 1),
            ]  # fmt: skip
            lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


VENUES = [
    "Dudley Council House",
    "Coventry Council House",
    "Walsall Council House",
    "Wolverhampton Civic Centre",
    "Sandwell Council House",
    "Solihull Council House",
    "Birmingham Council House",
]
ATTENDED_NOTE = "Raised the handling of their case; caseworker to follow up."
NEEDS = ["", "", "", "", "hearing loop", "step-free access", "brings a carer", "large print"]


def demo_surgeries(session: Any, today: date) -> int:
    """A year of surgeries as the report's paras 12–14 describe them; the number of sessions added.

    A Friday surgery roughly every five weeks from 18:30 (some from 14:30), 8 × 15 minutes, most
    slots taken, a few late cancellations and no-shows; the first one cancelled for the weather
    and moved; a virtual surgery every six months and a casework meeting now and then. Nothing is
    emailed. Loaded once: a store that has sessions already gets none.
    """
    from sqlalchemy import func, select

    from store.models import Case, SurgeryBooking, SurgerySession

    if session.execute(select(func.count()).select_from(SurgerySession)).scalar_one():
        return 0
    rng = random.Random(f"casework-surgeries-{today.isoformat()}")
    start, _ = demo_period(today)
    cases = list(session.execute(select(Case.id, Case.received_on).order_by(Case.id)).all())  # type: ignore[call-overload]
    day = start + timedelta(days=(4 - start.weekday()) % 7)  # the first Friday
    plans: list[tuple[date, time, str, str, str, int, int]] = []
    number = 0
    while day <= today + timedelta(days=40):
        if is_working_day(day):
            number += 1
            at = time(14, 30) if number % 4 == 0 else time(18, 30)
            host = "commissioner" if number % 2 else "deputy"
            plans.append((day, at, "surgery", host, VENUES[number % len(VENUES)], 8, 15))
            if number % 5 == 0:  # a virtual surgery every six months or so: an hour, three people
                plans.append((day + timedelta(days=5), time(12, 0), "virtual", "commissioner", "", 4, 15))
            if number % 3 == 0:
                plans.append((day + timedelta(days=3), time(10, 0), "meeting", host, "Lloyd House", 1, 120))
        day += timedelta(weeks=5)
    made = 0
    first: SurgerySession | None = None
    for held_on, at, kind, host, venue, slots, minutes in plans:
        if not is_working_day(held_on):
            continue
        starts = datetime.combine(held_on, at, tzinfo=LONDON)
        sitting = SurgerySession(
            kind="meeting" if kind == "meeting" else "surgery", host=host, starts_at=starts.astimezone(UTC),
            held_on=held_on, slots=slots, minutes=minutes, venue=venue,
            virtual_url="https://meet.example.org/pcc-surgery" if kind == "virtual" else "",
        )  # fmt: skip
        session.add(sitting)
        session.flush()
        made += 1
        if first is None:  # the first evening was lost to the weather, re-arranged at the office
            first = sitting
            sitting.status, sitting.cancel_reason = "cancelled", "bad weather"
            sitting.cancelled_at = starts.astimezone(UTC) - timedelta(hours=6)
            moved_on = calendar().add_working_days(held_on, 2)
            moved = SurgerySession(
                kind="surgery", host=host, held_on=moved_on, slots=8, minutes=15, venue="Lloyd House",
                starts_at=datetime.combine(moved_on, time(10, 0), tzinfo=LONDON).astimezone(UTC),
            )  # fmt: skip
            session.add(moved)
            session.flush()
            sitting.moved_to_id = moved.id
            sitting, past, made = moved, moved_on < today, made + 1
            taken = 7
        else:
            past = held_on < today
            taken = 3 if kind == "virtual" else rng.randint(max(1, slots - 2), slots)
        for slot in range(1, taken + 1):
            roll = rng.random()
            if not past:
                status, late = "booked", False
            elif roll < 0.72:
                status, late = "attended", False
            elif roll < 0.86:
                status, late = "cancelled", rng.random() < 0.7
            else:
                status, late = "no_show", False
            case_id = rng.choice(cases).id if cases else None
            person = rng.choice(FIRST)
            session.add(
                SurgeryBooking(
                    session_id=sitting.id, slot=slot, status=status, name=person.capitalize(),  # type: ignore[arg-type]
                    email=f"{person}{rng.randint(1, 999)}@home.example.org", needs=rng.choice(NEEDS),
                    case_id=case_id, late=late, moved_from_id=first.id if sitting.id == first.moved_to_id else None,  # noqa: E501
                    reason=rng.choice(["ill health", "childcare", "work"]) if status == "cancelled" else "",
                    note=ATTENDED_NOTE if status == "attended" else "",
                    created_at=starts.astimezone(UTC) - timedelta(days=rng.randint(5, 30)),
                    updated_at=starts.astimezone(UTC) - timedelta(days=1),
                )
            )  # fmt: skip
    return made
