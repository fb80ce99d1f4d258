"""Letters holding a unique phrase and address, ingested as the office would, and the checks
that neither is left anywhere in the database: the SQLite file and its WAL, or a pg_dump."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.cli import Result, run_cli
from tests.support.intake_mail import CAMPAIGN_TEXT

#: Zara writes alone; what identifies her, in every field a letter can put it
ZARA = "zara.quillfeather@quill-hidden.example"
ZARA_SECRETS = ["zebraquill8841", "Quillon Crescent", "quillfeather", "quill-hidden"]
#: Quentin is one of several senders of a campaign
QUENTIN = "quentin.zephyrine@zephyr-hidden.example"
QUENTIN_SECRETS = ["zephyrine4410", "Larkspur Mews", "zephyr-hidden"]
OTHERS = ["ann@example.org", "ben@example.net", "cat@example.com"]


def letter(
    sender: str,
    subject: str,
    body: str,
    message_id: str,
    when: datetime,
    *,
    reply_to: str | None = None,
    attachment: bytes | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "casework@pcc.example.gov.uk"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="text", subtype="plain", filename="zebraquill8841-notes.txt")
    return msg.as_bytes()


def mailbox(folder: Path) -> Path:
    """Zara's complaint and her follow-up (with an attachment), a campaign of four, one other letter."""
    folder.mkdir(parents=True, exist_ok=True)
    t = datetime(2013, 3, 4, 10, 0, tzinfo=UTC)
    letters = [
        letter(
            f"Zara Quillfeather <{ZARA}>",
            "Complaint: the zebraquill8841 incident",
            "Dear Commissioner,\n\nI want to complain about how officers handled the zebraquill8841 "
            "marmalade incident outside my home at Flat 9, 17 Quillon Crescent, Dudley DY9 9ZQ.\n\n"
            "Zara Quillfeather\n",
            "<zq1@quill-hidden.example>",
            t,
        ),
        letter(
            f"Zara Quillfeather <{ZARA}>",
            "Re: Complaint: the zebraquill8841 incident",
            "I attach my notes about zebraquill8841. Write to 17 Quillon Crescent.\n",
            "<zq2@quill-hidden.example>",
            t.replace(hour=15),
            reply_to="<zq1@quill-hidden.example>",
            attachment=b"Notes: zebraquill8841 at Quillon Crescent.\n",
        ),
        letter(
            "bob@example.net",
            "Speeding",
            "Cars race down Station Road every night.\n",
            "<b1@example.net>",
            t.replace(day=5),
        ),
    ]
    senders = [f"Quentin Zephyrine <{QUENTIN}>", *OTHERS]
    for n, sender in enumerate(senders):
        signature = "Quentin Zephyrine, zephyrine4410 Larkspur Mews" if n == 0 else f"Sender {n}"
        letters.append(
            letter(
                sender,
                "Protect neighbourhood policing",
                CAMPAIGN_TEXT + signature + "\n",
                f"<c{n}@campaign.example>",
                t.replace(day=6, hour=9 + n),
            )
        )
    for n, data in enumerate(letters):
        (folder / f"{n:02d}.eml").write_bytes(data)
    return folder


def cli(
    args: list[str],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str] | None = None,
) -> Result:
    result = run_cli(args, database_url=database_url, monkeypatch=monkeypatch, capsys=capsys, env=env)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def stats_json(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """``casework stats --json`` over several periods, as printed (compared byte for byte)."""
    periods = [("2013-01-01", "2013-12-31"), ("2013-03-01", "2013-03-31"), ("2010-01-01", "2029-12-31")]
    found = []
    for start, end in periods:
        args = ["stats", "--from", start, "--to", end, "--as-of", "2029-12-31", "--json"]
        found.append(cli(args, database_url, monkeypatch, capsys).stdout)
        json.loads(found[-1])
    return found


def database_bytes(database_url: str, tmp_path: Path) -> bytes:
    """Everything the database holds on disk (SQLite: the file and its WAL) or in a pg_dump."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        data = path.read_bytes()
        for suffix in ("-wal", "-journal"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                data += extra.read_bytes()
        return data
    dump = tmp_path / "dump.sql"
    subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-f",
            str(dump),
            str(url.database),
        ],
        check=True,
        timeout=120,
    )
    return dump.read_bytes()


def leftovers(data: bytes, secrets: list[str]) -> list[str]:
    """The secrets found in ``data``: as text, and as pg_dump writes bytea (hex)."""
    lowered = data.lower()
    found = []
    for secret in secrets:
        plain = secret.lower().encode()
        if plain in lowered or secret.encode().hex().encode() in lowered:
            found.append(secret)
    return found
