"""The ``casework`` command: one Typer app, each group of commands in its own module.

Every command module under ``casework.commands`` has a ``register(app)``; this module only
wires them and turns :class:`~casework.errors.UserError` (and the store's ``CaseError``) into a
clear message and exit code 2 instead of a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer
from pydantic import ValidationError

from casework.commands import ALL
from casework.errors import UserError
from store.cases import CaseError

app = typer.Typer(
    name="casework",
    help="Turn a public office's incoming email into tracked cases, and run the casework day from Slack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in ALL:
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, standalone_mode=False)
    except (UserError, CaseError) as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except ValidationError as err:  # a bad CASEWORK_* value: say which, without a traceback
        names = ["CASEWORK_" + "_".join(map(str, e["loc"])).upper() for e in err.errors()]
        problems = "; ".join(f"{name}: {e['msg']}" for name, e in zip(names, err.errors(), strict=True))
        typer.secho(f"error: the settings are not valid: {problems}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as err:  # click's usage errors carry their own exit code and message
        if _is_usage_error(err):
            err.show()  # type: ignore[attr-defined]
            sys.exit(err.exit_code)  # type: ignore[attr-defined]
        raise


def _is_usage_error(err: Exception) -> bool:
    """A click usage error (a missing option, a bad value), whichever copy of click raised it.

    Newer typer releases carry their own copy of click, whose exceptions are not the installed
    click's classes, so the test is by kind rather than by class.
    """
    return any(cls.__name__ == "ClickException" for cls in type(err).__mro__) and hasattr(err, "show")


if __name__ == "__main__":
    main()
