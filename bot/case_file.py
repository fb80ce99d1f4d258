"""The case file's modals and messages: the letter, attachments, notes, drafts and sign-off.

Built from store rows like everything in :mod:`bot.blocks` (whose small pieces they use) and
checked with slack_sdk's models before they leave. Slack's limits shape them: a section holds
3000 characters and a modal 100 blocks, so a long letter is shown a page at a time
(:func:`pages`); a select holds at most :data:`OPTION_LIMIT` options; a text input holds 3000
characters, so a long draft is edited in several parts (:func:`draft_parts`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.blocks import (
    Blocks,
    context,
    day,
    divider,
    entities,
    header,
    option,
    section,
    user,
    validated,
    validated_view,
)
from bot.escape import mrkdwn, plain
from bot.queries import FileChoice, Letter
from store.models import Case, Draft

OPTION_LIMIT = 50
#: escaped characters in one section of a letter (Slack allows 3000)
SECTION_CHARS = 2900
#: sections of a letter on one page of the modal (with room for the header and controls)
SECTIONS_PER_PAGE = 12
#: a plain_text_input holds at most this many characters
INPUT_CHARS = 3000
DRAFT_PART_CHARS = 2900
#: sections of a draft in an approver's DM (a message allows 50 blocks)
DM_DRAFT_SECTIONS = 40


def _meta(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"))


def _title(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": plain(text, limit=24)}


# --- reading a letter --------------------------------------------------------------------------


def _split_line(line: str, limit: int) -> list[str]:
    """A line too long for one section, cut so that each piece escaped still fits."""
    pieces: list[str] = []
    while line:
        cut = min(len(line), limit)
        while cut > 1 and len(mrkdwn(line[:cut])) > limit:
            cut = cut * 3 // 4
        pieces.append(line[:cut])
        line = line[cut:]
    return pieces


def sections_of(text: str, *, limit: int = SECTION_CHARS) -> list[str]:
    """``text`` from outside, escaped, in section-sized pieces cut at line ends where it can."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for raw_line in (text or "").replace("\x00", "").splitlines():
        for line in _split_line(raw_line, limit) or [""]:
            escaped = len(mrkdwn(line)) + 1
            if current and size + escaped > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
            current.append(line)
            size += escaped
    if current:
        chunks.append("\n".join(current))
    shown = [mrkdwn(chunk) for chunk in chunks]
    return [s for s in shown if s] or ["_(no text)_"]


def pages(text: str, *, per_page: int = SECTIONS_PER_PAGE) -> list[list[str]]:
    """The letter's sections grouped into the pages of the modal."""
    sections = sections_of(text)
    return [sections[i : i + per_page] for i in range(0, len(sections), per_page)]


def letter_label(letter: Letter) -> str:
    arrow = "→" if letter.direction == "out" else "←"
    return f"{letter.at:%-d %b %Y} {arrow} {letter.sender or '?'} — {letter.subject or '(no subject)'}"


def read_letter_view(
    *,
    reference: str,
    letters: Sequence[Letter],
    total: int,
    shown: Letter,
    page: int,
) -> dict[str, Any]:
    """The whole text of one message on the case, one page of it at a time."""
    all_pages = pages(shown.body)
    page = max(0, min(page, len(all_pages) - 1))
    options = [option(letter_label(letter), str(letter.pk)) for letter in letters[:OPTION_LIMIT]]
    current = next((o for o in options if o["value"] == str(shown.pk)), None)
    picker: dict[str, Any] = {
        "type": "static_select",
        "action_id": "case_read_pick",
        "placeholder": {"type": "plain_text", "text": "Another message…"},
        "options": options,
    }
    if current:
        picker["initial_option"] = current
    to = ", ".join(mrkdwn(a, limit=120, one_line=True) for a in list(shown.to)[:5]) or "-"
    blocks: Blocks = [
        section(
            f"*{mrkdwn(shown.subject, limit=300, one_line=True) or '(no subject)'}*\n"
            f"*From:* {mrkdwn(shown.sender, limit=200, one_line=True) or '-'} · *To:* {to}\n"
            f"{'Sent' if shown.direction == 'out' else 'Received'} {shown.at:%-d %b %Y %H:%M} UTC"
        ),
    ]
    if len(options) > 1:
        blocks.append({"type": "actions", "block_id": "pick", "elements": [picker]})
    if total > len(options):
        blocks.append(
            context(f"The case has {total} messages; the first and the latest {len(options) - 1} are listed.")
        )
    blocks.append(divider())
    blocks += [section(text) for text in all_pages[page]]
    if len(all_pages) > 1:
        nav = []
        if page > 0:
            nav.append(_page_button("← Previous page", shown.pk, page - 1, "case_read_prev"))
        if page < len(all_pages) - 1:
            nav.append(_page_button("Next page →", shown.pk, page + 1, "case_read_next"))
        blocks.append(context(f"Page {page + 1} of {len(all_pages)}"))
        blocks.append({"type": "actions", "block_id": "pages", "elements": nav})
    view = {
        "type": "modal",
        "callback_id": "case_read",
        "private_metadata": _meta(reference=reference, pk=shown.pk, page=page),
        "title": _title(f"Letter {reference[-6:]}"),
        "close": {"type": "plain_text", "text": "Done"},
        "blocks": blocks,
    }
    return validated_view(view)


