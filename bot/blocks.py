"""Every Block Kit message and view the bot sends, built in one place.

Builders take rows from the store and return plain dicts ready for the Web API. All public
text goes through :mod:`bot.escape`. :func:`validated` runs each message through slack_sdk's
Block Kit models (lengths, counts, required fields) before it leaves, so a long subject or a
case with hundreds of messages is cut down here ("and N more") rather than rejected by Slack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import clock_blocks
from bot.escape import entities, excerpt, mrkdwn, plain, truncate
from bot.queries import CaseDetail, CaseList
from bot.ranges import Range
from casework.settings import Settings
from store.cases import deadline
from store.enums import Category, Stage, Status
from store.lifecycle import allowed_moves, needs_signoff
from store.models import Case

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150

Blocks = list[dict[str, Any]]

#: the status control of a triage message: value → (status, note written to the history)
STATUS_CHOICES: dict[str, tuple[Status, str, str]] = {
    "in_progress": (Status.IN_PROGRESS, "", "In progress"),
    "referred": (Status.IN_PROGRESS, "Referred to force", "Referred to force"),
    "monitoring": (Status.MONITORING, "Monitoring (IOPC or court)", "Monitoring (IOPC or court)"),
    "closed": (Status.CLOSED, "Closed — response sent", "Closed — response sent"),
}

HELP_LINES = [
    (
        "summary [this month | last month | quarter | year | 2013-04 | 2013-04-01..2013-06-30]"
        " [share] [chart]",
        "the Board's tables for a period, plus this week's calls",
    ),
    ("calls [4 weeks | 2013-04-01..2013-06-30]", "the hunt-group figures week by week"),
    ("case WMOPC-2013-000123", "one case in full"),
    ("mine", "cases assigned to you, by due date"),
    ("due [5]", "cases due within N working days"),
    ("overdue", "cases past their due date"),
    ("find TEXT", "cases by reference, subject or correspondent"),
    ("hold WMOPC-2013-000123 REASON", "keep a case past its retention period"),
    ("surgeries", "the next surgeries and casework meetings, with their free slots to book"),
]


# --- validation ----------------------------------------------------------------------------


class BlockKitError(ValueError):
    """The bot built something Slack would reject: a bug, caught before sending."""


def validated(blocks: Blocks, *, limit: int = MESSAGE_BLOCK_LIMIT) -> Blocks:
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks, Slack allows {limit}")
    for block in Block.parse_all(blocks):
        block.validate_json()
    return blocks


def validated_view(view: dict[str, Any]) -> dict[str, Any]:
    validated(view["blocks"], limit=VIEW_BLOCK_LIMIT)
    View(**view).validate_json()
    return view


# --- small pieces --------------------------------------------------------------------------


def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT), "verbatim": True}


def section(
    text: str, *, fields: Sequence[str] = (), accessory: dict[str, Any] | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": _text(text)}
    if fields:
        block["fields"] = [
            {"type": "mrkdwn", "text": truncate(f, 2000), "verbatim": True} for f in fields[:10]
        ]
    if accessory:
        block["accessory"] = accessory
    return block


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": plain(text, limit=HEADER_LIMIT)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_text(text)]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": plain(label, limit=75)}, "value": value}


def day(d: date | None) -> str:
    return f"{d:%a %-d %b %Y}" if d else "-"


def user(user_id: str | None) -> str:
    """A Slack user mention; only ids we stored ourselves (never public text) get here."""
    if not user_id:
        return "nobody yet"
    return f"<@{entities(user_id)}>"


def days_left_text(case: Case, settings: Settings, today: date) -> str:
    if case.status == Status.CLOSED.value:
        return f"closed {day(case.closed_on)}"
    if case.clock_stopped_on is not None:  # no running deadline (store.clocks)
        return clock_blocks.clock_line(case)
    left = deadline(case, today=today, settings=settings).working_days_left
    if left < 0:
        return f":red_circle: {-left} working day{'s' if left != -1 else ''} overdue"
    if left == 0:
        return ":large_orange_circle: due today"
    return f"{left} working day{'s' if left != 1 else ''} left"


def category_label(value: str) -> str:
    try:
        return Category(value).label
    except ValueError:
        return value


def status_label(value: str | None) -> str:
    try:
        return Status(value or "").label
    except ValueError:
        return value or "-"


def refusal(text: str) -> Blocks:
    return [section(f":lock: {text}")]


def error(text: str) -> Blocks:
    return [section(f":warning: {text}")]


def help_blocks() -> Blocks:
    lines = "\n".join(f"• `/casework {entities(cmd)}` — {what}" for cmd, what in HELP_LINES)
    return validated(
        [
            header("Casework in Slack"),
            section(lines),
            context("Replies are only visible to you; add `share` to a summary to post it to the channel."),
        ]
    )


# --- triage message ------------------------------------------------------------------------


def _sender(detail: CaseDetail) -> str:
    person = detail.correspondent
    if person is None:
        return "unknown sender"
    name = mrkdwn(person.name, limit=100, one_line=True)
    address = mrkdwn(person.email, limit=200, one_line=True)
    return f"{name} ({address})" if name else address


def _reasons(case: Case, limit: int = 5) -> str:
    reasons = [mrkdwn(str(r), limit=200, one_line=True) for r in (case.reasons or [])]
    shown = "; ".join(reasons[:limit])
    if len(reasons) > limit:
        shown += f"; and {len(reasons) - limit} more"
    return shown or "no reasons recorded"


def _prediction(case: Case) -> str:
    confidence = f" ({case.confidence:.0%} sure)" if case.confidence is not None else ""
    return f"*{category_label(case.category)}*{confidence} — {_reasons(case)}"


def triage_controls(case: Case) -> dict[str, Any]:
    categories = [option(c.label, c.value) for c in Category]
    current = next((o for o in categories if o["value"] == case.category), None)
    category_select: dict[str, Any] = {
        "type": "static_select",
        "action_id": "triage_category",
        "placeholder": {"type": "plain_text", "text": "Category"},
        "options": categories,
    }
    if current:
        category_select["initial_option"] = current
    assign_select: dict[str, Any] = {
        "type": "users_select",
        "action_id": "triage_assign",
        "placeholder": {"type": "plain_text", "text": "Assign to…"},
    }
    if case.assignee:
        assign_select["initial_user"] = case.assignee
    status_select = {
        "type": "static_select",
        "action_id": "triage_status",
        "placeholder": {"type": "plain_text", "text": "Set status"},
        "options": [option(label, value) for value, (_s, _n, label) in STATUS_CHOICES.items()],
    }
    link_button = {
        "type": "button",
        "action_id": "triage_link",
        "text": {"type": "plain_text", "text": "Link to case or campaign…"},
        "value": case.reference,
    }
    details_button = {
        "type": "button",
        "action_id": "case_details",
        "text": {"type": "plain_text", "text": "Show details"},
        "value": case.reference,
    }
    return {
        "type": "actions",
        "block_id": f"triage:{case.reference}",
        "elements": [category_select, assign_select, status_select, link_button, details_button],
    }


def triage_message(
    detail: CaseDetail, settings: Settings, today: date, *, level: str = "full"
) -> tuple[str, Blocks]:
    """The triage post for a new case: (notification text, blocks).

    ``level`` is what the channel may carry (:mod:`store.channels`): ``minimal`` shows the
    reference, category, confidence, due date and assignee; ``subject`` adds the subject;
    ``full`` adds the sender, the first lines and the classifier's reasons. Caseworkers get the
    rest with the *Show details* button, ephemerally.
    """
    case = detail.case
    if level != "full":
        return _triage_minimal(detail, settings, today, with_subject=level == "subject")
    subject = mrkdwn(case.subject, limit=250, one_line=True) or "_(no subject)_"
    flag = " :warning: needs triage" if case.needs_triage else ""
    status = status_label(case.status)
    link = f"\n*Linked to:* {entities(detail.linked)}" if detail.linked else ""
    blocks = [
        header(f"New case {case.reference}"),
        section(f"*From:* {_sender(detail)}\n*Subject:* {subject}"),
        section(f">{excerpt(detail.first_body) or '(no text)'}"),
        section(f"*Category:* {_prediction(case)}{flag}"),
        section(
            f"*Due:* {day(case.due_on)} ({days_left_text(case, settings, today)})\n"
            f"*Status:* {status}{stage_suffix(case)}   *Assigned:* {user(case.assignee)}{link}"
        ),
        triage_controls(case),
        *clock_blocks.clock_actions(case),
        case_file_actions(case, settings),
        context(f"Received {day(case.received_on)} · `/casework case {case.reference}` for the full case"),
    ]
    if detail.extra.get("files"):
        blocks.insert(-2, context(files_waiting(detail)))
    text = f"New case {case.reference}: {category_label(case.category)}, due {day(case.due_on)}"
    return text, validated(blocks)


# --- the case file's controls (the modals and DMs they open are in bot.case_file) ------------

#: ``block_id`` prefix of the case-file controls; the rest is the case reference
CASE_FILE_BLOCK = "case:"


def stage_label(value: str | None) -> str:
    try:
        return Stage(value or "").label
    except ValueError:
        return value or "-"


def stage_suffix(case: Case) -> str:
    """The stage after the status, where it says more than the status does (inside in progress)."""
    if case.status != Status.IN_PROGRESS.value:
        return ""
    return f" ({stage_label(case.stage).lower()})"


def _button(label: str, action_id: str, value: str, *, style: str = "", confirm: str = "") -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = {
            "title": {"type": "plain_text", "text": "Are you sure?"},
            "text": {"type": "mrkdwn", "text": confirm},
            "confirm": {"type": "plain_text", "text": label},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    return element


def files_waiting(detail: CaseDetail, *, named: bool = True) -> str:
    """The office's files that go with the next reply (names from Slack or the CLI: escaped).

    A file's name is often the correspondent's (``letter to Mrs Patel.pdf``), so a channel
    that may not carry case details is told only how many there are (``named=False``).
    """
    names = detail.extra.get("files", "").split("\n")
    if not named:
        return f":paperclip: With the next reply: {len(names)} file{'s' if len(names) != 1 else ''}"
    shown = ", ".join(mrkdwn(n, limit=80, one_line=True) for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f":paperclip: With the next reply: {shown}{more}"


def case_file_actions(case: Case, settings: Settings) -> dict[str, Any]:
    """Read letter, Attachments, Add note, Draft reply, sign-off and Send, and the stage select.

    What the case's stage allows decides which buttons show; the listeners ask the store again
    when clicked (the message may be older than the case).
    """
    ref = case.reference
    stage = Stage(case.stage or Stage.NEW)
    has_draft = bool(case.drafts)
    signoff = needs_signoff(settings, case.category)
    elements = [
        _button("Read letter", "case_read", ref),
        _button("Attachments", "case_attachments", ref),
        _button("Add note", "case_note", ref),
    ]
    if stage is not Stage.CLOSED and stage is not Stage.AWAITING_SIGNOFF:
        elements.append(_button("Draft reply", "case_draft", ref))
    if has_draft and signoff and stage is Stage.DRAFTING:
        elements.append(_button("Request sign-off", "case_request_signoff", ref, style="primary"))
    if has_draft and (stage is Stage.READY_TO_SEND or (stage is Stage.DRAFTING and not signoff)):
        elements.append(
            _button(
                "Send final reply",
                "case_send_final",
                ref,
                style="primary",
                confirm=f"Send the approved reply to the correspondent by email and close {entities(ref)}.",
            )
        )
    if has_draft and stage is not Stage.CLOSED:
        elements.append(
            _button(
                "Send holding reply",
                "case_send_holding",
                ref,
                confirm=f"Send the current draft as a holding reply; {entities(ref)} stays open.",
            )
        )
    moves = allowed_moves(case, settings)
    if moves:
        elements.append(
            {
                "type": "static_select",
                "action_id": "case_stage",
                "placeholder": {"type": "plain_text", "text": "Move to stage…"},
                "options": [option(to.label, to.value) for to in moves],
            }
        )
    return {"type": "actions", "block_id": f"{CASE_FILE_BLOCK}{ref}", "elements": elements}


def _triage_minimal(
    detail: CaseDetail, settings: Settings, today: date, *, with_subject: bool
) -> tuple[str, Blocks]:
    case = detail.case
    confidence = f" ({case.confidence:.0%} sure)" if case.confidence is not None else ""
    flag = " :warning: needs triage" if case.needs_triage else ""
    link = f"\n*Linked to:* {entities(detail.linked)}" if detail.linked else ""
    blocks = [header(f"New case {case.reference}")]
    if with_subject:
        blocks.append(
            section(f"*Subject:* {mrkdwn(case.subject, limit=250, one_line=True) or '_(no subject)_'}")
        )
    blocks += [
        section(f"*Category:* *{category_label(case.category)}*{confidence}{flag}"),
        section(
            f"*Due:* {day(case.due_on)} ({days_left_text(case, settings, today)})\n"
            f"*Status:* {status_label(case.status)}{stage_suffix(case)}"
            f"   *Assigned:* {user(case.assignee)}{link}"
        ),
        triage_controls(case),
        *clock_blocks.clock_actions(case),
        case_file_actions(case, settings),
        context(f"Received {day(case.received_on)} · *Show details* or `/casework case {case.reference}`"),
    ]
    if detail.extra.get("files"):
        blocks.insert(-1, context(files_waiting(detail, named=False)))
    text = f"New case {case.reference}: {category_label(case.category)}, due {day(case.due_on)}"
    return text, validated(blocks)


# --- one case ------------------------------------------------------------------------------


def _reviews_line(reviews: list[Case]) -> str:
    """The case's internal reviews, so the original's view says it was reviewed and how it stands."""
    shown = [
        f"`{entities(r.reference)}` ({status_label(r.status).lower()}"
        + (f", closed {day(r.closed_on)})" if r.closed_on else f", due {day(r.due_on)})")
        for r in reviews
    ]
    return "Internal review" + ("s" if len(reviews) > 1 else "") + ": " + " · ".join(shown)


def case_blocks(detail: CaseDetail, settings: Settings, today: date) -> Blocks:
    case = detail.case
    blocks: Blocks = [
        header(f"Case {case.reference}"),
        section(
            f"*Subject:* {mrkdwn(case.subject, limit=400, one_line=True) or '(none)'}",
            fields=[
                f"*Category*\n{category_label(case.category)}",
                f"*Status*\n{status_label(case.status)}",
                f"*Due*\n{day(case.due_on)}\n{days_left_text(case, settings, today)}",
                f"*Assigned*\n{user(case.assignee)}",
                f"*Correspondent*\n{_sender(detail)}",
                f"*Received*\n{day(case.received_on)}",
            ],
        ),
        context(f"Why {category_label(case.category)}: {_reasons(case)}"),
        offer_surgery_button(case.reference),
    ]
    if case.status != Status.CLOSED.value or case.drafts:
        blocks.append(context(f"Stage: {stage_label(case.stage)} · drafts: {case.drafts or 0}"))
    if detail.extra.get("files"):
        blocks.append(context(files_waiting(detail)))
    blocks.append(case_file_actions(case, settings))
    if detail.reviews:
        blocks.append(context(_reviews_line(detail.reviews)))
    if detail.linked or detail.campaign_title is not None:
        bits = []
        if detail.linked:
            what = "Internal review of" if case.review_of_id is not None else "Linked to"
            bits.append(f"{what} {entities(detail.linked)}")
        if detail.campaign_title is not None:
            bits.append(f"Campaign: {mrkdwn(detail.campaign_title, limit=200, one_line=True)}")
        blocks.append(context(" · ".join(bits)))
    blocks += [divider(), section("*History*\n" + _history_lines(detail))]
    blocks += [divider(), section(f"*Messages* ({detail.message_count})")]
    for message in detail.messages:
        when = message.sent_at or message.received_at
        who = mrkdwn(message.from_name or message.from_addr, limit=80, one_line=True)
        subject = mrkdwn(message.subject, limit=200, one_line=True) or "(no subject)"
        arrow = "→ sent" if message.direction == "out" else "← received"
        blocks.append(
            section(f"*{subject}*\n{arrow} {when:%-d %b %Y %H:%M} UTC · {who}\n{excerpt(message.body_text)}")
        )
    hidden = detail.message_count - len(detail.messages)
    if hidden > 0:
        blocks.append(context(f"and {hidden} more message{'s' if hidden != 1 else ''}, not shown here"))
    return validated(blocks)


def offer_surgery_button(reference: str) -> dict[str, Any]:
    """The case view's "Offer surgery appointment" (opens the slot picker, :mod:`bot.surgery_blocks`)."""
    return {
        "type": "actions",
        "block_id": f"case:{reference}",
        "elements": [
            {
                "type": "button",
                "action_id": "surgery_offer",
                "text": {"type": "plain_text", "text": "Offer surgery appointment"},
                "value": reference,
            }
        ],
    }


