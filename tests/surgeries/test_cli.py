"""``casework surgery`` end to end: sessions, bookings, cancellations, the waiting list's offers and
the weather, with every email sent over real SMTP (aiosmtpd) and its iCalendar part parsed back
with the ``icalendar`` package. Runs on SQLite and PostgreSQL; time is held with time-machine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlmodel import Session

from casework.scheduler.surgeries import run_surgeries
from casework.settings import Settings
from store.cases import get_case, history
from store.models import OutboxItem, SurgeryBooking
from store.stats import board_tables
from store.workdays import LONDON, calendar
from tests.support.cli import Result, run_cli
from tests.support.smtp import Inbox

#: Monday 2 November 2026, 10:00 in London: the "now" of most tests
NOW = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
FRIDAY = "2026-11-13"  # an ordinary Friday, no holiday anywhere in the UK


class Cli:
    """``casework`` as a user types it, with this office's settings in the environment."""

    def __init__(
        self, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ):
        self.settings, self.monkeypatch, self.capsys = settings, monkeypatch, capsys
        self.env = {
            "CASEWORK_SMTP_HOST": settings.smtp_host,
            "CASEWORK_SMTP_PORT": str(settings.smtp_port),
            "CASEWORK_SMTP_FROM": settings.smtp_from,
            "CASEWORK_ALERTS_CHANNEL": settings.alerts_channel,
            "CASEWORK_SURGERY_HOSTS": ",".join(settings.surgery_hosts),
        }

    def run(self, *args: str) -> Result:
        return run_cli(
            list(args),
            database_url=self.settings.database_url,
            monkeypatch=self.monkeypatch,
            capsys=self.capsys,
            env=self.env,
        )

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    def send(self) -> None:
        assert self.run("acks", "send").exit_code == 0


