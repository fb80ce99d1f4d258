"""Does a reply on a closed FOI case ask for an internal review?

People write "internal review" almost always (the ICO's and WhatDoTheyKnow's templates say
"Please pass this on to the person who conducts Freedom of Information reviews … I am writing
to request an internal review"); a few ask to have "the decision reviewed". A match only
*proposes* the review in Slack: a caseworker confirms it with one click.
"""

from __future__ import annotations

import re

_ASKS = re.compile(
    r"\binternal\s+review\b"
    r"|\bfreedom\s+of\s+information\s+reviews?\b"
    r"|\b(?:review|reconsider)\s+(?:your|the|this)\s+(?:decision|response|refusal)\b"
    r"|\b(?:decision|response|refusal)\s+(?:to\s+be\s+)?reviewed\b",
    re.IGNORECASE,
)


def asks_for_review(text: str) -> bool:
    return bool(_ASKS.search(text))