def _history_lines(detail: CaseDetail) -> str:
    lines = []
    earlier = detail.event_count - len(detail.events)
    if earlier > 0:
        lines.append(f"_and {earlier} earlier change{'s' if earlier != 1 else ''}_")
    for event in detail.events:
        actor = user(event.actor) if event.actor[:1] in ("U", "W") else entities(event.actor)
        change = entities(event.kind)
        if event.new_value:
            change += f" → {mrkdwn(event.new_value, limit=100, one_line=True)}"
        note = f" ({mrkdwn(event.note, limit=150, one_line=True)})" if event.note else ""
        lines.append(f"{event.at:%-d %b %Y %H:%M} · {change}{note} · {actor}")
    return truncate("\n".join(lines) or "no changes yet", SECTION_TEXT_LIMIT - 20)


# --- lists ---------------------------------------------------------------------------------


def case_line(case: Case, settings: Settings, today: date) -> str:
    subject = mrkdwn(case.subject, limit=90, one_line=True) or "(no subject)"
    return (
        f"`{case.reference}` {subject}\n"
        f"      {category_label(case.category)} · {status_label(case.status)} · due {day(case.due_on)} · "
        f"{days_left_text(case, settings, today)} · {user(case.assignee)}"
    )


def case_list_blocks(title: str, found: CaseList, settings: Settings, today: date, *, empty: str) -> Blocks:
    blocks: Blocks = [header(title)]
    if not found.cases:
        blocks.append(section(empty))
        return validated(blocks)
    # several cases per section keeps a long list well inside the 50-block limit
    lines = [case_line(c, settings, today) for c in found.cases]
    for start in range(0, len(lines), 5):
        blocks.append(section("\n".join(lines[start : start + 5])))
    more = found.total - len(found.cases)
    if more > 0:
        blocks.append(context(f"and {more} more — narrow it down, or use `casework export cases`"))
    return validated(blocks)


