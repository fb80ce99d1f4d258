"""Block Kit for surgeries: the next sessions with a slot picker, and the booking modal.

``/casework surgeries`` lists the next sessions with their free slots; picking a slot (the
``surgery_pick`` select) opens the booking modal for it. A case's "Offer surgery appointment"
button (``surgery_offer``) opens the same modal with the person's details filled in from the
case and a choice of every free slot. Everything goes through :func:`bot.blocks.validated`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.blocks import Blocks, context, header, option, section, validated, validated_view
from bot.escape import entities, mrkdwn
from store.models import SurgerySession
from store.surgery_mail import slot_start, what, where
from store.workdays import LONDON

#: a static select holds at most 100 options
OPTION_LIMIT = 100
SESSIONS_SHOWN = 8


@dataclass
class SessionSlots:
    sitting: SurgerySession
    free: list[int]


def slot_label(sitting: SurgerySession, slot: int) -> str:
    start = slot_start(sitting, slot).astimezone(LONDON)
    return f"{start:%a %-d %b %H:%M} · {sitting.host} · slot {slot}"


def _session_line(item: SessionSlots) -> str:
    sitting = item.sitting
    start = sitting.starts_at.astimezone(LONDON)
    place = mrkdwn(where(sitting), limit=200, one_line=True)
    free = (
        f"{len(item.free)} of {sitting.slots} free"
        if item.free
        else "full: new bookings join the waiting list"
    )
    return (
        f"*{start:%A %-d %B %Y %H:%M}* · {what(sitting)} with the {sitting.host} (session {sitting.id})\n"
        f"{place} · {sitting.slots} × {sitting.minutes} min · {free}"
    )


def sessions_blocks(items: list[SessionSlots]) -> Blocks:
    """The next sessions, each with a picker of its free slots."""
    blocks: Blocks = [header("Next surgeries and casework meetings")]
    if not items:
        blocks.append(section("No sessions are scheduled. Add one with `casework surgery add`."))
        return validated(blocks)
    for item in items[:SESSIONS_SHOWN]:
        sitting = item.sitting
        accessory = None
        if item.free:
            accessory = {
                "type": "static_select",
                "action_id": "surgery_pick",
                "placeholder": {"type": "plain_text", "text": "Book a slot…"},
                "options": [
                    option(
                        f"{slot_start(sitting, n).astimezone(LONDON):%H:%M} (slot {n})", f"{sitting.id}:{n}"
                    )
                    for n in item.free[:OPTION_LIMIT]
                ],
            }
        blocks.append(section(_session_line(item), accessory=accessory))
    if len(items) > SESSIONS_SHOWN:
        blocks.append(context(f"and {len(items) - SESSIONS_SHOWN} later sessions: `casework surgery list`"))
    blocks.append(context("Picking a slot opens the booking form; the person gets an email invitation."))
    return validated(blocks)


def _input(
    block_id: str, label: str, *, initial: str = "", optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value"}
    if initial:
        element["initial_value"] = initial[:150]
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def booking_modal(
    *,
    choices: list[SessionSlots],
    chosen: tuple[int, int] | None = None,
    reference: str = "",
    name: str = "",
    email: str = "",
) -> dict[str, Any]:
    """The booking form: a slot picker (or the slot already picked), the person and the case."""
    blocks: Blocks = []
    if chosen is not None:
        sitting = next(c.sitting for c in choices if c.sitting.id == chosen[0])
        blocks.append(
            section(
                f"Book *{entities(slot_label(sitting, chosen[1]))}* at {mrkdwn(where(sitting), limit=200)}."
            )
        )
    else:
        options = [option(slot_label(c.sitting, n), f"{c.sitting.id}:{n}") for c in choices for n in c.free][
            :OPTION_LIMIT
        ]
        if not options:
            blocks.append(
                section("Every slot of the next sessions is taken: the person joins a waiting list.")
            )
            options = [
                option(f"Waiting list: {slot_label(c.sitting, 1)}", f"{c.sitting.id}:0") for c in choices
            ][:OPTION_LIMIT]
        blocks.append(
            {
                "type": "input",
                "block_id": "slot",
                "label": {"type": "plain_text", "text": "Appointment"},
                "element": {"type": "static_select", "action_id": "value", "options": options},
            }
        )
    blocks += [
        _input("name", "Name", initial=name),
        _input("email", "Email", initial=email, hint="The confirmation and invitation are sent here."),
        _input("needs", "Access needs", optional=True, hint="e.g. a hearing loop, step-free access"),
    ]
    if not reference:
        blocks.append(_input("case", "Case reference", optional=True, hint="Leave empty to open a new case."))
    view = {
        "type": "modal",
        "callback_id": "surgery_book",
        "private_metadata": json.dumps({"chosen": list(chosen) if chosen else None, "reference": reference}),
        "title": {"type": "plain_text", "text": "Surgery appointment"},
        "submit": {"type": "plain_text", "text": "Book"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
    return validated_view(view)


def booked_view(text: str) -> dict[str, Any]:
    return validated_view(
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Surgery appointment"},
            "close": {"type": "plain_text", "text": "Done"},
            "blocks": [section(f":white_check_mark: {text}")],
        }
    )
