"""Surgeries in Slack, with requests signed as Slack signs them: ``/casework surgeries`` lists the
next sessions with a slot picker; a picked slot or a case's "Offer surgery appointment" opens the
booking modal, whose submission books the person (history says who) and queues the invitation.
Every message and view is validated with slack_sdk's Block Kit models."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import select
from sqlmodel import Session

from store import surgeries
from store.cases import get_case, history
from store.db import session_scope
from store.models import OutboxItem, SurgeryBooking
from store.workdays import LONDON, is_working_day
from tests.bot.conftest import CASEWORKER, OUTSIDER, RunningBot, make_case
from tests.conftest import SLACK_FIXTURES, shared_or_skip


def _future_friday(weeks: int) -> date:
    day = datetime.now(LONDON).date() + timedelta(weeks=weeks)
    day += timedelta(days=(4 - day.weekday()) % 7)
    while not is_working_day(day):
        day += timedelta(days=7)
    return day


def _sessions(bot: RunningBot) -> tuple[int, int]:
    """A surgery with two of its three slots free, and a full casework meeting."""
    with session_scope(bot.engine) as session:
        open_one = surgeries.add_session(
            session,
            on=_future_friday(2),
            at=time(18, 30),
            host="commissioner",
            venue="Dudley Council House",
            slots=3,
        )
        full = surgeries.add_session(
            session, on=_future_friday(3), at=time(10, 0), host="deputy", venue="Lloyd House", kind="meeting"
        )
        surgeries.book(
            session,
            settings=bot.settings,
            session_id=open_one.id,
            slot=2,
            name="Taken",  # type: ignore[arg-type]
            email="taken@example.org",
        )
        surgeries.book(
            session,
            settings=bot.settings,
            session_id=full.id,
            name="Also taken",  # type: ignore[arg-type]
            email="also@example.org",
        )
        return open_one.id, full.id  # type: ignore[return-value]


def _valid(blocks: list[dict[str, Any]]) -> None:
    for block in Block.parse_all(blocks):
        block.validate_json()


def _action(bot: RunningBot, action: dict[str, Any], user: str = CASEWORKER) -> None:
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "block_actions_button.json").read_text())
    payload["user"]["id"] = user
    payload["response_url"] = bot.api.response_url("action")
    payload["actions"] = [{"block_id": "b", "action_ts": "1.2", **action}]
    assert bot.interact(payload).status == 200


def _opened(bot: RunningBot, count: int = 1) -> dict[str, Any]:
    body = bot.api.wait_for("views.open", count)[count - 1].body
    view = json.loads(body["view"]) if isinstance(body["view"], str) else body["view"]
    View(**view).validate_json()
    _valid(view["blocks"])
    assert view["callback_id"] == "surgery_book"
    return dict(view)


def _submit(bot: RunningBot, view: dict[str, Any], values: dict[str, Any], user: str = CASEWORKER) -> Any:
    payload = json.loads(shared_or_skip(SLACK_FIXTURES / "view_submission.json").read_text())
    payload["user"]["id"] = user
    state = {
        block: {"value": {"type": "plain_text_input", "value": value}}
        if isinstance(value, str)
        else {"value": {"type": "static_select", "selected_option": value}}
        for block, value in values.items()
    }
    payload["view"].update(
        callback_id="surgery_book", private_metadata=view["private_metadata"], state={"values": state}
    )
    answer = bot.interact(payload)
    assert answer.status == 200
    return answer.json() if answer.body else {}


def test_surgeries_command_lists_next_sessions_with_a_slot_picker(bot: RunningBot) -> None:
    open_id, _full = _sessions(bot)
    reply = bot.command("surgeries")
    _valid(reply["blocks"])
    text = json.dumps(reply["blocks"])
    assert (
        "Dudley Council House" in text
        and "2 of 3 free" in text
        and "full: new bookings join the waiting list" in text
    )
    pickers = [
        b["accessory"] for b in reply["blocks"] if b.get("accessory", {}).get("action_id") == "surgery_pick"
    ]
    assert len(pickers) == 1  # the full meeting has nothing to pick
    assert [o["value"] for o in pickers[0]["options"]] == [f"{open_id}:1", f"{open_id}:3"]
    refused = bot.command("surgeries", user=OUTSIDER)
    assert "Sorry" in refused["text"] and "Dudley" not in json.dumps(refused)


def test_picking_a_slot_opens_the_form_and_submitting_it_books_the_person(bot: RunningBot) -> None:
    open_id, _ = _sessions(bot)
    _action(
        bot,
        {
            "type": "static_select",
            "action_id": "surgery_pick",
            "selected_option": {"text": {"type": "plain_text", "text": "18:30"}, "value": f"{open_id}:3"},
        },
    )
    view = _opened(bot)
    assert "slot 3" in json.dumps(view["blocks"])
    bad = _submit(bot, view, {"name": "Pat Person", "email": "not-an-address", "needs": "", "case": ""})
    assert bad["response_action"] == "errors" and "email" in bad["errors"]
    done = _submit(
        bot, view, {"name": "Pat Person", "email": "pat@example.org", "needs": "step-free access", "case": ""}
    )
    assert done["response_action"] == "update" and "Booked" in json.dumps(done["view"])
    View(**done["view"]).validate_json()
    with Session(bot.engine) as session:
        booking = session.execute(
            select(SurgeryBooking).where(SurgeryBooking.email == "pat@example.org")
        ).scalar_one()  # type: ignore[arg-type]
        assert booking.slot == 3 and booking.status == "booked" and booking.needs == "step-free access"
        case = surgeries.case_of(session, booking)
        assert case is not None and case.category == "correspondence"
        assert any(e.actor == CASEWORKER and "surgery booking" in e.note for e in history(session, case=case))
        keys = (
            session.execute(select(OutboxItem.key).where(OutboxItem.kind == "email.surgery")).scalars().all()
        )  # type: ignore[call-overload]
        assert f"surgery:{booking.id}:confirm:{open_id}:0" in keys
    taken = _submit(bot, view, {"name": "Second", "email": "second@example.org", "needs": "", "case": ""})
    assert taken["response_action"] == "errors" and "taken" in json.dumps(taken["errors"])


def test_offer_surgery_appointment_on_a_case_books_into_that_case(bot: RunningBot) -> None:
    open_id, _ = _sessions(bot)
    ref = make_case(bot.engine, bot.settings)
    shown = bot.command(f"case {ref}")
    buttons = [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert any(e["action_id"] == "surgery_offer" and e["value"] == ref for e in buttons)
    _action(bot, {"type": "button", "action_id": "surgery_offer", "value": ref}, user=OUTSIDER)
    assert "Sorry" in bot.api.wait_for("/response/", 2)[-1].body["text"]
    assert bot.api.of("views.open") == []
    _action(bot, {"type": "button", "action_id": "surgery_offer", "value": ref})
    view = _opened(bot)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert (
        inputs["name"]["initial_value"] == "Jane Public"
        and inputs["email"]["initial_value"] == "jane@example.org"
    )
    assert "case" not in inputs  # the case is known
    options = [o["value"] for o in inputs["slot"]["options"]]
    assert options == [f"{open_id}:1", f"{open_id}:3"]
    choice = inputs["slot"]["options"][1]
    done = _submit(
        bot, view, {"slot": choice, "name": "Jane Public", "email": "jane@example.org", "needs": ""}
    )
    assert done["response_action"] == "update" and ref in json.dumps(done["view"])
    with Session(bot.engine) as session:
        case = get_case(session, ref)
        booking = session.execute(
            select(SurgeryBooking).where(SurgeryBooking.email == "jane@example.org")
        ).scalar_one()  # type: ignore[arg-type]
        assert case is not None and booking.case_id == case.id and booking.slot == 3