# --- figures -------------------------------------------------------------------------------


def _num(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}{suffix}"
    return f"{value}{suffix}"


def _total(rows: list[dict[str, Any]], key: str = "month") -> dict[str, Any]:
    for row in rows:
        if row.get(key) == "total":
            return row
    return {}


def _monthly(rows: list[dict[str, Any]], key: str = "month") -> list[dict[str, Any]]:
    return [row for row in rows if row.get(key) != "total"]


def summary_blocks(tables: dict[str, Any], period: Range, week: list[dict[str, Any]]) -> Blocks:
    """The Board's tables for ``period``, short enough to read on a phone."""
    cats, stats = _total(tables["categories"]), _total(tables["statuses"])
    closure, aged = _total(tables["closure_times"]), _total(tables["aged_unclosed"])
    blocks: Blocks = [
        header(f"Casework summary: {period.label}"),
        context(
            f"{period.start:%-d %b %Y} – {period.end:%-d %b %Y} · figures as at {tables.get('as_of', '')}"
        ),
        section(
            f"*Cases received: {_num(cats.get('total', 0))}*",
            fields=[f"{c.label}: *{_num(cats.get(c.value, 0))}*" for c in Category],
        ),
        section(
            "*Where they stand now*",
            fields=[f"{s.label}: *{_num(stats.get(s.value, 0))}*" for s in Status],
        ),
        section(
            f"*Closed: {_num(closure.get('closed', 0))}*",
            fields=[
                f"Within 20 working days: *{_num(closure.get('pct_within_deadline'), '%')}*",
                f"Within 28 days: *{_num(closure.get('pct_within_28'), '%')}*",
                f"Average: *{_num(closure.get('avg_days'))}* days",
                f"Average: *{_num(closure.get('avg_working_days'))}* working days",
            ],
        ),
        section(
            f"*Unclosed after 28 days: {_num(aged.get('total', 0))}*  "
            f"(open {_num(aged.get('open', 0))}, in progress {_num(aged.get('in_progress', 0))}, "
            f"monitoring {_num(aged.get('monitoring', 0))})"
        ),
    ]
    months = _monthly(tables["categories"])
    if len(months) > 1:
        closed = {row["month"]: row for row in _monthly(tables["closure_times"])}
        lines = ["Month     In  Closed  ≤20wd"]
        for row in months:
            c = closed.get(row["month"], {})
            lines.append(
                f"{row['month']:<8}{row.get('total', 0):>4}{c.get('closed', 0):>8}"
                f"{_num(c.get('pct_within_deadline'), '%'):>7}"
            )
        blocks.append(section(_code(lines)))
    this_week = _total(week, "week_commencing")
    blocks.append(
        section(
            f"*Calls this week: {_num(this_week.get('received', 0))}*",
            fields=[
                f"Answered: *{_num(this_week.get('pct_answered'), '%')}*",
                f"Within target: *{_num(this_week.get('pct_within_target'), '%')}*",
                f"Average wait: *{_num(this_week.get('avg_response_s'), ' s')}*",
                f"Unanswered: *{_num(this_week.get('unanswered', 0))}*",
            ],
        )
    )
    return validated(blocks)


