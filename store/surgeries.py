"""Surgeries and casework meetings: sessions, bookings, the waiting list and its offers.

A *session* is a surgery (by default 8 × 15-minute slots) or a casework meeting (one slot of up
to two hours) with the Commissioner or the Deputy, at a venue or online. A *booking* is one
person's appointment, or their place on the session's waiting list, or a freed slot offered to
them and held for ``CASEWORK_SURGERY_OFFER_HOURS``. Every booking belongs to a case: the
person's own, or a new ``correspondence`` case so that what they raise runs on the same
20-working-day clock as a letter.

Every change the person must hear of queues its email (:mod:`store.surgery_mail`) in the same
transaction, keyed by booking, message and the booking's iCalendar ``SEQUENCE``, so running a
change or a scheduler pass twice never sends twice. Each email is also written on the case as
an outgoing message, so a reply threads back to the case like any reply (and "cancel" in a
reply to a confirmation cancels the booking: :mod:`intake.steps.surgery`). These functions
flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from casework.settings import Settings
from store import audit
from store import surgery_mail as mail
from store.cases import CaseError, get_or_create_correspondent, open_case, record_event, require_case
from store.enums import UNCLOSED, Category, EventKind
from store.models import Case, CaseParticipant, Correspondent, Message, SurgeryBooking, SurgerySession
from store.outbox import enqueue
from store.types import utcnow
from store.workdays import LONDON, calendar, holiday_name, local_date

KINDS = ("surgery", "meeting")
HOSTS = ("commissioner", "deputy")
#: a booking in one of these holds its slot
HOLDING = ("booked", "offered", "attended", "no_show")
#: every state a booking can be in
STATES = (*HOLDING, "waitlisted", "cancelled", "declined", "lapsed", "session_cancelled")
#: a freed slot is never offered closer to its start than this
OFFER_CUTOFF = timedelta(hours=4)
MEETING_MAX_MINUTES = 120
EMAIL_KIND = "email.surgery"


class SurgeryError(CaseError):
    """A surgery request that cannot be carried out (unknown session, full, bank holiday...)."""


# --- sessions ----------------------------------------------------------------------------


def add_session(
    session: Session,
    *,
    on: date,
    at: time,
    host: str,
    venue: str = "",
    virtual_url: str = "",
    slots: int | None = None,
    minutes: int | None = None,
    kind: str = "surgery",
) -> SurgerySession:
    """Schedule a session; refused on a bank holiday of any UK nation, as the rest of casework."""
    if kind not in KINDS:
        raise SurgeryError(f"--kind {kind!r} is not one of {', '.join(KINDS)}.")
    if host not in HOSTS:
        raise SurgeryError(f"--host {host!r} is not one of {', '.join(HOSTS)}.")
    if bool(venue.strip()) == bool(virtual_url.strip()):
        raise SurgeryError(
            "Give either --venue (a place) or --virtual (a meeting link), not both or neither."
        )
    holiday = holiday_name(on)
    if holiday:
        raise SurgeryError(
            f"{on:%A %-d %B %Y} is a bank holiday ({holiday}) in part of the UK: choose another day."
        )
    if kind == "meeting":
        if slots not in (None, 1):
            raise SurgeryError("A casework meeting has one slot: leave out --slots.")
        slots, minutes = 1, minutes or MEETING_MAX_MINUTES
        if not 1 <= minutes <= MEETING_MAX_MINUTES:
            raise SurgeryError(f"A casework meeting lasts at most {MEETING_MAX_MINUTES} minutes.")
    slots, minutes = slots or 8, minutes or 15
    if not 1 <= slots <= 50 or not 5 <= minutes <= 240:
        raise SurgeryError("--slots must be 1–50 and --minutes 5–240.")
    starts_at = datetime.combine(on, at, tzinfo=LONDON)
    sitting = SurgerySession(
        kind=kind,
        host=host,
        starts_at=starts_at,
        held_on=on,
        slots=slots,
        minutes=minutes,
        venue=venue.strip()[:500],
        virtual_url=virtual_url.strip()[:1000],
    )
    session.add(sitting)
    session.flush()
    return sitting


def require_session(session: Session, session_id: int) -> SurgerySession:
    found = session.get(SurgerySession, session_id)
    if found is None:
        raise SurgeryError(f"No session has the id {session_id}. See them with `casework surgery list`.")
    return found


def require_booking(session: Session, booking_id: int) -> SurgeryBooking:
    found = session.get(SurgeryBooking, booking_id)
    if found is None:
        raise SurgeryError(f"No booking has the id {booking_id}. See them with `casework surgery list`.")
    return found


def sessions_from(
    session: Session, *, start: date | None = None, end: date | None = None
) -> list[SurgerySession]:
    query = select(SurgerySession).order_by(col(SurgerySession.starts_at), col(SurgerySession.id))
    if start is not None:
        query = query.where(col(SurgerySession.held_on) >= start)
    if end is not None:
        query = query.where(col(SurgerySession.held_on) <= end)
    return list(session.execute(query).scalars())


def bookings_of(session: Session, sitting: SurgerySession) -> list[SurgeryBooking]:
    return list(
        session.execute(
            select(SurgeryBooking)
            .where(SurgeryBooking.session_id == sitting.id)  # type: ignore[arg-type]
            .order_by(col(SurgeryBooking.created_at), col(SurgeryBooking.id))
        ).scalars()
    )


def taken_slots(session: Session, sitting: SurgerySession) -> dict[int, SurgeryBooking]:
    return {b.slot: b for b in bookings_of(session, sitting) if b.status in HOLDING and b.slot is not None}


def free_slots(session: Session, sitting: SurgerySession) -> list[int]:
    taken = taken_slots(session, sitting)
    return [n for n in range(1, sitting.slots + 1) if n not in taken]


def waiting_list(session: Session, sitting: SurgerySession) -> list[SurgeryBooking]:
    return [b for b in bookings_of(session, sitting) if b.status == "waitlisted"]


def _open_session(sitting: SurgerySession) -> None:
    if sitting.status != "scheduled":
        raise SurgeryError(
            f"Session {sitting.id} was cancelled ({sitting.cancel_reason or 'no reason given'}): "
            "book into another session."
        )


# --- bookings ----------------------------------------------------------------------------


def persons_case(session: Session, *, correspondent: Correspondent) -> Case | None:
    """The person's newest case that is not closed: the one a booking without ``--case`` joins."""
    return session.execute(
        select(Case)
        .join(CaseParticipant, CaseParticipant.case_id == Case.id)  # type: ignore[arg-type]
        .where(CaseParticipant.correspondent_id == correspondent.id, col(Case.status).in_(UNCLOSED))  # type: ignore[arg-type]
        .order_by(col(Case.received_at).desc(), col(Case.id).desc())
        .limit(1)
    ).scalar_one_or_none()