@pytest.fixture
def cli(
    surgery_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    return Cli(surgery_settings, monkeypatch, capsys)


def calendar_part(message: EmailMessage) -> tuple[str, Any]:
    """(the part's method parameter, the parsed VEVENT) of a message's text/calendar attachment."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            cal = Calendar.from_ical(part.get_payload(decode=True))
            [event] = cal.walk("VEVENT")
            assert str(cal["METHOD"]) == part.get_param("method")
            return str(part.get_param("method")), event
    raise AssertionError(f"no text/calendar part in {message['Subject']}")


def mail_to(inbox: Inbox, address: str) -> list[EmailMessage]:
    return [m for m in inbox.received if m["To"] == address]


def stats_november(engine: Engine) -> dict[str, Any]:
    """``casework stats --json`` for November 2026, from a session closed before it returns."""
    with Session(engine) as session:
        return board_tables(
            session, start=date(2026, 11, 1), end=date(2026, 11, 30), as_of=date(2026, 11, 30)
        )


def book(cli: Cli, session_id: int, n: int, *extra: str) -> dict[str, Any]:
    return dict(
        cli.json(
            "surgery",
            "book",
            str(session_id),
            "--name",
            f"Person {n}",
            "--email",
            f"p{n}@example.org",
            *extra,
        )
    )


def test_sessions_are_refused_on_a_bank_holiday_of_any_uk_nation(cli: Cli, db: Engine) -> None:
    """St Patrick's Day (Northern Ireland only), St Andrew's Day (Scotland only) and Christmas."""
    for day in ("2026-03-17", "2026-11-30", "2026-12-25"):
        result = cli.run(
            "surgery",
            "add",
            "--on",
            day,
            "--at",
            "18:30",
            "--host",
            "commissioner",
            "--venue",
            "Dudley Council House",
        )
        assert result.exit_code == 2 and "bank holiday" in result.stderr and "Traceback" not in result.stderr
    bad = cli.run("surgery", "add", "--on", FRIDAY, "--at", "18:30", "--host", "mayor", "--venue", "X")
    assert bad.exit_code == 2 and "commissioner" in bad.stderr
    both = cli.run("surgery", "add", "--on", FRIDAY, "--at", "18:30", "--host", "deputy")
    assert both.exit_code == 2 and "--venue" in both.stderr
    assert cli.json("surgery", "list", "--from", "2026-01-01") == []


def test_booking_fills_slots_in_order_then_the_waiting_list_and_links_cases(cli: Cli, db: Engine) -> None:
    with time_machine.travel(NOW, tick=False):
        added = cli.json(
            "surgery",
            "add",
            "--on",
            FRIDAY,
            "--at",
            "18:30",
            "--host",
            "commissioner",
            "--venue",
            "Dudley Council House",
        )
        assert set(added) == {"id"}
        sid = added["id"]
        first = book(cli, sid, 1, "--needs", "hearing loop", "--phone", "0121 000 0000")
        assert set(first) == {"id", "status", "case"} and first["status"] == "booked"
        twice = cli.run("surgery", "book", str(sid), "--name", "Person 1", "--email", "p1@example.org")
        assert twice.exit_code == 2 and "already has booking" in twice.stderr
        for n in range(2, 9):
            assert book(cli, sid, n)["status"] == "booked"
        full = book(cli, sid, 10)
        assert full["status"] == "waitlisted"
        chosen = cli.run(
            "surgery", "book", str(sid), "--slot", "3", "--name", "X", "--email", "x@example.org"
        )
        assert chosen.exit_code == 2 and "taken" in chosen.stderr
        on_purpose = book(cli, sid, 11, "--waitlist")
        assert on_purpose["status"] == "waitlisted"
        meeting = cli.json(
            "surgery",
            "add",
            "--on",
            "2026-11-16",
            "--at",
            "10:00",
            "--host",
            "deputy",
            "--venue",
            "Lloyd House",
            "--kind",
            "meeting",
        )
        existing = first["case"]
        linked = book(cli, meeting["id"], 20, "--case", existing)
        assert linked["case"] == existing
        again = book(cli, meeting["id"], 1)  # the same person again: their open case, not a new one
        assert again == {"id": again["id"], "status": "waitlisted", "case": first["case"]}
        listed = cli.json("surgery", "list", "--from", "2026-11-01")
    surgery, meet = listed
    assert [s["slot"] for s in surgery["slots"]] == list(range(1, 9))
    assert surgery["slots"][1]["starts_at"] == "2026-11-13T18:45:00+00:00"
    assert surgery["slots"][0]["booking"]["needs"] == "hearing loop"
    assert [b["id"] for b in surgery["waiting_list"]] == [full["id"], on_purpose["id"]]
    assert meet["kind"] == "meeting" and meet["minutes"] == 120 and len(meet["slots"]) == 1
    assert meet["slots"][0]["booking"]["case"] == existing
    with Session(db) as session:
        case = get_case(session, full["case"])
        assert case is not None and case.category == "correspondence" and case.status == "open"
        # its clock runs like a letter's: due on the 20th UK working day after the booking
        assert case.due_on == calendar().due_date(date(2026, 11, 2), 20)
        assert any("waiting list" in e.note for e in history(session, case=case))


def test_cancellations_are_late_inside_the_late_cancel_hours(cli: Cli, db: Engine) -> None:
    with time_machine.travel(NOW, tick=False):
        sid = cli.json(
            "surgery", "add", "--on", FRIDAY, "--at", "18:30", "--host", "deputy", "--venue", "Walsall"
        )["id"]
        early, late = book(cli, sid, 1, "--slot", "1"), book(cli, sid, 2, "--slot", "2")
    slot_one = datetime(2026, 11, 13, 18, 30, tzinfo=LONDON)
    with time_machine.travel(slot_one - timedelta(hours=49), tick=False):
        assert cli.json("surgery", "cancel", str(early["id"]), "--reason", "childcare") == {
            "id": early["id"],
            "late": False,
        }
    with time_machine.travel(slot_one - timedelta(hours=47), tick=False):
        assert cli.json("surgery", "cancel", str(late["id"]), "--reason", "ill health") == {
            "id": late["id"],
            "late": True,
        }
        again = cli.run("surgery", "cancel", str(late["id"]), "--reason", "again")
    assert again.exit_code == 2 and "nothing to cancel" in again.stderr
    figures = stats_november(db)
    [november, total] = figures["surgeries"]
    assert november == total | {"month": "2026-11"}
    assert list(november) == [
        "month",
        "sessions",
        "cancelled_sessions",
        "slots",
        "booked",
        "attended",
        "late_cancellations",
        "cancellations",
        "no_shows",
        "virtual_sessions",
        "meetings",
    ]
    assert (november["cancellations"], november["late_cancellations"], november["booked"]) == (2, 1, 0)


def test_confirmation_and_cancellation_carry_icalendar_request_and_cancel(
    cli: Cli, db: Engine, smtp: tuple[Inbox, int]
) -> None:
    inbox = smtp[0]
    with time_machine.travel(NOW, tick=False):
        sid = cli.json(
            "surgery",
            "add",
            "--on",
            FRIDAY,
            "--at",
            "14:30",
            "--host",
            "commissioner",
            "--venue",
            "Coventry Council House",
        )
        booked = book(cli, sid["id"], 1, "--slot", "3")
        cli.send()
        [confirmation] = mail_to(inbox, "p1@example.org")
        assert booked["case"] in confirmation["Subject"] and booked["case"] in confirmation["Message-ID"]
        method, event = calendar_part(confirmation)
        assert method == "REQUEST" and str(event["STATUS"]) == "CONFIRMED"
        assert event.decoded("DTSTART") == datetime(2026, 11, 13, 15, 0, tzinfo=LONDON).astimezone(UTC)
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=15)
        assert str(event["ATTENDEE"]) == "mailto:p1@example.org" and "Coventry" in str(event["LOCATION"])
        cli.json("surgery", "cancel", str(booked["id"]), "--reason", "work")
        cli.send()
    [_, cancelled] = mail_to(inbox, "p1@example.org")
    method, withdrawn = calendar_part(cancelled)
    assert method == "CANCEL" and str(withdrawn["STATUS"]) == "CANCELLED"
    assert str(withdrawn["UID"]) == str(event["UID"]) and int(withdrawn["SEQUENCE"]) > int(event["SEQUENCE"])
    with Session(db) as session:  # both emails are on the case, as messages sent
        case = get_case(session, booked["case"])
        assert case is not None
        rows = session.execute(select(OutboxItem).where(OutboxItem.kind == "email.surgery")).scalars().all()  # type: ignore[arg-type]
        assert len(rows) == 2 and all(r.sent_at is not None for r in rows)


def test_a_freed_slot_is_offered_in_turn_and_never_under_four_hours_before(
    cli: Cli, db: Engine, smtp: tuple[Inbox, int], surgery_settings: Settings
) -> None:
    inbox = smtp[0]
    with time_machine.travel(NOW, tick=False):
        sid = cli.json(
            "surgery",
            "add",
            "--on",
            FRIDAY,
            "--at",
            "18:30",
            "--host",
            "commissioner",
            "--venue",
            "Dudley",
            "--slots",
            "2",
        )["id"]
        holders = [book(cli, sid, n) for n in (1, 2)]
        waiting = [book(cli, sid, n) for n in (3, 4)]
        assert [w["status"] for w in waiting] == ["waitlisted", "waitlisted"]
        cli.json("surgery", "cancel", str(holders[0]["id"]), "--reason", "ill health")
        cli.send()
        [_, offer] = mail_to(inbox, "p3@example.org")
        assert "held for you until" in offer.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with Session(db) as session:
        first = session.get(SurgeryBooking, waiting[0]["id"])
        assert first is not None and first.status == "offered" and first.slot == 1
        assert first.offer_expires_at == NOW.astimezone(UTC) + timedelta(hours=24)
    with time_machine.travel(NOW + timedelta(hours=23), tick=False):
        run_surgeries(db, surgery_settings, now=datetime.now(UTC))
        with Session(db) as session:
            assert session.get(SurgeryBooking, waiting[0]["id"]).status == "offered"  # type: ignore[union-attr]
    with time_machine.travel(NOW + timedelta(hours=24, minutes=10), tick=False):
        run_surgeries(db, surgery_settings, now=datetime.now(UTC))
        run_surgeries(db, surgery_settings, now=datetime.now(UTC))  # a second pass changes nothing
        cli.send()
    with Session(db) as session:
        lapsed, second = (session.get(SurgeryBooking, w["id"]) for w in waiting)
        assert lapsed is not None and lapsed.status == "lapsed"
        assert second is not None and second.status == "offered" and second.slot == 1
    assert len(mail_to(inbox, "p4@example.org")) == 2  # waiting-list notice, then the offer
    # the second person says yes by the CLI (the reply route is tested with the pipeline)
    with time_machine.travel(NOW + timedelta(hours=30), tick=False):
        assert cli.json("surgery", "accept", str(waiting[1]["id"]))["status"] == "booked"
        # a slot freed 3 hours before it starts is not offered to anyone
        late_waiter = book(cli, sid, 5)
    with time_machine.travel(datetime(2026, 11, 13, 15, 30, tzinfo=LONDON), tick=False):
        assert cli.json("surgery", "cancel", str(holders[1]["id"]), "--reason", "childcare")["late"] is True
    with Session(db) as session:
        assert session.get(SurgeryBooking, late_waiter["id"]).status == "waitlisted"  # type: ignore[union-attr]


def test_the_weather_moves_bookings_in_order_and_two_that_do_not_fit_wait(
    cli: Cli, db: Engine, smtp: tuple[Inbox, int]
) -> None:
    """Dudley is snowed off; three appointments fit the day session at Lloyd House, two do not."""
    inbox = smtp[0]
    with time_machine.travel(NOW, tick=False):
        dudley = cli.json(
            "surgery",
            "add",
            "--on",
            FRIDAY,
            "--at",
            "18:30",
            "--host",
            "commissioner",
            "--venue",
            "Dudley Council House",
            "--slots",
            "5",
        )["id"]
        lloyd = cli.json(
            "surgery",
            "add",
            "--on",
            "2026-11-16",
            "--at",
            "10:00",
            "--host",
            "commissioner",
            "--venue",
            "Lloyd House",
            "--slots",
            "4",
        )["id"]
        already = book(cli, lloyd, 10, "--slot", "2")
        booked = [book(cli, dudley, n, "--slot", str(n)) for n in (1, 2, 3, 4, 5)]
        cli.send()
        before = {
            b["id"]: calendar_part(mail_to(inbox, f"p{n}@example.org")[0])[1]
            for n, b in zip(range(1, 6), booked, strict=True)
        }
    with time_machine.travel(datetime(2026, 11, 13, 9, 0, tzinfo=LONDON), tick=False):
        result = cli.json(
            "surgery", "cancel-session", str(dudley), "--reason", "bad weather", "--move-to", str(lloyd)
        )
        cli.send()
        listed = cli.json("surgery", "list", "--from", "2026-11-01")
        refused = cli.run("surgery", "book", str(dudley), "--name", "Late", "--email", "late@example.org")
    assert result == {"moved": 3, "waitlisted": 2}
    assert refused.exit_code == 2 and "cancelled" in refused.stderr
    old, new = listed
    assert old["status"] == "cancelled" and all(s["booking"] is None for s in old["slots"])
    # in order: Dudley's slots 1, 2, 3 take Lloyd House's free slots 1, 3, 4; slots 4 and 5 wait
    assert [s["booking"]["id"] for s in new["slots"]] == [
        booked[0]["id"],
        already["id"],
        booked[1]["id"],
        booked[2]["id"],
    ]
    assert [b["id"] for b in new["waiting_list"]] == [booked[3]["id"], booked[4]["id"]]
    for n, slot in ((1, 1), (2, 3), (3, 4)):
        moved = mail_to(inbox, f"p{n}@example.org")[-1]
        method, event = calendar_part(moved)
        assert method == "REQUEST" and "moved" in moved["Subject"]
        start = datetime(2026, 11, 16, 10, 0, tzinfo=LONDON) + timedelta(minutes=15 * (slot - 1))
        assert event.decoded("DTSTART") == start.astimezone(UTC)
        first = before[booked[n - 1]["id"]]
        assert str(event["UID"]) == str(first["UID"]) and int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    for n in (4, 5):
        told = mail_to(inbox, f"p{n}@example.org")[-1]
        method, _event = calendar_part(told)
        assert method == "CANCEL" and "waiting list" in told.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with Session(db) as session:
        [post] = session.execute(select(OutboxItem).where(OutboxItem.kind == "slack.post")).scalars().all()  # type: ignore[arg-type]
        assert post.payload["channel"] == "C_ALERTS"
        assert "2 on the new session's waiting list" in post.payload["text"]
        assert "Person 4" in post.payload["text"] and "Person 5" in post.payload["text"]
    figures = stats_november(db)
    total = figures["surgeries"][-1]
    assert (total["sessions"], total["cancelled_sessions"], total["slots"], total["booked"]) == (2, 1, 4, 4)


def test_reminders_go_once_at_the_reminder_hours(
    cli: Cli, db: Engine, smtp: tuple[Inbox, int], surgery_settings: Settings
) -> None:
    inbox = smtp[0]
    with time_machine.travel(NOW, tick=False):
        sid = cli.json(
            "surgery", "add", "--on", FRIDAY, "--at", "18:30", "--host", "deputy", "--venue", "Solihull"
        )["id"]
        booked = book(cli, sid, 1, "--slot", "2")
    start = datetime(2026, 11, 13, 18, 45, tzinfo=LONDON)
    with time_machine.travel(start - timedelta(hours=49), tick=False):
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["reminders"] == 0
    with time_machine.travel(start - timedelta(hours=47), tick=False):
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["reminders"] == 1
        assert run_surgeries(db, surgery_settings, now=datetime.now(UTC))["reminders"] == 0
        cli.send()
    reminder = mail_to(inbox, "p1@example.org")[-1]
    assert reminder["Subject"].startswith(f"[{booked['case']}] Reminder")
    method, event = calendar_part(reminder)
    assert method == "REQUEST" and event.decoded("DTSTART") == start.astimezone(UTC)
    with time_machine.travel(start - timedelta(hours=1), tick=False):
        run_surgeries(db, surgery_settings, now=datetime.now(UTC))
        cli.send()
    assert [m["Subject"].split("] ")[1].split(":")[0] for m in mail_to(inbox, "p1@example.org")] == [
        "Your surgery appointment on Friday 13 November 2026, 18",
        "Reminder",
    ]


def test_attended_and_no_show_are_counted(cli: Cli, db: Engine) -> None:
    with time_machine.travel(NOW, tick=False):
        sid = cli.json(
            "surgery",
            "add",
            "--on",
            FRIDAY,
            "--at",
            "18:30",
            "--host",
            "commissioner",
            "--virtual",
            "https://meet.example.org/pcc",
            "--slots",
            "4",
        )["id"]
        came, missed = book(cli, sid, 1), book(cli, sid, 2)
        assert (
            cli.json("surgery", "attended", str(came["id"]), "--note", "street lighting")["status"]
            == "attended"
        )
        assert cli.json("surgery", "no-show", str(missed["id"]))["status"] == "no_show"
        assert cli.run("surgery", "attended", "999", "--note", "x").exit_code == 2
    total = stats_november(db)["surgeries"][-1]
    assert (total["attended"], total["no_shows"], total["booked"], total["virtual_sessions"]) == (1, 1, 2, 1)
