"""``casework report`` from the command line: the files it writes, and bad input writing nothing."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from casework.report.pdf import find_browser
from casework.settings import Settings
from tests.report.conftest import PERIOD_ARGS, png_size
from tests.support.cli import run_cli

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _run(
    args: list[str],
    store: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return run_cli(["report", *args], database_url=store[0], monkeypatch=monkeypatch, capsys=capsys)


def test_default_writes_html_markdown_and_charts(
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out = tmp_path / "board" / "2013"
    result = _run([*PERIOD_ARGS, "--out", str(out)], reference_sqlite, monkeypatch, capsys, tmp_path)
    assert result.exit_code == 0, result.stderr
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    expected = [
        "charts/calls_by_hour.png",
        "charts/cases_by_category.png",
        "charts/closure_times.png",
        "charts/status_by_month.png",
        "charts/weekly_calls.png",
        "report.html",
        "report.md",
    ]
    if find_browser():
        expected.append("report.pdf")
        assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert written == sorted(expected)
    for chart in out.glob("charts/*.png"):
        png_size(chart.read_bytes())
    assert "1,111" in (out / "report.html").read_text()
    assert str(out / "report.html") in result.stdout


def test_format_csv_writes_one_file_per_table(
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    expected: dict[str, object],
) -> None:
    out = tmp_path / "csv"
    result = _run(
        [*PERIOD_ARGS, "--out", str(out), "--format", "csv"], reference_sqlite, monkeypatch, capsys, tmp_path
    )
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{key}.csv"
        for key in ("categories", "statuses", "closure_times", "aged_unclosed", "calls", "timeliness")
    )
    for path in out.iterdir():
        with path.open(newline="") as handle:
            header = next(csv.reader(handle))
        if path.stem == "timeliness":  # not in the 2013 paper: the columns the contract names
            assert header == ["month", "received", "responded_in_time", "responded_late", "open_in_time",
                              "open_late", "performance_pct"]  # fmt: skip
            continue
        rows: list[dict[str, object]] = expected[path.stem]  # type: ignore[assignment]
        keys = list(rows[0])
        # the store marks bank-holiday weeks with an extra `holiday` key (issue 2)
        assert header == keys or header == [*keys, "holiday"], path.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2013-13-01", "--to", "2013-07-31"], "--from '2013-13-01' is not a date"),
        (["--from", "2012-11-01", "--to", "31/07/2013"], "--to '31/07/2013' is not a date"),
        (["--from", "2013-07-31", "--to", "2012-11-01"], "is before --from"),
        (["--from", "2012-11-01", "--to", "2013-07-31", "--as-of", "yesterday"], "--as-of 'yesterday'"),
        (["--from", "2012-11-01", "--to", "2013-07-31", "--format", "docx"], "--format 'docx' is not one of"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    args: list[str],
    message: str,
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = _run([*args, "--out", str(out)], reference_sqlite, monkeypatch, capsys, tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_out_that_is_a_file_or_under_a_file_is_refused(
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    for out, message in ((blocker, "is a file, not a folder"), (blocker / "report", "cannot be created")):
        result = _run([*PERIOD_ARGS, "--out", str(out)], reference_sqlite, monkeypatch, capsys, tmp_path)
        assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert blocker.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_folder_that_refuses_writes_is_a_clear_error_and_nothing_is_written(
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Pins down the case the up-front check cannot see: a folder that looks writable (even to
    root) but refuses the files, as /sys does, or a read-only mount or full disk would."""
    refusing = Path("/sys/kernel")
    if not refusing.is_dir():
        pytest.skip("no /sys/kernel on this machine")
    before = sorted(p.name for p in refusing.iterdir())
    result = _run([*PERIOD_ARGS, "--out", str(refusing), "--format", "md"], reference_sqlite, monkeypatch,
                  capsys, tmp_path)  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "could not be written" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in refusing.iterdir()) == before


def test_a_failed_write_leaves_no_partial_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All or nothing: when the last file cannot be moved into place, none of the others are left."""
    from casework import report as report_package

    real_replace = os.replace

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith("report.md"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(report_package.os, "replace", failing_replace)
    out = tmp_path / "out"
    with pytest.raises(OSError):
        report_package.write(out, {"report.html": b"<p>x</p>", "report.md": b"x"})
    assert list(out.iterdir()) == []  # report.html was moved in, then taken back


def test_format_pdf_without_chromium_is_a_clear_error(
    reference_sqlite: tuple[str, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "out"
    result = _run(
        [*PERIOD_ARGS, "--out", str(out), "--format", "pdf"], reference_sqlite, monkeypatch, capsys, tmp_path
    )
    assert result.exit_code == 2 and "needs Chromium" in result.stderr
    assert not out.exists()
