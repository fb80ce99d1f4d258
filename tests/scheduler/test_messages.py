"""The scheduler's Block Kit, built as plain dicts, checked against slack_sdk's block models.

The builders skip slack_sdk at run time (the sender renders a deadline warning for each of
thousands of messages); these tests pin down that every kind of message is exactly what the
models would produce, and that the models' validation (lengths, shapes) accepts it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from casework.scheduler.messages import (
    MAX_LINES,
    OVERDUE_CHANNEL_LINES,
    CaseLine,
    digest_message,
    monitoring_message,
    overdue_channel_message,
    overdue_dm_message,
    warning_message,
    weekly_message,
)

TODAY = date(2013, 4, 10)


def line(
    n: int = 1, *, left: int = 2, assignee: str | None = "U0CASEWKR", subject: str = "Speeding"
) -> CaseLine:
    return CaseLine(
        reference=f"WMOPC-2013-{n:06d}",
        category_label="Complaint",
        subject=subject,
        status_text="Waiting on the force (referred to force)",
        assignee=assignee,
        due_on=date(2013, 4, 12),
        working_days_left=left,
        waited_working_days=18,
    )


def validated(blocks: list[dict[str, Any]]) -> None:
    """slack_sdk parses each dict into its model and ``to_dict()`` (which validates) gives it back."""
    models = Block.parse_all(blocks)
    assert all(model is not None for model in models)
    assert [model.to_dict() for model in models] == blocks  # type: ignore[union-attr]
    assert len(blocks) <= 50


@pytest.mark.parametrize("left", [5, 2, 1, 0, -1, -30])
@pytest.mark.parametrize("assignee", ["U0CASEWKR", None, "jane@example.org"])
def test_every_warning_message_is_valid_block_kit(left: int, assignee: str | None) -> None:
    """Each level (days left, due today, overdue) with a Slack user, no assignee and a plain name."""
    text, blocks = warning_message(line(left=left, assignee=assignee, subject="<@U1> & <http://x|y> " * 20))
    validated(blocks)
    assert text and len(blocks) == 1


@pytest.mark.parametrize("count", [0, 1, MAX_LINES, MAX_LINES + 1, 500])
def test_monitoring_list_is_valid_block_kit(count: int) -> None:
    """Empty, short, exactly full and cut lists (with the "…and N more" line)."""
    text, blocks = monitoring_message(TODAY, [line(n, left=-n) for n in range(count)])
    validated(blocks)
    assert str(count) in text
    if count > MAX_LINES:
        assert blocks[-1]["elements"][0]["text"] == f"…and {count - MAX_LINES} more."


@pytest.mark.parametrize("total", [1, MAX_LINES, MAX_LINES + 1, 30_000])
def test_overdue_dm_is_valid_block_kit(total: int) -> None:
    """An assignee's daily list: only the first MAX_LINES are given and shown, the rest counted."""
    shown = [line(n, left=-n - 1, subject="<@U1> & <http://x|y> " * 20) for n in range(min(total, MAX_LINES))]
    text, blocks = overdue_dm_message(TODAY, shown, total)
    validated(blocks)
    assert f"{total:,} overdue case" in text
    if total > MAX_LINES:
        assert blocks[-1]["elements"][0]["text"] == f"…and {total - MAX_LINES} more."
    assert "<@U1>" not in str(blocks)


@pytest.mark.parametrize("unassigned", [0, 3, 5_000])
def test_overdue_channel_post_is_valid_block_kit(unassigned: int) -> None:
    """The team's post: counts, the unassigned list (cut with a count) and the most overdue."""
    first = [line(n, left=-40, assignee=None) for n in range(min(unassigned, OVERDUE_CHANNEL_LINES))]
    oldest = [line(n, left=-60 + n, subject="x" * 200) for n in range(OVERDUE_CHANNEL_LINES)]
    text, blocks = overdue_channel_message(
        TODAY, total=31_000, caseworkers=12, unassigned=first, unassigned_total=unassigned, oldest=oldest
    )
    validated(blocks)
    assert "31,000" in text
    if unassigned > OVERDUE_CHANNEL_LINES:
        assert f"…and {unassigned - OVERDUE_CHANNEL_LINES} more." in str(blocks)


def test_long_lines_split_into_sections_within_slack_limits() -> None:
    """Lines near the section limit go into several sections, each under 3000 characters."""
    long = [line(n, subject="x" * 200) for n in range(MAX_LINES)]
    _, blocks = monitoring_message(TODAY, long)
    validated(blocks)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_digest_and_weekly_are_valid_block_kit() -> None:
    _, digest = digest_message(
        TODAY,
        [
            ("Due this week", [line(1)], 1),
            ("Overdue", [line(n, left=-n) for n in range(30)], 40),
            ("Unassigned", [], 0),
        ],
    )
    validated(digest)
    _, weekly = weekly_message(
        TODAY, [("Cases received", "12", "9"), ("Calls answered", "90.0%", "–")], note="Figures."
    )
    validated(weekly)
    _, empty = weekly_message(TODAY, [])
    validated(empty)
