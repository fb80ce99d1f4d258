"""What every signal shares: the context it reads, its vote, and fast phrase matching.

See :mod:`intake.classify.signals` for the table and the weight scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from intake.message import ParsedMessage
from store.enums import Category

C = Category.CORRESPONDENCE.value
COMPLAINT = Category.COMPLAINT.value
FOI = Category.FOI.value
CAMPAIGN = Category.CAMPAIGN.value
OFFICER = Category.OFFICER_CORRESPONDENCE.value
CONSULT = Category.CONSULTATION.value

Vote = tuple[str, float, str]


@dataclass
class Context:
    msg: ParsedMessage
    text: str  # subject + body without boilerplate, lower-cased
    force_domains: list[str]
    consultation_addresses: list[str]
    campaign_senders: int = 0
    campaign_min_senders: int = 3
    facts: dict[str, bool] = field(default_factory=dict)

    @property
    def from_force(self) -> bool:
        domain = self.msg.sender_domain
        return any(domain == d or domain.endswith("." + d) for d in self.force_domains)


@dataclass(frozen=True)
class Signal:
    name: str
    description: str
    vote: Callable[[Context], list[Vote]]


_LITERAL = re.compile(r"(?:\\b)?([a-z0-9' ,-]+)")


class Phrases:
    """Alternative regular expressions, each tried only when its literal start is in the text.

    One big alternation starting with ``\\b`` defeats the regex engine's literal-prefix scan and
    cost most of the classifier's time; a substring test first is ten times faster.
    """

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.items: list[tuple[str, bool, re.Pattern[str]]] = []
        for pattern in patterns:
            match = _LITERAL.match(pattern)
            needle = match.group(1) if match else ""
            if match and pattern[match.end() : match.end() + 1] in ("?", "*", "{"):
                needle = needle[:-1]  # the last literal character is optional
            needle = needle if len(needle.strip()) >= 3 else ""
            # a leading \b is checked by hand, so that the engine can scan for the literal start
            boundary = bool(needle) and pattern.startswith("\\b")
            self.items.append((needle, boundary, re.compile(pattern[2:] if boundary else pattern)))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        for needle, boundary, pattern in self.items:
            if not needle or needle in text:
                for match in pattern.finditer(text):
                    start = match.start()
                    if boundary and start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                        continue
                    yield match

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)


def phrases(*patterns: str) -> Phrases:
    return Phrases(patterns)


def hits(pattern: Phrases, text: str) -> list[str]:
    return list(dict.fromkeys(match.group(0).strip() for match in pattern.finditer(text)))