def _page_button(label: str, pk: int, page: int, action_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": _meta(pk=pk, page=page),
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (nothing to read, nothing to pick)."""
    return validated_view(
        {
            "type": "modal",
            "title": _title(title),
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [section(text)],
        }
    )


# --- attachments -------------------------------------------------------------------------------


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(n, 1) // 1024 or 1} KB" if n >= 1024 else f"{n} bytes"


def attachments_view(
    *, reference: str, choices: Sequence[FileChoice], meta: dict[str, Any]
) -> dict[str, Any]:
    if not choices:
        return notice_view("Attachments", f"No message on *{entities(reference)}* has an attachment.")
    options = [
        option(f"{c.filename or 'attachment'} ({_size(c.size)}, {c.where})", c.key)
        for c in choices[:OPTION_LIMIT]
    ]
    blocks: Blocks = [
        section(
            f"Pick an attachment of *{entities(reference)}*. It is sent to your direct messages with "
            "the casework app, never to a channel."
        ),
        {
            "type": "input",
            "block_id": "file",
            "label": {"type": "plain_text", "text": "Attachment"},
            "element": {"type": "static_select", "action_id": "value", "options": options},
        },
    ]
    if len(choices) > OPTION_LIMIT:
        blocks.append(context(f"and {len(choices) - OPTION_LIMIT} more, not listed here"))
    return validated_view(
        {
            "type": "modal",
            "callback_id": "case_attachment",
            "private_metadata": _meta(reference=reference, **meta),
            "title": _title("Attachments"),
            "submit": {"type": "plain_text", "text": "Send to me"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks,
        }
    )


# --- notes, stage reasons ---------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    *,
    multiline: bool = True,
    initial: str = "",
    optional: bool = False,
    placeholder: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": INPUT_CHARS,
    }
    if initial:
        element["initial_value"] = initial[:INPUT_CHARS]
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": plain(placeholder, limit=150)}
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": plain(label, limit=2000)},
        "element": element,
    }
    if optional:
        block["optional"] = True
    return block


def note_view(*, reference: str, meta: dict[str, Any]) -> dict[str, Any]:
    return validated_view(
        {
            "type": "modal",
            "callback_id": "case_note",
            "private_metadata": _meta(reference=reference, **meta),
            "title": _title("Add note"),
            "submit": {"type": "plain_text", "text": "Save note"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                section(f"A note on *{entities(reference)}*, kept in its history with your name."),
                _text_input("note", "Note"),
                context("You can also reply in the case's thread in the triage channel: replies are notes."),
            ],
        }
    )


def reason_view(
    *,
    callback_id: str,
    reference: str,
    title: str,
    prompt: str,
    label: str,
    submit: str,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """A modal that asks why (a stage move that needs a reason, a draft returned for redraft)."""
    return validated_view(
        {
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": _meta(reference=reference, **meta),
            "title": _title(title),
            "submit": {"type": "plain_text", "text": plain(submit, limit=24)},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [section(prompt), _text_input("reason", label)],
        }
    )


# --- drafting ---------------------------------------------------------------------------------


def draft_parts(body: str, *, limit: int = DRAFT_PART_CHARS) -> tuple[list[str], list[str]]:
    """``body`` in pieces that fit a text input, and what joins each piece to the next.

    Pieces are cut at line ends where possible (joined back with a line break) and inside a
    line only when one line is longer than an input (joined back with nothing), so saving
    the pieces unchanged gives back exactly the text they came from.
    """
    parts: list[str] = []
    joins: list[str] = []
    current: str | None = None
    for line in body.split("\n"):
        while len(line) > limit:  # a single line longer than an input: hard cut
            if current is not None:
                parts.append(current)
                joins.append("\n")
                current = None
            parts.append(line[:limit])
            joins.append("")
            line = line[limit:]
        if current is None:
            current = line
        elif len(current) + 1 + len(line) > limit:
            parts.append(current)
            joins.append("\n")
            current = line
        else:
            current = f"{current}\n{line}"
    parts.append(current or "")
    return parts, joins


def join_parts(parts: Sequence[str], joins: Sequence[str]) -> str:
    """The draft from its pieces (:func:`draft_parts`); pieces left empty are skipped."""
    text = ""
    for number, part in enumerate(parts):
        if not part:
            continue
        if text:
            text += joins[number - 1] if number - 1 < len(joins) else "\n"
        text += part
    return text.strip("\n")


def draft_view(
    *,
    reference: str,
    subject: str,
    body: str,
    source: str,
    returned_reason: str = "",
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The reply, from the template or the current draft, in inputs of at most 3000 characters."""
    parts, joins = draft_parts(body)
    if len(parts[-1]) > DRAFT_PART_CHARS // 2:
        parts.append("")  # room to write on
        joins.append("\n")
    blocks: Blocks = [context(source)]
    if returned_reason:
        blocks.append(
            section(
                f":leftwards_arrow_with_hook: *Returned for redraft:* {mrkdwn(returned_reason, limit=2500)}"
            )
        )
    blocks.append(_text_input("subject", "Subject", multiline=False, initial=subject))
    for number, part in enumerate(parts, start=1):
        label = "Reply" if len(parts) == 1 else f"Reply (part {number} of {len(parts)})"
        blocks.append(_text_input(f"body_{number}", label, initial=part, optional=number > 1))
    return validated_view(
        {
            "type": "modal",
            "callback_id": "case_draft",
            "private_metadata": _meta(reference=reference, parts=len(parts), joins=joins, **meta),
            "title": _title("Draft reply"),
            "submit": {"type": "plain_text", "text": "Save draft"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks,
        }
    )


# --- sign-off ---------------------------------------------------------------------------------


def _decision_value(reference: str, draft: Draft) -> str:
    return _meta(reference=reference, draft_id=draft.id)


def signoff_message(
    *, case: Case, draft: Draft, correspondent: str, requested_by: str | None
) -> tuple[str, Blocks]:
    """The approver's DM: the draft in full (as far as a message holds it) and the two buttons."""
    ref = case.reference
    sections = sections_of(draft.body)
    shown = sections[:DM_DRAFT_SECTIONS]
    author = user(draft.author) if draft.author[:1] in ("U", "W") else entities(draft.author)
    blocks: Blocks = [
        header(f"Sign-off requested: {ref}"),
        section(
            f"*To:* {correspondent}\n*Subject:* {mrkdwn(draft.subject, limit=300, one_line=True)}\n"
            f"Draft v{draft.version} by {author}"
            + (f", sign-off asked by {user(requested_by)}" if requested_by else "")
            + f" · due {day(case.due_on)}"
        ),
        divider(),
        *[section(text) for text in shown],
    ]
    if len(sections) > len(shown):
        blocks.append(
            context(f"The draft goes on for {len(sections) - len(shown)} more sections, not shown here.")
        )
    blocks += [
        divider(),
        {
            "type": "actions",
            "block_id": f"signoff:{ref}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "signoff_approve",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": _decision_value(ref, draft),
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Approve this reply?"},
                        "text": {
                            "type": "mrkdwn",
                            "text": f"Draft v{draft.version} of {entities(ref)} becomes ready to send.",
                        },
                        "confirm": {"type": "plain_text", "text": "Approve"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                    },
                },
                {
                    "type": "button",
                    "action_id": "signoff_return",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Return for redraft"},
                    "value": _decision_value(ref, draft),
                },
            ],
        },
    ]
    text = f"Sign-off requested: {ref}, draft v{draft.version}"
    return text, validated(blocks)


