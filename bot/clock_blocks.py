"""Block Kit for statutory clocks: the buttons on a case's post and the reason/date modals.

Kept beside :mod:`bot.blocks` (which calls :func:`clock_actions` for the triage message) so the
clock's controls live in one place. Action ids: ``clock_stop``, ``clock_start`` and
``clock_extend`` open a modal (callback ids the same); ``clock_review`` opens an internal review
in one click (its value ``REF`` or ``REF|YYYY-MM-DD``, the day the review was asked for, as
:func:`store.reviews.proposal_message` sets it when intake proposes a review);
``clock_lapse`` closes a case whose clarification never came.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.escape import entities
from store.clocks import REASONS
from store.enums import Status
from store.models import Case

STOP, START, EXTEND, REVIEW, LAPSE = (
    "clock_stop",
    "clock_start",
    "clock_extend",
    "clock_review",
    "clock_lapse",
)
REASON_LABELS = {
    "clarification": "Clarification asked for (FOIA s1(3))",
    "fee": "Fees notice issued (FOIA s9)",
    "other": "Other pause",
}
LAPSED_NOTE = "Closed as lapsed: no clarification received"


def _button(action_id: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def clock_line(case: Case) -> str:
    if case.clock_stopped_on is not None:
        return f":double_vertical_bar: clock stopped since {case.clock_stopped_on:%a %-d %b %Y}"
    return ""


def clock_actions(case: Case) -> list[dict[str, Any]]:
    """The clock's buttons for a case's post (stop or restart, extend, review once closed), as a
    list of zero or one actions block: a closed review has none to offer."""
    ref = case.reference
    elements = []
    if case.status != Status.CLOSED.value:
        if case.clock_stopped_on is None:
            elements += [_button(STOP, "Stop clock…", ref), _button(EXTEND, "Extend…", ref)]
        else:
            elements.append(_button(START, "Restart clock…", ref, "primary"))
    elif case.review_of_id is None:
        elements.append(_button(REVIEW, "Open internal review", ref))
    return [{"type": "actions", "block_id": f"clock:{ref}", "elements": elements}] if elements else []


def _meta(reference: str, channel: str | None, ts: str | None) -> str:
    return json.dumps({"reference": reference, "channel": channel, "ts": ts})


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {"action_id": "value", **element},
    }


def _day_input(today: date) -> dict[str, Any]:
    return _input("on", "Took effect on", {"type": "datepicker", "initial_date": today.isoformat()})


def _note_input(label: str = "Note (kept in the case's history)", *, optional: bool = True) -> dict[str, Any]:
    return _input(
        "note", label, {"type": "plain_text_input", "multiline": True, "max_length": 2000}, optional=optional
    )


def _modal(callback: str, title: str, submit: str, meta: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    from bot.blocks import validated_view

    return validated_view(
        {
            "type": "modal",
            "callback_id": callback,
            "private_metadata": meta,
            "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": submit},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks,
        }
    )


def stop_modal(
    reference: str, today: date, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": REASON_LABELS[r]}, "value": r} for r in REASONS]
    return _modal(
        STOP,
        "Stop the clock",
        "Stop clock",
        _meta(reference, channel, ts),
        [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Stop the statutory clock of *{entities(reference)}*."},
            },
            _input("reason", "Why", {"type": "static_select", "options": options}),
            _day_input(today),
            _note_input(),
        ],
    )


def start_modal(
    reference: str, today: date, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    return _modal(
        START,
        "Restart the clock",
        "Restart clock",
        _meta(reference, channel, ts),
        [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        f"Restart the clock of *{entities(reference)}*. After a clarification the full "
                        "period starts again; after a fee or other pause the days left at the stop carry on."
                    ),
                },
            },
            _day_input(today),
            _note_input(),
        ],
    )


def extend_modal(reference: str, channel: str | None = None, ts: str | None = None) -> dict[str, Any]:
    return _modal(
        EXTEND,
        "Extend the deadline",
        "Extend",
        _meta(reference, channel, ts),
        [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Extend the deadline of *{entities(reference)}*."},
            },
            _input(
                "days",
                "Working days",
                {"type": "plain_text_input", "placeholder": {"type": "plain_text", "text": "20"}},
            ),
            _note_input("Why (e.g. public interest test)", optional=False),
        ],
    )
