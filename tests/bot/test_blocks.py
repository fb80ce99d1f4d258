"""Block builders, escaping and range parsing, without a server."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot import blocks, examples
from bot.escape import mrkdwn
from bot.queries import CaseList
from bot.ranges import Range, calls_range, summary_range
from casework.errors import UserError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "slack-messages"


@pytest.mark.parametrize(
    ("raw", "forbidden"),
    [
        ("<!channel> hi", "<!channel>"),
        ("<!here|here>", "<!here"),
        ("<@U024BE7LH> look", "<@U024BE7LH>"),
        ("<https://evil.example|click me>", "<https://"),
        ("visit https://evil.example now", "https://evil"),
        ("@channel wake up", "@channel"),
        ("@everyone", "@everyone"),
        ("*bold* _it_ ~gone~ `code`", "*bold*"),
        ("```block```", "```"),
        ("a & b", "a & b"),
    ],
)
def test_public_text_cannot_ping_link_or_format(raw: str, forbidden: str) -> None:
    """Each injection a member of the public could try comes out inert."""
    assert forbidden not in mrkdwn(raw)


def test_escaping_keeps_the_words_readable() -> None:
    assert mrkdwn("Tom & Jerry <tom@example.org>") == "Tom &amp; Jerry &lt;tom@example.org&gt;"
    assert mrkdwn("a\n\nb", one_line=True) == "a b"
    assert len(mrkdwn("x" * 500, limit=100)) == 100


TODAY = date(2013, 8, 8)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("", date(2013, 8, 1), TODAY),
        ("this month", date(2013, 8, 1), TODAY),
        ("last month", date(2013, 7, 1), date(2013, 7, 31)),
        ("quarter", date(2013, 7, 1), TODAY),
        ("year", date(2013, 4, 1), TODAY),
        ("2012-12", date(2012, 12, 1), date(2012, 12, 31)),
        ("2013-02", date(2013, 2, 1), date(2013, 2, 28)),
        ("2012-11-01..2013-07-31", date(2012, 11, 1), date(2013, 7, 31)),
    ],
)
def test_summary_ranges(text: str, start: date, end: date) -> None:
    found = summary_range(text, TODAY)
    assert (found.start, found.end) == (start, end)


def test_financial_year_before_april_starts_the_year_before() -> None:
    assert summary_range("year", date(2013, 2, 3)).start == date(2012, 4, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2013-00",
        "2013-13",
        "yesterday",
        "2013-02-30..2013-03-01",
        "2013-05-01..2013-01-01",
        "2001-01-01..2013-01-01",
    ],
)
def test_bad_summary_ranges_say_what_to_type(text: str) -> None:
    with pytest.raises(UserError) as err:
        summary_range(text, TODAY)
    assert "`" in str(err.value)


def test_calls_ranges() -> None:
    assert calls_range("", TODAY).start == date(2013, 7, 15)  # four weeks of Mondays back from Thu 8 Aug
    assert calls_range("1 week", TODAY).start == date(2013, 8, 5)
    assert calls_range("2013-01-07..2013-02-03", TODAY).end == date(2013, 2, 3)
    with pytest.raises(UserError):
        calls_range("0 weeks", TODAY)


def test_case_with_200_messages_is_cut_with_and_n_more() -> None:
    detail = examples.sample_detail(messages=200)
    built = blocks.case_blocks(detail, examples._settings(), examples.TODAY)
    assert len(built) <= blocks.MESSAGE_BLOCK_LIMIT
    assert "and 192 more messages" in json.dumps(built)


def test_huge_subjects_and_reasons_are_truncated_not_rejected() -> None:
    detail = examples.sample_detail()
    detail.case.subject = "S" * 5000
    detail.case.reasons = [f"reason {n} " + "r" * 400 for n in range(40)]
    detail.first_body = "B" * 20000
    _text, built = blocks.triage_message(detail, examples._settings(), examples.TODAY)
    assert "and 35 more" in json.dumps(built)
    blocks.case_blocks(detail, examples._settings(), examples.TODAY)


def test_summary_over_24_months_validates() -> None:
    tables = examples.sample_tables()
    months = [f"{2012 + n // 12}-{n % 12 + 1:02d}" for n in range(24)]
    tables["categories"] = [{"month": m, "total": 100, "correspondence": 100} for m in months] + tables[
        "categories"
    ][-1:]
    tables["closure_times"] = [
        {"month": m, "closed": 90, "pct_within_deadline": 88.8} for m in months
    ] + tables["closure_times"][-1:]
    built = blocks.summary_blocks(
        tables, Range(date(2012, 1, 1), date(2013, 12, 31), "two years"), examples.sample_week()
    )
    assert "2013-12" in json.dumps(built) and len(built) <= blocks.MESSAGE_BLOCK_LIMIT


def test_long_case_list_and_home_view_validate() -> None:
    detail = examples.sample_detail()
    many = CaseList(cases=[detail.case] * 20, total=500)
    built = blocks.case_list_blocks("Overdue", many, examples._settings(), examples.TODAY, empty="none")
    assert "and 480 more" in json.dumps(built)
    view = blocks.home_view(
        user_id="U1",
        allowed=True,
        mine=many,
        overdue_total=500,
        settings=examples._settings(),
        today=examples.TODAY,
    )
    assert len(view["blocks"]) <= blocks.VIEW_BLOCK_LIMIT


def test_validation_rejects_what_slack_would() -> None:
    with pytest.raises(blocks.BlockKitError):
        blocks.validated([blocks.divider()] * 51)
    with pytest.raises(Exception, match="3000"):
        blocks.validated([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])


def test_saved_docs_messages_match_the_builders() -> None:
    """docs/slack-messages/*.json is regenerated with `python -m bot.examples docs/slack-messages`."""
    for name, message in examples.messages().items():
        saved = DOCS / name
        assert saved.exists(), f"{saved} missing: run python -m bot.examples docs/slack-messages"
        assert saved.read_text(encoding="utf-8") == examples.render(name, message), f"{name} is stale"


def test_manifest_declares_what_the_bot_uses() -> None:
    """The shipped manifest has the command, the event, interactivity and every scope we call."""
    manifest = (Path(__file__).resolve().parents[2] / "slack-app-manifest.yml").read_text()
    for needed in (
        "command: /casework",
        "- app_home_opened",
        "home_tab_enabled: true",
        "is_enabled: true",
        "- commands",
        "- chat:write",
        "- im:write",
        "- files:write",
        "- files:read",
        "- channels:history",
        "- groups:history",
        "- message.channels",
        "- message.groups",
        "- usergroups:read",
        "- channels:history",
        "- groups:history",
        "- im:history",
    ):
        assert needed in manifest, needed
    assert manifest.count("/slack/events") == 3
