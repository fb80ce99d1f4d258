"""``casework calls follow``: a writer appending while it runs, a leg still open at the end of the
file, rotation and truncation, a restart, and ``casework serve`` running it."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from store.calls.base import Context
from store.calls.follow import Follower
from store.db import make_engine, session_scope, upgrade
from store.models import Call, CallsFollow
from tests.calls.writers import AsteriskLeg, asterisk_csv, freepbx
from tests.support.slack_api import FakeSlackAPI, fake_slack_api

START = datetime(2024, 3, 4, 9, 0)


def two_legged_call(n: int) -> list[str]:
    """Call ``n`` rings phone A for 20 s (no answer) while phone B answers after 5 s: two rows."""
    start = START + timedelta(minutes=5 * n)
    caller, uid = f"0770090{n:04d}", f"17000{n}.1"
    legs = [
        AsteriskLeg(caller, "600", start, None, start + timedelta(seconds=20), "NO ANSWER", uid),
        AsteriskLeg(
            caller, "600", start, start + timedelta(seconds=5), start + timedelta(minutes=2), "ANSWERED", uid
        ),
    ]
    return asterisk_csv(legs).splitlines(keepends=True)


def _follower(engine: Engine, path: Path, settle: float = 1.5) -> Follower:
    return Follower(engine, path=path, fmt="auto", context=Context, settle=settle)


def _calls(engine: Engine) -> dict[str, Call]:
    with session_scope(engine) as session:
        rows = session.execute(select(Call)).scalars().all()
        session.expunge_all()
    return {row.call_id: row for row in rows}


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def following(engine: Engine, tmp_path: Path) -> Iterator[tuple[Follower, threading.Event, Path]]:
    path = tmp_path / "Master.csv"
    path.touch()
    follower = _follower(engine, path)
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), kwargs={"every": 0.05}, daemon=True)
    thread.start()
    yield follower, stop, path
    stop.set()
    thread.join(10)


def test_a_writer_appending_while_follow_runs(
    following: tuple[Follower, threading.Event, Path], engine: Engine
) -> None:
    """Rows arrive a leg at a time and lines half-written; every call is counted once, with both legs."""
    _, _, path = following
    calls = 25
    with path.open("a", encoding="utf-8") as out:
        for n in range(calls):
            for line in two_legged_call(n):
                half = len(line) // 2
                out.write(line[:half])
                out.flush()
                time.sleep(0.01)
                out.write(line[half:])
                out.flush()
                time.sleep(0.02)
    _wait_for(lambda: len(_calls(engine)) == calls)
    stored = _calls(engine)
    assert all(call.outcome == "answered" and call.wait_s == 5.0 for call in stored.values()), [
        (c.call_id, c.outcome, c.wait_s) for c in stored.values()
    ]
    time.sleep(0.5)
    assert len(_calls(engine)) == calls


def test_an_open_leg_at_the_end_is_not_counted_until_it_settles(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    first, second = two_legged_call(1)
    path.write_text(first)
    follower = _follower(engine, path, settle=30)
    found = follower.poll()
    assert (found.calls_new, found.pending) == (0, 1)  # the file is fresh: another leg may come
    assert _calls(engine) == {}
    with path.open("a") as out:
        out.write(second)
    old = time.time() - 60  # the file has not changed for longer than the settle time
    os.utime(path, (old, old))
    found = follower.poll()
    assert found.calls_new == 1
    assert _calls(engine)["asterisk:170001.1"].outcome == "answered"


def test_rotation_truncation_and_restart_never_count_twice(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    settle_old = time.time() - 60

    def age() -> None:
        os.utime(path, (settle_old, settle_old))

    path.write_text("".join(line for n in range(3) for line in two_legged_call(n)))
    age()
    follower = _follower(engine, path)
    assert follower.poll().calls_new == 3
    # logrotate renames the file; Asterisk finishes one more row into it before reopening
    rotated = tmp_path / "Master.csv.1"
    path.rename(rotated)
    with rotated.open("a") as out:
        out.writelines(two_legged_call(3))
    path.write_text("".join(line for n in (4, 5) for line in two_legged_call(n)))
    age()
    follower.poll()  # reads the rest of the old file
    follower.poll()  # then the new one from its start
    assert set(_calls(engine)) == {f"asterisk:17000{n}.1" for n in range(6)}
    # copytruncate: the same file emptied and written again
    with path.open("w") as out:
        out.writelines(two_legged_call(6))
    age()
    assert follower.poll().calls_new == 1
    # a restart goes on from the stored position and finds nothing new
    again = _follower(engine, path)
    assert again.poll().calls_new == 0
    with path.open("a") as out:
        out.writelines(two_legged_call(7))
    age()
    assert again.poll().calls_new == 1
    stored = _calls(engine)
    assert len(stored) == 8 and all(c.outcome == "answered" for c in stored.values())


def test_serve_follows_casework_calls_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine = make_engine(url)
    upgrade(engine)
    path = tmp_path / "Master.csv"
    path.write_text("".join(two_legged_call(1)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEWORK_", "SLACK_"))}
    with fake_slack_api() as api:
        env.update(
            CASEWORK_DATABASE_URL=url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
            CASEWORK_SLACK_API_URL=api.base_url,
            CASEWORK_CALLS_PATH=str(path),
            CASEWORK_CALLS_SETTLE_SECONDS="1",
            CASEWORK_CALLS_POLL_SECONDS="0.2",
            CASEWORK_HUNT_GROUP="600",
        )
        process = subprocess.Popen(
            [sys.executable, "-c", "from casework.cli import main; main()", "serve", "--port", "0"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(lambda: len(_calls(engine)) == 1, timeout=30)
            with path.open("a") as out:
                out.writelines(two_legged_call(2))
            _wait_for(lambda: len(_calls(engine)) == 2, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            out_text, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert isinstance(api, FakeSlackAPI)
    assert "stopped" in out_text
    engine.dispose()


def test_follow_command_once_and_bad_format(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.cli import run_cli

    path = tmp_path / "Master.csv"
    path.write_text("".join(two_legged_call(1)))
    old = time.time() - 120
    os.utime(path, (old, old))
    args = {"database_url": database_url, "monkeypatch": monkeypatch, "capsys": capsys}
    result = run_cli(["calls", "follow", str(path), "--once"], **args)
    assert result.exit_code == 0, result.stderr
    assert "1 new calls" in result.stdout
    result = run_cli(["calls", "follow", str(path), "--once", "--format", "casework"], **args)
    assert result.exit_code == 2 and "cannot be followed" in result.stderr


def test_rotation_while_a_writer_appends(
    following: tuple[Follower, threading.Event, Path], engine: Engine
) -> None:
    """logrotate renames Master.csv between two records and Asterisk opens a new one: no call is
    lost, none is counted twice and none loses a leg."""
    _, _, path = following

    def write(target: Path, calls: range) -> None:
        with target.open("a", encoding="utf-8") as out:
            for n in calls:
                for line in two_legged_call(n):
                    out.write(line)
                    out.flush()
                    time.sleep(0.015)

    write(path, range(0, 12))
    path.rename(path.with_name("Master.csv.1"))
    write(path, range(12, 24))  # a new file at the same path
    path.rename(path.with_name("Master.csv.2"))
    write(path, range(24, 30))
    _wait_for(lambda: len(_calls(engine)) == 30)
    stored = _calls(engine)
    assert set(stored) == {f"asterisk:17000{n}.1" for n in range(30)}
    assert all(call.outcome == "answered" and call.wait_s == 5.0 for call in stored.values())


def test_a_long_file_is_read_in_chunks_without_splitting_calls(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call whose legs straddle a chunk's end waits for the next chunk instead of being counted short."""
    import store.calls.follow as follow_module

    monkeypatch.setattr(follow_module, "CHUNK", 1000)  # about three rows a chunk
    path = tmp_path / "Master.csv"
    path.write_text("".join(line for n in range(20) for line in two_legged_call(n)))
    old = time.time() - 60
    os.utime(path, (old, old))
    follower = _follower(engine, path)
    for _ in range(60):
        follower.poll()
    stored = _calls(engine)
    assert len(stored) == 20
    assert all(call.outcome == "answered" and call.wait_s == 5.0 for call in stored.values())


