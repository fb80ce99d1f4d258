"""Fixtures for the Board report tests: the reference dataset in a real store, and its report data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from casework.report.data import ReportData, gather
from casework.settings import Settings
from store.db import make_engine, session_scope, upgrade
from store.imports import import_calls_file, import_cases_file
from tests.conftest import REFERENCE, make_settings, shared_or_skip

#: the period and status date of the 2013 Board paper (reference README)
PERIOD = {"start": date(2012, 11, 1), "end": date(2013, 7, 31), "as_of": date(2013, 8, 8)}
PERIOD_ARGS = ["--from", "2012-11-01", "--to", "2013-07-31", "--as-of", "2013-08-08"]


def load_reference(engine: Engine, settings: Settings) -> None:
    folder = shared_or_skip(REFERENCE)
    with session_scope(engine) as session:
        import_cases_file(session, settings=settings, path=folder / "wmopc-2012-13-cases.csv")
        import_calls_file(session, path=folder / "wmopc-2012-13-calls.csv")


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    path = shared_or_skip(REFERENCE / "wmopc-2012-13-expected.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def reference_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """One SQLite store holding the reference dataset, shared by the rendering tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report-store') / 'casework.db'}"
    settings = make_settings(url)
    engine = make_engine(url)
    upgrade(engine)
    load_reference(engine, settings)
    engine.dispose()
    yield url, settings


@pytest.fixture(scope="session")
def reference_data(reference_sqlite: tuple[str, Settings]) -> ReportData:
    url, settings = reference_sqlite
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return gather(session, settings=settings, **PERIOD)
    finally:
        engine.dispose()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR", "PNG without an IHDR chunk first"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def artifacts_dir() -> Path:
    folder = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
