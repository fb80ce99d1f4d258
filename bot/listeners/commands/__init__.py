"""``/casework``: acknowledged at once, answered through ``response_url`` by a lazy listener.

Slack gives a slash command three seconds. The ack carries nothing (so Slack shows nothing
extra); the lazy listener reads the store, renders, and replies ephemerally unless the person
asked to ``share``. Bad input becomes a friendly message; faults are logged and answered with
an apology, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import blocks, queries
from bot.access import REFUSAL, SUMMARY_ONLY
from bot.deps import Deps
from bot.escape import entities
from bot.ranges import calls_range, summary_range
from casework.errors import UserError
from store.audit import record
from store.cases import CaseError, get_case
from store.db import session_scope
from store.enums import EventKind
from store.lifecycle import record_view
from store.retention import hold as retention_hold
from store.workdays import calendar

log = logging.getLogger(__name__)

Reply = tuple[str, blocks.Blocks]


class Refused(Exception):
    """The person may not see this; ``str(err)`` is the polite refusal."""


def register(app: App, deps: Deps) -> None:
    def ack_command(ack: Ack) -> None:
        ack()

    def answer(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        words = (body.get("text") or "").split()
        name = words[0].lower() if words else "help"
        args = words[1:]
        user = body.get("user_id", "")
        share = False
        try:
            handler = HANDLERS.get(name)
            if handler is None:
                raise UserError(f"I don't know `/casework {name}`. Here is what I can do:")
            if name in ("summary", "calls"):
                share = "share" in (a.lower() for a in args)
            text, message = handler(deps, user, args, body, client)
        except Refused as err:
            share = False  # a refusal or an error is for the asker alone, never the channel
            text, message = str(err), blocks.refusal(str(err))
        except (UserError, CaseError) as err:
            share = False
            text = str(err)
            message = blocks.error(text)
            if name not in HANDLERS:
                message += blocks.help_blocks()[1:]
        except Exception:
            share = False
            log.exception("/casework %s failed", name)
            text = "Something went wrong on our side; it has been logged. Please try again in a minute."
            message = blocks.error(text)
        respond(text=text, blocks=message, response_type="in_channel" if share else "ephemeral")
        log.info("/casework %s answered for %s", name, user)

    app.command("/casework")(ack=ack_command, lazy=[answer])


def _need_caseworker(deps: Deps, user: str) -> None:
    if not deps.access.may_act(user):
        raise Refused(SUMMARY_ONLY if deps.access.may_see_summary(user) else REFUSAL)


def _need_manager(deps: Deps, user: str) -> None:
    if not deps.access.may_see_summary(user):
        raise Refused(REFUSAL)


def help_(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    return "Casework commands", blocks.help_blocks()


def summary(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_manager(deps, user)
    flags = {a.lower() for a in args} & {"share", "chart"}
    period = summary_range(" ".join(a for a in args if a.lower() not in flags), deps.today())
    from store.stats import calls_table, office_tables

    today = deps.today()
    monday = today - timedelta(days=today.weekday())
    settings = deps.settings
    with session_scope(deps.engine) as session:
        tables = office_tables(session, settings=settings, start=period.start, end=period.end, as_of=today)
        week = calls_table(session, start=monday, end=today, call_target_seconds=settings.call_target_seconds)
    message = blocks.summary_blocks(tables, period, week)
    if "chart" in flags:
        message += _chart(tables, period.label, body, client, shared="share" in flags)
    return f"Casework summary: {period.label}", message


def _chart(
    tables: dict[str, Any], label: str, body: dict[str, Any], client: WebClient, *, shared: bool
) -> blocks.Blocks:
    try:
        from casework.report.charts import summary_chart_png
    except ImportError:
        return [blocks.context("Charts are not available on this installation yet.")]
    png = summary_chart_png(tables)
    channel = body.get("channel_id")
    if not shared:  # an ephemeral reply cannot carry a file: send the chart privately
        channel = client.conversations_open(users=body["user_id"])["channel"]["id"]
    client.files_upload_v2(
        channel=channel, content=png, filename="casework-summary.png", title=f"Casework summary: {label}"
    )
    return [blocks.context("Chart uploaded" + ("" if shared else " to your messages with me") + ".")]


def calls(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_manager(deps, user)
    period = calls_range(" ".join(a for a in args if a.lower() != "share"), deps.today())
    from store.stats import calls_by_hour, calls_table

    target = deps.settings.call_target_seconds
    today = deps.today()
    monday = today - timedelta(days=today.weekday())
    with session_scope(deps.engine) as session:
        rows = calls_table(session, start=period.start, end=period.end, call_target_seconds=target)
        week = calls_table(session, start=monday, end=today, call_target_seconds=target)
        hours = calls_by_hour(session, start=period.start, end=period.end, call_target_seconds=target)
    return f"Calls: {period.label}", blocks.calls_blocks(rows, period, week, hours)


def case(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    if not args:
        raise UserError("Which case? Give its reference, for example `/casework case WMOPC-2013-000123`.")
    reference = args[0]
    with session_scope(deps.engine) as session:
        found = get_case(session, reference)
        if found is None:
            raise UserError(
                f"No case has the reference `{reference.upper()[:40]}`. "
                "Check it, or search with `/casework find TEXT`."
            )
        message = blocks.case_blocks(queries.detail(session, case=found), deps.settings, deps.today())
        record_view(session, case=found, actor=user, action=EventKind.VIEWED, detail="/casework case")
    return f"Case {found.reference}", message


def _listed(session: Any, user: str, found: queries.CaseList, command: str) -> None:
    """A list shows each case's subject: one ``viewed`` row per case shown."""
    for shown in found.cases:
        record(session, actor=user, action="viewed", case=shown, detail=f"slack: /casework {command} list")