def _carried(engine: Engine) -> str:
    with session_scope(engine) as session:
        return str(session.execute(select(CallsFollow.carried)).scalar_one())


def test_a_call_whose_legs_straddle_a_rotation_is_counted_once_whole(engine: Engine, tmp_path: Path) -> None:
    """Phone A's leg went to the old file, phone B's answer to the new one: one answered call."""
    path = tmp_path / "Master.csv"
    ringing, answered = two_legged_call(1)
    path.write_text(ringing)
    follower = _follower(engine, path, settle=30)
    assert follower.poll().pending == 1
    path.rename(tmp_path / "Master.csv.1")
    path.write_text(answered + "".join(two_legged_call(2)))
    follower.poll()  # the old file to its end: the open call is carried, not counted short
    assert _calls(engine) == {} and "NO ANSWER" in _carried(engine)
    again = _follower(engine, path, settle=30)  # the carried rows survive a restart
    assert again.poll().calls_new == 1  # call 2's rows, five minutes on, settle call 1
    first = _calls(engine)["asterisk:170001.1"]
    assert (first.outcome, first.wait_s) == ("answered", 5.0)
    assert _carried(engine) == ""
    old = time.time() - 60
    os.utime(path, (old, old))
    assert again.poll().calls_new == 1
    assert set(_calls(engine)) == {"asterisk:170001.1", "asterisk:170002.1"}
    assert again.poll().calls_new == 0


