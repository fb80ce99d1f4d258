"""``casework stats``: the Board's tables for a date range, as terminal tables or JSON."""

from __future__ import annotations

import json
from datetime import date

import typer

from casework.errors import UserError
from casework.runtime import open_store
from casework.settings import get_settings
from casework.tables import render
from store.db import session_scope
from store.stats import office_tables


def parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(
            f"{option} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2013-07-31."
        ) from None


def check_range(start: date, end: date, as_of: date | None = None) -> None:
    if end < start:
        raise UserError(f"--to {end} is before --from {start}: give the earlier date with --from.")
    if as_of is not None and as_of < start:
        raise UserError(
            f"--as-of {as_of} is before --from {start}: a status cannot be read before the range starts."
        )


def stats(
    from_: str = typer.Option(..., "--from", help="first day of the range, YYYY-MM-DD"),
    to: str = typer.Option(..., "--to", help="last day of the range, YYYY-MM-DD"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="read statuses as at the end of this day (default today)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the tables as one JSON object"),
) -> None:
    """The Board report's tables: categories, statuses, closure times, aged cases, calls."""
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    assert start is not None and end is not None
    as_of_day = parse_date(as_of, "--as-of")
    check_range(start, end, as_of_day)
    settings = get_settings()
    engine = open_store(settings)
    with session_scope(engine) as session:
        tables = office_tables(session, settings=settings, start=start, end=end, as_of=as_of_day)
    if as_json:
        typer.echo(json.dumps(tables, indent=1, ensure_ascii=False))
    else:
        render(tables)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
