"""``casework demo`` shows the lifecycle: cases drafted, with the approver, approved and answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from store.db import make_engine, session_scope
from store.models import Case, Draft
from tests.support.cli import run_cli


def test_demo_walks_cases_through_every_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--today", "2026-11-25", "--report-dir", str(tmp_path / "report")]
    first = run_cli(args, database_url="sqlite:///ignored.db", monkeypatch=monkeypatch, capsys=capsys)
    assert first.exit_code == 0, first.stderr
    assert "lifecycle: 4 drafting, 3 awaiting signoff, 2 ready to send, 3 answered" in first.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'casework-demo.db'}")
    with session_scope(engine) as session:
        answered = session.execute(select(Case).where(Case.responded_at.is_not(None))).scalars().all()  # type: ignore[union-attr]
        assert len(answered) == 3
        assert all(c.status == "closed" and c.closed_at == c.responded_at for c in answered)
        returned = session.execute(select(Draft).where(Draft.state == "returned")).scalars().all()
        assert returned and all(d.decision_note for d in returned)
        drafts = session.execute(select(Case.drafts).where(Case.drafts > 0)).scalars().all()
        reference = answered[0].reference
    assert max(drafts) == 2 and len(drafts) == 12
    shown = run_cli(
        ["case", "show", reference, "--json"],
        database_url=f"sqlite:///{tmp_path / 'casework-demo.db'}",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert '"direction": "out"' in shown.stdout
    again = run_cli(args, database_url="sqlite:///ignored.db", monkeypatch=monkeypatch, capsys=capsys)
    assert "lifecycle:" not in again.stdout and "drafting 4" in again.stdout  # the second run changes nothing