def book(
    session: Session,
    *,
    settings: Settings,
    session_id: int,
    name: str,
    email: str,
    phone: str = "",
    case_reference: str | None = None,
    needs: str = "",
    slot: int | None = None,
    waitlist: bool = False,
    actor: str = "casework",
    now: datetime | None = None,
) -> tuple[SurgeryBooking, Case]:
    """Book ``slot`` (default: the first free one), or join the waiting list when it is full."""
    now = now or utcnow()
    email = email.strip().lower()
    if "@" not in email:
        raise SurgeryError(f"--email {email!r} is not an email address: the confirmation is sent there.")
    if not name.strip():
        raise SurgeryError("--name is empty: give the person's name as the hosts should greet them.")
    sitting = require_session(session, session_id)
    _open_session(sitting)
    if sitting.starts_at + timedelta(minutes=sitting.minutes * sitting.slots) <= now:
        raise SurgeryError(f"Session {sitting.id} is over: book into a later session.")
    free = free_slots(session, sitting)
    if slot is not None:
        if waitlist:
            raise SurgeryError("Give --slot or --waitlist, not both.")
        if not 1 <= slot <= sitting.slots:
            raise SurgeryError(f"Session {sitting.id} has slots 1–{sitting.slots}; there is no slot {slot}.")
        if slot not in free:
            raise SurgeryError(
                f"Slot {slot} of session {sitting.id} is taken. Free: {', '.join(map(str, free)) or 'none'}; "
                "leave out --slot to take the first free one or join the waiting list."
            )
        if mail.slot_start(sitting, slot) <= now:
            raise SurgeryError(f"Slot {slot} of session {sitting.id} has already started.")
    elif not waitlist:
        free = [n for n in free if mail.slot_start(sitting, n) > now]
        slot = free[0] if free else None
    already = next(
        (
            b
            for b in bookings_of(session, sitting)
            if b.email == email and b.status in ("booked", "offered", "waitlisted")
        ),
        None,
    )
    if already is not None:
        raise SurgeryError(
            f"{email} already has booking {already.id} ({already.status}) in session {sitting.id}: "
            "cancel it first to change the slot."
        )
    person = get_or_create_correspondent(session, email=email, name=name.strip())
    case = (
        require_case(session, case_reference)
        if case_reference
        else persons_case(session, correspondent=person)
    )
    if case is None:
        case = open_case(
            session,
            settings=settings,
            category=Category.CORRESPONDENCE,
            received_at=now,
            subject=f"{mail.what(sitting).capitalize()} appointment: {name.strip()}"[:1000],
            correspondent=person,
            reasons=["booked a surgery appointment"],
            actor=actor,
        )
    booking = SurgeryBooking(
        session_id=sitting.id,  # type: ignore[arg-type]
        slot=slot,
        status="booked" if slot is not None else "waitlisted",
        name=name.strip()[:300],
        email=email[:320],
        phone=phone.strip()[:64],
        needs=needs.strip()[:2000],
        case_id=case.id,
        created_at=now,
        updated_at=now,
    )
    session.add(booking)
    session.flush()
    state = f"slot {slot}" if slot is not None else "the waiting list"
    _note(
        session, case, actor, f"surgery booking {booking.id}: session {sitting.id} ({_day(sitting)}), {state}"
    )
    send(session, settings=settings, booking=booking, kind="confirm" if slot is not None else "waitlisted")
    return booking, case


