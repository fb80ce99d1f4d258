"""Running the ``casework`` command in-process, as a user would, against a chosen database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from casework.settings import get_settings


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str],
    *,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str] | None = None,
) -> Result:
    from casework.cli import main

    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    return Result(code, out.out, out.err)
