"""FOI: any request for recorded information, whether or not it names the Act."""

from __future__ import annotations

from intake.classify.base import FOI, Context, Vote, hits, phrases

_FOI_NAMED = phrases(
    r"freedom of information",
    r"\bfoi(?:a)?\b",
    r"internal review",
    r"information act",
    r"\bsection (?:1|40|43)\b",
    r"\bs\.?\s?40\b",
)
_FOI_ASK = phrases(
    r"(?:please|kindly) (?:could you )?(?:provide|send|supply|disclose|let me (?:know|have)|tell me|confirm)"
    r"(?! (?:your|the commissioner's) (?:views?|thoughts|position))",
    r"(?:could|can|would|if|whether) you (?:could |would |can )?(?:please |kindly )?"
    r"(?:provide|send|supply|disclose|let me (?:know|have)|tell me|confirm)"
    r"(?! (?:your|the commissioner's) (?:views?|thoughts|position))",
    r"i (?:would like|wish|want|am writing) to (?:request|obtain|receive|see|ask for) (?:all |any )?"
    r"(?:a copy|copies|the|details|information|a list|data|figures|records)",
    r"request(?:ing)? (?:for )?(?:the following|information|data|details|copies|a copy)",
    r"what (?:was|is|were|are) the (?:total|number|cost|amount|budget|value|figures?)",
    # a question about what money went on is a request for the record of it
    r"\b(?:what|how much) (?:did|does|has|have|had) (?:the |your |this )?"
    r"(?:office|commissioner|force|pcc|you)[a-z' ]{0,20} (?:spend|spent|pay|paid|cost)",
    r"(?:grateful|obliged|like) to (?:receive|have|see|be (?:sent|given)) (?:details|a copy|copies|the)",
    r"\bplease (?:include|break (?:this|it|them) down)",
    r"\bplease (?:give|list|state) (?:the|me|a|each|how)\b",
    r"\bhow many\b",
    r"\b(?:i would like|i'd like|i want|may i have|can i have|could i have|i'd be grateful for|"
    r"i would be grateful for) (?:a copy|copies|the (?:figures?|numbers?|details|minutes|records?|list))",
)
_FOI_RECORD = phrases(
    r"\bhow (?:many|much)\b",
    r"\bfigures\b",
    r"\bstatistics\b",
    r"\bdata\b",
    r"\bbreakdown\b",
    r"\bbroken down\b",
    r"\btotal (?:cost|number|amount|spend)",
    r"\bcosts?\b",
    r"\bspen(?:d|ding|t)\b",
    r"\bregisters?\b",
    r"\bminutes of\b",
    r"\bcop(?:y|ies) of\b",
    r"\brecords?\b",
    r"\bnumber of\b",
    r"\bsalar(?:y|ies)\b",
    r"\bexpenses\b",
    r"\bexpense claims?\b",
    r"\bcontracts?\b",
    r"\binvoices?\b",
    r"\btransactions\b",
    r"\bagendas?\b",
    r"\bdocuments?\b",
    r"\binformation (?:held|you hold)\b",
    r"recorded information",
    r"\b(?:records|information|data|notes|emails|files) (?:that )?"
    r"(?:you|your office|the office|the commissioner) (?:hold|holds|keep|keeps|have)\b",
    r"\bsince (?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|\d{4})",
    r"financial year",
    r"\b20\d\d/\d\d\b",
)


def foi(ctx: Context) -> list[Vote]:
    votes: list[Vote] = []
    named = hits(_FOI_NAMED, ctx.text)
    if named:
        votes.append((FOI, 3.0, f"names the Freedom of Information process ('{named[0]}')"))
    asks = hits(_FOI_ASK, ctx.text)
    records = hits(_FOI_RECORD, ctx.text)
    if asks and records:
        weight = 1.2 + min(len(records), 5) * 0.45
        votes.append(
            (
                FOI,
                weight,
                f"asks to be given recorded information ('{asks[0]}' … "
                + ", ".join(f"'{r}'" for r in records[:3])
                + ")",
            )
        )
    elif len(records) >= 3:
        votes.append(
            (
                FOI,
                0.5 * min(len(records), 5),
                "asks about figures or records (" + ", ".join(f"'{r}'" for r in records[:3]) + ")",
            )
        )
    return votes
