"""What the intake pipeline knows about one email once it is parsed.

``intake.parse.parse_message(raw)`` fills a :class:`ParsedMessage`; every later step (dedupe,
thread, automatic mail, campaign, classify, store, acknowledge) reads it and never the raw
bytes again. Fields are plain Python values, already decoded: text is ``str``, addresses are
lower-cased, dates are aware.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property


@dataclass
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    #: the bytes, or None when larger than ``CASEWORK_ATTACHMENT_MAX_BYTES`` (then ``truncated``)
    content: bytes | None
    truncated: bool = False


@dataclass
class ParsedMessage:
    raw: bytes
    message_id: str | None  # with angle brackets, as in the header
    subject: str
    from_addr: str  # "" when the message has no usable From
    from_name: str
    to_addrs: list[str]
    cc_addrs: list[str]
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    body_text: str  # readable text: text/plain, or HTML converted to text
    attachments: list[AttachmentInfo] = field(default_factory=list)
    #: header name (lower-case) → value, for the headers the automatic-mail and classify steps read
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    #: problems the parser met and worked round ("no Message-ID", "broken boundary", …)
    defects: list[str] = field(default_factory=list)
    #: every Authentication-Results header, topmost first (:mod:`intake.authresults`)
    auth_results: list[str] = field(default_factory=list)

    @cached_property
    def raw_sha256(self) -> str:
        """Dedupe's key; kept once worked out (several steps ask, a worker works it out ahead)."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def sender_domain(self) -> str:
        return self.from_addr.rpartition("@")[2]


@dataclass
class Classification:
    category: str  # a store.enums.Category value
    confidence: float  # 0..1
    reasons: list[str]  # human-readable: which signals decided, e.g. "sender domain is a police force"
    needs_triage: bool = False
    #: the softmax over the signals' totals before calibration (what a calibration map is fitted on)
    raw_confidence: float | None = None
