"""Consultation signals: written to a consultation address, or answering a consultation."""

from __future__ import annotations

from intake.classify.base import CONSULT, Context, Vote, hits, phrases
from intake.classify.rules.correspondence import MARKETING


def consultation_address(ctx: Context) -> list[Vote]:
    wanted = {address.lower() for address in ctx.consultation_addresses}
    hit = sorted(wanted.intersection(ctx.msg.to_addrs + ctx.msg.cc_addrs))
    if hit:
        return [(CONSULT, 5.0, f"sent to the consultation address {hit[0]}")]
    return []


# --- consultation ---------------------------------------------------------------------------------
_CONSULT_STRONG = phrases(
    r"\bconsultation\b",
    r"\b(?:for|on) (?:the|your) (?:new |next )?plan\b",
    r"\b(?:your|the) review of (?:police )?(?:buildings|stations|premises|estates?)\b",
    r"\b(?:re|about) (?:ur|your|the) (?:survey|questionnaire)\b",
    r"\bsurvey\b",
    r"\bquestionnaire\b",
    r"\bestates? review\b",
    r"(?:draft )?police and crime plan",
    r"draft (?:plan|priorities)",
    r"\bconsulting\b",
    r"have your say",
    r"asking (?:people|residents|the public) (?:which|what|for (?:their )?views)",
    r"\b(?:police )?(?:part|share|element|portion) of (?:the |our )?council tax\b",
)
_CONSULT_RESPONSE = phrases(
    r"\b(?:my|our) (?:response|views|answers|comments|submission)\b",
    r"in response to (?:your|the)",
    r"(?:fill|filled) in (?:the|your) (?:form|survey|questionnaire)",
    r"in order of importance",
    r"\b(?:my|our) answers? (?:for|to) (?:your|the)\b",
    r"\byou asked (?:residents|people|the public|us) what\b",
    r"\bthis is (?:my|our) (?:answer|response|reply)\b",
    r"\b(?:my|our) (?:\w+ )?(?:top |main )?priorit(?:y|ies)\b",
    r"(?:my|our) (?:top |main )?priorit(?:y|ies) (?:is|are|would be|should be)",
    r"\bprecept\b",
    r"on behalf of (?:the|our) [a-z' ]{0,40}(?:committee|forum|partnership|network|group|association)",
    r"respond(?:ing)? to",
    r"(?:like|want|wanted|wish) to (?:respond|comment|feed ?back|give (?:my|our) views)",
    r"\b(?:my|our) (?:thoughts|feedback)\b",
    r"thank you for asking",
    r"\bin answer to (?:your|the)\b",
    r"\bmy answers? (?:is|are|would be)\b",
    r"\byou asked (?:whether|what|if|for|people|us|residents)\b",
)


def consultation_text(ctx: Context) -> list[Vote]:
    strong = hits(_CONSULT_STRONG, ctx.text)
    response = hits(_CONSULT_RESPONSE, ctx.text)
    # mentioning the plan or the survey is not answering it: a single mention needs a response cue
    if len(response) < (2 if not strong else 1 if len(strong) == 1 else 0):
        return []
    weight = min(len(strong), 2) * 1.3 + min(len(response), 3) * 0.6
    if MARKETING.search(ctx.text):  # a company selling help with the plan is not answering it
        weight *= 0.4
    said = ", ".join(f"'{hit}'" for hit in (strong + response)[:3])
    return [(CONSULT, weight, f"reads as a response to a consultation ({said})")]