def _day(sitting: SurgerySession) -> str:
    return f"{sitting.starts_at.astimezone(LONDON):%a %-d %b %Y %H:%M}"


def _note(session: Session, case: Case | None, actor: str, note: str) -> None:
    if case is not None:
        record_event(session, case=case, kind=EventKind.NOTE, actor=actor, note=note[:2000])


def case_of(session: Session, booking: SurgeryBooking) -> Case | None:
    return session.get(Case, booking.case_id) if booking.case_id is not None else None


def send(
    session: Session,
    *,
    settings: Settings,
    booking: SurgeryBooking,
    kind: str,
    old: SurgerySession | None = None,
    sitting: SurgerySession | None = None,
) -> bool:
    """Queue one email to the person and write it on their case; False when queued before."""
    sitting = sitting or require_session(session, booking.session_id)
    case = case_of(session, booking)
    reference = case.reference if case is not None else "SURGERY"
    body = mail.payload(settings, kind, sitting=sitting, booking=booking, reference=reference, old=old)
    key = f"surgery:{booking.id}:{kind}:{booking.session_id}:{booking.sequence}"
    if not enqueue(session, key=key, kind=EMAIL_KIND, target=booking.email, payload=body,
                   case_id=case.id if case else None):  # fmt: skip
        return False
    if case is not None:
        _outgoing(session, settings=settings, case=case, payload=body)
    return True