def _code(lines: list[str]) -> str:
    body = "\n".join(lines)
    if len(body) > SECTION_TEXT_LIMIT - 10:
        body = body[: SECTION_TEXT_LIMIT - 20].rsplit("\n", 1)[0] + "\n…"
    return f"```{entities(body)}```"


def calls_blocks(
    rows: list[dict[str, Any]],
    period: Range,
    week: list[dict[str, Any]] | None = None,
    hours: list[dict[str, Any]] | None = None,
) -> Blocks:
    """The weekly table for ``period``; with ``week`` the live week so far (as the Board's table
    computes it) and with ``hours`` the hour of day with most unanswered calls."""
    weeks = _monthly(rows, "week_commencing")
    total = _total(rows, "week_commencing")
    lines = ["Week of      Calls  Ans%  Tgt%  Wait"]
    for row in weeks:
        lines.append(
            f"{row['week_commencing']:<11}{row.get('received', 0):>6}{_num(row.get('pct_answered')):>6}"
            f"{_num(row.get('pct_within_target')):>6}{_num(row.get('avg_response_s')):>6}"
        )
    blocks = [
        header(f"Calls: {period.label}"),
        section(
            f"*{_num(total.get('received', 0))} calls*, {_num(total.get('pct_answered'), '%')} answered, "
            f"{_num(total.get('pct_within_target'), '%')} within target"
        ),
        section(_code(lines)),
    ]
    if week is not None:
        live = _total(week, "week_commencing")
        blocks.append(
            section(
                f"*This week so far: {_num(live.get('received', 0))} calls*, "
                f"{_num(live.get('within_target', 0))} within target, "
                f"{_num(live.get('unanswered', 0))} unanswered, {_num(live.get('busy', 0))} busy"
            )
        )
    if hours:
        worst = max(hours, key=lambda row: row["unanswered"])
        if worst["unanswered"]:
            blocks.append(
                context(
                    f"Most unanswered calls in this period came in the hour from {worst['hour']:02d}:00 "
                    f"({worst['unanswered']} of {worst['received']})."
                )
            )
    return validated(blocks)


