"""Did the office's own receiving server authenticate the sender? (RFC 8601 Authentication-Results)

Acknowledgements go to the From address. Anyone can forge a From header, so without a check
the office would mail whoever a spammer names (backscatter). The office's receiving server
checks SPF, DKIM and DMARC and writes the results in an ``Authentication-Results`` header
headed by its own *authserv-id*; ``CASEWORK_TRUSTED_AUTHSERV_ID`` names it. Headers with any
other authserv-id are ignored: a sender can write one too. Of the headers with the trusted id,
the topmost is read (servers prepend; RFC 8601 §5 asks the server to delete copies of its own
id that arrive from outside, and docs/security.md says how to make it do so).

The sender counts as authenticated when that header says ``dmarc=pass``, or ``dkim=pass`` for
a signing domain (``header.d``) aligned with the From domain, or ``spf=pass`` for an envelope
domain (``smtp.mailfrom``) aligned with it. Aligned is relaxed alignment approximated without
a public-suffix list: the same domain, or one a subdomain of the other.
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9-]+)\s*=\s*([a-z]+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_PROPERTY = re.compile(r"\b([a-z]+\.[a-z-]+)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)
#: a header this long is not from a mail server: not read
MAX_HEADER = 8 * 1024


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".>").lower()


def aligned(one: str, other: str) -> bool:
    one, other = _domain(one), _domain(other)
    if not one or not other:
        return False
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def authserv_id(header: str) -> str:
    head = _COMMENT.sub("", header[:MAX_HEADER]).split(";", 1)[0].strip()
    return head.split()[0].lower() if head else ""


def results(header: str) -> list[tuple[str, str, dict[str, str]]]:
    """``(method, result, properties)`` for each result in one header (after the authserv-id)."""
    text = _COMMENT.sub("", header[:MAX_HEADER])
    found = []
    for part in text.split(";")[1:]:
        match = _RESULT.match(part)
        if not match:
            continue
        props = {key.lower(): value for key, value in _PROPERTY.findall(match.group(3))}
        found.append((match.group(1).lower(), match.group(2).lower(), props))
    return found


def sender_authenticated(headers: list[str], *, trusted_id: str, from_addr: str) -> bool:
    """True when the topmost header from ``trusted_id`` shows the From domain passed."""
    if not trusted_id or not from_addr:
        return False
    ours = [h for h in headers if authserv_id(h) == trusted_id.strip().lower()]
    if not ours:
        return False
    for method, result, props in results(ours[0]):
        if result != "pass":
            continue
        if method == "dmarc" and aligned(props.get("header.from", from_addr), from_addr):
            return True
        if method == "dkim" and aligned(props.get("header.d", props.get("header.i", "")), from_addr):
            return True
        if method == "spf" and aligned(props.get("smtp.mailfrom", ""), from_addr):
            return True
    return False
