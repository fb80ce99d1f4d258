"""The briefing pack for a session: who is coming, in time order, and their casework.

For each slot: the person's name and access needs; each of their cases (reference, category,
status, received and due dates, the first lines of the last three messages, the latest notes);
and their earlier surgery appointments with the hosts' notes. Written as one HTML page and
printed to PDF through the Board report's Chromium route (:mod:`casework.report.pdf`).

It is personal data about people with open cases, so it goes only to caseworkers and the
hosts (``CASEWORK_SURGERY_HOSTS``): the scheduler queues it to the hosts' Slack DMs the working
day before the session (a ``slack.file`` outbox row), and every sending is recorded on each
case in it, like a case being viewed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from casework.settings import Settings
from store import surgeries
from store.enums import Category, EventKind, Status
from store.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    Correspondent,
    Message,
    SurgeryBooking,
    SurgerySession,
)
from store.outbox import enqueue
from store.surgery_mail import HOST_TITLES, slot_end, slot_start, what, where
from store.types import utcnow
from store.workdays import LONDON

log = logging.getLogger(__name__)

#: the ``source`` of the surgery emails written on a case (left out of "the last messages")
SURGERY_SOURCE = "surgeries"
#: the outbox kind the bot's sender uploads to a DM
FILE_KIND = "slack.file"


@dataclass
class CaseBrief:
    reference: str
    category: str
    status: str
    received_on: date
    due_on: date
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class SlotBrief:
    slot: int
    time: str
    name: str
    needs: str
    status: str
    cases: list[CaseBrief]
    earlier: list[str]


@dataclass
class Brief:
    title: str
    place: str
    slots: list[SlotBrief]
    case_ids: list[int]


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith(">"):
            return line[:200]
    return "(no text)"


def _cases(session: Session, booking: SurgeryBooking) -> list[Case]:
    """The booking's case first, then the person's other cases, newest first."""
    found: list[Case] = []
    own = surgeries.case_of(session, booking)
    if own is not None:
        found.append(own)
    person = session.execute(
        select(Correspondent).where(Correspondent.email == booking.email)  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if person is not None:
        others = session.execute(
            select(Case)
            .join(CaseParticipant, CaseParticipant.case_id == Case.id)  # type: ignore[arg-type]
            .where(CaseParticipant.correspondent_id == person.id)  # type: ignore[arg-type]
            .order_by(col(Case.received_at).desc())
            .limit(10)
        ).scalars()
        found += [c for c in others if own is None or c.id != own.id]
    return found


def _case_brief(session: Session, case: Case) -> CaseBrief:
    messages = session.execute(
        select(Message.body_text, Message.direction)  # type: ignore[call-overload]
        .where(Message.case_id == case.id, Message.source != SURGERY_SOURCE)  # not our own invitations
        .order_by(col(Message.received_at).desc(), col(Message.id).desc())
        .limit(3)
    ).all()
    notes = session.execute(
        select(CaseEvent.note, CaseEvent.at)  # type: ignore[call-overload]
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == EventKind.NOTE.value,
            CaseEvent.note != "",
            ~col(CaseEvent.note).startswith("surgery "),  # the bookings' own history is shown apart
        )
        .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc())
        .limit(3)
    ).all()
    return CaseBrief(
        reference=case.reference,
        category=Category(case.category).label,
        status=Status(case.status).label,
        received_on=case.received_on,
        due_on=case.due_on,
        messages=[
            ("→ " if row.direction == "out" else "← ") + _first_line(row.body_text) for row in messages
        ],
        notes=[f"{row.at.astimezone(LONDON):%-d %b %Y}: {row.note}" for row in notes],
    )


def _earlier(session: Session, booking: SurgeryBooking, sitting: SurgerySession) -> list[str]:
    rows = session.execute(
        select(SurgeryBooking, SurgerySession)
        .join(SurgerySession, SurgerySession.id == SurgeryBooking.session_id)  # type: ignore[arg-type]
        .where(
            SurgeryBooking.email == booking.email,  # type: ignore[arg-type]
            SurgeryBooking.id != booking.id,  # type: ignore[arg-type]
            col(SurgerySession.starts_at) < sitting.starts_at,
            col(SurgeryBooking.status).in_(("attended", "no_show", "cancelled")),
        )
        .order_by(col(SurgerySession.starts_at).desc())
        .limit(10)
    ).all()
    lines = []
    for earlier, at in rows:
        outcome = {"attended": "attended", "no_show": "did not attend", "cancelled": "cancelled"}[
            earlier.status
        ]
        note = f" — {earlier.note}" if earlier.note else ""
        lines.append(f"{at.starts_at.astimezone(LONDON):%-d %b %Y} ({what(at)}, {at.host}): {outcome}{note}")
    return lines


def gather(session: Session, *, sitting: SurgerySession) -> Brief:
    taken = surgeries.taken_slots(session, sitting)
    slots, case_ids = [], []
    for slot in sorted(taken):
        booking = taken[slot]
        cases = _cases(session, booking)
        case_ids += [c.id for c in cases if c.id is not None]
        start = slot_start(sitting, slot).astimezone(LONDON)
        end = slot_end(sitting, slot).astimezone(LONDON)
        slots.append(
            SlotBrief(
                slot=slot,
                time=f"{start:%H:%M}–{end:%H:%M}",
                name=booking.name,
                needs=booking.needs,
                status=booking.status,
                cases=[_case_brief(session, c) for c in cases],
                earlier=_earlier(session, booking, sitting),
            )
        )
    start = sitting.starts_at.astimezone(LONDON)
    title = f"Briefing: {what(sitting)} with {HOST_TITLES[sitting.host]}, {start:%A %-d %B %Y %H:%M}"
    return Brief(title=title, place=where(sitting), slots=slots, case_ids=list(dict.fromkeys(case_ids)))


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.4em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-top: 1px solid #888; padding-top: .6em; }
.needs { background: #fff3c4; padding: .3em .5em; font-weight: bold; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #aaa; padding: .2em .5em; text-align: left; }
section { page-break-inside: avoid; }
"""