def _outgoing(session: Session, *, settings: Settings, case: Case, payload: dict[str, Any]) -> None:
    """The email as an outgoing message on the case: the case's history shows it, and a reply to
    it threads back by its Message-ID as a reply to any message on the case does."""
    message = EmailMessage()
    message["From"] = settings.smtp_from or f"casework@{mail.domain(settings)}"
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = payload["message_id"]
    message.set_content(payload["body"])
    raw = message.as_bytes()
    session.add(
        Message(
            case_id=case.id,
            message_id=payload["message_id"],
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            direction="out",
            from_addr=str(message["From"])[:320],
            to_addrs=[payload["to"]],
            subject=payload["subject"][:1000],
            sent_at=utcnow(),
            body_text=payload["body"],
            source="surgeries",
            raw=raw,
        )
    )


# --- cancellations, outcomes and offers --------------------------------------------------


def is_late(settings: Settings, sitting: SurgerySession, booking: SurgeryBooking, now: datetime) -> bool:
    if booking.slot is None or booking.status != "booked":
        return False
    return mail.slot_start(sitting, booking.slot) - now < timedelta(hours=settings.surgery_late_cancel_hours)


def cancel(
    session: Session,
    *,
    settings: Settings,
    booking_id: int,
    reason: str,
    actor: str = "casework",
    now: datetime | None = None,
) -> SurgeryBooking:
    """Cancel an appointment (late when under the late-cancel hours) and offer the freed slot."""
    now = now or utcnow()
    booking = require_booking(session, booking_id)
    if booking.status not in ("booked", "offered", "waitlisted"):
        raise SurgeryError(
            f"Booking {booking.id} is {booking.status.replace('_', ' ')}: there is nothing to cancel."
        )
    if not reason.strip():
        raise SurgeryError(
            "--reason is empty: say why (e.g. 'ill health'), the figures count late cancellations."
        )
    sitting = require_session(session, booking.session_id)
    freed = booking.slot if booking.status in ("booked", "offered") else None
    was_booked = booking.status == "booked"
    booking.late = is_late(settings, sitting, booking, now)
    booking.status = "cancelled"
    booking.reason = reason.strip()[:2000]
    booking.cancelled_at = booking.updated_at = now
    booking.sequence += 1
    session.add(booking)
    session.flush()
    late = " (late)" if booking.late else ""
    _note(
        session, case_of(session, booking), actor, f"surgery booking {booking.id} cancelled{late}: {reason}"
    )
    if was_booked:
        send(session, settings=settings, booking=booking, kind="cancel", sitting=sitting)
    if freed is not None:
        offer_slot(session, settings=settings, sitting=sitting, slot=freed, now=now)
    return booking


def offer_slot(
    session: Session, *, settings: Settings, sitting: SurgerySession, slot: int, now: datetime | None = None
) -> SurgeryBooking | None:
    """Offer a free slot to the first person on the waiting list, held for the offer hours.

    Never less than :data:`OFFER_CUTOFF` before the slot starts (nobody can plan for that).
    """
    now = now or utcnow()
    start = mail.slot_start(sitting, slot)
    if sitting.status != "scheduled" or start - now < OFFER_CUTOFF or slot in taken_slots(session, sitting):
        return None
    waiting = waiting_list(session, sitting)
    if not waiting:
        return None
    first = waiting[0]
    first.status, first.slot = "offered", slot
    first.offer_expires_at = min(now + timedelta(hours=settings.surgery_offer_hours), start)
    first.updated_at = now
    first.sequence += 1
    session.add(first)
    session.flush()
    _note(session, case_of(session, first), "casework", f"surgery booking {first.id}: offered slot {slot}")
    send(session, settings=settings, booking=first, kind="offer", sitting=sitting)
    return first


def _require_offer(session: Session, booking_id: int) -> SurgeryBooking:
    booking = require_booking(session, booking_id)
    if booking.status != "offered":
        raise SurgeryError(f"Booking {booking.id} holds no offer (it is {booking.status}).")
    return booking


