"""The IMAP poller against a real Dovecot, on SQLite and PostgreSQL: one pass at a time.

Each test pins down one promise of ``casework poll --once``: every delivered message logged
once, marked on the server only after its commit, nothing new on a second pass; flag and
move modes; STARTTLS and implicit TLS; UIDVALIDITY changes; clear errors for bad settings.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from casework.commands import poll as poll_command
from casework.settings import Settings, get_settings
from intake.poller import poll_once
from intake.sources.imap import ImapRefused, ImapSettingsMissing, ImapUnavailable, mailbox_key
from store.db import session_scope
from store.models import MailboxState, Message
from tests.conftest import make_settings
from tests.support.dovecot import Dovecot, dovecot_fixture, make_message, message_id_of, pipeline_for  # noqa: F401

pytestmark = pytest.mark.dovecot


def logged_message_ids(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        return Counter(m for (m,) in session.execute(select(Message.message_id)))


def cases_of(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count(func.distinct(Message.case_id)))).scalar_one())


def flags_by_message_id(server: Dovecot, folder: str = "INBOX") -> dict[str, set[bytes]]:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search(["ALL"])
        if not uids:
            return {}
        data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    out = {}
    for item in data.values():
        header = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode()
        out[header.split(":", 1)[1].strip()] = set(item[b"FLAGS"])
    return out


def test_poll_once_logs_each_message_once_and_flags_it_after_commit(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """Flag mode: all delivered mail logged once, flagged, \\Seen untouched; a second pass is empty."""
    cfg = dovecot.settings(settings.database_url)
    raws = [make_message(i, tag="flag") for i in range(6)]
    for raw in raws:
        dovecot.deliver(raw)
    pipeline = pipeline_for(cfg, engine)

    summary = poll_once(cfg, engine, pipeline=pipeline)

    assert summary["read"] == 6
    outcomes = ("opened", "attached", "automatic", "duplicates", "quarantined")
    assert summary["read"] == sum(summary[k] for k in outcomes)
    assert summary["opened"] == 6
    ids = logged_message_ids(engine)
    assert ids == Counter({message_id_of(r): 1 for r in raws})
    flags = flags_by_message_id(dovecot)
    assert set(flags) == set(ids)
    for f in flags.values():
        assert cfg.imap_processed_flag.encode() in f
        assert b"\\Seen" not in f  # BODY.PEEK[]: the office's own "unread" marks are left alone

    again = poll_once(cfg, engine, pipeline=pipeline)
    assert again["read"] == 0
    assert logged_message_ids(engine) == ids

    dovecot.deliver(make_message(99, tag="flag"))
    third = poll_once(cfg, engine, pipeline=pipeline)
    assert (third["read"], third["opened"]) == (1, 1)
    with session_scope(engine) as session:
        state = session.execute(select(MailboxState)).scalar_one()
        assert state.mailbox == mailbox_key(cfg)
        assert state.last_uid == 7


def test_unmarked_message_already_logged_is_a_duplicate_and_gets_marked(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """Crash between commit and mark: the next pass reads it again, gets "duplicate", marks it."""
    cfg = dovecot.settings(settings.database_url)
    raw = make_message(1, tag="dup")
    pipeline = pipeline_for(cfg, engine)
    assert pipeline.process(raw, source="earlier run").kind == "opened"  # committed, never marked
    dovecot.deliver(raw)

    summary = poll_once(cfg, engine, pipeline=pipeline)

    assert (summary["read"], summary["duplicates"], summary["opened"]) == (1, 1, 0)
    assert logged_message_ids(engine) == Counter({message_id_of(raw): 1})
    assert cfg.imap_processed_flag.encode() in flags_by_message_id(dovecot)[message_id_of(raw)]


def test_move_mode_moves_logged_mail_to_the_processed_folder(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """Move mode: the inbox empties into CASEWORK_IMAP_PROCESSED_FOLDER (created when missing)."""
    cfg = dovecot.settings(settings.database_url, imap_mark="move", imap_processed_folder="Casework/Logged")
    raws = [make_message(i, tag="move") for i in range(4)]
    for raw in raws:
        dovecot.deliver(raw)

    summary = poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))

    assert (summary["read"], summary["opened"]) == (4, 4)
    assert flags_by_message_id(dovecot) == {}
    assert set(flags_by_message_id(dovecot, "Casework/Logged")) == {message_id_of(r) for r in raws}
    assert poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))["read"] == 0
    assert sum(logged_message_ids(engine).values()) == 4


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_modes_with_the_throwaway_certificate(
    dovecot: Dovecot, settings: Settings, engine: Engine, tls: str
) -> None:
    """STARTTLS on the plain port and implicit TLS on the imaps port, verified with the CA file."""
    cfg = dovecot.settings(settings.database_url, tls=tls)
    dovecot.deliver(make_message(1, tag=tls))
    summary = poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))
    assert (summary["read"], summary["opened"]) == (1, 1)


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_unverifiable_certificate_is_refused_clearly(dovecot: Dovecot, sqlite_url: str, tls: str) -> None:
    """Without the CA file the self-signed certificate fails verification: a clear error, nothing logged."""
    cfg = dovecot.settings(sqlite_url, tls=tls, imap_ca_file="")
    dovecot.deliver(make_message(1, tag="nocert"))
    from store.db import make_engine

    engine = make_engine(sqlite_url)
    with pytest.raises(ImapRefused, match="CASEWORK_IMAP_CA_FILE"):
        poll_once(cfg, engine, pipeline=pipeline_for(cfg, engine))
    assert sum(logged_message_ids(engine).values()) == 0
    engine.dispose()


def test_uidvalidity_change_rereads_the_folder_without_duplicates(
    dovecot: Dovecot, settings: Settings, engine: Engine
) -> None:
    """Folder deleted and re-created (new UIDVALIDITY, UIDs from 1): all read again, none doubled."""
    cfg = dovecot.settings(settings.database_url, imap_folder="Intake")
    old = [make_message(i, tag="uidv") for i in range(3)]
    with dovecot.client() as client:
        client.create_folder("Intake")
        for raw in old:
            client.append("Intake", raw)
        before = client.select_folder("Intake")[b"UIDVALIDITY"]
    pipeline = pipeline_for(cfg, engine)
    assert poll_once(cfg, engine, pipeline=pipeline)["opened"] == 3

    new = make_message(50, tag="uidv")
    with dovecot.client() as client:
        client.delete_folder("Intake")
        time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        client.create_folder("Intake")
        # The new message gets UID 1, below the old last UID 3: only a reset finds it.
        for raw in [new, *old]:
            client.append("Intake", raw)
        after = client.select_folder("Intake")[b"UIDVALIDITY"]
    assert after != before

    summary = poll_once(cfg, engine, pipeline=pipeline)

    assert (summary["read"], summary["opened"], summary["duplicates"]) == (4, 1, 3)
    assert logged_message_ids(engine) == Counter({message_id_of(r): 1 for r in [*old, new]})
    with session_scope(engine) as session:
        assert session.execute(select(MailboxState.uidvalidity)).scalar_one() == after


def test_missing_settings_are_named(sqlite_url: str) -> None:
    """No host, user or password: one clear error naming the variables, before any connection."""
    from store.db import make_engine

    engine = make_engine(sqlite_url)
    with pytest.raises(ImapSettingsMissing) as err:
        poll_once(make_settings(sqlite_url), engine)
    for name in ("CASEWORK_IMAP_HOST", "CASEWORK_IMAP_USER", "CASEWORK_IMAP_PASSWORD"):
        assert name in str(err.value)
    engine.dispose()


def test_wrong_password_and_unreachable_server_are_clear(dovecot: Dovecot, sqlite_url: str) -> None:
    """A refused login names the settings to check; a closed port says the server cannot be reached."""
    from store.db import make_engine

    engine = make_engine(sqlite_url)
    with pytest.raises(ImapRefused, match="CASEWORK_IMAP_PASSWORD"):
        poll_once(dovecot.settings(sqlite_url, imap_password="wrong"), engine)
    dovecot.stop()
    with pytest.raises(ImapUnavailable, match="CASEWORK_IMAP_HOST"):
        poll_once(dovecot.settings(sqlite_url), engine)
    engine.dispose()


def _cli(env: dict[str, str], args: list[str]) -> object:
    app = typer.Typer()
    poll_command.register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep "poll" a sub-command, as in the real CLI
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


def test_cli_poll_once_json(dovecot: Dovecot, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`casework poll --once --json` prints the summary keys; missing settings exit 2 naming them."""
    monkeypatch.chdir(dovecot.dir)  # no stray .env
    dovecot.deliver(make_message(1, tag="cli"))
    result = _cli(dovecot.env(sqlite_url), ["poll", "--once", "--json"])
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.output)  # type: ignore[attr-defined]
    keys = ["read", "opened", "attached", "automatic", "duplicates", "quarantined", "outgoing"]
    assert list(summary) == keys
    assert (summary["read"], summary["opened"]) == (1, 1)

    result = _cli({"CASEWORK_DATABASE_URL": sqlite_url}, ["poll", "--once"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ImapSettingsMissing)  # type: ignore[attr-defined]
