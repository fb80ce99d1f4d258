"""The report as Markdown, for pasting into the office's own papers.

Charts are referenced as files in ``charts/`` beside the ``.md`` (the writer saves them there);
table cells and text are escaped so a ``|`` or ``*`` in a name cannot break the layout.
"""

from __future__ import annotations

import re

from casework.report.document import Document, Section
from casework.report.tables import Table

CHART_DIR = "charts"
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def render_table(table: Table) -> str:
    header = table.header()
    lines = [
        f"*{md_escape(table.title)}*",
        "",
        "| " + " | ".join(md_escape(h) for h in header) + " |",
        "| " + " | ".join("---" if c.kind in ("label", "text") else "---:" for c in table.columns) + " |",
    ]
    for row, cells in zip(table.rows, table.cells(), strict=True):
        cells = [md_escape(c) for c in cells]
        if row[table.columns[0].key] == "total":
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_section(section: Section) -> str:
    parts = [f"## {md_escape(section.title)}", ""]
    parts += [md_escape(p) + "\n" for p in section.paragraphs]
    if section.bullets:
        parts += [f"- {md_escape(b)}" for b in section.bullets] + [""]
    if section.table is not None:
        parts += [render_table(section.table), ""]
    parts += [md_escape(p) + "\n" for p in section.after]
    if section.chart is not None:
        chart = section.chart
        parts += [
            f"![{md_escape(chart.alt)}]({CHART_DIR}/{chart.name}.png)",
            "",
            f"*{md_escape(chart.title)}*",
            "",
        ]
    return "\n".join(parts)


def _detail(detail: str) -> str:
    return f" ({md_escape(detail)})" if detail else ""


def render_markdown(document: Document) -> str:
    lines = [
        f"# {md_escape(document.title)}",
        "",
        md_escape(document.subtitle),
        "",
        "## Headline figures",
        "",
    ]
    lines += [
        f"- **{md_escape(n.text)}**{_detail(n.detail)} – {md_escape(n.label)} [{i}]"
        for i, n in enumerate(document.notes, start=1)
    ]
    lines.append("")
    lines += [render_section(s) for s in document.sections]
    lines += ["## How each figure was computed", ""]
    lines += [
        f"{i}. **{md_escape(n.label)}: {md_escape(n.text)}{_detail(n.detail)}.** {md_escape(n.how)}"
        for i, n in enumerate(document.notes, start=1)
    ]
    lines += [
        "",
        "Every table is computed from the case store by `casework stats` with the same dates; "
        "`casework report --format csv` gives each table as a CSV file.",
        "",
    ]
    return "\n".join(lines)
