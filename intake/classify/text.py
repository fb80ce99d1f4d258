"""The text the classifier reads: subject + body, with boilerplate removed, and its tokens.

Email disclaimers ("This email and any attachments are intended solely for the addressee and may
contain information …") and campaign-site footers say nothing about what the writer wants, but
they contain words such as "information" that would pull a letter towards FOI, so they are cut.
"""

from __future__ import annotations

import re
from itertools import pairwise

from intake.message import ParsedMessage

#: how a disclaimer or footer line starts
_DISCLAIMER = (
    r"(?:this (?:e-?mail|message)(?: and any (?:files|attachments)[^\n]*)? (?:is|are|may be|and any)"
    r"|disclaimer:|confidentiality notice|the information (?:contained )?in this (?:e-?mail|message)"
    r"|to unsubscribe|if you (?:no longer )?wish to (?:unsubscribe|stop receiving)|sent from my )"
)
# the first line and every later one: with its newline the engine can scan for the line starts,
# which a multi-line ^ does not let it do
_FIRST_LINE_DISCLAIMER = re.compile(_DISCLAIMER, re.IGNORECASE)
_LATER_LINE_DISCLAIMER = re.compile("\n" + _DISCLAIMER, re.IGNORECASE)
MAX_BODY_CHARS = 8000
_WORD = re.compile(r"[a-z][a-z0-9']*[a-z0-9]|[a-z]")
_STOP_WORDS = """
a an the and or of to in on at for by with from is are was were be been being it its this that these
those i me my we our you your he she they them his her their as but if so not no do does did have
has had will would can could should shall may might must am very just also there here than then
which who whom what when where why how all any each some such into over about up down out off again
further once s t dear yours sincerely regards kind best thanks thank
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def strip_boilerplate(body: str) -> str:
    """The body without disclaimers and footers (everything from the first such line on)."""
    if _FIRST_LINE_DISCLAIMER.match(body):
        return body  # a disclaimer at the very top would leave nothing: keep the body then
    match = _LATER_LINE_DISCLAIMER.search(body)
    start = match.start() + 1 if match else 0
    return body[:start] if start > 40 else body


def message_text(msg: ParsedMessage) -> str:
    """Subject and body, lower-cased, ready for the signals' regular expressions."""
    # one space between words: phrases the signals look for are often broken across lines
    # a letter says what it wants early on: a 26 KB bounce or newsletter needs no full read
    body = strip_boilerplate(msg.body_text[:MAX_BODY_CHARS])
    return " ".join(f"{msg.subject}\n{body}".lower().split())


#: joins the two words of a bigram token (never part of a word)
BIGRAM = "_"
#: the prefixes of model_text's marker words: they say who, not what, so they never explain
SENDER_DOMAIN, SENT_TO = "senderdomain", "sentto"


def _marker(prefix: str, address_or_domain: str) -> str:
    return prefix + re.sub(r"[^a-z0-9]", "", address_or_domain.lower())


def model_text(msg: ParsedMessage, *, text: str | None = None) -> str:
    """What the learned model reads, and what a label should store (``store.cases.set_category``'s
    ``label_text``): marker words for the sender's domain and the addresses written to, so the
    model can learn "mail from this domain / to this address is …", then subject and body."""
    markers = [_marker(SENDER_DOMAIN, msg.sender_domain)] if msg.sender_domain else []
    markers += [_marker(SENT_TO, address) for address in msg.to_addrs[:5]]
    return " ".join(markers) + "\n" + (message_text(msg) if text is None else text)


def words(text: str) -> list[str]:
    """The words of ``text`` the learned model reads: lower-cased, stop words dropped."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS]


def tokens(text: str) -> list[str]:
    """Words plus adjacent-word bigrams ("rest_days"), for the learned model."""
    found = words(text)
    return found + [f"{a}{BIGRAM}{b}" for a, b in pairwise(found)]
