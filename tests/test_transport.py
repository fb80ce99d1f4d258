"""TLS or refuse: mail passwords are never sent in clear in production (the review found
``CASEWORK_SMTP_TLS`` defaulting to ``none`` with the password still sent)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from casework import transport
from casework.settings import get_settings
from tests.conftest import make_settings


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("CASEWORK_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("CASEWORK_ENVIRONMENT", "production")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-real-signing-secret")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from casework.cli import main

    get_settings.cache_clear()
    with pytest.raises(SystemExit) as exit_:
        main(args)
    return int(exit_.value.code or 0), capsys.readouterr().err


def test_production_serve_with_smtp_tls_none_and_a_password_is_refused(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("CASEWORK_SMTP_HOST", "smtp.office.example")
    clean_env.setenv("CASEWORK_SMTP_USER", "casework")
    clean_env.setenv("CASEWORK_SMTP_PASSWORD", "hunter2")
    code, err = _main(["serve"], capsys)
    assert code == 2
    assert "CASEWORK_SMTP_TLS" in err and "starttls" in err and "Traceback" not in err
    assert "hunter2" not in err


def test_production_poll_with_imap_tls_none_and_a_password_is_refused(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("CASEWORK_IMAP_HOST", "imap.office.example")
    clean_env.setenv("CASEWORK_IMAP_USER", "casework")
    clean_env.setenv("CASEWORK_IMAP_PASSWORD", "hunter2")
    clean_env.setenv("CASEWORK_IMAP_TLS", "none")
    code, err = _main(["poll", "--once"], capsys)
    assert code == 2
    assert "CASEWORK_IMAP_TLS=none would send the IMAP password" in err and "Traceback" not in err


def test_connecting_itself_refuses_too(database_url: str) -> None:
    """Not only the start-up check: the SMTP sender never logs in without TLS in production."""
    from casework.errors import UserError
    from intake import smtp_sender

    settings = make_settings(
        database_url,
        environment="production",
        smtp_host="smtp.office.example",
        smtp_user="u",
        smtp_password="p",
    )
    with pytest.raises(UserError, match="CASEWORK_SMTP_TLS"):
        smtp_sender.connect(settings)


def test_loopback_and_tls_are_fine_and_development_warns_once(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    local = make_settings(
        database_url,
        environment="production",
        smtp_host="127.0.0.1",
        smtp_user="u",
        smtp_password="p",
        imap_host="localhost",
        imap_password="p",
        imap_tls="none",
    )
    assert transport.cleartext_passwords(local) == []
    tls = make_settings(
        database_url,
        environment="production",
        smtp_host="smtp.office.example",
        smtp_user="u",
        smtp_password="p",
        smtp_tls="starttls",
    )
    transport.require_tls_for_passwords(tls)
    dev = make_settings(database_url, smtp_host="smtp.dev.example", smtp_user="u", smtp_password="p")
    transport._warned.clear()
    with caplog.at_level(logging.WARNING, logger="casework.transport"):
        transport.require_tls_for_passwords(dev)
        transport.require_tls_for_passwords(dev)
    assert [r.message for r in caplog.records].count(
        transport.cleartext_passwords(dev)[0] + " (refused when CASEWORK_ENVIRONMENT=production)"
    ) == 1
