"""Making text from the public safe to show in Slack.

Anything a member of the public wrote (names, subjects, bodies, even the classifier's reasons,
which quote their words) passes through :func:`mrkdwn` before it reaches a ``mrkdwn`` text
object. Slack's own rule is to turn ``&``, ``<`` and ``>`` into entities, which already defuses
``<!channel>``, ``<@U123>`` and ``<http://x|label>`` links. On top of that we neutralise the
plain-text forms Slack also acts on (``@channel``, ``@here``, ``@everyone``, bare URLs and
``www.`` names) and the formatting characters ``*``, ``_``, ``~`` and backticks, so that a sender
cannot make their words bold, strike out the caseworker's view, or hide text in a code block.

This is the one escape for public text on its way to Slack: the bot's blocks and the
scheduler's messages both use it, and every mrkdwn text object they build says
``"verbatim": true`` (:data:`VERBATIM`), so Slack does not turn what is left into links or
mentions on its own either.
"""

from __future__ import annotations

import re

#: look-alike characters: the text still reads the same, but Slack formats nothing
_CONTROL = str.maketrans({"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"})
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
#: a zero-width space after the scheme stops Slack turning a URL into a link
_URL_SCHEME = re.compile(r"\b(https?|ftp|mailto|slack)(:)(//)?", re.IGNORECASE)
_WWW = re.compile(r"\b(www)(\.)", re.IGNORECASE)
_WHITESPACE = re.compile(r"[ \t\r\f\v]+")
ZWSP = "\u200b"
#: set on every mrkdwn text object: Slack shows the text as written, links and names unparsed
VERBATIM = True


def entities(text: str) -> str:
    """Slack's three required escapes (also right for text inside code blocks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str | None, *, limit: int | None = None, one_line: bool = False) -> str:
    """``text`` from outside, ready for a mrkdwn field; cut to ``limit`` characters first."""
    text = (text or "").replace("\x00", "")
    text = " ".join(text.split()) if one_line else _WHITESPACE.sub(" ", text).strip()
    if limit is not None:
        text = truncate(text, limit)
    text = entities(text)
    text = _BROADCAST.sub(lambda m: "@" + ZWSP + m.group(1), text)
    text = _URL_SCHEME.sub(lambda m: m.group(1) + m.group(2) + ZWSP + (m.group(3) or ""), text)
    text = _WWW.sub(lambda m: m.group(1) + ZWSP + m.group(2), text)
    return text.translate(_CONTROL)


def plain(text: str | None, *, limit: int) -> str:
    """Text for a ``plain_text`` object (Slack shows it literally), cut to ``limit``."""
    return truncate(" ".join((text or "").split()), limit) or "-"


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def excerpt(body: str | None, *, lines: int = 3, limit: int = 300) -> str:
    """The first non-empty, non-quoted lines of a message body, escaped."""
    kept: list[str] = []
    for line in (body or "").splitlines():
        line = line.strip()
        if not line or line.startswith(">"):
            continue
        kept.append(line)
        if len(kept) >= lines:
            break
    return mrkdwn(" ".join(kept), limit=limit)
