"""The report's files: real PNG charts, self-contained escaped HTML, CSV headed by the JSON keys."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from typing import Any

from PIL import Image

from casework.report import render
from casework.report.charts import report_charts, summary_chart_png
from casework.report.csv import csv_files
from casework.report.data import ReportData
from casework.report.document import build_document
from casework.report.html import render_html
from casework.report.markdown import render_markdown
from casework.report.tables import TABLE_KEYS, build_tables
from tests.report.conftest import png_size


def test_every_chart_is_a_valid_png_of_sensible_size(reference_data: ReportData) -> None:
    charts = report_charts(reference_data)
    assert [c.name for c in charts] == [
        "cases_by_category",
        "status_by_month",
        "closure_times",
        "weekly_calls",
        "calls_by_hour",
    ]
    for chart in charts:
        width, height = png_size(chart.png)
        assert 600 <= width <= 2000 and 300 <= height <= 1400, (chart.name, width, height)
        with Image.open(io.BytesIO(chart.png)) as image:
            image.verify()  # decodes every chunk: a truncated or corrupt file fails here
        # a chart that drew nothing would be almost one colour
        with Image.open(io.BytesIO(chart.png)) as image:
            assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 20, chart.name
        assert chart.alt and chart.title


def test_summary_chart_for_slack_is_a_compact_png(reference_data: ReportData) -> None:
    png = summary_chart_png(reference_data.tables)
    width, height = png_size(png)
    assert 500 <= width <= 1000 and 400 <= height <= 1000  # fits a phone screen without zooming out
    with Image.open(io.BytesIO(png)) as image:
        image.verify()


def test_html_is_self_contained_with_every_table_and_chart(reference_data: ReportData) -> None:
    html = render_html(build_document(reference_data))
    assert html.count('<img src="data:image/png;base64,') == 5
    # nothing is fetched from anywhere: no http(s) or protocol-relative URLs in attributes
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for key in TABLE_KEYS:
        assert f'id="table-{key}"' in html
    for section in (
        "purpose",
        "casework",
        "categories",
        "statuses",
        "closure_times",
        "aged_unclosed",
        "calls",
        "calls_by_hour",
    ):
        assert f'<section id="{section}">' in html
    # the category table's total row, and the deadline measure beside the 28-day stand-in
    assert '<th scope="row">Total</th>' in html and ">1,111<" in html
    assert "% closed by the due date" in html and "% closed in 28 days" in html
    assert "Christmas Day" in html  # bank-holiday weeks are marked in the annex


def test_html_and_markdown_escape_text(reference_data: ReportData) -> None:
    hostile = replace(reference_data, office_name='<script>alert("x")</script> & | *Office*')
    document = build_document(hostile)
    html = render_html(document)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in html
    markdown = render_markdown(document)
    assert "<script>" not in markdown and r"\| \*Office\*" in markdown


def test_markdown_has_the_tables_and_links_the_chart_files(reference_data: ReportData) -> None:
    files = render(reference_data, ["md"])
    markdown = files["report.md"].decode()
    for chart in ("cases_by_category", "status_by_month", "closure_times", "weekly_calls", "calls_by_hour"):
        assert f"(charts/{chart}.png)" in markdown
        png_size(files[f"charts/{chart}.png"])
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    # header + rule + 10 rows for each month table (timeliness too), 2 + 41 for the calls
    assert len(table_rows) == 5 * 12 + 43
    assert "| **Total** | **780** | **264** | **32** | **8** | **25** | **2** | **1,111** |" in markdown
    assert "How each figure was computed" in markdown


def _read(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def test_csv_export_has_one_file_per_table_headed_by_the_json_keys(expected: dict[str, Any]) -> None:
    files = csv_files(expected)
    assert sorted(files) == sorted(f"{key}.csv" for key in TABLE_KEYS)
    for key in TABLE_KEYS:
        header, rows = _read(files[f"{key}.csv"])
        assert header == list(expected[key][0])
        assert len(rows) == len(expected[key])
        for want, got in zip(expected[key], rows, strict=True):
            assert got == {k: "" if v is None else str(v) for k, v in want.items()}


def test_csv_export_keeps_the_holiday_column_the_store_adds(reference_data: ReportData) -> None:
    header, rows = _read(csv_files(reference_data.tables)["calls.csv"])
    assert header[-1] == "holiday"
    christmas = next(row for row in rows if row["week_commencing"] == "2012-12-24")
    assert "Christmas Day" in christmas["holiday"]


def test_tables_print_none_as_not_applicable(expected: dict[str, Any]) -> None:
    closure = next(t for t in build_tables(expected) if t.key == "closure_times")
    november = closure.cells()[0]
    assert november[0] == "Nov 2012" and november[-4] == "N/A"  # no case took over 28 days
