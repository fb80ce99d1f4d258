"""What surgeries send: the emails to the person and the iCalendar parts they carry.

Every message is rendered here when it is queued, so the ``email.surgery`` outbox row holds
exactly what :mod:`intake.smtp_sender` sends. An appointment is one calendar event for its
whole life: the UID names the booking, and each change the person is told of (booked, moved
to another session, cancelled) raises its ``SEQUENCE``, so a calendar client updates the event
it already has instead of adding a second one (RFC 5546 §2.1.4, §3.2.2, §3.2.5).

Each Message-ID carries the case reference (so a reply threads back to the case like a reply to
an acknowledgement) and the booking's number and what the message was
(``<REF.surgery-12-confirm-…@domain>``), so the intake step for surgeries can tell a reply
to a confirmation ("cancel") or to an offer ("yes") from any other reply on the case.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

from casework.settings import Settings
from store.models import SurgeryBooking, SurgerySession
from store.types import utcnow
from store.workdays import LONDON

PRODID = "-//casework//surgeries//EN"
#: the Message-ID part that says which booking a message was about, and what it was
MESSAGE_ID = re.compile(r"\.surgery-(\d+)-([a-z]+)-[0-9a-f]+@")

HOST_TITLES = {"commissioner": "the Police and Crime Commissioner", "deputy": "the Deputy Commissioner"}


def domain(settings: Settings) -> str:
    return (settings.smtp_from.rpartition("@")[2] or "casework.invalid").strip(">") or "casework.invalid"


def slot_start(sitting: SurgerySession, slot: int) -> datetime:
    """When slot ``slot`` (1-based) of a session starts, aware UTC."""
    return sitting.starts_at + timedelta(minutes=sitting.minutes * (slot - 1))


def slot_end(sitting: SurgerySession, slot: int) -> datetime:
    return slot_start(sitting, slot) + timedelta(minutes=sitting.minutes)


def where(sitting: SurgerySession) -> str:
    return sitting.virtual_url or sitting.venue


def what(sitting: SurgerySession) -> str:
    """ "surgery" or "casework meeting", as a person would say it."""
    return "casework meeting" if sitting.kind == "meeting" else "surgery"


def when_text(sitting: SurgerySession, slot: int) -> str:
    start = slot_start(sitting, slot).astimezone(LONDON)
    end = slot_end(sitting, slot).astimezone(LONDON)
    return f"{start:%A %-d %B %Y}, {start:%H:%M}–{end:%H:%M}"


def booking_uid(settings: Settings, booking: SurgeryBooking) -> str:
    return f"surgery-booking-{booking.id}@{domain(settings)}"


def invitation(
    settings: Settings, sitting: SurgerySession, booking: SurgeryBooking, *, method: str, reference: str
) -> bytes:
    """The iCalendar object (``METHOD:REQUEST`` or ``CANCEL``) for one appointment."""
    assert booking.slot is not None
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", booking_uid(settings, booking))
    event.add("dtstamp", utcnow().replace(microsecond=0))
    event.add("dtstart", slot_start(sitting, booking.slot))
    event.add("dtend", slot_end(sitting, booking.slot))
    event.add("sequence", booking.sequence)
    event.add("summary", f"{what(sitting).capitalize()} appointment with {HOST_TITLES[sitting.host]}")
    event.add("location", where(sitting))
    event.add("description", f"Case reference {reference}. {settings.office_name}.")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.smtp_from or 'casework@' + domain(settings)}")
    organizer.params["cn"] = vText(settings.office_name)
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{booking.email}")
    if booking.name:
        attendee.params["cn"] = vText(booking.name)
    attendee.params["partstat"] = vText("ACCEPTED" if method == "REQUEST" else "DECLINED")
    event.add("attendee", attendee)
    cal.add_component(event)
    return bytes(cal.to_ical())


def message_id(settings: Settings, reference: str, booking: SurgeryBooking, kind: str) -> str:
    return f"<{reference}.surgery-{booking.id}-{kind}-{uuid.uuid4().hex[:12]}@{domain(settings)}>"


def about(message_ids: list[str]) -> list[tuple[int, str]]:
    """(booking id, message kind) for each surgery message among ``message_ids``, newest last."""
    found = []
    for value in message_ids:
        match = MESSAGE_ID.search(value or "")
        if match:
            found.append((int(match.group(1)), match.group(2)))
    return found


def _attachment(ics: bytes, method: str) -> dict[str, Any]:
    return {
        "filename": "invite.ics" if method == "REQUEST" else "cancel.ics",
        "content_type": f'text/calendar; method={method}; charset="utf-8"',
        "data_b64": base64.b64encode(ics).decode("ascii"),
    }


def _greeting(booking: SurgeryBooking) -> str:
    return f"Dear {booking.name or 'Sir or Madam'},"


def _needs_line(booking: SurgeryBooking) -> str:
    return f"\nWe have noted your access needs: {booking.needs}\n" if booking.needs else ""


def _sign(settings: Settings) -> str:
    return f"\nYours sincerely,\n\nThe Casework Team\n{settings.office_name}\n"


def payload(
    settings: Settings,
    kind: str,
    *,
    sitting: SurgerySession,
    booking: SurgeryBooking,
    reference: str,
    old: SurgerySession | None = None,
    waitlisted: bool = False,
) -> dict[str, Any]:
    """The outbox payload of one email to the person; ``kind`` says which (see :data:`KINDS`)."""
    name = what(sitting)
    host = HOST_TITLES[sitting.host]
    attachments: list[dict[str, Any]] = []
    if kind in ("confirm", "moved", "reminder"):
        assert booking.slot is not None
        ics = invitation(settings, sitting, booking, method="REQUEST", reference=reference)
        attachments.append(_attachment(ics, "REQUEST"))
    if kind == "cancel":
        ics = invitation(settings, sitting, booking, method="CANCEL", reference=reference)
        attachments.append(_attachment(ics, "CANCEL"))
    if kind == "session_cancelled" and booking.slot is not None:
        ics = invitation(settings, sitting, booking, method="CANCEL", reference=reference)
        attachments.append(_attachment(ics, "CANCEL"))
    place = where(sitting)
    if kind == "confirm":
        subject = f"Your {name} appointment on {when_text(sitting, booking.slot or 1)}"
        body = (
            f"Your appointment with {host} is booked for {when_text(sitting, booking.slot or 1)} at "
            f"{place}. The invitation is attached for your calendar.\n{_needs_line(booking)}\n"
            'If you cannot come, please reply to this email with the word "cancel" and we will '
            "offer your appointment to someone on the waiting list."
        )
    elif kind == "moved":
        assert old is not None
        subject = f"Your {name} appointment has moved to {when_text(sitting, booking.slot or 1)}"
        body = (
            f"The {what(old)} on {old.starts_at.astimezone(LONDON):%A %-d %B %Y} had to be cancelled "
            f"({old.cancel_reason}). We have moved your appointment with {host} to "
            f"{when_text(sitting, booking.slot or 1)} at {place}. The new invitation is attached and "
            f"replaces the old one.\n{_needs_line(booking)}\nIf you cannot come, please reply to this "
            'email with the word "cancel".'
        )
    elif kind == "reminder":
        subject = f"Reminder: your {name} appointment on {when_text(sitting, booking.slot or 1)}"
        body = (
            f"This is a reminder of your appointment with {host} on "
            f"{when_text(sitting, booking.slot or 1)} at {place}.\n{_needs_line(booking)}\n"
            'If you can no longer come, please reply to this email with the word "cancel".'
        )
    elif kind == "cancel":
        subject = f"Your {name} appointment on {when_text(sitting, booking.slot or 1)} is cancelled"
        body = (
            f"Your appointment with {host} on {when_text(sitting, booking.slot or 1)} is cancelled. "
            "The attached update removes it from your calendar. Your case stays open with us."
        )
    elif kind == "session_cancelled":
        subject = f"The {name} on {sitting.starts_at.astimezone(LONDON):%-d %B %Y} is cancelled"
        body = (
            f"We are sorry: the {name} with {host} on {sitting.starts_at.astimezone(LONDON):%A %-d %B %Y} "
            f"has been cancelled ({sitting.cancel_reason}). "
            + (
                "There was no room for you at the session that replaces it, so you are on its waiting "
                "list: we will email you as soon as an appointment is free."
                if waitlisted
                else "The casework team will be in touch about another appointment. Your case stays open."
            )
        )
    elif kind == "waitlisted":
        subject = (
            f"You are on the waiting list for the {name} on {sitting.starts_at.astimezone(LONDON):%-d %B %Y}"
        )
        body = (
            f"Every appointment with {host} on {sitting.starts_at.astimezone(LONDON):%A %-d %B %Y} is "
            "taken, so you are on the waiting list. If an appointment is freed we will email you and "
            "hold it for you for a while."
        )
    elif kind == "offer":
        assert booking.slot is not None and booking.offer_expires_at is not None
        until = booking.offer_expires_at.astimezone(LONDON)
        subject = f"An appointment is free: {when_text(sitting, booking.slot)}"
        body = (
            f"An appointment with {host} has been freed: {when_text(sitting, booking.slot)} at {place}. "
            f"It is held for you until {until:%A %-d %B %H:%M}.\n\nTo take it, reply to this email "
            'with the word "yes". If you do not want it, reply "no" and we will offer it to the '
            "next person on the waiting list."
        )
    elif kind == "lapsed":
        subject = f"The appointment we held for you on {sitting.starts_at.astimezone(LONDON):%-d %B %Y}"
        body = (
            "We did not hear from you in time, so the appointment we held for you has been offered to "
            "the next person on the waiting list. Your case stays open with us."
        )
    else:
        raise ValueError(f"unknown surgery email {kind!r}")
    subject = f"[{reference}] {subject}"
    return {
        "to": booking.email,
        "subject": subject,
        "body": f"{_greeting(booking)}\n\n{body}\n{_sign(settings)}",
        "message_id": message_id(settings, reference, booking, kind.replace("_", "")),
        "attachments": attachments,
        "reference": reference,
    }


KINDS = ("confirm", "moved", "reminder", "cancel", "session_cancelled", "waitlisted", "offer", "lapsed")


def feed(settings: Settings, rows: list[tuple[SurgerySession, dict[int, bool]]]) -> bytes:
    """The hosts' calendar feed: one event per slot, "booked" or "free", and nothing personal."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.office_name}: surgeries")
    stamp = utcnow().replace(microsecond=0)
    for sitting, taken in rows:
        for slot in range(1, sitting.slots + 1):
            state = "booked" if taken.get(slot) else "free"
            event = Event()
            event.add("uid", f"surgery-{sitting.id}-slot-{slot}@{domain(settings)}")
            event.add("dtstamp", stamp)
            event.add("dtstart", slot_start(sitting, slot))
            event.add("dtend", slot_end(sitting, slot))
            event.add("summary", f"{what(sitting).capitalize()} ({sitting.host}): {state}")
            event.add("location", where(sitting))
            event.add("status", "CONFIRMED")
            event.add("transp", "OPAQUE" if state == "booked" else "TRANSPARENT")
            cal.add_component(event)
    return bytes(cal.to_ical())
