"""The report as one self-contained HTML page: charts embedded as data: URIs, no external assets.

Every piece of text is escaped (subjects and names never appear, but office names and holiday
names come from configuration and data). A Content-Security-Policy forbids any fetch, so a page
that renders at all renders complete; a small script marks ``<body data-charts-loaded="yes">``
once every chart image has decoded, which the browser test reads.
"""

from __future__ import annotations

import base64
from html import escape

from casework.report.document import Document, Section
from casework.report.figures import Figure
from casework.report.tables import Table

CSS = """
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 2rem auto;
       max-width: 62rem; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; }
.subtitle { color: #444; margin-top: 0; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; margin-top: 2rem; }
ol.paras { counter-reset: none; }
.headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: 0.6rem;
            margin: 1rem 0; padding: 0; list-style: none; }
.headline li { border: 1px solid #ccc; border-radius: 4px; padding: 0.5rem 0.7rem; }
.headline .value { font-size: 1.3rem; font-weight: bold; display: block; }
.headline .detail { font-size: 0.8rem; display: block; color: #444; }
.headline .label { font-size: 0.85rem; color: #333; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; }
th { background: #eef3f8; vertical-align: bottom; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td, tr.total th { font-weight: bold; background: #f4f4f4; }
table.calls { font-size: 0.75rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85rem; color: #333; }
.notes { font-size: 0.85rem; }
sup a { text-decoration: none; }
@media print { body { margin: 0; max-width: none; } table, figure { break-inside: avoid; }
               h2 { break-after: avoid; } }
"""

LOADED_SCRIPT = """
(function () {
  function check() {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i++) {
      if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
    }
    document.body.setAttribute("data-images", String(images.length));
    document.body.setAttribute("data-images-loaded", String(loaded));
    document.body.setAttribute("data-charts-loaded", loaded === images.length ? "yes" : "no");
    if (loaded !== images.length) { setTimeout(check, 50); }
  }
  window.addEventListener("load", check);
})();
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_table(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(label)}</th>' for label in table.header())
    body = []
    for row, cells in zip(table.rows, table.cells(), strict=True):
        total = row[table.columns[0].key] == "total"
        first = f'<th scope="row">{escape(cells[0])}</th>'
        rest = "".join(
            f'<td class="{"num" if column.kind not in ("text", "label") else "text"}">{escape(cell)}</td>'
            for column, cell in zip(table.columns[1:], cells[1:], strict=True)
        )
        row_class = ' class="total"' if total else ""
        body.append(f"<tr{row_class}>{first}{rest}</tr>")
    return (
        f'<table class="{escape(table.key)}" id="table-{escape(table.key)}">'
        f"<caption>{escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_section(section: Section) -> str:
    parts = [f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>']
    parts += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
    if section.bullets:
        parts.append("<ul>" + "".join(f"<li>{escape(b)}</li>" for b in section.bullets) + "</ul>")
    if section.table is not None:
        parts.append(render_table(section.table))
    parts += [f"<p>{escape(p)}</p>" for p in section.after]
    if section.chart is not None:
        chart = section.chart
        parts.append(
            f'<figure id="chart-{escape(chart.name)}">'
            f'<img src="{data_uri(chart.png)}" alt="{escape(chart.alt)}">'
            f"<figcaption>{escape(chart.title)}</figcaption></figure>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _figure_item(number: int, note: Figure) -> str:
    detail = f'<span class="detail">{escape(note.detail)}</span>' if note.detail else ""
    return (
        f'<li id="figure-{escape(note.key)}"><span class="value">{escape(note.text)}</span>{detail}'
        f'<span class="label">{escape(note.label)} <sup><a href="#note-{escape(note.key)}">{number}</a></sup>'
        "</span></li>"
    )


def _note_item(note: Figure) -> str:
    detail = f" ({escape(note.detail)})" if note.detail else ""
    return (
        f'<li id="note-{escape(note.key)}">'
        f"<strong>{escape(note.label)}: {escape(note.text)}{detail}.</strong> "
        f"{escape(note.how)}</li>"
    )


def render_html(document: Document) -> str:
    figures = "".join(_figure_item(i, n) for i, n in enumerate(document.notes, start=1))
    notes = "".join(_note_item(n) for n in document.notes)
    sections = "\n".join(render_section(s) for s in document.sections)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{escape(document.title)} – {escape(document.subtitle)}</title>
<style>{CSS}</style>
<script>{LOADED_SCRIPT}</script>
</head>
<body>
<header><h1>{escape(document.title)}</h1><p class="subtitle">{escape(document.subtitle)}</p></header>
<section id="headline"><h2>Headline figures</h2><ul class="headline">{figures}</ul></section>
{sections}
<section id="notes" class="notes"><h2>How each figure was computed</h2><ol>{notes}</ol>
<p>Every table is computed from the case store by <code>casework stats</code> with the same dates; the
CSV export (<code>casework report --format csv</code>) gives each table as a file.</p></section>
</body>
</html>
"""
