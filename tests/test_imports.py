"""Importing history is all-or-nothing, reports every bad row, and is idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from store.db import session_scope
from store.models import Call, Case, CaseEvent
from tests.conftest import REFERENCE, shared_or_skip
from tests.support.cli import run_cli

HEADER = "reference,received_at,category,status,closed_at,correspondent_email,subject\n"
GOOD = "WM-1,2013-03-15T10:00:00+00:00,foi,closed,2013-04-17T12:00:00+01:00,a@example.org,Staff numbers\n"


def _count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_bad_rows_are_all_reported_and_nothing_is_imported(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csv = tmp_path / "cases.csv"
    csv.write_text(
        HEADER
        + GOOD
        + "WM-2,2013-03-15 10:00,foi,open,,b@example.org,No offset\n"
        + "WM-3,2013-03-15T10:00:00+00:00,letters,open,,c@example.org,Bad category\n"
        + "WM-4,2013-03-15T10:00:00+00:00,foi,closed,,d@example.org,Closed without date\n"
        + "WM-5,2013-03-15T10:00:00+00:00,foi,open,2013-04-01T10:00:00+00:00,e@example.org,Open with date\n"
        + "WM-1,2013-03-15T10:00:00+00:00,foi,open,,f@example.org,Duplicate reference\n"
        + "WM-7,2013-03-15T10:00:00+00:00,foi,pending,,not-an-address,Two problems\n"
    )
    result = run_cli(
        ["import", "cases", str(csv)], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    for line, words in [
        (3, "no UTC offset"),
        (4, "'letters' is not one of"),
        (5, "closed_at is empty"),
        (6, "closed_at must be empty unless closed"),
        (7, "already appears on line 2"),
        (8, "'pending' is not one of"),
    ]:
        assert f"line {line}: " in result.stderr and words in result.stderr, (line, words)
    assert "Nothing was imported: 6 bad row(s)" in result.stderr
    assert _count(engine, Case) == 0


def test_wrong_header_and_missing_file_are_clear(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csv = tmp_path / "calls.csv"
    csv.write_text("id,start\n1,2\n")
    result = run_cli(
        ["import", "calls", str(csv)], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.exit_code == 2 and "the header lacks call_id" in result.stderr
    result = run_cli(
        ["import", "cases", str(tmp_path / "nope.csv")],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 2 and "does not exist" in result.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + GOOD.replace("Staff", "Caf\xe9")).encode("latin-1"))
    result = run_cli(
        ["import", "cases", str(latin)], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_bad_call_rows(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "call_id,started_at,answered_at,ended_at,outcome\n"
        "C1,2013-01-07T09:00:00+00:00,2013-01-07T09:00:05+00:00,2013-01-07T09:03:00+00:00,answered\n"
        "C2,2013-01-07T09:00:00+00:00,,2013-01-07T09:03:00+00:00,answered\n"
        "C3,2013-01-07T09:00:00+00:00,,2013-01-07T08:00:00+00:00,abandoned\n"
        "C4,2013-01-07T09:00:00+00:00,,2013-01-07T09:00:00+00:00,hung-up\n"
    )
    result = run_cli(
        ["import", "calls", str(csv)], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.exit_code == 2
    assert "line 3: outcome is answered but answered_at is empty" in result.stderr
    assert "line 4: ended_at is before started_at" in result.stderr
    assert "line 5: outcome 'hung-up' is not one of" in result.stderr
    assert _count(engine, Call) == 0


def test_reimporting_the_reference_files_changes_nothing(
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = shared_or_skip(REFERENCE)
    for _ in range(2):
        for kind, name in (("cases", "wmopc-2012-13-cases.csv"), ("calls", "wmopc-2012-13-calls.csv")):
            result = run_cli(
                ["import", kind, str(folder / name)],
                database_url=database_url,
                monkeypatch=monkeypatch,
                capsys=capsys,
            )
            assert result.exit_code == 0, result.stderr
    assert "0 imported, 3819 already present" in result.stdout
    assert (_count(engine, Case), _count(engine, Call), _count(engine, CaseEvent)) == (1111, 3819, 1111 + 932)
    result = run_cli(
        ["stats", "--from", "2012-11-01", "--to", "2013-07-31", "--as-of", "2013-08-08", "--json"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    tables = json.loads(result.stdout)
    assert tables["categories"][-1]["total"] == 1111 and tables["calls"][-1]["received"] == 3819


def test_stats_refuses_bad_dates(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, words in [
        (["--from", "2013-02-30", "--to", "2013-03-01"], "--from '2013-02-30' is not a date"),
        (["--from", "2013-03-01", "--to", "2013-02-01"], "is before --from"),
        (["--from", "2013-03-01", "--to", "2013-04-01", "--as-of", "yesterday"], "--as-of 'yesterday'"),
    ]:
        result = run_cli(["stats", *args], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys)
        assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_stats_prints_aligned_tables(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "cases.csv"
    csv.write_text(HEADER + GOOD)
    run_cli(["import", "cases", str(csv)], database_url=sqlite_url, monkeypatch=monkeypatch, capsys=capsys)
    result = run_cli(
        ["stats", "--from", "2013-03-01", "--to", "2013-04-30", "--as-of", "2013-05-01"],
        database_url=sqlite_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert result.exit_code == 0
    assert "Cases logged by month received and category" in result.stdout
    assert "2013-03" in result.stdout and "total" in result.stdout
