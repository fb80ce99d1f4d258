"""Complaints about officers, staff or the Chief Constable, and appeals about complaint handling."""

from __future__ import annotations

from intake.classify.base import COMPLAINT, Context, Vote, hits, phrases

_COMPLAINT_MAKE = phrases(
    r"(?:make|lodge|register|submit|raise|file|making|lodging|raising) (?:a |this |my )?"
    r"(?:formal |official )?complaint",
    r"formal complaint",
    r"(?:this|my) (?:is a )?complaint",
    r"complain(?:ing)? (?:about|against|regarding)",
    r"complaint (?:about|against|regarding|concerning|re)\b",
    r"^complaint\b",
    r"\bi (?:wish|want|would like) to complain",
    r"professional standards",
    r"something done about (?:this|these|the|that) (?:officers?|pcsos?|constables?)",
    r"want (?:the|this|these|that) (?:officers?|pcsos?) (?:identified|disciplined|dealt with|investigated)",
    r"grievance against the chief constable",
)
_COMPLAINT_APPEAL = phrases(
    r"appeal[a-z]* (?:against |about )?(?:the )?(?:outcome|decision|handling|result|finding)",
    r"(?:outcome|handling|decision)[a-z ]{0,30} (?:of|on|about) (?:my|the) complaint",
    r"\bappeal\b[^.\n]{0,80}complaint",
    r"not to record my complaint",
    r"local resolution",
)
_CONDUCT = phrases(
    r"\brude(?:ly|ness)?\b",
    r"\baggressive(?:ly)?\b",
    r"excessive force",
    r"\bassault",
    r"\bhandcuff",
    r"\bmanhandl",
    r"unprofessional",
    r"\bdismissive",
    r"\blaughed\b",
    r"\bswore\b",
    r"\bswearing\b",
    r"\bintimidat",
    r"\babusive\b",
    r"\bharass",
    r"\bdisrespect",
    r"\bracis[mt]",
    r"\bdiscriminat",
    r"\bmisconduct\b",
    r"\bunlawful(?:ly)?\b",
    r"\bwrongful(?:ly)?\b",
    r"conduct of (?:the |an? |this )?(?:officer|pc|sergeant|pcso|police)",
    r"(?:officer|pc|pcso|sergeant)'?s? (?:conduct|behaviour|attitude)",
    r"\bmobile phone while driving",
    r"\bdrove off\b",
    r"disclosed my",
    r"\bbadge number\b",
    r"\bcollar number\b",
    r"offensive",
    r"\bnot returned\b",
    r"\bgrabbed\b",
    r"\bpushed (?:me|him|her|my|them)\b",
    r"\bthrew\b",
    r"\bcalled (?:me|him|her|my [a-z]+) an? ",
    r"refused to (?:give|show|tell|take|listen|help|explain)",
    r"\bdisciplined\b",
    r"\b(?:punched|kicked|slapped|shouted at|mocked|bullied|threatened)\b",
    r"\bheavy[- ]handed\b",
    r"\bignored\b",
    r"\bdamag(?:ed|ing)\b",
    r"the way (?:i|he|she|we|my [a-z]+) (?:was|were) treated",
)
_CHIEF = phrases(r"chief constable")
_NOT_COMPLAINING = phrases(
    r"(?:not|n't) (?:making|lodging|raising|writing to make|wanting to make|want to make|looking to make) "
    r"(?:a |any )?(?:formal )?complaint",
    r"(?:not|n't) (?:writing|here) (?:about|to complain)",
    r"(?:i'm|i am) not complaining",
    r"this is not a complaint",
    r"not writing about that",
    r"(?:was|has been) dealt with by professional standards",
)


def complaint(ctx: Context) -> list[Vote]:
    votes: list[Vote] = []
    made = hits(_COMPLAINT_MAKE, ctx.text)
    appeal = hits(_COMPLAINT_APPEAL, ctx.text)
    conduct = hits(_CONDUCT, ctx.text)
    if appeal:
        votes.append((COMPLAINT, 3.0, f"appeals about how a complaint was handled ('{appeal[0]}')"))
    if made:
        weight = 2.5 + (0.5 if _CHIEF.search(ctx.text) else 0.0)
        votes.append((COMPLAINT, weight, f"complains about the police ('{made[0]}')"))
    if conduct:
        votes.append(
            (
                COMPLAINT,
                0.6 * min(len(conduct), 4),
                "describes officer or staff conduct (" + ", ".join(f"'{c}'" for c in conduct[:3]) + ")",
            )
        )
    denial = hits(_NOT_COMPLAINING, ctx.text)
    if denial:
        # a passing mention ("I am not making a complaint about them") outweighs the words around it
        votes = [vote for vote in votes if not vote[2].startswith("complains about")]
        votes.append((COMPLAINT, -3.0, f"says it is not a complaint ('{denial[0]}')"))
    return votes
