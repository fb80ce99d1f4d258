"""Surgery: a reply to a surgery email that says "cancel" (or "yes" to an offer) acts on it.

The thread step has already joined the reply to its case by In-Reply-To/References; the
surgery emails' Message-IDs name the booking and what the message was
(:mod:`store.surgery_mail`). A reply from the booking's own address to a confirmation, a
move or a reminder that says "cancel" (in the person's own words, above any quoted text)
cancels the appointment, which frees the slot for the waiting list (to the waiting-list notice,
it takes the person off the list); a reply to an offer that
says "yes" takes the slot, "no" passes it on. Anything else is an ordinary reply on the case.
"""

from __future__ import annotations

import logging
import re

from intake.steps import Context
from store import surgeries
from store.models import SurgeryBooking
from store.surgery_mail import about

log = logging.getLogger(__name__)

NAME = "surgery"
DESCRIPTION = "cancel a surgery booking, or take up an offer, when its email is answered"

_QUOTE_START = re.compile(r"^(on .+ wrote:|-+ ?original message ?-+|from: )", re.IGNORECASE)
CANCEL = re.compile(r"\bcancel", re.IGNORECASE)
YES = re.compile(r"\b(yes|accept|i'?ll take it)\b", re.IGNORECASE)
NO = re.compile(r"\b(no|decline|cancel)\b", re.IGNORECASE)
#: the messages whose answer "cancel" cancels the appointment
ABOUT_APPOINTMENT = ("confirm", "moved", "reminder")


def own_words(body: str) -> str:
    """The reply's new text: everything above the quoted message it answers."""
    lines = []
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or _QUOTE_START.match(stripped):
            break
        lines.append(line)
    return "\n".join(lines)


def run(ctx: Context) -> None:
    msg = ctx.msg
    if ctx.automatic or ctx.case is None or not ctx.joined_by.startswith("In-Reply-To"):
        return
    found = about([*msg.references, *([msg.in_reply_to] if msg.in_reply_to else [])])
    if not found:
        return
    booking_id, kind = found[-1]
    ctx.sync()
    booking = ctx.session.get(SurgeryBooking, booking_id)
    if booking is None or booking.email != msg.from_addr.strip().lower() or booking.case_id != ctx.case.id:
        return  # not the person the email went to: an ordinary reply
    text = own_words(msg.body_text)
    try:
        appointment = kind in ABOUT_APPOINTMENT and booking.status == "booked"
        leaving_list = kind == "waitlisted" and booking.status == "waitlisted"
        if (appointment or leaving_list) and CANCEL.search(text):
            surgeries.cancel(ctx.session, settings=ctx.settings, booking_id=booking_id,
                             reason="cancelled by the person's reply", actor="intake")  # fmt: skip
            log.info("surgery booking %s cancelled by reply %s", booking_id, msg.message_id)
        elif kind == "offer" and booking.status == "offered":
            if YES.search(text):
                surgeries.accept_offer(
                    ctx.session, settings=ctx.settings, booking_id=booking_id, actor="intake"
                )
            elif NO.search(text):
                surgeries.decline_offer(
                    ctx.session, settings=ctx.settings, booking_id=booking_id, actor="intake"
                )
    except surgeries.SurgeryError as err:  # e.g. the offer lapsed a minute ago: an ordinary reply
        log.info("reply to surgery booking %s not acted on: %s", booking_id, err)
