"""``casework report``: the Board report for a date range, written to a folder.

By default the HTML page and the Markdown file (with its charts), plus a PDF when a Chromium
browser is on PATH to print it; ``--format csv`` writes every table as a CSV file instead.
Everything is checked and rendered before anything is written, so bad input writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from casework.commands.stats import check_range, parse_date
from casework.errors import UserError
from casework.report import FORMATS, gather, render, write
from casework.report.pdf import PdfError, find_browser
from casework.runtime import open_store
from casework.settings import get_settings
from store.db import session_scope

CHOICES = (*FORMATS, "all")


def formats_for(choice: str | None, *, have_browser: bool) -> list[str]:
    """The formats to write for ``--format``; the default adds PDF only when it can be printed."""
    if choice is None:
        return ["html", "md", *(["pdf"] if have_browser else [])]
    choice = choice.strip().lower()
    if choice not in CHOICES:
        raise UserError(f"--format {choice!r} is not one of {', '.join(CHOICES)}.")
    if choice == "pdf" and not have_browser:
        raise UserError(
            "--format pdf needs Chromium to print the PDF, and none is on PATH: install the "
            "'chromium' package, or choose --format html."
        )
    if choice == "all":
        return [*FORMATS] if have_browser else [f for f in FORMATS if f != "pdf"]
    return [choice]


def check_out(out: Path) -> None:
    """Refuse an --out that is a file or cannot be written, before any work is done."""
    if out.exists():
        if not out.is_dir():
            raise UserError(f"--out {out} is a file, not a folder: give a folder to write the report into.")
        if not os.access(out, os.W_OK | os.X_OK):
            raise UserError(f"--out {out} is not writable: choose a folder you can write to.")
        return
    ancestor = out.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise UserError(
            f"--out {out} cannot be created: {ancestor} is not a writable folder. Choose another folder."
        )


def report(
    from_: str = typer.Option(..., "--from", help="first day of the period, YYYY-MM-DD"),
    to: str = typer.Option(..., "--to", help="last day of the period, YYYY-MM-DD"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="statuses as at the end of this day (default today)"
    ),
    out: Path = typer.Option(..., "--out", help="folder to write the report into (created if missing)"),
    format_: str | None = typer.Option(
        None,
        "--format",
        help="html, md, pdf, csv or all (default: html and md, plus pdf when Chromium is present)",
    ),
) -> None:
    """Write the Board report (tables, headline figures, charts) for a period."""
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    assert start is not None and end is not None
    as_of_day = parse_date(as_of, "--as-of")
    check_range(start, end, as_of_day)
    browser = find_browser()
    formats = formats_for(format_, have_browser=browser is not None)
    check_out(out)
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        data = gather(session, settings=settings, start=start, end=end, as_of=as_of_day)
    try:
        files = render(data, formats, browser=browser)
    except PdfError as err:
        raise UserError(f"The PDF could not be printed: {err}. Try --format html.") from err
    try:
        written = write(out, files)
    except OSError as err:
        raise UserError(
            f"--out {out} could not be written ({err.strerror}): nothing was written. "
            "Choose a folder you can write to."
        ) from err
    for path in written:
        typer.echo(str(path))
    if format_ is None and browser is None:
        typer.echo("No PDF: install Chromium ('chromium' package) to print one.", err=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
