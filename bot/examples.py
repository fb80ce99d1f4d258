"""Sample Block Kit messages for ``docs/slack-messages/`` (paste into Block Kit Builder).

Built from fixed, invented rows with the real builders, so the saved JSON always shows what
users see. Regenerate with ``python -m bot.examples docs/slack-messages``; a test fails when the
saved files and the builders disagree.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot import blocks, case_file, deadlines
from bot.queries import CaseDetail, CaseList, Letter
from bot.ranges import Range
from casework.settings import Settings
from store.models import Case, CaseEvent, Correspondent, Draft, Message

TODAY = date(2013, 4, 10)


def _settings() -> Settings:
    return Settings(_env_file=None, triage_channel="C0TRIAGE")  # type: ignore[call-arg]


def sample_detail(*, messages: int = 2) -> CaseDetail:
    received = datetime(2013, 4, 8, 9, 14, tzinfo=UTC)
    case = Case(
        id=1,
        reference="WMOPC-2013-000123",
        category="complaint",
        status="open",
        received_at=received,
        received_on=date(2013, 4, 8),
        due_on=date(2013, 5, 7),
        status_changed_at=received,
        subject="Officer was rude when I reported my stolen bike",
        assignee="U0CASEWKR",
        confidence=0.87,
        reasons=["mentions an officer's conduct ('rude')", "from a member of the public"],
    )
    person = Correspondent(id=1, email="j.bloggs@example.org", name="Joe Bloggs")
    body = (
        "Dear Commissioner,\nOn Saturday I went to the front desk to report my bike stolen and the officer "
        "was rude and refused to take the details.\nI would like this looked into.\nJoe"
    )
    rows = [
        Message(
            id=n + 1,
            case_id=1,
            raw_sha256=str(n),
            from_addr=person.email,
            from_name=person.name,
            subject=case.subject if n == 0 else f"Re: {case.subject}",
            body_text=body,
            received_at=received,
            raw=b"",
        )
        for n in range(messages)
    ]
    events = [
        CaseEvent(id=1, case_id=1, at=received, actor="intake", kind="created", new_value="open"),
        CaseEvent(
            id=2,
            case_id=1,
            at=datetime(2013, 4, 8, 10, 2, tzinfo=UTC),
            actor="U0CASEWKR",
            kind="assign",
            new_value="U0CASEWKR",
        ),
    ]
    return CaseDetail(
        case=case,
        correspondent=person,
        messages=rows[:8],
        message_count=messages,
        events=events,
        event_count=2,
        first_body=body,
    )


def sample_tables() -> dict[str, Any]:
    months = ["2013-01", "2013-02", "2013-03"]
    cats = [
        {
            "month": m,
            "correspondence": 90 + i,
            "complaint": 30,
            "foi": 3,
            "campaign": 1,
            "officer_correspondence": 0,
            "consultation": 0,
            "total": 124 + i,
        }
        for i, m in enumerate(months)
    ]
    cats.append(
        {
            "month": "total",
            "correspondence": 273,
            "complaint": 90,
            "foi": 9,
            "campaign": 3,
            "officer_correspondence": 0,
            "consultation": 0,
            "total": 375,
        }
    )
    statuses = [
        {"month": "total", "open": 12, "in_progress": 30, "monitoring": 21, "closed": 312, "total": 375}
    ]
    closure = [{"month": m, "closed": 100 + i, "pct_within_deadline": 80.0 + i} for i, m in enumerate(months)]
    closure.append(
        {
            "month": "total",
            "closed": 303,
            "avg_days": 19.4,
            "within_28": 250,
            "pct_within_28": 82.5,
            "avg_working_days": 13.2,
            "within_deadline": 246,
            "pct_within_deadline": 81.2,
        }
    )
    aged = [{"month": "total", "open": 2, "in_progress": 18, "monitoring": 20, "total": 40}]
    return {
        "from": "2013-01-01",
        "to": "2013-03-31",
        "as_of": "2013-04-10",
        "categories": cats,
        "statuses": statuses,
        "closure_times": closure,
        "aged_unclosed": aged,
        "calls": [],
    }


def sample_week() -> list[dict[str, Any]]:
    return [
        {
            "week_commencing": "total",
            "received": 96,
            "within_target": 90,
            "over_target": 2,
            "unanswered": 4,
            "busy": 0,
            "avg_response_s": 4.8,
            "pct_answered": 95.8,
            "pct_within_target": 93.8,
        }
    ]


def messages() -> dict[str, Any]:
    """Every sample, by file name."""
    settings = _settings()
    detail = sample_detail()
    text, triage = blocks.triage_message(detail, settings, TODAY)
    minimal_text, minimal = blocks.triage_message(detail, settings, TODAY, level="minimal")
    mine = CaseList(cases=[detail.case], total=1)
    return {
        "triage-message.json": {"text": text, "blocks": triage},
        "triage-message-minimal.json": {"text": minimal_text, "blocks": minimal},
        "case-view.json": {"blocks": blocks.case_blocks(detail, settings, TODAY)},
        "summary.json": {
            "blocks": blocks.summary_blocks(
                sample_tables(),
                Range(date(2013, 1, 1), date(2013, 3, 31), "1 Jan 2013 to 31 Mar 2013"),
                sample_week(),
            )
        },
        "app-home.json": blocks.home_view(
            user_id="U0CASEWKR", allowed=True, mine=mine, overdue_total=3, settings=settings, today=TODAY
        ),
        "help.json": {"blocks": blocks.help_blocks()},
        "deadline-warning.json": deadlines.example(),
        **case_file_samples(detail),
    }


def case_file_samples(detail: CaseDetail) -> dict[str, Any]:
    """The case file's modals and the approver's DM, for the same invented case."""
    case = Case(**{**detail.case.model_dump(), "stage": "awaiting_signoff", "drafts": 1})
    draft = Draft(
        id=1,
        case_id=1,
        version=1,
        subject=f"Re: [{case.reference}] {case.subject}",
        body="Dear Mr Bloggs,\n\nThank you for your letter. I have asked the force to look into it.\n\n"
        "Yours sincerely,\nOffice of the Police and Crime Commissioner",
        author="U0CASEWKR",
        state="awaiting_signoff",
    )
    text, dm = case_file.signoff_message(
        case=case, draft=draft, correspondent="Joe Bloggs (j.bloggs@example.org)", requested_by="U0CASEWKR"
    )
    letter = Letter(
        pk=1,
        direction="in",
        at=case.received_at,
        sender="Joe Bloggs <j.bloggs@example.org>",
        to=["casework@pcc.example.gov.uk"],
        subject=case.subject,
        body=detail.first_body,
    )
    _text, prompt = case_file.close_prompt(
        case=case,
        message_pk=2,
        sent_on=date(2013, 4, 12),
        to=["j.bloggs@example.org"],
        subject="Re: your bike",
    )
    return {
        "signoff-dm.json": {"text": text, "blocks": dm},
        "read-letter-modal.json": case_file.read_letter_view(
            reference=case.reference, letters=[letter], total=1, shown=letter, page=0
        ),
        "draft-reply-modal.json": case_file.draft_view(
            reference=case.reference,
            subject=draft.subject,
            body=draft.body,
            source="From the complaint response template",
            meta={"channel": "C0TRIAGE", "ts": "1365412440.000100"},
        ),
        "close-prompt.json": {"blocks": prompt},
    }


def render(name: str, message: Any) -> str:
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    folder = Path(argv[0] if argv else "docs/slack-messages")
    folder.mkdir(parents=True, exist_ok=True)
    for name, message in messages().items():
        (folder / name).write_text(render(name, message), encoding="utf-8")
        print(folder / name)


if __name__ == "__main__":
    main(sys.argv[1:])
