"""Importing history: the office's case spreadsheet and the phone system's call records.

An import is all-or-nothing. Every row is checked first and *every* bad row is reported with
its line number and what is wrong with it; if any row is bad nothing is written. Rows whose
reference (or call_id) is already stored are left as they are, so importing the same file
twice changes nothing. Rows are written in bulk (executemany) so that a million-row export
loads in minutes, not hours.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from casework.settings import Settings
from store.cases import due_on_for
from store.enums import CallOutcome, Category, EventKind, Stage, Status
from store.models import Call, Case, CaseEvent, CaseParticipant, Correspondent
from store.references import bump_past
from store.types import utcnow
from store.workdays import calendar, local_date

CASE_HEADER = (
    "reference",
    "received_at",
    "category",
    "status",
    "closed_at",
    "correspondent_email",
    "subject",
)
CALL_HEADER = ("call_id", "started_at", "answered_at", "ended_at", "outcome")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
BATCH = 5000

Progress = Callable[[int], None]


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRejected(ValueError):
    """The file has bad rows; nothing was imported."""

    def __init__(self, kind: str, errors: list[RowError]) -> None:
        self.kind = kind
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:200])
        more = f"\n  … and {len(errors) - 200} more" if len(errors) > 200 else ""
        super().__init__(
            f"Nothing was imported: {len(errors)} bad row(s) in the {kind} file.\n{shown}{more}\n"
            "Correct these rows and import the file again."
        )


@dataclass
class ImportResult:
    read: int = 0
    imported: int = 0
    already_present: int = 0
    differing: list[str] = field(default_factory=list)


def _timestamp(value: str, name: str, *, required: bool = True) -> datetime | None:
    value = value.strip()
    if not value:
        if required:
            raise ValueError(f"{name} is empty")
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name} {value!r} is not an ISO 8601 timestamp (e.g. 2013-03-15T10:30:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no UTC offset (write e.g. +00:00 or +01:00)")
    return moment.astimezone(UTC)


def _choice(value: str, name: str, allowed: Iterable[str]) -> str:
    value = value.strip().lower()
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def read_csv(path: Path, header: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of ``path`` as dicts with their line numbers; a wrong header is one clear error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportRejected(path.name, [RowError(0, f"{path} does not exist")]) from None
    except UnicodeDecodeError as err:
        raise ImportRejected(
            path.name, [RowError(0, f"{path} is not UTF-8 text ({err.reason}); save it as UTF-8 CSV")]
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    found = tuple(name.strip() for name in (reader.fieldnames or ()))
    missing = [name for name in header if name not in found]
    if missing:
        raise ImportRejected(
            path.name,
            [RowError(1, f"the header lacks {', '.join(missing)}; it must be: {','.join(header)}")],
        )
    for row in reader:
        yield reader.line_num, {k.strip(): (v or "") for k, v in row.items() if k is not None}


# --- cases ------------------------------------------------------------------------------------


@dataclass
class _CaseRow:
    reference: str
    received_at: datetime
    category: str
    status: str
    closed_at: datetime | None
    email: str
    subject: str


def _parse_case(row: dict[str, str]) -> _CaseRow:
    reference = row["reference"].strip()
    if not reference:
        raise ValueError("reference is empty")
    if len(reference) > 40:
        raise ValueError(f"reference {reference!r} is longer than 40 characters")
    received_at = _timestamp(row["received_at"], "received_at")
    assert received_at is not None
    category = _choice(row["category"], "category", [c.value for c in Category])
    status = _choice(row["status"], "status", [s.value for s in Status])
    closed_at = _timestamp(row.get("closed_at", ""), "closed_at", required=False)
    if status == Status.CLOSED and closed_at is None:
        raise ValueError("status is closed but closed_at is empty")
    if status != Status.CLOSED and closed_at is not None:
        raise ValueError(f"closed_at is set but status is {status} (closed_at must be empty unless closed)")
    if closed_at is not None and closed_at < received_at:
        raise ValueError("closed_at is before received_at")
    email = row.get("correspondent_email", "").strip().lower()
    if email and not EMAIL.match(email):
        raise ValueError(f"correspondent_email {email!r} is not an email address")
    return _CaseRow(
        reference.upper(), received_at, category, status, closed_at, email, row.get("subject", "").strip()
    )


def check_cases(path: Path) -> list[tuple[int, _CaseRow]]:
    rows: list[tuple[int, _CaseRow]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, raw in read_csv(path, CASE_HEADER):
        try:
            parsed = _parse_case(raw)
        except ValueError as err:
            errors.append(RowError(line, str(err)))
            continue
        if parsed.reference in seen:
            errors.append(
                RowError(
                    line, f"reference {parsed.reference} already appears on line {seen[parsed.reference]}"
                )
            )
            continue
        seen[parsed.reference] = line
        rows.append((line, parsed))
    if errors:
        raise ImportRejected("cases", errors)
    return rows


def import_cases_file(
    session: Session, *, settings: Settings, path: Path, progress: Progress | None = None
) -> ImportResult:
    """Import the cases CSV at ``path`` in the caller's transaction (all-or-nothing)."""
    return import_cases(session, settings=settings, rows=[r for _, r in check_cases(path)], progress=progress)