def signoff_decided(
    *, reference: str, version: int, decision: str, by: str, note: str = ""
) -> tuple[str, Blocks]:
    """What the approver's DM becomes once decided (by them or another approver)."""
    reason = f"\n>{mrkdwn(note, limit=1500)}" if note else ""
    text = f"{reference} draft v{version}: {decision} by {by}"
    return text, validated(
        [section(f"*{entities(reference)}* draft v{version}: *{decision}* by {user(by)}.{reason}")]
    )


# --- a reply captured from the office's mail ---------------------------------------------------


def close_prompt(
    *, case: Case, message_pk: int, sent_on: date, to: Sequence[str], subject: str
) -> tuple[str, Blocks]:
    """The one-click close for a reply the office sent from its own mail (CLOSE_ON_RESPONSE=ask)."""
    label = f"Close — response sent on {sent_on:%-d %b %Y}"
    who = ", ".join(mrkdwn(a, limit=120, one_line=True) for a in list(to)[:3]) or "the correspondent"
    blocks: Blocks = [
        section(
            f"A reply to *{entities(case.reference)}* went out from the office's mail on {day(sent_on)} "
            f"to {who}: _{mrkdwn(subject, limit=200, one_line=True) or '(no subject)'}_.\n"
            "If it answers the case, close it as responded on that day."
        ),
        {
            "type": "actions",
            "block_id": f"close:{case.reference}",
            "elements": [
                {
                    "type": "button",
                    "action_id": "close_on_response",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": label},
                    "value": _meta(reference=case.reference, message_pk=message_pk),
                }
            ],
        },
    ]
    return f"{case.reference}: a reply went out on {sent_on:%-d %b %Y}", validated(blocks)


def close_prompt_done(*, reference: str, sent_on: str, by: str, closed: bool) -> tuple[str, Blocks]:
    did = f"closed as responded on {sent_on}" if closed else "was closed already"
    text = f"{reference} {did}"
    return text, validated([section(f"*{entities(reference)}* {entities(did)} — {user(by)}")])
