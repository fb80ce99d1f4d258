"""The Board report, generated from the store: tables, headline figures, charts and commentary.

``gather`` (in :mod:`.data`) reads the store; :func:`render` turns that into files in memory
(HTML, Markdown and its charts, PDF, CSV); :func:`write` puts them in the output folder only
once everything has rendered, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from casework.report.csv import csv_files
from casework.report.data import ReportData, gather
from casework.report.document import build_document
from casework.report.html import render_html
from casework.report.markdown import CHART_DIR, render_markdown
from casework.report.pdf import find_browser, html_to_pdf

FORMATS = ("html", "md", "pdf", "csv")

__all__ = ["FORMATS", "ReportData", "gather", "render", "write"]


def render(data: ReportData, formats: Iterable[str], *, browser: str | None = None) -> dict[str, bytes]:
    """Relative file name → content for each requested format."""
    wanted = set(formats)
    files: dict[str, bytes] = {}
    if wanted & {"html", "md", "pdf"}:
        document = build_document(data)
        html = render_html(document)
        if "html" in wanted:
            files["report.html"] = html.encode("utf-8")
        if "md" in wanted:
            files["report.md"] = render_markdown(document).encode("utf-8")
            for chart in document.charts:
                files[f"{CHART_DIR}/{chart.name}.png"] = chart.png
        if "pdf" in wanted:
            files["report.pdf"] = html_to_pdf(html, browser=browser or find_browser())
    if "csv" in wanted:
        files.update({name: text.encode("utf-8") for name, text in csv_files(data.tables).items()})
    return files


def write(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` under ``out`` (created if missing); the paths written, in order.

    All or nothing: the files are first written into a scratch folder inside ``out`` and only
    then moved into place, so a folder that turns out to be unwritable (a read-only mount,
    a full disk) leaves nothing half-written. Raises ``OSError`` with nothing changed.
    """
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".casework-report-", dir=out))
    try:
        for name, content in files.items():
            staged = scratch / name
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(content)
        written: list[Path] = []
        try:
            for name in files:
                path = out / name
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(scratch / name, path)
                written.append(path)
        except OSError:
            for path in written:  # take back what was moved: no half report
                path.unlink(missing_ok=True)
            raise
        return written
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
