"""``casework import`` and ``casework export``: history in, cases out."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import Settings, get_settings
from store.audit import cli_actor, record_many
from store.calls.base import Context
from store.db import session_scope
from store.export import EXPORT_FIELDS, csv_safe, export_cases
from store.imports import ImportRejected, ImportResult, check_calls, check_cases, import_calls, import_cases

import_app = typer.Typer(
    help="Import history: the office's case export and the phone system's call records.", no_args_is_help=True
)
export_app = typer.Typer(help="Export cases for the office's own spreadsheets.", no_args_is_help=True)


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def _progress(total: int, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=total < 5000 or not sys.stderr.isatty(),
    )


def _report(kind: str, result: ImportResult) -> None:
    typer.echo(
        f"{kind}: {result.read} rows read, {result.imported} imported, "
        f"{result.already_present} already present (left unchanged)"
    )


@import_app.command("cases")
def import_cases_command(
    file: Path = typer.Argument(
        ...,
        help="CSV with header reference,received_at,category,status,closed_at,correspondent_email,subject",
    ),
) -> None:
    """Import historic cases (all-or-nothing; re-importing the same file changes nothing)."""
    settings = get_settings()
    try:
        rows = [row for _, row in check_cases(file)]
    except ImportRejected as err:
        raise UserError(str(err)) from None
    engine = open_store(settings)
    with _progress(len(rows), "importing cases") as bar, session_scope(engine) as session:
        task = bar.add_task("cases", total=len(rows))
        result = import_cases(session, settings=settings, rows=rows, progress=lambda n: bar.advance(task, n))
    _report("cases", result)


@import_app.command("calls")
def import_calls_command(
    file: Path = typer.Argument(
        ...,
        help="The phone system's record file, or a CSV with header "
        "call_id,started_at,answered_at,ended_at,outcome",
    ),
    format: str = typer.Option(
        "auto",
        "--format",
        help="auto, casework, asterisk-csv, asterisk-queue-log, freepbx, freeswitch-csv, 3cx, teams",
    ),
    hunt_group: str | None = typer.Option(
        None, "--hunt-group", help="DID/dst, queue name or ring-group extension (default CASEWORK_HUNT_GROUP)"
    ),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="zone of the file's local times (default CASEWORK_CALLS_TIMEZONE, Europe/London)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print what was done as one JSON object"),
) -> None:
    """Import telephone hunt-group call records (all-or-nothing; idempotent by the format's call ids)."""
    from store.calls import importer

    settings = get_settings()
    ctx = call_context(settings, hunt_group=hunt_group, timezone=timezone)
    try:
        reading = importer.read_path(
            file,
            fmt=format.strip().lower(),
            ctx=ctx,
            max_line_bytes=settings.calls_max_line_bytes,
            max_file_bytes=settings.calls_max_file_bytes,
        )
        if reading is None:
            rows = check_calls(file)
    except ImportRejected as err:
        raise UserError(str(err)) from None
    except ValueError as err:
        raise UserError(str(err)) from None
    engine = open_store(settings)
    if reading is None:
        with _progress(len(rows), "importing calls") as bar, session_scope(engine) as session:
            task = bar.add_task("calls", total=len(rows))
            result = import_calls(session, rows=rows, progress=lambda n: bar.advance(task, n))
        tally = importer.Tally(
            "casework",
            format.strip().lower() == "auto",
            rows=len(rows),
            calls_new=result.imported,
            calls_already_present=result.already_present,
        )
        if as_json:
            typer.echo(json.dumps(tally.summary()))
        else:
            typer.echo(tally.lines()[0])
            _report("calls", result)
        return
    with session_scope(engine) as session:
        tally = importer.store_reading(session, reading=reading)
    if as_json:
        typer.echo(json.dumps(tally.summary()))
    else:
        for line in tally.lines():
            typer.echo(line)


def call_context(settings: Settings, *, hunt_group: str | None, timezone: str | None) -> Context:
    """How to read call records: the hunt group and time zone from the options or the settings."""
    zone_name = timezone or settings.calls_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"--timezone {zone_name!r} is not a time zone: give an IANA name such as Europe/London or UTC."
        ) from None
    return Context(zone=zone, hunt_group=settings.hunt_group if hunt_group is None else hunt_group)


@export_app.command("cases")
def export_cases_command(
    format: ExportFormat = typer.Option(ExportFormat.json, "--format", help="json or csv"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of standard output"),
) -> None:
    """Every case with its messages' Message-IDs and its participants."""
    engine = open_store(get_settings())
    shown: list[str] = []
    stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        with session_scope(engine) as session:
            rows = _audited(export_cases(session, settings=get_settings()), shown)
            if format is ExportFormat.json:
                json.dump(list(rows), stream, ensure_ascii=False, indent=1)
                stream.write("\n")
            else:
                writer = csv.DictWriter(stream, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
                writer.writeheader()
                for row in rows:
                    cells = {
                        **row,
                        "message_ids": " ".join(row["message_ids"]),
                        "participants": " ".join(row["participants"]),
                    }
                    writer.writerow({key: csv_safe(value) for key, value in cells.items()})
            # participants' addresses are personal data: one ``exported`` row per case written
            record_many(
                session, actor=cli_actor(), action="exported", references=shown, detail="export cases"
            )
    finally:
        if out:
            stream.close()


def _audited(rows: Iterator[dict[str, Any]], shown: list[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        shown.append(row["reference"])
        yield row


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
