"""The two tiers of error.

``UserError`` is bad input from outside (a wrong date, an unknown reference, a bad CSV): it is
answered with a clear message that says what was wrong and what to do, and never a traceback.
Anything else is a fault in the system and is logged with its traceback. Both are caught in one
place: :func:`casework.cli.main` for the command line, the bot's global error handler for Slack.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input; ``str(err)`` is the whole message shown to the person."""

    exit_code = 2