def test_a_carried_call_is_counted_as_it_stands_when_no_leg_follows(engine: Engine, tmp_path: Path) -> None:
    """The new file stays empty past the settle time: the call rang out, and is counted so."""
    path = tmp_path / "Master.csv"
    path.write_text(two_legged_call(1)[0])
    follower = _follower(engine, path, settle=30)
    follower.poll()
    path.rename(tmp_path / "Master.csv.1")
    path.touch()
    follower.poll()
    assert _calls(engine) == {}
    assert follower.poll().calls_new == 0  # the new file is fresh: a leg may still come
    old = time.time() - 60
    os.utime(path, (old, old))
    assert follower.poll().calls_new == 1
    assert _calls(engine)["asterisk:170001.1"].outcome == "abandoned" and _carried(engine) == ""


def _did_first(text: str) -> str:
    """The CSV with its last column (``did``) moved first: readable only through its header."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([row[-1:] + row[:-1] for row in rows])
    return out.getvalue()


@pytest.mark.parametrize("answer_follows", [True, False])
def test_a_headered_file_carries_its_header_with_the_open_call(
    engine: Engine, tmp_path: Path, answer_follows: bool
) -> None:
    """FreePBX's CSV has a header row naming its columns (versions order them differently): the
    carried rows are read with their own file's header, even before the new file has one."""
    start, uid = START, "1700001.1"
    ringing = AsteriskLeg("07700900001", "600", start, None, start + timedelta(seconds=20), "NO ANSWER", uid)
    answer = AsteriskLeg(
        "07700900001",
        "600",
        start,
        start + timedelta(seconds=5),
        start + timedelta(minutes=2),
        "ANSWERED",
        uid,
    )
    later = START + timedelta(minutes=10)
    other = AsteriskLeg(
        "07700900002", "600", later, None, later + timedelta(seconds=30), "NO ANSWER", "1700002.1"
    )
    path = tmp_path / "cdr.csv"
    path.write_text(_did_first(freepbx([ringing])))
    follower = _follower(engine, path, settle=30)
    follower.poll()
    path.rename(tmp_path / "cdr.csv.1")
    path.write_text(_did_first(freepbx([answer, other])) if answer_follows else "")
    follower.poll()
    old = time.time() - 60
    os.utime(path, (old, old))
    follower.poll()
    stored = _calls(engine)
    first = stored["asterisk:1700001.1"]  # FreePBX writes Asterisk's ids
    if answer_follows:
        assert (first.outcome, first.wait_s) == ("answered", 5.0) and len(stored) == 2
    else:
        assert first.outcome == "abandoned" and len(stored) == 1
    assert _carried(engine) == ""


def test_copytruncate_under_an_open_call_keeps_its_first_leg(engine: Engine, tmp_path: Path) -> None:
    """logrotate's copytruncate empties the file while call 3 rings: its answer, written after,
    still joins the leg read before."""
    path = tmp_path / "Master.csv"
    start, caller, uid = START + timedelta(minutes=15), "07700900003", "170003.1"
    # phone A rang out after 15 s; the hunt group then rang phone B, answered 5 s later
    ringing, answered = asterisk_csv(
        [
            AsteriskLeg(caller, "600", start, None, start + timedelta(seconds=15), "NO ANSWER", uid),
            AsteriskLeg(
                caller,
                "600",
                start + timedelta(seconds=15),
                start + timedelta(seconds=20),
                start + timedelta(minutes=2),
                "ANSWERED",
                uid,
            ),
        ]
    ).splitlines(keepends=True)
    path.write_text("".join(line for n in range(3) for line in two_legged_call(n)) + ringing)
    follower = _follower(engine, path, settle=30)
    assert follower.poll().calls_new == 3  # call 3 waits: its next leg may come
    (tmp_path / "Master.csv.1").write_bytes(path.read_bytes())
    path.write_text(answered + "".join(two_legged_call(4)))  # truncated, then written again
    assert follower.poll().calls_new == 1
    third = _calls(engine)["asterisk:170003.1"]
    assert (third.outcome, third.wait_s) == ("answered", 20.0)  # the caller waited from phone A's ring
    old = time.time() - 60
    os.utime(path, (old, old))
    assert follower.poll().calls_new == 1 and len(_calls(engine)) == 5