def accept_offer(
    session: Session,
    *,
    settings: Settings,
    booking_id: int,
    actor: str = "casework",
    now: datetime | None = None,
) -> SurgeryBooking:
    now = now or utcnow()
    booking = _require_offer(session, booking_id)
    if booking.offer_expires_at is not None and booking.offer_expires_at <= now:
        raise SurgeryError(
            f"The offer to booking {booking.id} lapsed at {booking.offer_expires_at:%Y-%m-%d %H:%M} UTC."
        )
    booking.status, booking.offer_expires_at, booking.updated_at = "booked", None, now
    booking.sequence += 1
    session.add(booking)
    session.flush()
    _note(
        session, case_of(session, booking), actor, f"surgery booking {booking.id}: took slot {booking.slot}"
    )
    send(session, settings=settings, booking=booking, kind="confirm")
    return booking


def decline_offer(
    session: Session,
    *,
    settings: Settings,
    booking_id: int,
    actor: str = "casework",
    now: datetime | None = None,
) -> SurgeryBooking:
    now = now or utcnow()
    booking = _require_offer(session, booking_id)
    return _release_offer(session, settings=settings, booking=booking, state="declined", actor=actor, now=now)


def _release_offer(
    session: Session, *, settings: Settings, booking: SurgeryBooking, state: str, actor: str, now: datetime
) -> SurgeryBooking:
    slot = booking.slot
    assert slot is not None
    booking.status, booking.updated_at = state, now
    session.add(booking)
    session.flush()
    _note(session, case_of(session, booking), actor, f"surgery booking {booking.id}: offer {state}")
    sitting = require_session(session, booking.session_id)
    if state == "lapsed":
        send(session, settings=settings, booking=booking, kind="lapsed", sitting=sitting)
    offer_slot(session, settings=settings, sitting=sitting, slot=slot, now=now)
    return booking


def expire_offers(session: Session, *, settings: Settings, now: datetime | None = None) -> list[int]:
    """Lapse every offer whose hold has run out, offering each slot to the next person."""
    now = now or utcnow()
    due = list(
        session.execute(
            select(SurgeryBooking)
            .where(SurgeryBooking.status == "offered", col(SurgeryBooking.offer_expires_at) <= now)  # type: ignore[arg-type]
            .order_by(col(SurgeryBooking.offer_expires_at), col(SurgeryBooking.id))
        ).scalars()
    )
    for booking in due:
        _release_offer(
            session, settings=settings, booking=booking, state="lapsed", actor="scheduler", now=now
        )
    return [b.id for b in due if b.id is not None]


def record_outcome(
    session: Session, *, booking_id: int, attended: bool, note: str = "", actor: str = "casework"
) -> SurgeryBooking:
    """Mark an appointment attended (with the host's note) or a no-show."""
    booking = require_booking(session, booking_id)
    if booking.status not in ("booked", "attended", "no_show"):
        raise SurgeryError(
            f"Booking {booking.id} is {booking.status.replace('_', ' ')}, not an appointment held."
        )
    booking.status = "attended" if attended else "no_show"
    if note.strip():
        booking.note = note.strip()[:4000]
    booking.updated_at = utcnow()
    session.add(booking)
    session.flush()
    text = "attended" if attended else "did not attend"
    extra = f" — {note.strip()}" if note.strip() else ""
    _note(session, case_of(session, booking), actor, f"surgery booking {booking.id}: {text}{extra}")
    return booking


# --- a whole session cancelled -----------------------------------------------------------


@dataclass
class Moved:
    moved: list[SurgeryBooking]
    waitlisted: list[SurgeryBooking]
    cancelled: list[SurgeryBooking]


