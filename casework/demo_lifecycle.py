"""Demo data for the case lifecycle: some recent demo cases drafted, signed off and answered.

Runs after the demo's cases are loaded and walks a dozen of the newest unclosed ones through
the real store functions (:mod:`store.lifecycle`, :mod:`store.outgoing`), so ``casework demo``
shows every stage: drafts from the response templates (one returned for redraft with its
reason), drafts with the approver, approved replies waiting to go, and cases answered by a
reply captured from the office's mail (closed on the reply's date, ``responded_at`` set).
Nothing is sent anywhere; a second run finds the drafts and changes nothing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from casework.settings import Settings
from store import lifecycle
from store.cases import assign
from store.enums import Stage, Status
from store.models import Case, Correspondent, Draft
from store.outgoing import Captured, record_captured

DEMO_APPROVER = "U0DEMOPCC"
DEMO_CASEWORKER = "U0DEMOCW1"
#: how many cases end in each stage, in the order they are picked
PLAN = (("drafting", 4), ("awaiting_signoff", 3), ("ready_to_send", 2), ("answered", 3))


def load(session: Session, *, settings: Settings, today: date) -> Counter[str]:
    """Walk some recent demo cases through the lifecycle; how many ended in each stage."""
    done: Counter[str] = Counter()
    if session.execute(select(func.count()).select_from(Draft)).scalar_one():
        return done  # loaded before
    settings = settings.model_copy(update={"approvers": [DEMO_APPROVER], "close_on_response": "always"})
    wanted = sum(n for _stage, n in PLAN)
    cases = list(
        session.execute(
            select(Case)
            .where(col(Case.status).in_([Status.OPEN.value, Status.IN_PROGRESS.value]))
            .where(
                col(Case.received_on) >= today - timedelta(days=40),
                col(Case.received_on) <= today - timedelta(days=3),
            )
            .order_by(col(Case.received_at).desc())
            .limit(wanted)
        ).scalars()
    )
    plan = [stage for stage, n in PLAN for _ in range(n)]
    for n, (case, end) in enumerate(zip(cases, plan, strict=False)):
        assign(session, case=case, assignee=DEMO_CASEWORKER, actor=DEMO_CASEWORKER)
        body = lifecycle.render_template(session, case=case, settings=settings)
        lifecycle.save_draft(session, case=case, author=DEMO_CASEWORKER, body=body, settings=settings)
        if end == "answered":
            _answer(session, case, settings, body, today)
        elif end != "drafting" or n % 2:
            lifecycle.request_signoff(session, case=case, actor=DEMO_CASEWORKER, settings=settings)
            if end == "drafting":  # returned with a reason, redrafted
                lifecycle.return_for_redraft(
                    session,
                    case=case,
                    actor=DEMO_APPROVER,
                    settings=settings,
                    reason="Please say when the force will reply.",
                )
                lifecycle.save_draft(
                    session,
                    case=case,
                    author=DEMO_CASEWORKER,
                    settings=settings,
                    body=body + "\nThe force will reply to us within ten working days.\n",
                )
            elif end == "ready_to_send":
                lifecycle.approve(session, case=case, actor=DEMO_APPROVER, settings=settings)
        done[end] += 1
        assert Stage(case.stage)  # every case is in a real stage
    session.flush()
    return done


def _answer(session: Session, case: Case, settings: Settings, body: str, today: date) -> None:
    """A reply sent from the office's mail and captured: the case closes on its Date."""
    person = session.get(Correspondent, case.correspondent_id) if case.correspondent_id else None
    to = person.email if person else "someone@home.example.org"
    sent = min(
        datetime.combine(case.received_on + timedelta(days=2), time(15, 0), tzinfo=UTC),
        datetime.combine(today, time(9, 0), tzinfo=UTC),
    )
    message_id = f"<{case.reference}.demo-reply@opcc.example.org>"
    subject = f"Re: [{case.reference}] {case.subject}"
    raw = (
        f"From: PCC Office <office@opcc.example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(sent)}\r\nMessage-ID: {message_id}\r\n\r\n{body}"
    ).encode()
    captured = Captured(
        message_id=message_id,
        raw=raw,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
        from_addr="office@opcc.example.org",
        from_name="PCC Office",
        to_addrs=[to],
        subject=f"Re: [{case.reference}] {case.subject}",
        sent_at=sent,
        in_reply_to=None,
        references=[],
        body_text=body,
        source="demo",
    )
    record_captured(
        session, case=case, captured=captured, settings=settings, how="case reference in the subject"
    )
