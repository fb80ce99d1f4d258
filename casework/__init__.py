"""casework: incoming email to tracked cases, run from Slack.

This package wires the parts together (settings, command line, scheduler, demo data);
the work itself lives in ``intake`` (mail in), ``store`` (cases) and ``bot`` (Slack).
"""

__version__ = "0.1.0"
