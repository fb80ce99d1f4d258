"""Block Kit for the scheduler's Slack messages: deadline warnings, the digest, the weekly summary.

Blocks are built as plain dicts (``slack_sdk``'s models cost far more than the dicts they
produce, and the outbox sender renders a warning for every message it sends); every shape here is
validated against ``slack_sdk``'s block models in ``tests/scheduler/test_messages.py``, and the
builders keep Slack's limits (:data:`MAX_LINES`, :data:`SECTION_LIMIT`), so a message that
Slack would reject fails in tests, not in the outbox. Text that came from the public (subjects)
or from people (history notes) is escaped for Slack's mrkdwn with :func:`escape`, so a subject
can neither mention anyone nor make a link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

from bot.escape import mrkdwn

Block = dict[str, Any]

#: Slack's limits: 50 blocks per message, 3000 characters per section text, 150 per header.
MAX_LINES = 25
SECTION_LIMIT = 2900
HEADER_LIMIT = 150
#: lines in each list of the team's overdue post (unassigned, most overdue)
OVERDUE_CHANNEL_LINES = 10


def escape(text: str) -> str:
    """Public text made safe for mrkdwn: the bot's one escape (:func:`bot.escape.mrkdwn`).

    Entities for Slack's control characters, and ``@channel``, bare links, ``www.`` names,
    ``*bold*``, ``_italic_``, ``~strike~`` and backticks defused; newlines are kept.
    """
    return mrkdwn(text)


def short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=512)
def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


@dataclass(frozen=True)
class CaseLine:
    """What a warning or a digest says about one case (already looked up in the store)."""

    reference: str
    category_label: str
    subject: str
    status_text: str
    assignee: str | None
    due_on: date
    working_days_left: int
    waited_working_days: int
    #: False in a channel that has not passed the privacy check (:mod:`store.channels`)
    subject_shown: bool = True

    @property
    def left_text(self) -> str:
        left = self.working_days_left
        if left < 0:
            days = -left
            return f"overdue by {days} working day{'s' if days != 1 else ''}"
        if left == 0:
            return "due today"
        return f"{left} working day{'s' if left != 1 else ''} left"

    def mrkdwn(self) -> str:
        subject = " · " + (escape(short(self.subject)) or "(no subject)") if self.subject_shown else ""
        who = f"<@{self.assignee}>" if self.assignee and _is_slack_id(self.assignee) else "unassigned"
        return (
            f"*{escape(self.reference)}* · {escape(self.category_label)}{subject}\n"
            f"{self.left_text} (due {day_text(self.due_on)}) · waited {self.waited_working_days} "
            f"working day{'s' if self.waited_working_days != 1 else ''} · {escape(self.status_text)} · {who}"
        )

    def mine(self) -> str:
        """The line in the assignee's own overdue list: no mention of the reader, most telling first."""
        subject = escape(short(self.subject)) or "(no subject)"
        return (
            f"*{escape(self.reference)}* · {subject}\n"
            f"*{self.left_text}* (due {day_text(self.due_on)}) · {escape(self.status_text)}"
        )


def without_subjects(lines: Iterable[CaseLine]) -> list[CaseLine]:
    """The lines for a channel that may not carry subjects: reference, category, dates, assignee."""
    return [replace(line, subject_shown=False) for line in lines]


def _is_slack_id(value: str) -> bool:
    """Only Slack user IDs become mentions; anything else an assignee field holds is shown as text."""
    return value[:1] in ("U", "W") and value.isalnum() and value.isupper()


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> Block:
    """What ``SectionBlock(text=MarkdownTextObject(text=text)).to_dict()`` gives."""
    return {"type": "section", "text": _mrkdwn(text)}


def context(text: str) -> Block:
    """What ``ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()`` gives."""
    return {"type": "context", "elements": [_mrkdwn(text)]}


def header(text: str) -> Block:
    """What ``HeaderBlock(text=text).to_dict()`` gives (Slack allows 150 characters)."""
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT], "emoji": True}}


def divider() -> Block:
    return {"type": "divider"}


def warning_message(line: CaseLine) -> tuple[str, list[dict[str, Any]]]:
    """One case's deadline warning: the fallback text and the blocks."""
    text = f"{line.reference}: {line.left_text} (due {day_text(line.due_on)})"
    return escape(text), [section(f":alarm_clock: Deadline warning\n{line.mrkdwn()}"[:SECTION_LIMIT])]


