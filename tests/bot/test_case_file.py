"""The case file in Slack, from signed requests against the Web API stand-in: the letter paged in
a modal, attachments to the asker's DM as a Slack file, notes (modal and thread replies), files
posted in the thread kept for the reply, stage moves, the close prompt, and every read in the
case's log with the Slack user."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.escape import mrkdwn
from store import lifecycle
from store.cases import get_case, history
from store.db import session_scope
from store.enums import Stage
from store.models import Attachment, CaseFile, Message, Note
from store.outbox import enqueue
from tests.bot.case_file_support import (
    action_ids,
    as_shown,
    button,
    choose,
    click,
    errors_of,
    post_blocks,
    posted_case,
    responses_to,
    running_bot,
    sender,
    submit,
    wait_view,
)
from tests.bot.conftest import CASEWORKER, GROUP_MEMBER, OUTSIDER, SECRET, RunningBot
from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_requests import Response, event_body, post


@pytest.fixture
def bot(database_url: str, api: FakeSlackAPI) -> Iterator[RunningBot]:
    with running_bot(database_url, api) as running:
        yield running


def _triage_blocks(bot: RunningBot) -> list[dict]:
    return post_blocks(bot.api.of("chat.postMessage")[0])


def _events(bot: RunningBot, ref: str, kind: str) -> list[tuple[str, str | None]]:
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        return [(e.actor, e.new_value) for e in history(session, case=case) if e.kind == kind]


def test_triage_post_carries_the_case_file_controls(bot: RunningBot) -> None:
    posted_case(bot)
    ids = action_ids(_triage_blocks(bot))
    for wanted in ("case_read", "case_attachments", "case_note", "case_draft", "case_stage"):
        assert wanted in ids
    # nothing drafted yet: nothing to sign off or send
    assert "case_request_signoff" not in ids and "case_send_final" not in ids


def test_read_letter_pages_a_long_letter_and_logs_every_page_read(bot: RunningBot) -> None:
    """A letter far over a modal's limits is shown whole, a page at a time, escaped."""
    paragraphs = [f"Paragraph {n}: " + ("the cars race past the school " * 12) for n in range(400)]
    body = "<!channel> *urgent*\n" + "\n\n".join(paragraphs) + "\nLAST-LINE-MARKER"
    ref, channel, ts = posted_case(bot, body=body, messages=2)
    blocks = _triage_blocks(bot)
    click(bot, button(blocks, "case_read"), channel=channel, ts=ts)
    first = wait_view(bot)
    texts = [b["text"]["text"] for b in first["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    assert "<!channel>" not in str(first) and "&lt;!channel&gt;" in str(first)
    assert "Paragraph 0:" in str(first) and "LAST-LINE-MARKER" not in str(first)
    pages_text = [b for b in first["blocks"] if b["type"] == "context" and "Page 1 of" in str(b)]
    total = int(str(pages_text[0]).split("Page 1 of ")[1].split("'")[0].split('"')[0])
    assert total > 2
    # page through to the end with the modal's own Next button, as Slack sends it
    shown, seen = first, [first]
    for number in range(2, total + 1):
        click(bot, button(shown["blocks"], "case_read_next"), view=as_shown(shown))
        shown = wait_view(bot, number - 1, method="views.update")
        assert f"Page {number} of {total}" in str(shown)
        seen.append(shown)
    assert "LAST-LINE-MARKER" in str(shown) and "case_read_next" not in str(shown)
    # every paragraph is on some page, in order, none lost at a page's edge
    joined = "\n".join(
        b["text"]["text"] for view in seen for b in view["blocks"][3:] if b["type"] == "section"
    )
    for n in (0, 137, 399):
        assert f"Paragraph {n}:" in joined
    assert joined.index("Paragraph 137:") < joined.index("Paragraph 138:")
    # the other message of the case, through the select
    with session_scope(bot.engine) as session:
        pks = session.execute(select(Message.id).order_by(Message.id)).scalars().all()
    click(bot, choose(shown["blocks"], "case_read_pick", str(pks[1])), view=as_shown(shown))
    other = wait_view(bot, total, method="views.update")
    assert "(1)" in str(other["blocks"][0])
    reads = _events(bot, ref, "message_read")
    assert len(reads) == total + 1 and all(actor == CASEWORKER for actor, _ in reads)
    assert reads[0][1] == f"message {pks[0]} page 1/{total}"


def _with_attachment(bot: RunningBot, ref: str, *, content: bytes | None, size: int = 0) -> int:
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        message = session.execute(select(Message).where(Message.case_id == case.id)).scalars().first()
        assert message is not None
        row = Attachment(
            message_pk=message.id,
            filename="photo of car.jpg",
            content_type="image/jpeg",
            size=size or len(content or b""),
            truncated=content is None,
            content=content,
        )
        session.add(row)
        session.flush()
        return int(row.id or 0)


def test_attachment_goes_to_the_askers_dm_as_a_slack_file_and_is_logged(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    data = b"\xff\xd8\xff\xe0 JPEG bytes of the car"
    attachment = _with_attachment(bot, ref, content=data)
    click(bot, button(_triage_blocks(bot), "case_attachments"), channel=channel, ts=ts)
    view = wait_view(bot)
    assert "photo of car.jpg" in str(view)
    assert errors_of(submit(bot, view, {"file": f"a:{attachment}"})) == {}
    complete = bot.api.wait_for("files.completeUploadExternal")[0]
    assert bot.api.of("conversations.open")[-1].body["users"] == CASEWORKER
    assert complete.body.get("channel_id") == "D_CW"  # the caseworker's DM, never a channel
    assert not any(
        str(c.body.get("channel_id", "")).startswith("C") for c in bot.api.of("files.completeUploadExternal")
    )
    assert any(data in c.raw for c in bot.api.uploads())
    bot.api.wait_for("chat.postMessage", 1)
    _eventually(lambda: _events(bot, ref, "attachment_downloaded"))
    assert _events(bot, ref, "attachment_downloaded") == [(CASEWORKER, f"attachment a:{attachment}")]
    assert (CASEWORKER, "attachments listed") in _events(bot, ref, "viewed")


def test_an_attachment_too_large_to_keep_is_refused_in_the_modal(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    attachment = _with_attachment(bot, ref, content=None, size=50_000_000)
    click(bot, button(_triage_blocks(bot), "case_attachments"), channel=channel, ts=ts)
    errors = errors_of(submit(bot, wait_view(bot), {"file": f"a:{attachment}"}))
    assert "too large" in errors["file"]
    assert not bot.api.of("files.getUploadURLExternal")


def test_add_note_modal_records_the_note_with_its_author(bot: RunningBot) -> None:
    _ref, channel, ts = posted_case(bot)
    click(bot, button(_triage_blocks(bot), "case_note"), channel=channel, ts=ts)
    view = wait_view(bot)
    assert errors_of(submit(bot, view, {"note": "Rang Jane; she will send photos."})) == {}
    with session_scope(bot.engine) as session:
        note = session.execute(select(Note)).scalar_one()
        assert (note.author, note.text, note.source) == (
            CASEWORKER,
            "Rang Jane; she will send photos.",
            "slack",
        )
    bot.api.wait_for("chat.update")  # the triage post redrawn


def _thread_event(channel: str, thread_ts: str, *, ts: str, user: str = CASEWORKER, **extra: object) -> dict:
    event: dict = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": "Force says the camera van visits on Tuesdays.",
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "channel_type": "group",
    }
    event.update(extra)
    return event


def _notes(bot: RunningBot) -> list[Note]:
    with session_scope(bot.engine) as session:
        return list(session.execute(select(Note)).scalars())


def _eventually(check, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_thread_replies_are_notes_once_and_the_bots_own_posts_are_not(bot: RunningBot) -> None:
    _ref, channel, ts = posted_case(bot)
    reply = _thread_event(channel, ts, ts="1700000100.000100")
    assert bot.event(reply).status == 200
    # Slack delivers it again: a new request (a later timestamp, so a fresh signature, not a replay)
    again = post(bot.url, event_body(reply), secret=SECRET, content_type="application/json",
                 timestamp=int(time.time()) + 1)  # fmt: skip
    assert again.status == 200
    notes = _eventually(lambda: _notes(bot))
    assert [(n.author, n.source, n.slack_ts) for n in notes] == [(CASEWORKER, "thread", "1700000100.000100")]
    # the bot's own notices in the thread, an edit, and a top-level message: none is a note
    bot.event(_thread_event(channel, ts, ts="1700000101.0", bot_id="BBOT", user="UBOT"))
    bot.event(_thread_event(channel, ts, ts="1700000102.0", subtype="message_changed"))
    bot.event({**_thread_event(channel, ts, ts="1700000103.0"), "thread_ts": None})
    group = _thread_event(channel, ts, ts="1700000104.0", user=GROUP_MEMBER, text="Second note")
    bot.event(group)
    notes = _eventually(lambda: [n for n in _notes(bot) if n.author == GROUP_MEMBER])
    assert len(_notes(bot)) == 2 and notes[0].text == "Second note"


def test_thread_reply_by_someone_outside_casework_is_not_recorded(bot: RunningBot) -> None:
    _ref, channel, ts = posted_case(bot)
    bot.event(_thread_event(channel, ts, ts="1700000200.0", user=OUTSIDER))
    told = bot.api.wait_for("chat.postEphemeral")[0]
    assert told.body["user"] == OUTSIDER and "Not recorded" in told.body["text"]
    assert _notes(bot) == []


def test_a_file_posted_in_the_thread_is_kept_for_the_reply(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    letter = b"%PDF-1.4 the office's signed letter"
    shared = bot.api.add_file("F_LETTER", "reply-letter.pdf", letter)
    event = _thread_event(channel, ts, ts="1700000300.0", subtype="file_share", text="", files=[shared])
    bot.event(event)
    bot.event(event)  # redelivered at once, while the first is still being handled: one file
    told = bot.api.wait_for("chat.postEphemeral", 1)
    assert "reply-letter.pdf is attached" in told[0].body["text"]
    time.sleep(0.5)
    download = [c for c in bot.api.calls if c.path.startswith("/files-pri/")]
    assert len(download) == 1 and download[0].headers["Authorization"] == "Bearer xoxb-test"
    assert len(bot.api.of("chat.postEphemeral")) == 1
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        files = lifecycle.pending_files(session, case=case)
        assert [(f.filename, f.content, f.slack_file_id, f.actor) for f in files] == [
            ("reply-letter.pdf", letter, "F_LETTER", CASEWORKER)
        ]
    assert _notes(bot) == []  # a file with no words is not a note
    redrawn = bot.api.wait_for("chat.update")[0]
    # the default (minimal) channel post counts the files; their names may be personal
    assert redrawn.body["ts"] == ts and "With the next reply: 1 file" in str(redrawn.body["blocks"])
    assert "reply-letter.pdf" not in str(redrawn.body["blocks"])


def test_a_file_over_the_size_limit_is_not_downloaded(database_url: str, api: FakeSlackAPI) -> None:
    with running_bot(database_url, api, attachment_max_bytes=1000) as bot:
        _ref, channel, ts = posted_case(bot)
        shared = api.add_file("F_BIG", "scan.pdf", b"x" * 5000)
        bot.event(
            _thread_event(channel, ts, ts="1700000400.0", subtype="file_share", text="", files=[shared])
        )
        told = api.wait_for("chat.postEphemeral")[0]
        assert "not attached" in told.body["text"]
        assert not [c for c in api.calls if c.path.startswith("/files-pri/")]
        with session_scope(bot.engine) as session:
            assert session.execute(select(CaseFile)).first() is None


def test_stage_select_moves_and_a_move_that_needs_a_reason_asks_for_one(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    click(bot, choose(_triage_blocks(bot), "case_stage", "with_force"), channel=channel, ts=ts)
    update = bot.api.wait_for("chat.update")[0]
    assert "with the force for comment" in str(update.body["blocks"])
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.stage == "with_force" and case.status == "in_progress"
    click(bot, choose(post_blocks(update), "case_stage", "closed"), channel=channel, ts=ts)
    bot.api.wait_for("chat.update", 2)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        options = [Stage(s).value for s in lifecycle.allowed_moves(case, bot.settings)]
    assert "drafting" in options and lifecycle.needs_note(case, "drafting")
    # re-opening a closed case needs a reason: a modal asks for it
    closed_post = post_blocks(bot.api.of("chat.update")[1])
    click(bot, choose(closed_post, "case_stage", "drafting"), channel=channel, ts=ts)
    view = wait_view(bot)
    assert view["callback_id"] == "case_stage_reason"
    assert "reason" in errors_of(submit(bot, view, {"reason": "   "}))
    assert errors_of(submit(bot, view, {"reason": "Jane wrote again"})) == {}
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.stage == "drafting" and case.status == "in_progress"
        moves = [(e.old_value, e.new_value, e.note) for e in history(session, case=case) if e.kind == "stage"]
    assert moves[-1] == ("closed", "drafting", "Jane wrote again")


def test_a_move_the_table_refuses_is_explained_to_the_asker_only(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    stale = {
        "type": "static_select",
        "action_id": "case_stage",
        "block_id": f"case:{ref}",
        "selected_option": {"text": {"type": "plain_text", "text": "Ready"}, "value": "ready_to_send"},
    }
    click(bot, stale, channel=channel, ts=ts)
    bot.api.wait_for("/response/action")
    (answer,) = responses_to(bot)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "cannot move" in answer["text"] or "sign-off" in answer["text"]


def _captured_reply(bot: RunningBot, ref: str) -> int:
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        message = Message(
            case_id=case.id,
            message_id=f"<outlook.{ref}@pcc.example>",
            raw_sha256="c" * 64,
            direction="out",
            from_addr="opcc@pcc.example",
            to_addrs=["jane@example.org"],
            subject="Re: Speeding on Bristol Road",
            sent_at=datetime(2026, 3, 4, 15, 30, tzinfo=UTC),
            received_at=datetime(2026, 3, 4, 15, 31, tzinfo=UTC),
            raw=b"raw",
        )
        session.add(message)
        session.flush()
        pk = int(message.id or 0)
        enqueue(
            session,
            key=f"close_prompt:{ref}:{pk}",
            kind="slack.close_prompt",
            payload={"reference": ref, "message_pk": pk, "sent_on": "2026-03-04"},
        )
        return pk


def test_close_prompt_is_a_thread_reply_whose_button_closes_on_the_replys_date(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot, received=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    _captured_reply(bot, ref)
    assert sender(bot).drain_once() == 1
    prompt = bot.api.of("chat.postMessage")[-1]
    assert prompt.body["thread_ts"] == ts and prompt.body["channel"] == channel
    blocks = post_blocks(prompt)
    close = button(blocks, "close_on_response")
    assert "Close — response sent on 4 Mar 2026" in str(blocks)
    click(bot, close, channel=channel, ts=str(prompt.body.get("ts") or "9.9"), response_name="prompt")
    bot.api.wait_for("/response/prompt")
    assert "closed as responded on 4 Mar 2026" in responses_to(bot, "prompt")[0]["text"]
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.status == "closed" and case.stage == "closed"
        assert case.closed_at == datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
        assert case.responded_at == datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    # a second click (or another caseworker's) is harmless
    click(bot, close, channel=channel, ts="9.9", response_name="prompt")
    bot.api.wait_for("/response/prompt", 2)
    assert "closed already" in responses_to(bot, "prompt")[1]["text"]


def test_close_prompt_for_a_case_closed_meanwhile_is_not_posted(bot: RunningBot) -> None:
    ref, _channel, _ts = posted_case(bot)
    _captured_reply(bot, ref)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        lifecycle.move(session, case=case, to="closed", actor="U_CW", settings=bot.settings)
    posts = len(bot.api.of("chat.postMessage"))
    assert sender(bot).drain_once() == 0
    assert len(bot.api.of("chat.postMessage")) == posts


# --- refusals: every new action, for someone outside casework ------------------------------------

CASE_BUTTONS = (
    "case_read",
    "case_attachments",
    "case_note",
    "case_draft",
    "case_request_signoff",
    "case_send_final",
    "case_send_holding",
)


@pytest.mark.parametrize("user", [OUTSIDER, "U_MGR"])
def test_every_case_file_control_is_refused_to_non_caseworkers(bot: RunningBot, user: str) -> None:
    ref, channel, ts = posted_case(bot)
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None
        lifecycle.save_draft(session, case=case, author=CASEWORKER, body="Dear Jane", settings=bot.settings)
        before = len(history(session, case=case))
    actions: list[dict] = [
        {"type": "button", "action_id": a, "block_id": f"case:{ref}", "value": ref} for a in CASE_BUTTONS
    ]
    actions.append(
        {
            "type": "static_select",
            "action_id": "case_stage",
            "block_id": f"case:{ref}",
            "selected_option": {"text": {"type": "plain_text", "text": "Closed"}, "value": "closed"},
        }
    )
    actions.append(
        {
            "type": "button",
            "action_id": "close_on_response",
            "block_id": f"close:{ref}",
            "value": json.dumps({"reference": ref, "message_pk": 1}),
        }
    )
    for number, action in enumerate(actions, start=1):
        click(bot, action, user=user, channel=channel, ts=ts)
        bot.api.wait_for("/response/action", number)
    answers = responses_to(bot)
    assert len(answers) == len(actions)
    for answer in answers:
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        assert ":lock:" in str(answer["blocks"])
    assert not bot.api.of("views.open") and not bot.api.of("chat.update")
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.stage == "drafting"
        assert len(history(session, case=case)) == before  # not even a read is logged


def _refused(answer: Response) -> bool:
    errors = errors_of(answer)
    return bool(errors) and all("Sorry" in text for text in errors.values())


def test_every_case_file_modal_submission_is_refused_to_non_caseworkers(bot: RunningBot) -> None:
    ref, channel, ts = posted_case(bot)
    attachment = _with_attachment(bot, ref, content=b"bytes")
    blocks = _triage_blocks(bot)
    click(bot, button(blocks, "case_note"), channel=channel, ts=ts)
    click(bot, button(blocks, "case_draft"), channel=channel, ts=ts)
    click(bot, button(blocks, "case_attachments"), channel=channel, ts=ts)
    note, draft, files = wait_view(bot, 1), wait_view(bot, 2), wait_view(bot, 3)
    assert _refused(submit(bot, note, {"note": "sneaky"}, user=OUTSIDER))
    assert _refused(submit(bot, draft, {}, user=OUTSIDER))
    assert _refused(submit(bot, files, {"file": f"a:{attachment}"}, user=OUTSIDER))
    # a page turn in the letter modal by someone who got hold of it shows the refusal, not the text
    click(bot, button(blocks, "case_read"), channel=channel, ts=ts)
    letter = wait_view(bot, 4)
    pick = {
        "type": "static_select",
        "action_id": "case_read_pick",
        "block_id": "pick",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "1"},
    }
    click(bot, pick, user=OUTSIDER, view=as_shown(letter))
    refused = wait_view(bot, 1, method="views.update")
    assert ":lock:" in str(refused) and "Cars race past" not in str(refused)
    for number, turn in enumerate(("case_read_next", "case_read_prev"), start=2):
        page = {"type": "button", "action_id": turn, "block_id": "pages", "value": '{"pk":1,"page":1}'}
        click(bot, page, user="U_MGR", view=as_shown(letter))
        refused = wait_view(bot, number, method="views.update")
        assert ":lock:" in str(refused) and "Cars race past" not in str(refused)
    time.sleep(0.5)  # the attachment's upload would run after the answer
    assert _notes(bot) == [] and not bot.api.of("files.getUploadURLExternal")
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.drafts == 0
    stage_view = {
        "type": "modal",
        "callback_id": "case_stage_reason",
        "private_metadata": json.dumps({"reference": ref, "to": "closed"}),
        "title": {"type": "plain_text", "text": "Why?"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    assert _refused(submit(bot, stage_view, {"reason": "because"}, user=OUTSIDER))
    with session_scope(bot.engine) as session:
        case = get_case(session, ref)
        assert case is not None and case.stage == "new"


def test_case_view_is_logged_and_its_buttons_work_from_the_ephemeral_answer(bot: RunningBot) -> None:
    ref, _channel, _ts = posted_case(bot)
    answer = bot.command(f"case {ref}")
    validated_blocks = answer["blocks"]
    assert "case_read" in action_ids(validated_blocks)
    assert _events(bot, ref, "viewed") == [(CASEWORKER, "/casework case")]
    # clicked in the /casework answer (ephemeral, in another channel): the same modal
    click(bot, button(validated_blocks, "case_read"), channel="C111", ts="1700000999.0")
    view = wait_view(bot)
    assert mrkdwn("Cars race past the school every morning.") in str(view)
