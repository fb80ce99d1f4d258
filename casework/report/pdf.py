"""PDF from the HTML page, printed by headless Chromium (``chromium --print-to-pdf``).

Chromium is the one converter: it renders the page exactly as the browser test checks it. It is
optional; where no ``chromium`` (or ``chromium-browser``/``google-chrome``) is on PATH, the report
is written without a PDF and says so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: the flags a headless browser needs in a container and to stay off the network
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class PdfError(RuntimeError):
    """The converter ran but produced no PDF."""


def find_browser() -> str | None:
    """The path of a Chromium-family browser on PATH, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str, *, browser: str | None = None, timeout: float = 90) -> bytes:
    """Print ``html`` to PDF bytes with headless Chromium."""
    browser = browser or find_browser()
    if browser is None:
        raise PdfError("no Chromium browser on PATH to print the PDF with")
    with tempfile.TemporaryDirectory(prefix="casework-pdf-") as tmp:
        folder = Path(tmp)
        page, pdf = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            *HEADLESS_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        if not pdf.exists() or pdf.stat().st_size == 0:
            log.warning("chromium exited %s without a PDF", result.returncode)
            raise PdfError(f"{Path(browser).name} did not produce a PDF (exit code {result.returncode})")
        return pdf.read_bytes()