def cancel_session(
    session: Session,
    *,
    settings: Settings,
    session_id: int,
    reason: str,
    move_to: int | None = None,
    actor: str = "casework",
    now: datetime | None = None,
) -> Moved:
    """Cancel a session; with ``move_to`` its bookings move there in slot order, the rest waitlisted.

    Without ``move_to`` every appointment is cancelled and the people are told so. The team
    hears in Slack (``CASEWORK_ALERTS_CHANNEL``, else the triage channel) who did not fit.
    """
    now = now or utcnow()
    if not reason.strip():
        raise SurgeryError("--reason is empty: say why the session is cancelled; the people are told.")
    sitting = require_session(session, session_id)
    _open_session(sitting)
    target = None
    if move_to is not None:
        if move_to == session_id:
            raise SurgeryError("--move-to names the session being cancelled: give another session.")
        target = require_session(session, move_to)
        _open_session(target)
    sitting.status, sitting.cancel_reason, sitting.cancelled_at = "cancelled", reason.strip()[:2000], now
    sitting.moved_to_id = move_to
    session.add(sitting)
    bookings = bookings_of(session, sitting)
    holding = sorted((b for b in bookings if b.status in ("booked", "offered")), key=lambda b: b.slot or 0)
    waiting = [b for b in bookings if b.status == "waitlisted"]
    result = Moved([], [], [])
    free = [n for n in free_slots(session, target) if mail.slot_start(target, n) > now] if target else []
    for booking in holding:
        booking.sequence += 1
        booking.updated_at = now
        if target is not None and free:
            slot = free.pop(0)
            booking.session_id, booking.slot, booking.moved_from_id = target.id, slot, sitting.id  # type: ignore[assignment]
            booking.status, booking.offer_expires_at = "booked", None
            session.add(booking)
            session.flush()
            note = f"surgery booking {booking.id} moved to session {target.id} slot {slot} ({reason})"
            _note(session, case_of(session, booking), actor, note)
            send(session, settings=settings, booking=booking, kind="moved", old=sitting, sitting=target)
            result.moved.append(booking)
        elif target is not None:
            session.flush()
            _cancel_notice(session, settings, booking, sitting, waitlisted=True)
            booking.session_id, booking.slot, booking.moved_from_id = target.id, None, sitting.id  # type: ignore[assignment]
            booking.status, booking.offer_expires_at = "waitlisted", None
            session.add(booking)
            session.flush()
            note = f"surgery booking {booking.id}: session cancelled, waiting list of session {target.id}"
            _note(session, case_of(session, booking), actor, note)
            result.waitlisted.append(booking)
        else:
            session.flush()
            _cancel_notice(session, settings, booking, sitting, waitlisted=False)
            booking.status, booking.reason, booking.cancelled_at = (
                "session_cancelled",
                reason.strip()[:2000],
                now,
            )
            session.add(booking)
            session.flush()
            _note(
                session,
                case_of(session, booking),
                actor,
                f"surgery booking {booking.id}: session cancelled ({reason})",
            )
            result.cancelled.append(booking)
    for booking in waiting:
        if target is not None:
            booking.session_id, booking.moved_from_id = target.id, sitting.id  # type: ignore[assignment]
            result.waitlisted.append(booking)
        else:
            booking.status, booking.reason, booking.cancelled_at = (
                "session_cancelled",
                reason.strip()[:2000],
                now,
            )
            result.cancelled.append(booking)
        booking.updated_at = now
        session.add(booking)
    session.flush()
    _tell_team(session, settings, sitting, target, result)
    return result


def _cancel_notice(
    session: Session,
    settings: Settings,
    booking: SurgeryBooking,
    sitting: SurgerySession,
    *,
    waitlisted: bool,
) -> None:
    """Tell the person the session is off, withdrawing their invitation (``METHOD:CANCEL``)."""
    case = case_of(session, booking)
    reference = case.reference if case is not None else "SURGERY"
    body = mail.payload(settings, "session_cancelled", sitting=sitting, booking=booking, reference=reference,
                        waitlisted=waitlisted)  # fmt: skip
    key = f"surgery:{booking.id}:session_cancelled:{sitting.id}:{booking.sequence}"
    if enqueue(session, key=key, kind=EMAIL_KIND, target=booking.email, payload=body,
               case_id=case.id if case else None) and case is not None:  # fmt: skip
        _outgoing(session, settings=settings, case=case, payload=body)


