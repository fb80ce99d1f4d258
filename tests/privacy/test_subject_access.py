"""``casework person export``: every message of the person, their cases' history and audit rows,
as a readable HTML page and a JSON file; other campaign senders' letters are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from store.db import make_engine, session_scope
from store.models import AuditEntry, Message
from tests.privacy.support import OTHERS, QUENTIN, ZARA, cli
from tests.privacy.test_deletion import _case_of, _ingest, cli_fail


def test_export_holds_every_message_of_the_person(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    zara = _case_of(database_url, ZARA)
    cli(["case", "show", zara], database_url, monkeypatch, capsys)  # a look the export must report
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        bodies = list(
            session.execute(select(col(Message.body_text)).where(col(Message.from_addr) == ZARA)).scalars()
        )
    engine.dispose()
    assert len(bodies) == 2

    out = tmp_path / "sar"
    said = cli(["person", "export", ZARA, "--out", str(out)], database_url, monkeypatch, capsys).stdout
    assert "1 case(s), 2 message(s)" in said
    data = json.loads((out / "subject-access.json").read_text(encoding="utf-8"))
    assert data["person"] == {"email": ZARA, "name": "Zara Quillfeather"}
    assert sorted(m["body_text"] for m in data["records"]["messages"]) == sorted(bodies)
    [case] = data["cases"]
    assert case["reference"] == zara and case["role"] == "sole correspondent"
    assert case["events"][0]["kind"] == "created"
    assert [(a["action"], a["detail"]) for a in case["audit"]] == [("viewed", "case show")]
    [attachment] = data["records"]["attachments"]
    assert (out / attachment["content_file"]).read_bytes() == b"Notes: zebraquill8841 at Quillon Crescent.\n"
    for message in data["records"]["messages"]:
        assert (out / message["raw_file"]).read_bytes().startswith(b"From: ") or b"Message-ID" in (
            out / message["raw_file"]
        ).read_bytes()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "zebraquill8841 marmalade incident" in page and zara in page and attachment["content_file"] in page

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        trail = (
            session.execute(select(AuditEntry).where(col(AuditEntry.action) == "subject_access_export"))
            .scalars()
            .all()
        )
        assert [(a.case_reference, a.actor.startswith("cli:")) for a in trail] == [(zara, True)]
        assert all(ZARA not in a.detail for a in session.execute(select(AuditEntry)).scalars())
    engine.dispose()
    # a used folder is refused rather than mixed up
    assert "not empty" in cli_fail(
        ["person", "export", ZARA, "--out", str(out)], database_url, monkeypatch, capsys
    )


def test_a_campaign_senders_export_leaves_out_the_other_senders(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, database_url, monkeypatch, capsys)
    out = tmp_path / "sar"
    cli(["person", "export", QUENTIN, "--out", str(out)], database_url, monkeypatch, capsys)
    data = json.loads((out / "subject-access.json").read_text(encoding="utf-8"))
    assert [m["from_addr"] for m in data["records"]["messages"]] == [QUENTIN]
    assert [c["role"] for c in data["cases"]] == ["one of several senders"]
    text = (out / "subject-access.json").read_text(encoding="utf-8") + (out / "index.html").read_text(
        encoding="utf-8"
    )
    assert not any(other in text for other in OTHERS)
    assert "Nothing is held" in cli_fail(
        ["person", "export", "nobody@example.org", "--out", str(tmp_path / "x")],
        database_url,
        monkeypatch,
        capsys,
    )