# --- App Home and the link modal -----------------------------------------------------------


def home_view(
    *, user_id: str, allowed: bool, mine: CaseList | None, overdue_total: int, settings: Settings, today: date
) -> dict[str, Any]:
    if not allowed:
        blocks = [
            header("Casework"),
            section(
                ":lock: Casework is only open to the casework team. "
                "If you should have access, ask the casework manager."
            ),
        ]
        return validated_view({"type": "home", "blocks": blocks})
    blocks = [
        header("Casework"),
        section(
            f"Team: *{overdue_total}* case{'s' if overdue_total != 1 else ''} overdue"
            + ("" if overdue_total == 0 else " — `/casework overdue` lists them")
        ),
        divider(),
        section(f"*Your cases by due date* ({mine.total if mine else 0})"),
    ]
    if mine and mine.cases:
        blocks += [section(case_line(c, settings, today)) for c in mine.cases]
        more = mine.total - len(mine.cases)
        if more > 0:
            blocks.append(context(f"and {more} more — `/casework mine`"))
    else:
        blocks.append(section("Nothing assigned to you. :tada:"))
    channel = f"<#{entities(settings.triage_channel)}>" if settings.triage_channel else "the triage channel"
    blocks += [
        divider(),
        section(
            "*Quick links*\n• `/casework due 5` — due within a week\n• `/casework overdue`\n"
            f"• `/casework summary` — this month's figures\n• New cases arrive in {channel}"
        ),
        context(f"Updated {today:%-d %b %Y}"),
    ]
    return validated_view({"type": "home", "blocks": blocks})


def link_modal(reference: str, channel: str | None = None, ts: str | None = None) -> dict[str, Any]:
    import json

    view = {
        "type": "modal",
        "callback_id": "link_case",
        "private_metadata": json.dumps({"reference": reference, "channel": channel, "ts": ts}),
        "title": {"type": "plain_text", "text": "Link case"},
        "submit": {"type": "plain_text", "text": "Link"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"Link *{entities(reference)}* to another case or to a campaign."),
            {
                "type": "input",
                "block_id": "target",
                "label": {"type": "plain_text", "text": "Case reference or campaign number"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "placeholder": {"type": "plain_text", "text": "WMOPC-2013-000123 or campaign 7"},
                },
            },
        ],
    }
    return validated_view(view)


def context_only(text: str) -> Blocks:
    """One line of context (notices in a case's thread); ``text`` is ours, with ids as mentions."""
    return validated([context(text)])