def import_cases(
    session: Session, *, settings: Settings, rows: list[_CaseRow], progress: Progress | None = None
) -> ImportResult:
    result = ImportResult(read=len(rows))
    cal = calendar(settings.closure_dates)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        existing = set(
            session.execute(
                select(col(Case.reference)).where(col(Case.reference).in_([r.reference for r in batch]))
            ).scalars()
        )
        fresh = [r for r in batch if r.reference not in existing]
        result.already_present += len(batch) - len(fresh)
        people = _correspondents(session, {r.email for r in fresh if r.email})
        now = utcnow()
        values: list[dict[str, Any]] = []
        for r in fresh:
            received_on = local_date(r.received_at)
            closed_on = local_date(r.closed_at) if r.closed_at else None
            values.append(
                {
                    "reference": r.reference,
                    "category": r.category,
                    "status": r.status,
                    "stage": Stage.for_status(r.status).value,
                    "received_at": r.received_at,
                    "received_on": received_on,
                    "due_on": due_on_for(settings, category=r.category, received_on=received_on),
                    "closed_at": r.closed_at,
                    "closed_on": closed_on,
                    "days_taken": (closed_on - received_on).days if closed_on else None,
                    "working_days_taken": cal.working_days_between(received_on, closed_on)
                    if closed_on
                    else None,
                    # The export says only where a case stands now; its last change is taken to be
                    # its closure, or its receipt for a case still open (see docs/statistics.md).
                    "status_changed_at": r.closed_at or r.received_at,
                    "correspondent_id": people.get(r.email),
                    "subject": r.subject[:1000],
                    "reasons": ["imported from history"],
                    "needs_triage": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if values:
            session.execute(insert(Case), values)
            ids = dict(
                session.execute(
                    select(col(Case.reference), col(Case.id)).where(
                        col(Case.reference).in_([v["reference"] for v in values])
                    )
                ).all()
            )
            _history(session, fresh, ids, people)
            for r in fresh:
                bump_past(session, reference=r.reference)
        result.imported += len(fresh)
        if progress:
            progress(len(batch))
    session.flush()
    return result


def _correspondents(session: Session, emails: set[str]) -> dict[str, int]:
    if not emails:
        return {}
    found: dict[str, int] = {}
    wanted = sorted(emails)
    for i in range(0, len(wanted), 1000):
        chunk = wanted[i : i + 1000]
        found.update(
            session.execute(
                select(col(Correspondent.email), col(Correspondent.id)).where(
                    col(Correspondent.email).in_(chunk)
                )
            ).all()
        )
    missing = [e for e in wanted if e not in found]
    if missing:
        now = utcnow()
        session.execute(insert(Correspondent), [{"email": e, "name": "", "created_at": now} for e in missing])
        for i in range(0, len(missing), 1000):
            chunk = missing[i : i + 1000]
            found.update(
                session.execute(
                    select(col(Correspondent.email), col(Correspondent.id)).where(
                        col(Correspondent.email).in_(chunk)
                    )
                ).all()
            )
    return found


def _history(session: Session, rows: list[_CaseRow], ids: dict[str, int], people: dict[str, int]) -> None:
    events: list[dict[str, Any]] = []
    participants: list[dict[str, Any]] = []
    for r in rows:
        case_id = ids[r.reference]
        first = Status.OPEN.value if r.status == Status.CLOSED else r.status
        events.append(
            {
                "case_id": case_id,
                "at": r.received_at,
                "actor": "import",
                "kind": EventKind.CREATED.value,
                "old_value": None,
                "new_value": first,
                "note": "imported from history",
            }
        )
        if r.closed_at is not None:
            events.append(
                {
                    "case_id": case_id,
                    "at": r.closed_at,
                    "actor": "import",
                    "kind": EventKind.STATUS.value,
                    "old_value": first,
                    "new_value": Status.CLOSED.value,
                    "note": "imported from history",
                }
            )
        if r.email:
            participants.append(
                {"case_id": case_id, "correspondent_id": people[r.email], "joined_at": r.received_at}
            )
    session.execute(insert(CaseEvent), events)
    if participants:
        session.execute(insert(CaseParticipant), participants)


# --- calls ------------------------------------------------------------------------------------


def _parse_call(row: dict[str, str]) -> dict[str, Any]:
    call_id = row["call_id"].strip()
    if not call_id:
        raise ValueError("call_id is empty")
    outcome = _choice(row["outcome"], "outcome", [o.value for o in CallOutcome])
    started = _timestamp(row["started_at"], "started_at")
    answered = _timestamp(row.get("answered_at", ""), "answered_at", required=False)
    ended = _timestamp(row["ended_at"], "ended_at")
    assert started is not None and ended is not None
    if ended < started:
        raise ValueError("ended_at is before started_at")
    if outcome == CallOutcome.ANSWERED:
        if answered is None:
            raise ValueError("outcome is answered but answered_at is empty")
        if not started <= answered <= ended:
            raise ValueError("answered_at must lie between started_at and ended_at")
        wait, talk = (answered - started).total_seconds(), (ended - answered).total_seconds()
    else:
        if answered is not None:
            raise ValueError(f"answered_at is set but outcome is {outcome}")
        wait, talk = (ended - started).total_seconds(), None
        if outcome == CallOutcome.BUSY:
            wait = 0.0
    return {
        "call_id": call_id,
        "started_at": started,
        "started_on": local_date(started),
        "answered_at": answered,
        "ended_at": ended,
        "outcome": outcome,
        "wait_s": wait,
        "talk_s": talk,
    }


def check_calls(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, raw in read_csv(path, CALL_HEADER):
        try:
            parsed = _parse_call(raw)
        except ValueError as err:
            errors.append(RowError(line, str(err)))
            continue
        if parsed["call_id"] in seen:
            errors.append(
                RowError(
                    line, f"call_id {parsed['call_id']} already appears on line {seen[parsed['call_id']]}"
                )
            )
            continue
        seen[parsed["call_id"]] = line
        rows.append(parsed)
    if errors:
        raise ImportRejected("calls", errors)
    return rows


def import_calls_file(session: Session, *, path: Path, progress: Progress | None = None) -> ImportResult:
    return import_calls(session, rows=check_calls(path), progress=progress)


def import_calls(
    session: Session, *, rows: list[dict[str, Any]], progress: Progress | None = None
) -> ImportResult:
    result = ImportResult(read=len(rows))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        existing = set(
            session.execute(
                select(col(Call.call_id)).where(col(Call.call_id).in_([r["call_id"] for r in batch]))
            ).scalars()
        )
        fresh = [r for r in batch if r["call_id"] not in existing]
        result.already_present += len(batch) - len(fresh)
        if fresh:  # Core executemany: the ORM's bulk path costs more than the rows' own work here
            session.execute(insert(Call.__table__), fresh)  # type: ignore[attr-defined]
        result.imported += len(fresh)
        if progress:
            progress(len(batch))
    session.flush()
    return result


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date; write it as YYYY-MM-DD") from None
