"""The one-click prompt for a re-categorisation proposed by later mail (``slack.proposal``).

Posted in the thread of the case's triage message (or in the triage channel when the case has
none yet): what the reply said, why it reads as a complaint, and two buttons. The buttons carry
``reference|category|message_pk``; :mod:`bot.listeners.actions.proposal` handles the clicks and
redraws this message as the decision taken.
"""

from __future__ import annotations

from typing import Any

from bot import blocks
from bot.escape import excerpt, mrkdwn
from store.enums import Category
from store.models import Case

ACCEPT = "proposal_accept"
DECLINE = "proposal_decline"


def value(reference: str, category: str, message_pk: int | None) -> str:
    return f"{reference}|{category}|{message_pk or ''}"


def parse_value(raw: str) -> tuple[str, str, int | None]:
    """``reference|category|message_pk`` from a button; ValueError when it is not that."""
    reference, category, pk = (raw or "").split("|")
    Category(category)
    return reference, category, int(pk) if pk else None


def _why(payload: dict[str, Any]) -> str:
    reasons = [mrkdwn(str(r), limit=200, one_line=True) for r in payload.get("reasons") or []]
    return "; ".join(reasons[:3]) or "no reasons recorded"


def prompt(case: Case, payload: dict[str, Any], *, level: str = "full") -> tuple[str, blocks.Blocks]:
    """The proposal with its buttons: (notification text, blocks).

    The later message's words are quoted only where the channel may carry case details
    (``level`` "full", :mod:`store.channels`); elsewhere the caseworker opens the case to read it.
    """
    category = Category(payload["category"])
    current = blocks.category_label(case.category)
    button_value = value(case.reference, category.value, payload.get("message_pk"))
    confidence = payload.get("confidence")
    sure = f" ({confidence:.0%} sure)" if isinstance(confidence, int | float) else ""
    message = [
        blocks.section(
            f":warning: *{case.reference} may be a {category.label.lower()}.* A later message on this "
            f"{current.lower()} case reads as one{sure}. The category stays {current} until you decide."
        ),
        *(
            [
                blocks.section(f">{excerpt(payload.get('text')) or '(no text)'}"),
                blocks.context(f"Why {category.label}: {_why(payload)}"),
            ]
            if level == "full"
            else [blocks.context(f"*Read letter* or `/casework case {case.reference}` shows the message.")]
        ),
        {
            "type": "actions",
            "block_id": f"proposal:{case.reference}",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACCEPT,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": f"Make this a {category.label.lower()}"},
                    "value": button_value,
                },
                {
                    "type": "button",
                    "action_id": DECLINE,
                    "text": {"type": "plain_text", "text": f"Keep as {current}"},
                    "value": button_value,
                },
            ],
        },
    ]
    text = f"{case.reference} may be a {category.label.lower()}: a later message reads as one"
    return text, blocks.validated(message)


def decided(reference: str, text: str) -> tuple[str, blocks.Blocks]:
    """The prompt once answered: the decision, no buttons."""
    return text, blocks.validated([blocks.section(f"*{mrkdwn(reference)}*: {text}")])
