"""``casework import calls --format F``: every format read from its documented layout, legs merged,
BST handled, idempotent, dirty files read and bad rows all reported."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from store.db import session_scope
from store.models import Call
from tests.calls.writers import AsteriskLeg, asterisk_csv, freepbx, freeswitch, queue_log, threecx
from tests.support.cli import Result, run_cli

DAY = datetime(2024, 3, 4, 9, 0, 0)  # a Monday in GMT: local time is UTC


def _import(
    path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> Result:
    return run_cli(
        ["import", "calls", str(path), *extra],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )


def _json(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found) == {"format", "rows", "calls_new", "calls_already_present", "legs_merged", "skipped"}
    assert found["rows"] == (
        found["calls_new"] + found["calls_already_present"] + found["legs_merged"] + found["skipped"]
    )
    return found


def _calls(engine: Engine) -> dict[str, Call]:
    with session_scope(engine) as session:
        rows = session.execute(select(Call)).scalars().all()
        session.expunge_all()
    return {row.call_id: row for row in rows}


def _at(minutes: float, base: datetime = DAY) -> datetime:
    return base + timedelta(minutes=minutes)


def ring_group_day(*, linked: bool = False) -> list[AsteriskLeg]:
    """Three calls to the hunt group (two legs each where a ring group rang two phones) and two
    that are not calls to it: one outbound, one internal."""

    def uid(call: str, leg: int) -> str:
        return f"17095{call}.{leg}" if linked else f"17095{call}.1"

    legs = [
        # call 1: phone A rings 20 s unanswered, phone B answers after 6 s
        AsteriskLeg(
            "01214960001", "600", _at(0), None, _at(0, DAY) + timedelta(seconds=20), "NO ANSWER", uid("1", 1)
        ),
        AsteriskLeg(
            "01214960001", "600", _at(0), DAY + timedelta(seconds=6), _at(3), "ANSWERED", uid("1", 2)
        ),
        # call 2: nobody answers; the caller gives up after 30 s
        AsteriskLeg("07700900002", "600", _at(10), None, _at(10.5), "NO ANSWER", uid("2", 1)),
        AsteriskLeg("07700900002", "600", _at(10), None, _at(10.5), "NO ANSWER", uid("2", 2)),
        # call 3: busy
        AsteriskLeg("07700900003", "600", _at(20), None, _at(20), "BUSY", uid("3", 1)),
        # not calls to the hunt group
        AsteriskLeg("201", "07700900004", _at(30), _at(30.2), _at(35), "ANSWERED", "1709530.1"),
        AsteriskLeg("201", "202", _at(40), _at(40.1), _at(41), "ANSWERED", "1709540.1"),
    ]
    if linked:
        for leg in legs:
            leg.linkedid = leg.uniqueid.rsplit(".", 1)[0] + ".1"
    return legs


@pytest.mark.parametrize("newcdr", [False, True], ids=["16+2 columns", "newcdrcolumns"])
def test_asterisk_legs_of_one_call_are_one_call(
    newcdr: bool,
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With newcdrcolumns the legs have their own uniqueids and share a linkedid."""
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(ring_group_day(linked=newcdr), newcdr=newcdr))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert found == {
        "format": "asterisk-csv",
        "rows": 7,
        "calls_new": 3,
        "calls_already_present": 0,
        "legs_merged": 2,
        "skipped": 2,
    }
    calls = sorted(_calls(engine).values(), key=lambda c: c.started_at)
    assert [c.outcome for c in calls] == ["answered", "abandoned", "busy"]
    first = calls[0]
    assert first.started_at == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    assert first.answered_at == datetime(2024, 3, 4, 9, 0, 6, tzinfo=UTC)
    assert first.ended_at == datetime(2024, 3, 4, 9, 3, tzinfo=UTC)
    assert (first.wait_s, first.talk_s) == (6.0, 174.0)
    assert calls[1].wait_s == 30.0 and calls[2].wait_s == 0.0
    assert first.call_id.startswith("asterisk:17095") and first.source == "asterisk-csv"


def test_summary_counts_each_skip_reason_and_says_the_format(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(ring_group_day()))
    result = _import(path, database_url, monkeypatch, capsys)
    assert result.exit_code == 0, result.stderr
    assert "format: asterisk-csv (recognised from its content)" in result.stdout
    assert "3 new calls" in result.stdout and "2 legs merged" in result.stdout
    assert "skipped 1: outbound call" in result.stdout and "skipped 1: internal call" in result.stdout


