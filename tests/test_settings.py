"""The one settings object: every key is documented in .env.example and parses from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casework.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def _documented() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), flags=re.M))


def test_every_setting_is_documented_in_env_example() -> None:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(name.upper() if alias else f"CASEWORK_{name.upper()}")
    assert names - _documented() == set()


def test_env_example_parses() -> None:
    settings = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    assert settings.thresholds == [5, 2, 0]
    assert settings.database_url.startswith("sqlite")


def test_postgres_urls_use_psycopg_and_lists_split() -> None:
    settings = Settings(_env_file=None, database_url="postgres://u@h/db", caseworkers="U1, U2 S3")  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.caseworkers == ["U1", "U2", "S3"]


def test_production_refuses_placeholder_secrets() -> None:
    settings = Settings(_env_file=None, environment="production", slack_bot_token="changeme")  # type: ignore[call-arg]
    assert any("SLACK_BOT_TOKEN" in p for p in settings.problems())
    with pytest.raises(ValueError):
        Settings(_env_file=None, imap_tls="plain")  # type: ignore[call-arg]