def hold(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    """Keep a case past its retention period: ``/casework hold REF reason``."""
    _need_caseworker(deps, user)
    if len(args) < 2:
        raise UserError(
            "Give the case and why it is kept, for example `/casework hold WMOPC-2013-000123 civil claim`."
        )
    with session_scope(deps.engine) as session:
        found = get_case(session, args[0])
        if found is None:
            raise UserError(f"No case has the reference `{args[0].upper()[:40]}`.")
        new = retention_hold(session, case=found, reason=" ".join(args[1:]), actor=user)
        record(session, actor=user, action="changed", case=found, detail="retention hold")
    text = (
        f"{found.reference} is {'now' if new else 'still'} on hold: it will not be anonymised until released."
    )
    return text, [blocks.section(f":pause_button: {entities(text)}")]


def mine(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    with session_scope(deps.engine) as session:
        found = queries.mine(session, user=user)
        _listed(session, user, found, "mine")
    title = "Your cases by due date"
    return title, blocks.case_list_blocks(
        title, found, deps.settings, deps.today(), empty="Nothing is assigned to you. :tada:"
    )


def due(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    if len(args) > 1 or (args and not args[0].isdigit()):
        raise UserError("`/casework due` takes a number of working days, for example `/casework due 5`.")
    days = int(args[0]) if args else 5
    if days > 100:
        raise UserError("Ask for at most 100 working days ahead.")
    today = deps.today()
    last_day = calendar(deps.settings.closure_dates).add_working_days(today, days)
    with session_scope(deps.engine) as session:
        found = queries.due_by(session, last_day=last_day, today=today)
        _listed(session, user, found, "due")
    title = f"Due within {days} working day{'s' if days != 1 else ''} (by {last_day:%a %-d %b})"
    return title, blocks.case_list_blocks(title, found, deps.settings, today, empty="Nothing is due. :tada:")


def overdue(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    today = deps.today()
    with session_scope(deps.engine) as session:
        found = queries.overdue(session, today=today)
        _listed(session, user, found, "overdue")
    return "Overdue cases", blocks.case_list_blocks(
        "Overdue cases", found, deps.settings, today, empty="No case is overdue. :tada:"
    )


def find(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    text = " ".join(args).strip()
    if len(text) < 3:
        raise UserError(
            "Give at least three characters to search for, for example `/casework find speeding`."
        )
    with session_scope(deps.engine) as session:
        found = queries.find(session, text=text[:200])
        # the search words may be a name or an address: the trail keeps only what was shown
        record(session, actor=user, action="searched", detail=f"slack: /casework find, {found.total} found")
        _listed(session, user, found, "find")
    title = f"Cases matching “{text[:60]}”"
    return title, blocks.case_list_blocks(title, found, deps.settings, deps.today(), empty="No case matches.")


def surgeries(deps: Deps, user: str, args: list[str], body: dict[str, Any], client: WebClient) -> Reply:
    _need_caseworker(deps, user)
    from bot.listeners.surgeries import next_sessions
    from bot.surgery_blocks import sessions_blocks

    with session_scope(deps.engine) as session:
        message = sessions_blocks(next_sessions(session))
    return "Next surgeries", message


HANDLERS: dict[str, Callable[[Deps, str, list[str], dict[str, Any], WebClient], Reply]] = {
    "help": help_,
    "summary": summary,
    "calls": calls,
    "case": case,
    "mine": mine,
    "due": due,
    "overdue": overdue,
    "find": find,
    "hold": hold,
    "surgeries": surgeries,
}
