"""Everything held about one correspondent, for a subject access request.

:func:`collect` gathers, from every table :data:`store.personal_data.REGISTRY` lists, the
person's own rows (their messages wherever they are, their participation, mail that names
them) and every row of the cases that are theirs alone; for each case they are on it adds the
case itself, its history and its audit rows. In a campaign only their own messages are
included: the other senders' letters are the other senders' data. :func:`write` puts it in a
folder as ``index.html`` (to read and check), ``subject-access.json`` (everything, for the
record) and the raw messages and attachments as files beside them.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, or_, select
from sqlmodel import Session, col

from store import audit
from store.anonymise import cases_of_person, find_person
from store.cases import CaseError
from store.models import AuditEntry, Case, CaseEvent, Correspondent
from store.personal_data import Holder, Person, holders
from store.types import utcnow

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Export:
    person: Person
    name: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: relative path → bytes, written beside the JSON
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def references(self) -> list[str]:
        return [c["reference"] for c in self.cases]

    def as_json(self) -> dict[str, Any]:
        return {
            "person": {"email": self.person.email, "name": self.name},
            "generated_at": utcnow().isoformat(),
            "cases": self.cases,
            "records": self.records,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(session: Session, holder: Holder, where: Any, export: Export) -> list[dict[str, Any]]:
    table = holder.model.__table__  # type: ignore[attr-defined]
    found = []
    for row in session.execute(select(table).where(where).order_by(*table.primary_key.columns)).mappings():
        item: dict[str, Any] = {}
        for column in table.columns:
            value = row[column.name]
            if isinstance(column.type, LargeBinary) or column.name in holder.private_columns:
                if value:
                    name = str(row.get("filename") or "") if holder.name == "attachments" else ""
                    suffix = ".eml" if column.name == "raw" else ""
                    safe = _UNSAFE.sub("_", name)[-80:] or column.name
                    path = f"files/{holder.name}-{row[table.primary_key.columns[0].name]}-{safe}{suffix}"
                    export.files[path] = bytes(value)
                    item[column.name + "_file"] = path
                continue
            item[column.name] = _plain(value)
        found.append(item)
    return found


def collect(session: Session, *, email: str) -> Export:
    """What is held about the person with this address; :class:`CaseError` when nothing is."""
    person = find_person(session, email)
    alone, shared = cases_of_person(session, person)
    name = ""
    if person.id is not None:
        name = session.execute(
            select(col(Correspondent.name)).where(col(Correspondent.id) == person.id)
        ).scalar_one()
    export = Export(person=person, name=name)
    for holder in holders():
        where = []
        if holder.of_person is not None:
            where.append(holder.of_person(person))
        if holder.of_cases is not None and alone and holder.name != "cases":
            where.append(holder.of_cases(alone))
        if holder.name in ("cases", "case_events"):  # given per case below
            continue
        if where:
            rows = _rows(session, holder, or_(*where), export)
            if rows:
                export.records[holder.name] = rows
    ids = sorted(set(alone) | set(shared))
    for case in session.execute(select(Case).where(col(Case.id).in_(ids)).order_by(col(Case.id))).scalars():
        events = session.execute(
            select(CaseEvent)
            .where(col(CaseEvent.case_id) == case.id)
            .order_by(col(CaseEvent.at), col(CaseEvent.id))
        ).scalars()
        trail = session.execute(
            select(AuditEntry)
            .where(col(AuditEntry.case_reference) == case.reference)
            .order_by(col(AuditEntry.at), col(AuditEntry.id))
        ).scalars()
        export.cases.append(
            {
                "reference": case.reference,
                "role": "sole correspondent" if case.id in alone else "one of several senders",
                "category": case.category,
                "status": case.status,
                "subject": case.subject,
                "received_on": case.received_on.isoformat(),
                "due_on": case.due_on.isoformat(),
                "closed_on": case.closed_on.isoformat() if case.closed_on else None,
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind,
                        "old": e.old_value,
                        "new": e.new_value,
                        "note": e.note,
                        "actor": e.actor,
                    }
                    for e in events
                ],
                "audit": [audit.as_json(a) for a in trail],
            }
        )
    if not export.cases and not export.records:
        raise CaseError(
            f"Nothing is held about {person.email}: no case, message or correspondent has that address."
        )
    return export


def write(export: Export, out: Path) -> list[Path]:
    """Write the export into ``out`` (created; must be empty); the files written."""
    if out.exists() and any(out.iterdir()):
        raise CaseError(f"{out} is not empty: give a new folder with --out, so nothing is mixed up.")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for relative, data in export.files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    data_path = out / "subject-access.json"
    data_path.write_text(json.dumps(export.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    index = out / "index.html"
    index.write_text(render_html(export), encoding="utf-8")
    return [index, data_path, *written]


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(export: Export) -> str:
    """A page a data protection officer can read through before sending it."""
    person = export.person
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Subject access: {_e(person.email)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .4em;text-align:left;vertical-align:top}"
        "</style></head><body>",
        f"<h1>Information held about {_e(export.name or person.email)}</h1>",
        f"<p>Address: {_e(person.email)}. Cases: {len(export.cases)}. "
        "Everything below is also in <a href='subject-access.json'>subject-access.json</a>.</p>",
    ]
    messages = export.records.get("messages", [])
    attachments: dict[Any, list[dict[str, Any]]] = {}
    for item in export.records.get("attachments", []):
        attachments.setdefault(item.get("message_pk"), []).append(item)
    by_case: dict[Any, list[dict[str, Any]]] = {}
    for message in messages:
        by_case.setdefault(message.get("case_id"), []).append(message)
    for case in export.cases:
        parts.append(f"<h2>Case {_e(case['reference'])}</h2>")
        parts.append(
            "<p>"
            f"{_e(case['category'])}, {_e(case['status'])}; received {_e(case['received_on'])}, "
            f"due {_e(case['due_on'])}, closed {_e(case['closed_on'] or '-')}; {_e(case['role'])}.<br>"
            f"Subject: {_e(case['subject'])}</p>"
        )
        parts.append("<h3>History</h3><table><tr><th>When</th><th>Change</th><th>By</th><th>Note</th></tr>")
        for event in case["events"]:
            change = f"{event['kind']} {event['old'] or ''} → {event['new'] or ''}"
            parts.append(
                f"<tr><td>{_e(event['at'])}</td><td>{_e(change)}</td>"
                f"<td>{_e(event['actor'])}</td><td>{_e(event['note'])}</td></tr>"
            )
        parts.append("</table><h3>Who looked at or changed it</h3><table>")
        parts.append("<tr><th>When</th><th>Who</th><th>What</th><th>Detail</th></tr>")
        for row in case["audit"]:
            parts.append(
                f"<tr><td>{_e(row['at'])}</td><td>{_e(row['actor'])}</td>"
                f"<td>{_e(row['action'])}</td><td>{_e(row['detail'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Messages</h2>")
    for message in messages:
        direction = "sent to them" if message.get("direction") == "out" else "received from them"
        parts.append(
            f"<h3>{_e(message.get('subject') or '(no subject)')}</h3>"
            f"<p>{_e(direction)}, {_e(message.get('sent_at') or message.get('received_at'))}; "
            f"from {_e(message.get('from_name'))} &lt;{_e(message.get('from_addr'))}&gt;; "
            f"to {_e(', '.join(message.get('to_addrs') or []))}"
        )
        if message.get("raw_file"):
            parts.append(f"; <a href='{_e(message['raw_file'])}'>the message as received</a>")
        parts.append(f"</p><pre>{_e(message.get('body_text'))}</pre>")
        for item in attachments.get(message.get("id"), []):
            link = item.get("content_file")
            name = _e(item.get("filename") or "attachment")
            parts.append(
                f"<p>Attachment: <a href='{_e(link)}'>{name}</a></p>"
                if link
                else f"<p>Attachment: {name}</p>"
            )
    for name, rows in export.records.items():
        if name in ("messages", "attachments") or not rows:
            continue
        columns = list(rows[0])
        parts.append(f"<h2>{_e(name.replace('_', ' ').capitalize())}</h2><table><tr>")
        parts.extend(f"<th>{_e(c)}</th>" for c in columns)
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in columns) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)
