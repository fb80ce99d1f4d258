"""HTML mail to readable plain text: paragraphs and line breaks kept, scripts and styles dropped.

Uses the standard library's tolerant ``html.parser`` (never raises on broken markup), so an
HTML-only message reads like its plain-text sibling would. ``html.parser`` rescans an unfinished
tag from its start each time it looks for the tag's end, which is quadratic on a run of
unterminated tags (``<a<a<a…``: 3 s at 39 KiB, 11 s at 80 KB). :func:`defuse_unterminated`
first turns every ``<`` that is followed by another ``<`` before any ``>`` into ``&lt;`` in one
linear pass, so such a ``<`` is read as text (which is what a browser shows for it too), and
callers convert at most ``CASEWORK_HTML_MAX_BYTES`` characters.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "hr",
        "pre",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "form",
        "center",
    ]
)
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "xml"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")
_ANGLES = re.compile(r"[<>]")


def defuse_unterminated(html: str) -> str:
    """``html`` with each ``<`` that no ``>`` closes before the next ``<`` written ``&lt;``; linear."""
    out: list[str] = []
    pos = 0
    open_at = -1
    for match in _ANGLES.finditer(html):
        if match.group() == "<":
            if open_at >= 0:  # the previous "<" never closed: it is text
                out.append(html[pos:open_at])
                out.append("&lt;")
                pos = open_at + 1
            open_at = match.start()
        else:
            open_at = -1
    if open_at >= 0 and html.find(">", open_at) < 0:
        out.append(html[pos:open_at])
        out.append("&lt;")
        pos = open_at + 1
    out.append(html[pos:])
    return "".join(out)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Readable text of an HTML document or fragment; never raises."""
    parser = _TextExtractor()
    try:
        parser.feed(defuse_unterminated(html))
        parser.close()
    except Exception:  # html.parser is tolerant, but a text is worth more than an exception here
        return re.sub(r"<[^>]*>", " ", html)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
