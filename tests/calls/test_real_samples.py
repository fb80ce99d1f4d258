"""The real call-record samples in ../shared/fixtures/calls import without error, every row is
accounted for, and a second import adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from store.db import session_scope
from store.models import Call
from tests.conftest import SHARED, shared_or_skip
from tests.support.cli import run_cli

CALLS = SHARED / "fixtures" / "calls"
SAMPLES = {
    "fafeitsch-cdrcsv-report-generator-mockdata-cdr.csv": ("asterisk-csv", 218),
    "fafeitsch-cdrcsv-report-generator-mockdata-smallcdr.csv": ("asterisk-csv", 45),
    "fafeitsch-cdrcsv-report-generator-mockdata-smallcdr_wo_parallelcalls.csv": ("asterisk-csv", 34),
    "dorel14-3cx-cdr-server-ClasseurPrepaCDR.csv": ("3cx", 1404),
}


def _count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(Call)).scalar_one())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_real_sample_imports_whole_and_once(
    name: str,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path: Path = shared_or_skip(CALLS / name)
    fmt, rows = SAMPLES[name]
    runs = []
    for _ in range(2):
        result = run_cli(
            ["import", "calls", str(path), "--json"],
            database_url=database_url,
            monkeypatch=monkeypatch,
            capsys=capsys,
        )
        assert result.exit_code == 0, result.stderr
        runs.append(json.loads(result.stdout))
    first, second = runs
    assert first["format"] == fmt and first["rows"] == rows
    for run in runs:
        assert (
            run["rows"]
            == run["calls_new"] + run["calls_already_present"] + run["legs_merged"] + run["skipped"]
        )
    assert first["calls_new"] > 0 and first["calls_already_present"] == 0
    assert second["calls_new"] == 0 and second["calls_already_present"] == first["calls_new"]
    assert _count(engine) == first["calls_new"]


def test_parallel_legs_of_the_asterisk_sample_are_merged(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's author wrote parallel legs sharing a uniqueid; the file without them has none."""
    counts = {}
    for name in ("fafeitsch-cdrcsv-report-generator-mockdata-cdr.csv",
                 "fafeitsch-cdrcsv-report-generator-mockdata-smallcdr_wo_parallelcalls.csv"):  # fmt: skip
        result = run_cli(
            ["import", "calls", str(shared_or_skip(CALLS / name)), "--json", "--format", "asterisk-csv"],
            database_url=database_url,
            monkeypatch=monkeypatch,
            capsys=capsys,
        )
        counts[name] = json.loads(result.stdout)
    assert counts["fafeitsch-cdrcsv-report-generator-mockdata-cdr.csv"]["legs_merged"] == 44
    assert (
        counts["fafeitsch-cdrcsv-report-generator-mockdata-smallcdr_wo_parallelcalls.csv"]["legs_merged"] == 0
    )


def test_threecx_sample_keeps_inbound_calls_and_counts_the_rest(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_or_skip(CALLS / "dorel14-3cx-cdr-server-ClasseurPrepaCDR.csv")
    result = run_cli(
        ["import", "calls", str(path)], database_url=database_url, monkeypatch=monkeypatch, capsys=capsys
    )
    assert result.exit_code == 0, result.stderr
    assert "format: 3cx (recognised from its content)" in result.stdout
    assert "skipped 576: outbound call" in result.stdout and "skipped 384: internal call" in result.stdout
    result = run_cli(
        ["import", "calls", str(path), "--json", "--hunt-group", "611"],
        database_url=database_url,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert json.loads(result.stdout)["calls_already_present"] > 0