def _tell_team(
    session: Session,
    settings: Settings,
    sitting: SurgerySession,
    target: SurgerySession | None,
    result: Moved,
) -> None:
    channel = settings.alerts_channel or settings.triage_channel
    if not channel:
        return
    lines = [f"The {mail.what(sitting)} on {_day(sitting)} is cancelled ({sitting.cancel_reason})."]
    if target is not None:
        lines.append(f"{len(result.moved)} appointment(s) moved to session {target.id} ({_day(target)}).")
    stranded = result.waitlisted if target is not None else result.cancelled
    if stranded:
        what_now = "on the new session's waiting list" if target is not None else "without an appointment"
        lines.append(f"{len(stranded)} {what_now}, to be re-arranged:")
        for booking in stranded[:40]:
            case = case_of(session, booking)
            lines.append(f"• booking {booking.id}, {booking.name} ({case.reference if case else 'no case'})")
    text = "\n".join(lines)
    enqueue(
        session,
        key=f"surgery.session_cancelled:{sitting.id}",
        kind="slack.post",
        payload={"channel": channel, "text": text,
                 "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]},
    )  # fmt: skip


# --- reminders and the brief's timing ----------------------------------------------------


def send_reminders(session: Session, *, settings: Settings, now: datetime | None = None) -> int:
    """Queue the reminder of every appointment now within the reminder hours (each once).

    An appointment booked inside that window gets none: its confirmation has just said it all.
    """
    now = now or utcnow()
    window = timedelta(hours=settings.surgery_reminder_hours)
    rows = session.execute(
        select(SurgeryBooking, SurgerySession)
        .join(SurgerySession, SurgerySession.id == SurgeryBooking.session_id)  # type: ignore[arg-type]
        .where(
            SurgeryBooking.status == "booked",  # type: ignore[arg-type]
            SurgerySession.status == "scheduled",  # type: ignore[arg-type]
            col(SurgerySession.starts_at) > now - timedelta(hours=5),
            col(SurgerySession.starts_at) <= now + window + timedelta(hours=5),
        )
    ).all()
    sent = 0
    for booking, sitting in rows:
        assert booking.slot is not None
        start = mail.slot_start(sitting, booking.slot)
        remind_at = start - window
        if remind_at <= now < start and booking.updated_at < remind_at:
            sent += send(session, settings=settings, booking=booking, kind="reminder", sitting=sitting)
    return sent


def brief_moment(settings: Settings, sitting: SurgerySession) -> datetime:
    """When a session's brief goes to the hosts: the working day before, at the digest time."""
    cal = calendar(settings.closure_dates)
    day = sitting.held_on - timedelta(days=1)
    while cal.next_working_day(day) != day:
        day -= timedelta(days=1)
    return datetime.combine(day, settings.digest_time, tzinfo=LONDON)


def briefs_due(session: Session, *, settings: Settings, now: datetime | None = None) -> list[SurgerySession]:
    now = now or utcnow()
    candidates = session.execute(
        select(SurgerySession).where(
            SurgerySession.status == "scheduled",  # type: ignore[arg-type]
            col(SurgerySession.brief_sent_at).is_(None),
            col(SurgerySession.starts_at) > now,
            col(SurgerySession.starts_at) <= now + timedelta(days=10),
        )
    ).scalars()
    return [s for s in candidates if brief_moment(settings, s) <= now]


def local_start(sitting: SurgerySession) -> datetime:
    return sitting.starts_at.astimezone(LONDON)


def session_date(sitting: SurgerySession) -> date:
    return local_date(sitting.starts_at)


def audit_brief_sent(session: Session, *, case_id: int, recipient: str, sitting: SurgerySession) -> None:
    """Record that a brief holding this case went to ``recipient``: audited like a case view
    (an ``audit`` row read as the recipient's, and a note in the case's history)."""
    case = session.get(Case, case_id)
    if case is not None:
        note = f"surgery brief for session {sitting.id} ({_day(sitting)}) sent to {recipient}"
        record_event(session, case=case, kind=EventKind.NOTE, actor="surgeries", note=note)
        detail = f"surgery brief, session {sitting.id}"
        audit.record(session, actor=recipient, action="viewed", case=case, detail=detail)
