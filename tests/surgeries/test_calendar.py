"""The hosts' calendar: ``casework surgery ics`` and the ``/calendar/<token>.ics`` feed served
by a real uvicorn on 127.0.0.1, parsed back with ``icalendar``; nothing personal in either."""

from __future__ import annotations

import threading
import time as clock
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import time_machine
import uvicorn
from icalendar import Calendar
from sqlalchemy import Engine
from starlette.applications import Starlette

from casework.settings import Settings
from casework.web.calendar import routes
from store import surgeries
from store.db import session_scope
from store.workdays import LONDON
from tests.conftest import make_settings
from tests.support.cli import run_cli
from tests.support.smtp import free_port

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)


def _sessions(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        pcc = surgeries.add_session(
            session, on=date(2026, 11, 13), at=time(18, 30), host="commissioner", venue="Dudley Council House"
        )
        deputy = surgeries.add_session(
            session, on=date(2026, 11, 20), at=time(14, 30), host="deputy", venue="Walsall", slots=2
        )
        gone = surgeries.add_session(
            session, on=date(2026, 11, 27), at=time(18, 30), host="commissioner", venue="Coventry"
        )
        for slot, name in ((1, "Jane Public"), (3, "Sam Private")):
            surgeries.book(
                session,
                settings=settings,
                session_id=pcc.id,
                slot=slot,
                name=name,  # type: ignore[arg-type]
                email=f"{name.split()[0].lower()}@example.org",
                needs="hearing loop",
                now=NOW,
            )
        surgeries.book(
            session,
            settings=settings,
            session_id=deputy.id,
            name="Kim Deputy",  # type: ignore[arg-type]
            email="kim@example.org",
            now=NOW,
        )
        surgeries.cancel_session(session, settings=settings, session_id=gone.id, reason="snow", now=NOW)  # type: ignore[arg-type]


def _events(data: bytes) -> list[tuple[datetime, str]]:
    cal = Calendar.from_ical(data)
    return sorted((e.decoded("DTSTART"), str(e["SUMMARY"])) for e in cal.walk("VEVENT"))


def _private(data: bytes) -> None:
    text = data.decode()
    for secret in ("Jane", "Sam", "Kim", "example.org", "hearing", "WMOPC"):
        assert secret not in text


@contextmanager
def serving(settings: Settings, engine: Engine) -> Iterator[str]:
    """The feed's routes in a Starlette app under a real uvicorn on a free port."""
    port = free_port()
    app = Starlette(routes=routes(settings, engine))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = clock.monotonic() + 10
    while not server.started and clock.monotonic() < deadline:
        clock.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def feed_server(surgery_settings: Settings, db: Engine) -> Iterator[str]:
    with serving(surgery_settings, db) as url:
        yield url


def test_the_feed_serves_booked_and_free_slots_behind_its_token(
    surgery_settings: Settings, db: Engine, feed_server: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        _sessions(db, surgery_settings)
    for wrong in ("nope", "feed-secret-toke", "feed-secret-token-longer"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{feed_server}/calendar/{wrong}.ics", timeout=5)
        assert err.value.code == 404
    with urllib.request.urlopen(f"{feed_server}/calendar/feed-secret-token.ics", timeout=5) as answer:
        assert answer.headers["Content-Type"].startswith("text/calendar")
        data = answer.read()
    _private(data)
    events = _events(data)
    assert len(events) == 8 + 2  # the cancelled session is not in the diary
    first = datetime(2026, 11, 13, 18, 30, tzinfo=LONDON).astimezone(UTC)
    assert events[0] == (first, "Surgery (commissioner): booked")
    assert [summary.rsplit(" ", 1)[1] for _, summary in events[:8]] == ["booked", "free", "booked"] + [
        "free"
    ] * 5
    assert [summary for _, summary in events[8:]] == ["Surgery (deputy): booked", "Surgery (deputy): free"]
    with urllib.request.urlopen(
        f"{feed_server}/calendar/feed-secret-token.ics?host=deputy", timeout=5
    ) as answer:
        assert len(_events(answer.read())) == 2


def test_no_token_configured_means_no_feed(database_url: str, db: Engine) -> None:
    with serving(make_settings(database_url), db) as url:
        for path in ("/calendar/.ics", "/calendar/anything.ics", "/calendar/"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{url}{path}", timeout=5)
            assert err.value.code == 404


def test_ics_command_writes_the_same_calendar(
    surgery_settings: Settings,
    db: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with time_machine.travel(NOW, tick=False):
        _sessions(db, surgery_settings)
        out = tmp_path / "pcc.ics"
        result = run_cli(
            ["surgery", "ics", "--host", "commissioner", "--out", str(out), "--json"],
            database_url=surgery_settings.database_url,
            monkeypatch=monkeypatch,
            capsys=capsys,
        )
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    _private(data)
    assert [s for _, s in _events(data)].count("Surgery (commissioner): booked") == 2
    assert len(_events(data)) == 8
