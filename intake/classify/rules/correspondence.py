"""Correspondence: positions, thanks, invitations, marketing, MPs and councillors."""

from __future__ import annotations

from intake.classify.base import C, Context, Vote, hits, phrases

_POSITION = phrases(
    r"(?:what is|what's) (?:your|the commissioner's) (?:position|view|stance|policy)",
    r"where (?:do )?you stand",
    r"your (?:position|views?|stance|thoughts|plans) on",
    r"your position",
    r"do you (?:support|agree|intend|plan|think)",
    r"will you (?:be|commit|support|make|ensure|consider|press|ask|push)",
    r"what (?:do you|are you going to|will you|you intend to) (?:do|think)",
    r"what are your plans",
    r"would like to know (?:what|whether|your|if)",
    r"\b(?:interested|like|want|keen|grateful) to (?:know|hear|understand) (?:what|whether|how|if) "
    r"(?:[a-z]+ )?(?:you|the commissioner)\b",
    r"i urge you",
    r"are you (?:going|planning) to",
    r"\bwhat (?:is )?your view",
    r"your view is",
    r"let me know your (?:views?|thoughts|position)",
    r"does that mean you",
    r"(?:will|would|does|is) the commissioner (?:be )?"
    r"(?:holding|support|agree|plan|going|intend|commit|think)",
    r"is [a-z ]{0,40} a priority",
    r"\bwill the police and crime plan",
    r"\b(?:the commissioner's|your) (?:position|views?|stance|opinion) (?:on|about|of|regarding)\b",
)
_GREETING = phrases(
    r"congratulat",
    r"\bthank you (?:to|for (?:the|your) (?:help|support|kindness))",
    r"well done",
    r"\bcommend",
    r"best wishes (?:for|in) your new role",
    r"\b(?:wanted|want|like) to say (?:a (?:big |huge )?)?thank",
    r"\bpass on (?:our|my) (?:thanks|gratitude)",
    r"\brestored (?:my|our) faith",
    r"\b(?:above and|well) beyond\b",
)
_INVITE = phrases(
    r"\binvit(?:e|ation|ing)",
    r"(?:meet|meeting) with you",
    r"request (?:for )?a meeting",
    r"meeting request",
    r"arrange a (?:meeting|visit|time)",
    r"opportunity to meet",
    r"\b(?:speak|speaker) at\b",
    r"\bkeynote\b",
    r"\binterview\b",
    r"request to meet",
    r"would (?:like|love) to meet",
    r"\b(?:join|visit) us (?:at|for|on)\b",
    r"\bable to (?:join|attend|come|open|visit|speak at)\b",
    r"\bsay a few words\b",
    r"\bguest of honour\b",
)
#: asks the Commissioner to act, intervene or speak for them
_ACT = phrases(
    r"\bwould you be (?:willing|able|prepared) to\b",
    r"\b(?:could|would|will|can) (?:you|the commissioner) (?:please )?(?:raise|take (?:this|it) up|write to|"
    r"speak to|have a word|"
    r"intervene|bring|pass (?:this|it) on|put pressure|press (?:the|for))\b",
    r"\bare you (?:pressing|pushing|asking|lobbying)\b",
)
#: a journalist or broadcaster asking for comment: correspondence even when it says "please provide"
_COMMENT = phrases(
    r"\b(?:request|requests|asking) for (?:a )?comment\b",
    r"\b(?:like|want|wish|care) to comment\b",
    r"\b(?:a|any) comment (?:from|on|by)\b",
    r"\b(?:provide|give|send|offer) (?:us )?(?:a |any )?(?:short |brief )?"
    r"(?:statement|quote|comment|response) (?:from|on|by|about|for)\b",
    r"\b(?:provide|give|send) (?:us )?(?:a |any )?(?:short |brief )?(?:statement|quote|comment)\b",
    r"\ba few lines\b",
    r"\b(?:reporter|journalist|correspondent|producer|editor|press office|newsdesk|news desk)\b",
    r"\bmy deadline\b",
    r"\b(?:on air|on the show|on the programme|breakfast show)\b",
    r"\b(?:writing|working on) (?:a|an) (?:feature|article|story|piece)\b",
)
#: a short practical question about the office (hours, address, who to ask, how to send)
_PROCEDURAL = phrases(
    r"\bopening hours\b",
    r"\bpostal address\b",
    r"\b(?:who|where) (?:would be|is|do i|should i|can i) "
    r"(?:the right|contact|speak|write|send|ask|go|apply)",
    r"\bright person to (?:speak|talk|contact|write|ask)",
    r"\bhow (?:do|can|should) i (?:contact|get in touch|apply|write|send|become|volunteer|find|get hold)",
    r"\bdo i need to\b",
    r"\bis (?:email|e-mail) (?:ok|okay|alright|all right|fine|acceptable)\b",
)
MARKETING = phrases(
    r"\bunsubscribe\b",
    r"our (?:services|products|solutions|company|team can|training|courses)",
    r"free (?:demo|trial|consultation|initial)",
    r"we (?:offer|provide|specialise|deliver|work with)",
    r"special offer",
    r"\bbrochure\b",
    r"\bpricing\b",
    r"book (?:a|your) (?:place|demo|call)",
    r"\bdiscount\b",
    r"case stud(?:y|ies)",
    r"\bclients include\b",
    r"we (?:currently )?work with",
    r"rate card",
    r"account manager",
    r"fixed[- ]fee",
    r"public sector (?:organisations|clients|bodies)",
    r"(?:i am|we are) writing to introduce",
    r"\bintroduce (?:our|myself)",
    r"\bwe can offer\b",
)
_REPRESENTATIVE = phrases(
    r"\bmy constituents?\b",
    r"\bon behalf of (?:my|a|our) constituents?\b",
    r"\bour ref\b",
    r"\bmember of parliament\b",
    r"\bcouncill?or\b",
    r"\bcllr\b",
    r"\bmp\b",
    r"ward member",
    r"\bconstituency\b",
)


def correspondence(ctx: Context) -> list[Vote]:
    votes: list[Vote] = [(C, 1.0, "no stronger signal: ordinary correspondence")]
    for pattern, weight, what in (
        (_POSITION, 2.2, "asks the Commissioner's position or plans"),
        (_GREETING, 1.4, "congratulations or thanks"),
        (_INVITE, 1.6, "an invitation or a meeting request"),
        (MARKETING, 1.8, "a company or charity marketing its services"),
        (_REPRESENTATIVE, 1.8, "an MP or councillor writing for a constituent"),
        (_ACT, 1.6, "asks the Commissioner to act or intervene"),
        (_COMMENT, 2.2, "a journalist asking for comment (a view, not recorded information)"),
        (_PROCEDURAL, 1.8, "a practical question about the office"),
    ):
        found = hits(pattern, ctx.text)
        if found:
            votes.append((C, weight + 0.3 * min(len(found) - 1, 2), f"{what} ('{found[0]}')"))
    headers = ctx.msg.headers
    if "list-unsubscribe" in headers or headers.get("precedence", "").strip().lower() == "bulk":
        votes.append((C, 1.5, "sent as bulk marketing mail (List-Unsubscribe / Precedence: bulk)"))
    return votes
