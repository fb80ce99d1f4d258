"""``casework ingest PATH``: Maildir, mbox or .eml folder in; a summary (or one JSON object) out."""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from casework.cli import main
from casework.settings import get_settings
from store.db import make_engine
from store.models import Case, Message, QuarantinedMessage
from tests.support.intake_mail import eml, later

KEYS = ["read", "opened", "attached", "automatic", "duplicates", "quarantined", "outgoing"]


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI reads its settings from the environment: point it at the test database."""
    monkeypatch.chdir(tmp_path)  # no stray .env file
    monkeypatch.setenv("CASEWORK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def messages() -> list[bytes]:
    """Five messages: two new cases, a reply, an out-of-office and one that is not an email."""
    return [
        eml(),
        eml(
            sender="bob@example.net",
            subject="Speeding",
            message_id="<b1@example.net>",
            date=later(5),
            body="Cars race down Station Road every night and somebody will be killed.\n",
        ),
        eml(
            subject="Re: Street lighting",
            message_id="<m2@example.org>",
            in_reply_to="<m1@example.org>",
            body="Any news?\n",
            date=later(90),
        ),
        eml(
            sender="carol@example.com",
            subject="Out of office",
            message_id="<o1@example.com>",
            body="I am away.\n",
            headers={"Auto-Submitted": "auto-replied"},
            date=later(95),
        ),
        b"\x00\x00 not mail at all \xff\xfe",
    ]


def run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    main(["ingest", str(path), "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out  # exactly one JSON object on stdout
    summary = json.loads(out[0])
    assert list(summary) == KEYS
    assert sum(summary[k] for k in KEYS[1:]) == summary["read"]
    return summary


def test_eml_folder_then_again_is_all_duplicates(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for index, raw in enumerate(messages()):
        (folder / f"{index:02d}.eml").write_bytes(raw)
    assert run_json(folder, capsys) == {
        "read": 5,
        "opened": 2,
        "attached": 1,
        "automatic": 1,
        "duplicates": 0,
        "quarantined": 1,
        "outgoing": 0,
    }
    again = run_json(folder, capsys)  # re-running a back-fill logs nothing twice
    assert again == {
        "read": 5, "opened": 0, "attached": 0, "automatic": 0,
        "duplicates": 4, "quarantined": 1, "outgoing": 0,
    }  # fmt: skip
    engine = make_engine(cli_env)
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 2
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 4
        assert session.execute(select(func.count()).select_from(QuarantinedMessage)).scalar_one() == 1
    engine.dispose()


def test_maildir(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in messages()[:4]:
        box.add(raw)
    summary = run_json(tmp_path / "Maildir", capsys)
    assert (summary["read"], summary["opened"], summary["attached"], summary["automatic"]) == (4, 2, 1, 1)


def test_mbox_with_human_summary(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = mailbox.mbox(tmp_path / "export.mbox", create=True)
    for raw in messages()[:4]:
        box.add(raw)
    box.flush()
    box.close()
    main(["ingest", str(tmp_path / "export.mbox")])
    out = capsys.readouterr().out
    assert "Read 4 message(s): 2 opened a case, 1 joined a case, 1 automatic" in out


@pytest.mark.parametrize("name", ["missing", "empty-folder", "text-file"])
def test_bad_path_is_a_clear_error(
    name: str,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEWORK_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    path = tmp_path / name
    if name == "empty-folder":
        path.mkdir()
    elif name == "text-file":
        path.write_text("just some notes\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["ingest", str(path)])
    get_settings.cache_clear()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Maildir" in err and "Traceback" not in err


def test_files_are_logged_in_date_order_so_replies_find_their_case(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an export named by subject: "a-reply.eml" sorts before "b-original.eml"
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a-reply.eml").write_bytes(
        eml(
            subject="Re: Street lighting",
            message_id="<m2@example.org>",
            in_reply_to="<m1@example.org>",
            body="Any news?\n",
            date=later(90),
        )
    )
    (folder / "b-original.eml").write_bytes(eml())
    (folder / "c-undated.eml").write_bytes(b"From: z@example.org\r\nSubject: no date\r\n\r\nHello there.\r\n")
    summary = run_json(folder, capsys)
    assert (summary["opened"], summary["attached"]) == (2, 1)
