"""A usage mistake at the command line is a message and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys


def test_a_missing_required_option_is_a_usage_message_not_a_traceback(sqlite_url: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "casework.cli", "case", "approve", "WMOPC-2026-000001"],
        capture_output=True,
        text=True,
        env={"CASEWORK_DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "Missing option '--as'" in run.stderr
    assert "Traceback" not in run.stderr
