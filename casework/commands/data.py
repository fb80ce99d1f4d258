"""``casework import`` and ``casework export``: history in, cases out."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
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
    file: Path = typer.Argument(..., help="CSV with header call_id,started_at,answered_at,ended_at,outcome"),
) -> None:
    """Import telephone hunt-group call records (all-or-nothing; idempotent by call_id)."""
    try:
        rows = check_calls(file)
    except ImportRejected as err:
        raise UserError(str(err)) from None
    engine = open_store(get_settings())
    with _progress(len(rows), "importing calls") as bar, session_scope(engine) as session:
        task = bar.add_task("calls", total=len(rows))
        result = import_calls(session, rows=rows, progress=lambda n: bar.advance(task, n))
    _report("calls", result)


@export_app.command("cases")
def export_cases_command(
    format: ExportFormat = typer.Option(ExportFormat.json, "--format", help="json or csv"),
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of standard output"),
) -> None:
    """Every case with its messages' Message-IDs and its participants."""
    engine = open_store(get_settings())
    stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        with session_scope(engine) as session:
            rows = export_cases(session)
            if format is ExportFormat.json:
                json.dump(list(rows), stream, ensure_ascii=False, indent=1)
                stream.write("\n")
            else:
                writer = csv.DictWriter(stream, fieldnames=EXPORT_FIELDS)
                writer.writeheader()
                for row in rows:
                    cells = {
                        **row,
                        "message_ids": " ".join(row["message_ids"]),
                        "participants": " ".join(row["participants"]),
                    }
                    writer.writerow({key: csv_safe(value) for key, value in cells.items()})
    finally:
        if out:
            stream.close()


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