def render_html(brief: Brief) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(brief.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(brief.title)}</h1><p>{e(brief.place)} · {len(brief.slots)} appointment(s) · "
        "OFFICIAL-SENSITIVE: for the hosts and the casework team only</p>",
    ]
    if not brief.slots:
        parts.append("<p>No appointments are booked.</p>")
    for slot in brief.slots:
        parts.append(f"<section><h2>{e(slot.time)} · slot {slot.slot} · {e(slot.name)}</h2>")
        if slot.status == "offered":
            parts.append("<p><em>Offered from the waiting list; not yet confirmed.</em></p>")
        parts.append(
            f"<p class='needs'>Access needs: {e(slot.needs)}</p>"
            if slot.needs
            else "<p>No access needs recorded.</p>"
        )
        for case in slot.cases:
            parts.append(
                f"<h3>{e(case.reference)}</h3><table><tr><th>Category</th><th>Status</th><th>Received</th>"
                f"<th>Due</th></tr><tr><td>{e(case.category)}</td><td>{e(case.status)}</td>"
                f"<td>{case.received_on:%-d %b %Y}</td><td>{case.due_on:%-d %b %Y}</td></tr></table>"
            )
            if case.messages:
                parts.append(
                    "<p>Last messages:</p><ul>" + "".join(f"<li>{e(m)}</li>" for m in case.messages) + "</ul>"
                )
            if case.notes:
                parts.append(
                    "<p>Latest notes:</p><ul>" + "".join(f"<li>{e(n)}</li>" for n in case.notes) + "</ul>"
                )
        if slot.earlier:
            parts.append(
                "<p>Earlier appointments:</p><ul>"
                + "".join(f"<li>{e(line)}</li>" for line in slot.earlier)
                + "</ul>"
            )
        else:
            parts.append("<p>No earlier appointments.</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def render(session: Session, *, sitting: SurgerySession, pdf: bool = True) -> tuple[Brief, str, bytes | None]:
    """The brief, its HTML, and its PDF (None where no Chromium is on PATH)."""
    from casework.report.pdf import PdfError, find_browser, html_to_pdf

    brief = gather(session, sitting=sitting)
    page = render_html(brief)
    printed = None
    if pdf and find_browser() is not None:
        try:
            printed = html_to_pdf(page)
        except PdfError as err:
            log.warning("brief for session %s: no PDF (%s)", sitting.id, err)
    return brief, page, printed


def write_brief(session: Session, *, settings: Settings, session_id: int, out: Path) -> list[Path]:
    sitting = surgeries.require_session(session, session_id)
    _brief, page, printed = render(session, sitting=sitting)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"brief-{sitting.held_on.isoformat()}-session-{sitting.id}"
    written = [out / f"{stem}.html"]
    written[0].write_text(page, encoding="utf-8")
    if printed is not None:
        written.append(out / f"{stem}.pdf")
        written[1].write_bytes(printed)
    return written


def allowed_recipients(settings: Settings) -> set[str]:
    """Who may receive a brief: the hosts and the caseworkers named by user id."""
    return {*settings.surgery_hosts, *(u for u in settings.caseworkers if not u.startswith("S"))}


def queue_brief(
    session: Session, *, settings: Settings, session_id: int, recipients: list[str] | None = None
) -> list[str]:
    """Queue the brief (PDF, else HTML) to each recipient's Slack DM (default the hosts), once."""
    recipients = list(recipients if recipients is not None else settings.surgery_hosts)
    refused = [r for r in recipients if r not in allowed_recipients(settings)]
    if refused:
        raise surgeries.SurgeryError(
            f"{', '.join(refused)} may not receive a brief: only caseworkers and CASEWORK_SURGERY_HOSTS may."
        )
    sitting = surgeries.require_session(session, session_id)
    brief, page, printed = render(session, sitting=sitting)
    stem = f"brief-{sitting.held_on.isoformat()}-session-{sitting.id}"
    content, filename = (printed, f"{stem}.pdf") if printed is not None else (page.encode(), f"{stem}.html")
    version = hashlib.sha256(page.encode()).hexdigest()[:12]
    queued = []
    for user in recipients:
        payload = {
            "user": user,
            "filename": filename,
            "title": brief.title,
            "text": f"{brief.title}: {len(brief.slots)} appointment(s). The briefing pack is attached.",
            "content_b64": base64.b64encode(content).decode("ascii"),
        }
        # keyed by what it says: sent once, and again only when the brief has changed
        key = f"surgery.brief:{sitting.id}:{user}:{version}"
        if enqueue(session, key=key, kind=FILE_KIND, target=user, payload=payload):
            queued.append(user)
            for case_id in brief.case_ids:
                surgeries.audit_brief_sent(session, case_id=case_id, recipient=user, sitting=sitting)
    sitting.brief_sent_at = utcnow()
    session.add(sitting)
    return queued


def send_due_briefs(session: Session, *, settings: Settings) -> list[int]:
    """Queue every brief whose time (the working day before the session) has come."""
    done = []
    for sitting in surgeries.briefs_due(session, settings=settings):
        if not settings.surgery_hosts:
            log.warning("brief for session %s not sent: CASEWORK_SURGERY_HOSTS is empty", sitting.id)
            continue
        queue_brief(session, settings=settings, session_id=sitting.id)  # type: ignore[arg-type]
        done.append(sitting.id)
    return [d for d in done if d is not None]