def test_hunt_group_keeps_only_its_calls(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    legs = ring_group_day()
    legs.append(AsteriskLeg("07700900009", "700", _at(50), _at(50.1), _at(52), "ANSWERED", "1709550.1"))
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(legs))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "700"))
    assert (found["calls_new"], found["legs_merged"], found["skipped"]) == (1, 0, 7)
    assert list(_calls(engine)) == ["asterisk:1709550.1"]
    # the setting is the default for the option
    found = _json(
        run_cli(
            ["import", "calls", str(path), "--json"],
            database_url=database_url,
            monkeypatch=monkeypatch,
            capsys=capsys,
            env={"CASEWORK_HUNT_GROUP": "600"},
        )
    )
    assert (found["calls_new"], found["calls_already_present"], found["legs_merged"]) == (3, 0, 2)


def test_the_repeated_october_hour_and_a_call_across_the_change(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """27 October 2024: 01:00–02:00 happens twice. Rows come in the order calls end."""
    local = datetime(2024, 10, 27)

    def at(hour: int, minute: int, second: int = 0) -> datetime:
        return local.replace(hour=hour, minute=minute, second=second)

    legs = [
        # 01:30 BST = 00:30 UTC
        AsteriskLeg("07700900001", "600", at(1, 30), at(1, 30, 5),
                    local.replace(hour=1, minute=32), "ANSWERED", "1.1"),
        # starts 01:55 BST (00:55 UTC), ends 01:05 GMT (01:05 UTC): ten minutes, not fifty backwards
        AsteriskLeg("07700900002", "600", at(1, 55), at(1, 55, 9),
                    local.replace(hour=1, minute=5), "ANSWERED", "2.1"),
        # 01:10 GMT = 01:10 UTC, after the call above in the file
        AsteriskLeg("07700900003", "600", local.replace(hour=1, minute=10), None,
                    local.replace(hour=1, minute=11), "NO ANSWER", "3.1"),
        # the next day, GMT
        AsteriskLeg("07700900004", "600", datetime(2024, 10, 28, 9), datetime(2024, 10, 28, 9, 0, 3),
                    datetime(2024, 10, 28, 9, 5), "ANSWERED", "4.1"),
    ]  # fmt: skip
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(legs))
    _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    calls = _calls(engine)
    assert calls["asterisk:1.1"].started_at == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    across = calls["asterisk:2.1"]
    assert across.started_at == datetime(2024, 10, 27, 0, 55, tzinfo=UTC)
    assert across.ended_at == datetime(2024, 10, 27, 1, 5, tzinfo=UTC)
    assert (across.wait_s, across.talk_s) == (9.0, 591.0)
    assert calls["asterisk:3.1"].started_at == datetime(2024, 10, 27, 1, 10, tzinfo=UTC)
    assert calls["asterisk:4.1"].started_at == datetime(2024, 10, 28, 9, 0, tzinfo=UTC)


