"""``casework import calls --format F``: a phone system's record file into the ``calls`` table.

The file is read whole and checked before anything is written: any bad row rejects the file
with every bad row listed (as :mod:`store.imports` does for casework's own CSV). Calls are keyed
by the format's own ids, so importing the same file again, or a longer version of it, adds only
the calls not already stored. Every row is accounted for exactly once:
``rows = calls_new + calls_already_present + legs_merged + skipped``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlmodel import Session

from store.calls import asterisk_csv, asterisk_queue_log, freepbx, freeswitch_csv, teams, text, threecx
from store.calls.base import Context, Leg, Lines, Skip
from store.calls.detect import detect
from store.calls.legs import Call, Merger
from store.imports import ImportRejected, RowError, check_calls, import_calls

READERS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (asterisk_csv, asterisk_queue_log, freepbx, freeswitch_csv, threecx, teams)
}
FORMATS = ("auto", "casework", *READERS)
#: Formats whose first line may be a header naming the columns (``calls follow`` keeps it).
HEADERED = {freepbx.NAME: freepbx.is_header, threecx.NAME: threecx.is_header}
IN_PROGRESS = "call still in progress (no end event yet)"
MAX_ERRORS = 10_000


@dataclass
class Tally:
    """What an import did, row by row; :meth:`summary` is the ``--json`` object."""

    format: str
    detected: bool = False
    rows: int = 0
    calls_new: int = 0
    calls_already_present: int = 0
    legs_merged: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "calls_new": self.calls_new,
            "calls_already_present": self.calls_already_present,
            "legs_merged": self.legs_merged,
            "skipped": self.skipped,
        }

    def lines(self) -> list[str]:
        how = "recognised from its content" if self.detected else "as asked"
        found = [
            f"format: {self.format} ({how})",
            f"calls: {self.rows} rows read: {self.calls_new} new calls, {self.calls_already_present} "
            f"already present (left unchanged), {self.legs_merged} legs merged into their calls, "
            f"{self.skipped} skipped",
        ]
        found += [
            f"  skipped {n}: {reason}" for reason, n in sorted(self.reasons.items(), key=lambda x: -x[1])
        ]
        return found


@dataclass
class Reading:
    """A file read and merged, not yet written."""

    format: str
    detected: bool
    calls: list[Call]
    skips: list[Skip]
    rows: int


def read_bytes(data: bytes, *, max_line_bytes: int) -> text.Decoded:
    return text.split(data, max_line_bytes=max_line_bytes)


def choose(fmt: str, lines: list[tuple[int, str]]) -> tuple[str, bool]:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if fmt != "auto":
        return fmt, False
    return detect([line for _, line in lines[:50]]), True


def items(fmt: str, lines: Lines, ctx: Context) -> Iterator[Leg | Skip | RowError]:
    yield from READERS[fmt].read(lines, ctx)


def read_path(
    path: Path, *, fmt: str, ctx: Context, max_line_bytes: int, max_file_bytes: int
) -> Reading | None:
    """The calls of the file at ``path``; None when it is casework's own CSV (read by store.imports)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImportRejected(path.name, [RowError(0, f"{path} does not exist")]) from None
    if size > max_file_bytes:
        raise ImportRejected(
            path.name,
            [
                RowError(
                    0,
                    f"{path} is {size:,} bytes, more than CASEWORK_CALLS_MAX_FILE_BYTES "
                    f"({max_file_bytes:,}); split it (records are independent lines) or raise the limit",
                )
            ],
        )
    decoded = read_bytes(path.read_bytes(), max_line_bytes=max_line_bytes)
    chosen, detected = choose(fmt, decoded.lines)
    if chosen == "casework":
        if decoded.errors:
            raise ImportRejected("calls", decoded.errors)
        return None
    return merge(chosen, detected, decoded, ctx)


def merge(fmt: str, detected: bool, decoded: text.Decoded, ctx: Context) -> Reading:
    errors = list(decoded.errors)
    skips: list[Skip] = []
    merger = Merger()
    rows = 0
    for item in items(fmt, decoded.lines, ctx):
        if isinstance(item, RowError):
            errors.append(item)
            if len(errors) >= MAX_ERRORS:  # a file this wrong is not call records: stop reading it
                # said first, since only the first bad rows are listed
                errors.insert(0, RowError(item.line, f"stopped reading after {MAX_ERRORS:,} bad rows"))
                raise ImportRejected("calls", errors)
        elif isinstance(item, Skip):
            skips.append(item)
            rows += 1
        else:
            merger.add(item)
            rows += 1
    family = READERS[fmt].FAMILY
    calls: list[Call] = []
    for call in merger.calls.values():
        if fmt == asterisk_queue_log.NAME and not call.closed:
            skips.extend(Skip(line, IN_PROGRESS) for line in call.lines)
            continue
        try:
            call.row(family, fmt)
        except ValueError as err:
            errors.append(RowError(call.lines[0], str(err)))
            continue
        calls.append(call)
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportRejected("calls", errors)
    return Reading(fmt, detected, calls, skips, rows)


def store_reading(session: Session, *, reading: Reading) -> Tally:
    family = READERS[reading.format].FAMILY
    result = import_calls(session, rows=[call.row(family, reading.format) for call in reading.calls])
    tally = Tally(reading.format, reading.detected, rows=reading.rows)
    tally.calls_new, tally.calls_already_present = result.imported, result.already_present
    tally.legs_merged = sum(len(call.lines) - 1 for call in reading.calls)
    tally.skipped = len(reading.skips)
    tally.reasons = Counter(skip.reason for skip in reading.skips)
    return tally


def import_casework(session: Session, *, path: Path, detected: bool) -> Tally:
    rows = check_calls(path)
    result = import_calls(session, rows=rows)
    return Tally(
        "casework",
        detected,
        rows=len(rows),
        calls_new=result.imported,
        calls_already_present=result.already_present,
    )
