"""The HTML report in a real headless Chromium: it renders, every chart image loads, and it prints.

Skips with a reason where no Chromium is installed, and fails in CI (CI=true), where .ci/run
installs it. A full-page screenshot is saved to test-artifacts/report.png for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from casework.report.data import ReportData
from casework.report.document import build_document
from casework.report.html import render_html
from casework.report.pdf import HEADLESS_FLAGS, find_browser, html_to_pdf
from tests.report.conftest import artifacts_dir, png_size

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        if IN_CI:
            pytest.fail(
                "CI must run the browser tests, but no chromium is on PATH (apt-get install chromium)"
            )
        pytest.skip(
            "no chromium on PATH: install Debian's 'chromium' package to check the report in a browser"
        )
    return found


@pytest.fixture(scope="module")
def page(reference_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report-html") / "report.html"
    path.write_text(render_html(build_document(reference_data)), encoding="utf-8")
    return path


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [browser, *HEADLESS_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_every_chart_image_loads_in_chromium(browser: str, page: Path, tmp_path: Path) -> None:
    result = _chromium(
        browser, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    body = re.search(r"<body[^>]*>", result.stdout)
    assert body is not None, "chromium rendered no <body>"
    # set by the page's own script once every <img> reports complete && naturalWidth > 0
    assert 'data-images="5"' in body.group(0), body.group(0)
    assert 'data-images-loaded="5"' in body.group(0), body.group(0)
    assert 'data-charts-loaded="yes"' in body.group(0), body.group(0)
    # the DOM the browser built has the tables, not just the text we wrote
    assert result.stdout.count("<table") == 6  # the five of the 2013 paper, and timeliness


def test_screenshot_is_saved_as_a_test_artefact(browser: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = _chromium(
        browser,
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1100,3000",
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert shot.exists(), result.stderr[-2000:]
    assert png_size(shot.read_bytes()) == (1100, 3000)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "the screenshot is blank"
    shutil.copyfile(shot, artifacts_dir() / "report.png")


def test_pdf_is_printed_by_chromium(browser: str, reference_data: ReportData) -> None:
    pdf = html_to_pdf(render_html(build_document(reference_data)), browser=browser)
    assert pdf[:5] == b"%PDF-" and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3  # tables and charts over several pages
    (artifacts_dir() / "report.pdf").write_bytes(pdf)