def _list_section(
    lines: Sequence[CaseLine],
    *,
    empty: str,
    total: int | None = None,
    limit: int = MAX_LINES,
    render: Callable[[CaseLine], str] = CaseLine.mrkdwn,
) -> list[Block]:
    """Lines in as few sections as Slack allows, cut at ``limit`` with "…and N more" counted
    from ``total`` (default: the lines given). Only the lines shown are rendered, so a caller
    may pass just the first ``limit`` lines and the true total."""
    if not lines:
        return [context(empty)]
    total = len(lines) if total is None else total
    shown = [render(line) for line in lines[:limit]]
    sections: list[Block] = []
    chunk: list[str] = []
    size = 0
    for item in shown:
        if chunk and size + len(item) + 2 > SECTION_LIMIT:
            sections.append(section("\n\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(item[:SECTION_LIMIT])
        size += len(item) + 2
    if chunk:
        sections.append(section("\n\n".join(chunk)))
    if total > len(shown):
        sections.append(context(f"…and {total - len(shown)} more."))
    return sections


def monitoring_message(
    today: date, lines: Sequence[CaseLine], total: int | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Monitoring cases at or past a threshold: listed apart, because the office cannot act on them."""
    total = len(lines) if total is None else total
    text = f"{total} case(s) in monitoring (IOPC or court) are near or past their due date"
    blocks: list[Block] = [
        header(f"Monitoring: near or past due · {day_text(today)}"),
        context("Waiting on the IOPC or a court: for information, no action here."),
        *_list_section(lines, empty="None.", total=total),
    ]
    return text, blocks


def _cases(count: int) -> str:
    return f"{count:,} overdue case{'s' if count != 1 else ''}"


def overdue_dm_message(
    today: date, lines: Sequence[CaseLine], total: int
) -> tuple[str, list[dict[str, Any]]]:
    """One assignee's daily overdue list: their ``total`` overdue cases, the first lines shown."""
    blocks: list[Block] = [
        header(f"Your overdue cases · {day_text(today)}"),
        context(f"You have {_cases(total)}, most overdue first."),
        *_list_section(lines, empty="None.", total=total, render=CaseLine.mine),
    ]
    return f"You have {_cases(total)} today", blocks


def overdue_channel_message(
    today: date,
    *,
    total: int,
    caseworkers: int,
    unassigned: Sequence[CaseLine],
    unassigned_total: int,
    oldest: Sequence[CaseLine],
) -> tuple[str, list[dict[str, Any]]]:
    """The team's daily overdue post: how many, the unassigned ones, the oldest ones."""
    summary = (
        f"{_cases(total)} today: {total - unassigned_total:,} with {caseworkers:,} "
        f"caseworker{'s' if caseworkers != 1 else ''} (each has their list by DM), "
        f"{unassigned_total:,} unassigned."
    )
    blocks: list[Block] = [
        header(f"Overdue · {day_text(today)}"),
        section(summary),
        divider(),
        section(f"*Unassigned* ({unassigned_total:,})"),
        *_list_section(unassigned, empty="None.", total=unassigned_total, limit=OVERDUE_CHANNEL_LINES),
        divider(),
        section("*Most overdue*"),
        *_list_section(oldest, empty="None.", total=len(oldest), limit=OVERDUE_CHANNEL_LINES),
    ]
    return f"Casework: {_cases(total)} ({unassigned_total:,} unassigned)", blocks


def digest_message(
    today: date, sections: Iterable[tuple[str, Sequence[CaseLine], int]]
) -> tuple[str, list[dict[str, Any]]]:
    """The daily digest: one headed list per ``(title, lines, total)``."""
    blocks: list[Block] = [header(f"Casework digest · {day_text(today)}")]
    summary = []
    for title, lines, total in sections:
        summary.append(f"{title}: {total}")
        blocks.append(divider())
        blocks.append(section(f"*{escape(title)}* ({total})"))
        blocks.extend(_list_section(lines, empty="None."))
    return "Casework digest: " + "; ".join(summary), blocks


def weekly_message(
    week_start: date, rows: Sequence[tuple[str, str, str]], note: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    """The managers' weekly summary: ``(measure, last week, week before)`` rows."""
    table = "\n".join(
        f"{escape(measure)}: *{last}* (week before: {before})" for measure, last, before in rows
    )
    blocks: list[Block] = [
        header(f"Week commencing {day_text(week_start)}"),
        section(table[:SECTION_LIMIT] or "No figures."),
    ]
    if note:
        blocks.append(context(escape(note)))
    text = f"Casework weekly summary, week commencing {week_start.isoformat()}"
    return text, blocks
