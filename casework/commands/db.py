"""``casework db``: schema migrations."""

from __future__ import annotations

import typer

from casework.runtime import open_store
from casework.settings import get_settings
from store.db import current_revision

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Create or upgrade the schema to the current version (safe to run at every start)."""
    engine = open_store(get_settings())
    where = engine.url.render_as_string(hide_password=True)
    typer.echo(f"database {where} is at revision {current_revision(engine)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
