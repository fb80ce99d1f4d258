"""What every signal shares: the context it reads, its vote, and the phrases it looks for.

See :mod:`intake.classify.signals` for the table and the weight scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from intake.classify.phrases import Phrases, Text
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
    text: Text  # subject + body without boilerplate, lower-cased
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


def phrases(*patterns: str) -> Phrases:
    return Phrases(patterns)


def hits(pattern: Phrases, text: Text) -> list[str]:
    return list(dict.fromkeys(match.group(0).strip() for match in pattern.finditer(text)))
