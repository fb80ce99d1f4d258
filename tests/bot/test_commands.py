"""``/casework`` subcommands through the running server, answered on response_url."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from store.cases import get_case, set_status
from store.db import session_scope
from store.models import Call
from store.workdays import LONDON
from tests.bot.conftest import CASEWORKER, GROUP_MEMBER, MANAGER, OUTSIDER, RunningBot, make_case


def _text(reply: dict) -> str:
    return json.dumps(reply.get("blocks", [])) + reply.get("text", "")


def test_help_lists_every_subcommand(bot: RunningBot) -> None:
    reply = bot.command("help")
    for name in ("summary", "calls", "case", "mine", "due", "overdue", "find"):
        assert f"/casework {name}" in _text(reply)
    assert reply["response_type"] == "ephemeral"


def test_ack_is_immediate_and_empty(bot: RunningBot) -> None:
    """The slash command is acknowledged at once with an empty 200; the answer comes later."""
    from tests.bot.conftest import SECRET
    from tests.support.slack_requests import post, slash_command_body

    answer = post(
        bot.url,
        slash_command_body("help", user_id=CASEWORKER, response_url=bot.api.response_url()),
        secret=SECRET,
    )
    assert answer.status == 200 and answer.body == ""


def test_unknown_subcommand_gets_help_not_a_traceback(bot: RunningBot) -> None:
    reply = bot.command("frobnicate now")
    text = _text(reply)
    assert "don't know `/casework frobnicate`" in text
    assert "/casework summary" in text and "Traceback" not in text


def test_bad_date_gets_a_helpful_message(bot: RunningBot) -> None:
    reply = bot.command("summary 2013-13")
    assert "has no month 13" in _text(reply)
    reply = bot.command("summary 2013-05-01..2013-02-01")
    assert "ends before it starts" in _text(reply)
    reply = bot.command("summary next tuesday")
    assert "Try" in _text(reply) and "last month" in _text(reply)


def test_case_shows_details_history_and_escapes_public_text(bot: RunningBot) -> None:
    ref = make_case(
        bot.engine,
        bot.settings,
        subject="<!channel> *urgent* see <http://evil.example|here>",
        body="Hello <@U999> ~strike~ `code` @here http://evil.example",
        name="Eve <b>",
    )
    reply = bot.command(f"case {ref.lower()}")
    text = _text(reply)
    assert ref in text
    assert "<!channel>" not in text and "<@U999>" not in text and "<http://evil" not in text
    assert "@here" not in text and "*urgent*" not in text and "~strike~" not in text and "`code`" not in text
    assert "&lt;!channel&gt;" in text
    assert "History" in text and "created" in text
    assert "Correspondence" in text and "mentions" in text


def test_case_with_unknown_reference_is_a_clear_message(bot: RunningBot) -> None:
    reply = bot.command("case WMOPC-1999-000001")
    assert "No case has the reference `WMOPC-1999-000001`" in _text(reply)
    reply = bot.command("case")
    assert "Which case?" in _text(reply)


def test_mine_due_overdue_find(bot: RunningBot) -> None:
    today = datetime.now(LONDON).date()
    old = datetime.now(UTC) - timedelta(days=60)
    overdue_ref = make_case(
        bot.engine,
        bot.settings,
        subject="Old noise complaint",
        received=old,
        assignee=CASEWORKER,
        email="old@example.org",
    )
    fresh_ref = make_case(bot.engine, bot.settings, subject="Fresh parking question", email="new@example.org")
    closed_ref = make_case(
        bot.engine,
        bot.settings,
        subject="Closed noise matter",
        received=old,
        email="closed@example.org",
        assignee=CASEWORKER,
    )
    with session_scope(bot.engine) as session:
        case = get_case(session, closed_ref)
        assert case is not None
        set_status(session, case=case, status="closed", actor="test")

    mine = _text(bot.command("mine"))
    assert overdue_ref in mine and fresh_ref not in mine and closed_ref not in mine

    overdue = _text(bot.command("overdue"))
    assert overdue_ref in overdue and fresh_ref not in overdue and closed_ref not in overdue

    due = _text(bot.command("due 30"))
    assert fresh_ref in due and overdue_ref not in due
    assert fresh_ref not in _text(bot.command("due 0")) or today.weekday() >= 5

    found = _text(bot.command("find noise"))
    assert overdue_ref in found and closed_ref in found and fresh_ref not in found
    assert fresh_ref in _text(bot.command("find new@example"))
    assert "at least three characters" in _text(bot.command("find x"))
    assert "number of working days" in _text(bot.command("due soon"))


def test_outsider_is_refused_everything_but_politely(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings)
    for text in ("case " + ref, "mine", "summary", "find Speeding", "overdue"):
        reply = bot.command(text, user=OUTSIDER)
        body = _text(reply)
        assert "Sorry" in body and ref not in body and "Speeding" not in body


def test_manager_sees_summaries_but_not_cases(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings)
    assert "Casework summary" in _text(bot.command("summary", user=MANAGER))
    reply = _text(bot.command(f"case {ref}", user=MANAGER))
    assert "Sorry" in reply and "Speeding" not in reply


def test_user_group_member_is_a_caseworker(bot: RunningBot) -> None:
    ref = make_case(bot.engine, bot.settings)
    assert "Speeding" in _text(bot.command(f"case {ref}", user=GROUP_MEMBER))
    assert bot.api.of("usergroups.users.list")[0].body["usergroup"] == "S_TEAM"


def test_summary_counts_cases_and_calls_and_share_is_in_channel(bot: RunningBot) -> None:
    today = datetime.now(LONDON).date()
    now = datetime.now(UTC)
    for number in range(3):
        make_case(
            bot.engine,
            bot.settings,
            subject=f"Case {number}",
            category="complaint",
            email=f"p{number}@example.org",
            received=now,
        )
    with session_scope(bot.engine) as session:
        for number in range(4):
            start = now - timedelta(minutes=number)
            session.add(
                Call(
                    call_id=f"c{number}",
                    started_at=start,
                    started_on=start.astimezone(LONDON).date(),
                    answered_at=start + timedelta(seconds=3),
                    ended_at=start + timedelta(seconds=60),
                    outcome="answered",
                    wait_s=3.0,
                    talk_s=57.0,
                )
            )
    reply = bot.command("summary this month share")
    assert reply["response_type"] == "in_channel"
    text = _text(reply)
    assert "Cases received: 3" in text and "Complaint: *3*" in text
    assert "Calls this week: 4" in text and "Answered: *100.0%*" in text
    assert f"{today:%B %Y}" in text


def test_summary_over_24_months_fits_in_one_message(bot: RunningBot) -> None:
    today = datetime.now(LONDON).date()
    start = date(today.year - 2, today.month, 1)
    reply = bot.command(f"summary {start}..{today}")
    text = _text(reply)
    assert "Casework summary" in text and f"{start:%Y-%m}" in text
    assert len(reply["blocks"]) <= 50


def test_calls_table_by_week(bot: RunningBot) -> None:
    reply = bot.command("calls 3 weeks", user=MANAGER)
    text = _text(reply)
    assert "Calls: last 3 weeks" in text and "Week of" in text
    assert "This week so far: 0 calls" in text
    assert "Try" in _text(bot.command("calls lots", user=MANAGER))


def test_summary_chart_is_uploaded_with_files_upload_v2(bot: RunningBot) -> None:
    reply = bot.command("summary chart share")
    upload = bot.api.wait_for("files.completeUploadExternal")
    assert upload[0].body["channel_id"] == "C111"
    assert bot.api.of("files.getUploadURLExternal")
    posted = [c for c in bot.api.calls if c.path.startswith("/upload/")]
    assert posted and b"PNG" in posted[0].raw[:200]
    assert "Chart uploaded" in _text(reply)


def test_calls_show_the_live_week_from_the_phone_system(bot: RunningBot, tmp_path: Path) -> None:
    """Calls read from a phone system's file appear in /casework calls at once, as the Board counts them."""
    from store.calls.base import Context
    from store.calls.importer import read_path, store_reading

    local = datetime.now(LONDON).replace(microsecond=0, tzinfo=None)
    now = max(local - timedelta(minutes=30), local.replace(hour=0, minute=1, second=0))  # stay in this week
    rows = []
    for n, (answer, disposition) in enumerate([(3, "ANSWERED"), (None, "NO ANSWER"), (None, "BUSY")]):
        start = now + timedelta(minutes=n)
        end = start + timedelta(seconds=40)
        answered = (start + timedelta(seconds=answer)).strftime("%Y-%m-%d %H:%M:%S") if answer else ""
        rows.append(
            f'"","0770090000{n}","600","from-trunk","","SIP/t-1","SIP/201-2","Dial","",'
            f'"{start:%Y-%m-%d %H:%M:%S}","{answered}","{end:%Y-%m-%d %H:%M:%S}",40,'
            f'{37 if answer else 0},"{disposition}","DOCUMENTATION","17{n}.1",""'
        )
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(rows) + "\n")
    reading = read_path(path, fmt="auto", ctx=Context(), max_line_bytes=65536, max_file_bytes=1 << 20)
    assert reading is not None
    with session_scope(bot.engine) as session:
        store_reading(session, reading=reading)
    text = _text(bot.command("calls", user=MANAGER))
    assert "This week so far: 3 calls*, 1 within target, 1 unanswered, 1 busy" in text
    assert "Most unanswered calls in this period came in the hour from" in text