def test_bst_in_summer_and_timezone_option(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summer = datetime(2024, 7, 1, 9, 0)
    path = tmp_path / "Master.csv"
    path.write_text(
        asterisk_csv(
            [
                AsteriskLeg(
                    "07700900001", "600", summer, summer, summer + timedelta(minutes=1), "ANSWERED", "9.1"
                )
            ]
        )
    )
    _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert _calls(engine)["asterisk:9.1"].started_at == datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
    path.write_text(
        asterisk_csv(
            [
                AsteriskLeg(
                    "07700900001", "600", summer, summer, summer + timedelta(minutes=1), "ANSWERED", "9.2"
                )
            ]
        )
    )
    _json(_import(path, database_url, monkeypatch, capsys, "--json", "--timezone", "UTC"))  # usegmtime=yes
    assert _calls(engine)["asterisk:9.2"].started_at == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    bad = _import(path, database_url, monkeypatch, capsys, "--timezone", "Mars/Olympus")
    assert bad.exit_code == 2 and "is not a time zone" in bad.stderr


def test_reimport_and_a_longer_file_add_only_new_calls(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    legs = ring_group_day()
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(legs[:2]))
    assert _json(_import(path, database_url, monkeypatch, capsys, "--json"))["calls_new"] == 1
    again = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (again["calls_new"], again["calls_already_present"], again["legs_merged"]) == (0, 1, 1)
    path.write_text(asterisk_csv(legs))  # CDR files only grow
    longer = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (
        longer["calls_new"],
        longer["calls_already_present"],
        longer["legs_merged"],
        longer["skipped"],
    ) == (
        2,
        1,
        2,
        2,
    )
    assert len(_calls(engine)) == 3


def test_dirty_files_are_read(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """BOM, a Windows-1252 caller name, an unescaped quote, NULL as text, CR-only endings, NUL padding."""
    legs = ring_group_day()[:5]
    legs[0].clid = "Ren\xe9e"  # written below as cp1252
    legs[2].clid = "PLACEHOLDER"
    text = asterisk_csv(legs).replace('"PLACEHOLDER"', '"John "JJ" Smith <07700900002>"')
    text = text.replace('"DOCUMENTATION"', '"NULL"', 1)
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r").encode("cp1252") + b"\x00\x00\x00"
    path = tmp_path / "Master.csv"
    path.write_bytes(data)
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["rows"], found["calls_new"], found["legs_merged"]) == (
        "asterisk-csv",
        5,
        3,
        2,
    )


def test_bad_rows_are_all_reported_and_nothing_is_imported(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = asterisk_csv(ring_group_day()).splitlines()
    lines[1] = lines[1].replace('"ANSWERED"', '"HUNG UP"')
    lines[3] = lines[3].replace("2024-03-04 09:10:00", "2024-03-04 25:10:00")
    lines.insert(4, '"only","three","columns"')
    path = tmp_path / "Master.csv"
    path.write_text("\n".join(lines) + "\n")
    result = _import(path, database_url, monkeypatch, capsys, "--format", "asterisk-csv")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "Nothing was imported: 3 bad row(s)" in result.stderr
    assert "line 2: disposition 'HUNG UP' is not one of" in result.stderr
    assert "line 4: start '2024-03-04 25:10:00' is not a date and time" in result.stderr
    assert "line 5: 3 columns; Master.csv rows have 16 to 21" in result.stderr
    assert _calls(engine) == {}


def test_hostile_files_are_bounded(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(asterisk_csv(ring_group_day()[:1]) + "x" * 5000 + "\n")
    result = run_cli(
        ["import", "calls", str(path), "--format", "asterisk-csv"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env={"CASEWORK_CALLS_MAX_LINE_BYTES": "1000"},
    )
    assert result.exit_code == 2 and "line 2: the line is 5,000 bytes long" in result.stderr
    result = run_cli(
        ["import", "calls", str(path)],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env={"CASEWORK_CALLS_MAX_FILE_BYTES": "100"},
    )
    assert result.exit_code == 2 and "more than CASEWORK_CALLS_MAX_FILE_BYTES (100)" in result.stderr
    path.write_text("garbage,line\n" * 20_000)  # not call records at all: reading stops early
    result = run_cli(
        ["import", "calls", str(path), "--format", "asterisk-csv"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
        env={"CASEWORK_CALLS_MAX_FILE_BYTES": "10000000"},
    )
    assert result.exit_code == 2 and "stopped reading after 10,000 bad rows" in result.stderr


def test_queue_log_calls_and_an_unfinished_one(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    t = 1709542800  # 2024-03-04 09:00:00 UTC
    events = [
        (t - 100, "NONE", "NONE", "NONE", "QUEUESTART", ""),
        (t - 50, "NONE", "main", "PJSIP/201", "ADDMEMBER", ""),
        (t, "1709542800.1", "main", "NONE", "ENTERQUEUE", "|07700900001|1"),
        (t + 4, "1709542800.1", "main", "PJSIP/201", "RINGNOANSWER", "4000"),
        (t + 7, "1709542800.1", "main", "PJSIP/202", "CONNECT", "7|1709542807.3|3"),
        (t + 60, "1709542800.2", "main", "NONE", "ENTERQUEUE", "|07700900002|1"),
        (t + 90, "1709542800.2", "main", "NONE", "ABANDON", "1|1|30"),
        (t + 120, "1709542800.1", "main", "PJSIP/202", "COMPLETECALLER", "7|113|1"),
        (t + 200, "1709542800.3", "main", "NONE", "JOINEMPTY", "1|1|0"),
        (t + 300, "1709542800.4", "sales", "NONE", "ENTERQUEUE", "|07700900004|1"),
        (t + 400, "1709542800.5", "main", "NONE", "ENTERQUEUE", "|07700900005|1"),
    ]
    path = tmp_path / "queue_log"
    path.write_text(queue_log(events))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "main"))
    assert found == {
        "format": "asterisk-queue-log",
        "rows": 11,
        "calls_new": 3,
        "calls_already_present": 0,
        "legs_merged": 4,
        "skipped": 4,  # QUEUESTART, ADDMEMBER, the sales queue, the call still waiting
    }
    calls = _calls(engine)
    answered = calls["asterisk:1709542800.1"]
    assert (answered.outcome, answered.wait_s, answered.talk_s) == ("answered", 7.0, 113.0)
    assert (calls["asterisk:1709542800.2"].outcome, calls["asterisk:1709542800.2"].wait_s) == (
        "abandoned",
        30.0,
    )
    assert calls["asterisk:1709542800.3"].outcome == "busy"
    events.append((t + 430, "1709542800.5", "main", "NONE", "EXITWITHTIMEOUT", "1|1|30"))
    path.write_text(queue_log(events))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "main"))
    assert (found["calls_new"], found["calls_already_present"]) == (1, 3)


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_freepbx_with_and_without_header(
    header: bool,
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "cdr.csv"
    path.write_text(freepbx(ring_group_day(), header=header))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["rows"], found["calls_new"], found["legs_merged"], found["skipped"]) == (
        "freepbx",
        7,
        3,
        2,
        2,
    )
    first = min(_calls(engine).values(), key=lambda c: c.started_at)
    assert (first.outcome, first.wait_s, first.talk_s) == ("answered", 6.0, 174.0)
    # `mysql -B` dumps the table tab-separated, with \N for NULL
    dump = tmp_path / "cdr.tsv"
    dump.write_text(
        "".join(
            "\t".join(next(csv.reader([line]))).replace("NULL", "\\N") + "\n"
            for line in freepbx(ring_group_day(), header=header).splitlines()
        )
    )
    found = _json(_import(dump, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["calls_already_present"], found["legs_merged"]) == ("freepbx", 3, 2)
    found = _json(
        _import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "+44 121 626 6060")
    )
    assert found["calls_already_present"] == 3  # the DID matches whatever its notation


def test_freeswitch_default_template_joins_b_legs(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = "a1b2c3d4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-000000000002"
    rows = [
        {"caller_id_number": "07700900001", "destination_number": "600", "context": "public",
         "start_stamp": "2024-03-04 09:00:00", "answer_stamp": "2024-03-04 09:00:05",
         "end_stamp": "2024-03-04 09:02:00", "duration": "120", "billsec": "115",
         "hangup_cause": "NORMAL_CLEARING", "uuid": a, "bleg_uuid": b},
        {"caller_id_number": "07700900001", "destination_number": "600", "context": "public",
         "start_stamp": "2024-03-04 09:00:01", "answer_stamp": "2024-03-04 09:00:05",
         "end_stamp": "2024-03-04 09:02:00", "duration": "119", "billsec": "115",
         "hangup_cause": "NORMAL_CLEARING", "uuid": b},
        {"caller_id_number": "07700900002", "destination_number": "600", "context": "public",
         "start_stamp": "2024-03-04 09:10:00", "end_stamp": "2024-03-04 09:10:00", "duration": "0",
         "billsec": "0", "hangup_cause": "USER_BUSY", "uuid": "a1b2c3d4-0000-4000-8000-000000000003"},
        {"caller_id_number": "1001", "destination_number": "1002", "context": "default",
         "start_stamp": "2024-03-04 09:20:00", "end_stamp": "2024-03-04 09:20:10", "duration": "10",
         "billsec": "0", "hangup_cause": "NO_ANSWER", "uuid": "a1b2c3d4-0000-4000-8000-000000000004"},
    ]  # fmt: skip
    path = tmp_path / "Master.csv"
    path.write_text(freeswitch(rows))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["calls_new"], found["legs_merged"], found["skipped"]) == (
        "freeswitch-csv",
        2,
        1,
        1,
    )
    calls = _calls(engine)
    assert calls[f"freeswitch:{a}"].wait_s == 5.0
    assert calls["freeswitch:a1b2c3d4-0000-4000-8000-000000000003"].outcome == "busy"


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_threecx_records(
    header: bool,
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [
        {"historyid": "Call 1", "callid": "0000018E0A1B2C3D_1", "duration": "00:02:00",
         "time-start": "2024/03/04 09:00:00", "time-answered": "2024/03/04 09:00:04",
         "time-end": "2024/03/04 09:02:04", "reason-terminated": "TerminatedBySrc", "from-no": "07700900001",
         "to-no": "Ext.800", "from-dn": "10000", "to-dn": "800", "dial-no": "800",
         "from-type": "External", "to-type": "Internal", "final-type": "Internal"},
        {"historyid": "Call 2", "callid": "0000018E0A1B2C3D_2", "time-start": "2024/03/04 09:05:00",
         "time-end": "2024/03/04 09:05:40", "reason-terminated": "Failed_Cancelled", "from-no": "07700900002",
         "to-no": "Ext.800", "from-dn": "10000", "to-dn": "800", "dial-no": "800",
         "from-type": "External", "to-type": "Internal"},
        {"historyid": "Call 3", "callid": "0000018E0A1B2C3D_3", "duration": "00:01:00",
         "time-start": "2024/03/04 09:06:00", "time-answered": "2024/03/04 09:06:01",
         "time-end": "2024/03/04 09:07:01", "reason-terminated": "TerminatedByDst", "from-no": "Ext.101",
         "to-no": "07700900003", "from-dn": "101", "to-dn": "10001", "dial-no": "07700900003",
         "from-type": "Internal", "to-type": "External"},
        {"historyid": "Call 4", "callid": "0000018E0A1B2C3D_4", "duration": "00:01:00",
         "time-start": "2024/03/04 09:08:00", "time-answered": "2024/03/04 09:08:02",
         "time-end": "2024/03/04 09:09:02", "reason-terminated": "TerminatedBySrc", "from-no": "07700900004",
         "to-no": "Ext.900", "from-dn": "10000", "to-dn": "900", "dial-no": "900",
         "from-type": "External", "to-type": "Internal"},
    ]  # fmt: skip
    path = tmp_path / "cdr.csv"
    path.write_text(threecx(rows, header=header))
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "800"))
    assert (found["format"], found["calls_new"], found["skipped"]) == ("3cx", 2, 2)
    calls = _calls(engine)
    assert calls["3cx:0000018E0A1B2C3D_1"].wait_s == 4.0
    assert calls["3cx:0000018E0A1B2C3D_2"].outcome == "abandoned"


TEAMS_DR = [
    {"id": "9e1f0a4e-1111-4a8e-9f55-000000000001", "callType": "ByotIn", "successfulCall": True,
     "inviteDateTime": "2024-03-04T09:00:00Z", "startDateTime": "2024-03-04T09:00:08Z",
     "endDateTime": "2024-03-04T09:04:08Z", "duration": 240, "finalSipCode": 0,
     "callerNumber": "+447700900001", "calleeNumber": "+441216266060"},
    {"id": "9e1f0a4e-1111-4a8e-9f55-000000000002", "callType": "ByotIn", "successfulCall": False,
     "inviteDateTime": "2024-03-04T09:10:00Z", "startDateTime": "2024-03-04T09:10:00Z",
     "failureDateTime": "2024-03-04T09:10:25Z", "duration": 0, "finalSipCode": 487,
     "callerNumber": "+447700900002", "calleeNumber": "+441216266060"},
    {"id": "9e1f0a4e-1111-4a8e-9f55-000000000003", "callType": "ByotIn", "successfulCall": False,
     "inviteDateTime": "2024-03-04T09:20:00Z", "startDateTime": "2024-03-04T09:20:00Z",
     "failureDateTime": "2024-03-04T09:20:01Z", "duration": 0, "finalSipCode": 486,
     "callerNumber": "+447700900003", "calleeNumber": "+441216266060"},
    {"id": "9e1f0a4e-1111-4a8e-9f55-000000000004", "callType": "ByotOut", "successfulCall": True,
     "inviteDateTime": "2024-03-04T09:30:00Z", "startDateTime": "2024-03-04T09:30:05Z",
     "endDateTime": "2024-03-04T09:31:05Z", "duration": 60, "finalSipCode": 0,
     "callerNumber": "+441216266060", "calleeNumber": "+447700900004"},
]  # fmt: skip


@pytest.mark.parametrize("layout", ["graph", "lines", "csv"])
def test_teams_direct_routing_records(
    layout: str,
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "calls.json"
    if layout == "graph":
        path.write_text(json.dumps({"@odata.context": "…", "value": TEAMS_DR}, indent=2))
    elif layout == "lines":
        path.write_text("".join(json.dumps(row) + "\n" for row in TEAMS_DR))
    else:
        names = sorted({key for row in TEAMS_DR for key in row})
        path.write_text(
            ",".join(names)
            + "\n"
            + "".join(",".join(str(row.get(n, "")) for n in names) + "\n" for row in TEAMS_DR)
        )
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json", "--hunt-group", "01216266060"))
    assert (found["format"], found["rows"], found["calls_new"], found["skipped"]) == ("teams", 4, 3, 1)
    calls = _calls(engine)
    first = calls["teams:9e1f0a4e-1111-4a8e-9f55-000000000001"]
    assert (first.outcome, first.wait_s, first.talk_s) == ("answered", 8.0, 240.0)
    assert calls["teams:9e1f0a4e-1111-4a8e-9f55-000000000002"].outcome == "abandoned"
    assert calls["teams:9e1f0a4e-1111-4a8e-9f55-000000000003"].outcome == "busy"


def test_teams_admin_centre_csv_with_its_own_column_names(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The admin centre's Direct Routing export says "Start time (UTC)", "Success", "Correlation ID"."""
    path = tmp_path / "DirectRouting.csv"
    path.write_text(
        "Correlation ID,Invite time (UTC),Start time (UTC),End time (UTC),Failure time (UTC),Success,"
        "Caller Number,Callee Number,Call type,Final SIP code\n"
        "c0ffee00-0000-4000-8000-000000000001,2024-03-04 09:00:00,2024-03-04 09:00:06,2024-03-04 09:03:06,,"
        "Yes,+447700900001,+441216266060,ByotIn,0\n"
        "c0ffee00-0000-4000-8000-000000000002,2024-03-04 09:10:00,2024-03-04 09:10:00,,2024-03-04 09:10:20,"
        "No,+447700900002,+441216266060,ByotIn,487\n"
    )
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["calls_new"]) == ("teams", 2)
    calls = _calls(engine)
    assert calls["teams:c0ffee00-0000-4000-8000-000000000001"].wait_s == 6.0
    assert calls["teams:c0ffee00-0000-4000-8000-000000000002"].outcome == "abandoned"


def test_queue_log_exported_from_a_realtime_table_with_header_and_local_times(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "queue_log.txt"
    path.write_text(
        "time|callid|queuename|agent|event|data1|data2|data3\n"
        "2024-07-01 10:00:00.123456|1719824400.7|main|NONE|ENTERQUEUE||07700900001|1\n"
        "2024-07-01 10:00:04.000000|1719824400.7|main|PJSIP/201|CONNECT|4|1719824404.9|2\n"
        "2024-07-01 10:05:04.000000|1719824400.7|main|PJSIP/201|COMPLETEAGENT|4|300|1\n"
    )
    found = _json(_import(path, database_url, monkeypatch, capsys, "--json"))
    assert (found["format"], found["rows"], found["calls_new"], found["legs_merged"]) == (
        "asterisk-queue-log",
        3,
        1,
        2,
    )
    call = _calls(engine)["asterisk:1719824400.7"]
    assert call.started_at == datetime(2024, 7, 1, 9, 0, 0, 123456, tzinfo=UTC)  # BST
    assert call.outcome == "answered" and round(call.wait_s) == 4


def test_casework_csv_is_still_the_default_and_has_json(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,started_at,answered_at,ended_at,outcome\n"
        "C1,2013-01-07T09:00:00+00:00,2013-01-07T09:00:05+00:00,2013-01-07T09:03:00+00:00,answered\n"
    )
    result = _import(path, database_url, monkeypatch, capsys)
    assert result.exit_code == 0 and "calls: 1 rows read, 1 imported, 0 already present" in result.stdout
    assert "format: casework (recognised from its content)" in result.stdout
    assert _json(_import(path, database_url, monkeypatch, capsys, "--json")) == {
        "format": "casework",
        "rows": 1,
        "calls_new": 0,
        "calls_already_present": 1,
        "legs_merged": 0,
        "skipped": 0,
    }
    wrong = _import(path, database_url, monkeypatch, capsys, "--format", "nokia")
    assert wrong.exit_code == 2 and "--format 'nokia' is not one of" in wrong.stderr
