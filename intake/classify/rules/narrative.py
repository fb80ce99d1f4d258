"""Police conduct or service that went wrong for the writer, told as plain narrative.

Many complaints say no word of complaint or feeling: "kept me there for forty minutes", "taken the
hard drive and not brought it back", "turned up at half ten the next morning". Under the Police
Reform Act 2002 s12 such a letter is still an expression of dissatisfaction: a member of the public
telling what the police did, or failed to do, to them or to someone they write for. Phrase lists
cannot keep up with how people say it, so this signal reads kinds of adverse outcome (a lexicon
per kind: delay, property kept, no follow-up, a call not answered, force, a stop or search, a
remark, being turned away, a wrong person or address, a loss the writer suffered) in sentences
near a police actor, in a letter that tells of the writer's own experience. Several different
kinds weigh more than one repeated; words of thanks and praise count against.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from intake.classify.base import COMPLAINT, Context, Vote

_N = (
    r"(?:\d+|a few|several|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|fifteen|twenty|"
    r"thirty|forty|fifty|sixty|ninety|a couple of|an?)"
)


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


#: kind of adverse outcome -> its lexicon (meaning-level: the event, not a set phrase of complaint)
KINDS: dict[str, re.Pattern[str]] = {
    "kept waiting": _any(
        rf"\b(?:for|about|over|nearly|almost) {_N} (?:minutes|mins|hours|hrs|days|weeks|months)\b",
        rf"\b{_N} (?:hours|days|weeks|months) (?:later|on|after)\b",
        r"\b(?:the )?next (?:morning|day|afternoon|evening)\b",
        r"\b(?:half|quarter) (?:past )?\w+ the next\b",
        r"\b(?:wait|waited|waiting) (?:24|48|\d+|for|over|until|all)\b",
        r"\bstill (?:waiting|sitting|there|at)\b",
    ),
    "property kept": _any(
        r"\b(?:not|never|n't) (?:been )?(?:brought|given|handed|sent|returned|got) (?:it |them |"
        r"this |my \w+ )?back\b",
        r"\b(?:not|never|n't) (?:been )?returned\b",
        r"\b(?:still )?(?:not |n't )?(?:got|get|have|had) (?:it|them) back\b",
        r"\b(?:seized|confiscated|impounded|to the pound)\b",
        r"\b(?:took|taken) (?:it|them|my \w+|our \w+|his \w+|her \w+) away\b",
        r"\b(?:took|taken|kept) (?:my|our|his|her|the) (?:\w+ )?(?:phone|bag|handbag|bike|bicycle|"
        r"car|van|laptop|drive|hard drive|keys|money|passport|licence|property|footage|cctv)\b",
        r"\bas evidence\b",
        r"\bwhere it is\b",
    ),
    "no follow-up": _any(
        r"\b(?:heard|had) nothing\b",
        r"\bnothing (?:since|back|more)\b",
        r"\b(?:no ?one|nobody|no-one) (?:has |ever )?(?:rang|called|phoned|contacted|spoke|came|let|"
        r"told|got back|looked|checked|knows)\b",
        r"\b(?:ring|call|phone|get) (?:me |her |him |us )?back\b",
        r"\bcall(?:ed)? (?:me |her |him )?back\b",
        r"\bvoicemail\b",
        r"\bbounce[sd]?(?: back)?\b",
        r"\bno (?:reply|response|update|word|contact|call)\b",
        r"\bnever (?:heard|rang|called|spoke|came|got)\b",
        r"\bhaven't (?:heard|had)\b",
        r"\bhave not (?:heard|had)\b",
        r"\b(?:filed|closed) (?:pending|without|the case)\b",
        r"\bfiled\b",
        r"\bno further action\b",
    ),
    "call not answered": _any(
        r"\bline went dead\b",
        r"\b(?:held|hung) on\b",
        r"\bon hold\b",
        r"\bno(?:body|one)? answer(?:ed)?\b",
        r"\b(?:not|never|n't) answer(?:ed)?\b",
        r"\bcut off\b",
        r"\b(?:tried|rang|rung|called|phoned|ringing|calling) (?:101 |999 |them |the \w+ )?(?:six|"
        r"five|four|three|\d+|several|many) times\b",
    ),
    "force used": _any(
        r"\b(?:pushed|shoved|knelt|kneeling|pinned|dragged|grabbed|punched|kicked|tasered|sprayed|"
        r"restrained|handcuffed|cuffed|slammed|thrown|threw|forced)\b",
        r"\btackled (?:me|him|her|us|my \w+)\b",
        r"\b(?:me|him|her|us|them) (?:on|onto) the (?:ground|floor)\b",
        r"\b(?:bruis\w*|bleeding)\b",
        r"\binjur(?:ed|ies|y) (?:to )?(?:my|his|her|our)\b",
    ),
    "stopped or searched": _any(
        r"\b(?:pulled|stopped|searched|questioned|detained|arrested|held) (?:me|him|her|us|them|"
        r"my \w+|our \w+)\b",
        r"\b(?:got|was|were|been|being) (?:pulled|stopped|searched|questioned|detained|arrested|held)\b",
        r"\bwent through (?:my|his|her|our) \w+\b",
        r"\bin front of (?:his|her|my|our|the) \w+\b",
        r"\bmatch(?:ed|es)? (?:a|the) description\b",
        r"\bthe (?:second|third|fourth|fifth|\d+th) time\b",
        r"\b(?:second|third|fourth|fifth|\d+th) time (?:this|since|in)\b",
        r"\bpulled (?:me |him |her )?(?:over|onto|in)\b",
    ),
    "remark made": _any(
        r"\b(?:said|told (?:me|him|her|us|my \w+)|asked (?:me|him|her|us|whether|if)|called (?:me|"
        r"him|her)) (?:to )?[\"'‘“]",
        r"\btold (?:me|him|her|us|my \w+) (?:to (?:just|go|come|wait|stop|calm)|there was nothing|"
        r"he was|she was|i was|they were)\b",
        r"\b(?:laughed|yawned|shrugged|sighed|smirked|sneered)\b",
        r"\bon (?:his|her) phone\b",
        r"\bgo back (?:inside|home|where)\b",
        r"\bwhether i was sure\b",
        r"\bwhat do you want us to do\b",
    ),
    "turned away": _any(
        r"\b(?:come|ring|call) back (?:another|later|tomorrow|next)\b",
        r"\b(?:turned|sent) (?:me |us |her |him )?away\b",
        r"\b(?:too|very|were) busy\b",
        r"\bnothing (?:they|we|he|she|anyone) (?:could|can) do\b",
        r"\b(?:didn't|did not|wouldn't|would not) (?:write|take|ask|look|check|come|listen|record|give)\b",
        r"\bnot (?:even )?(?:written|recorded|taken|looked at|checked)\b",
        r"\bnobody (?:came|did|turned up)\b",
        r"\b(?:didn't|did not|never) (?:turn up|show up|come|arrive)\b",
        r"\bwere promised\b",
        r"\bwas promised\b",
    ),
    "wrong person or place": _any(
        r"\bwrong (?:address|house|person|man|woman|car|flat|household|name)\b",
        r"\b(?:was|is) not me\b",
        r"\bwasn't me\b",
        r"\b(?:did not|didn't) do\b",
        r"\bdoesn't live here\b",
        r"\bdoes not live here\b",
        r"\bmoved out\b",
        r"\bno (?:insurance|reason)\b",
        r"\bfor nothing\b",
        r"\bfound nothing\b",
        r"\bnever been in\b",
    ),
    "loss to the writer": _any(
        r"\blost (?:my|his|her|our|two|a|the) (?:\w+ )?(?:job|work|day|days|shift|money)\b",
        r"\bmissed (?:my|our|his|her|the) \w+\b",
        r"\bpaid (?:£|\d|a)\w*",
        r"\b£\d+\b",
        r"\bout of pocket\b",
        r"\bcost (?:me|us)\b",
        r"\bcouldn't get out\b",
        r"\b(?:hasn't|has not|haven't|have not|didn't|did not|won't|not) slept\b",
        r"\bin tears\b",
        r"\bnearly hit\b",
        r"\bred light\b",
        r"\bhypothermia\b",
    ),
}

#: a police actor or service: who the narrated events are about
_POLICE = re.compile(
    r"\b(?:police|officers?|pcs?o?s?|pc \d+|pc [a-z]+|sgt|sergeants?|constables?|detectives?|dc [a-z]+|"
    r"coppers?|cops?|bobb(?:y|ies)|call handlers?|101|999|front (?:desk|counter|office)|the desk|custody|"
    r"cells?|warrant|crime (?:number|reference|ref)|officer in (?:the|charge)|professional standards|"
    r"the force|police (?:car|van|station)|marked (?:car|van)|the station|station|the man on the phone|"
    r"the woman on the phone|the person on the phone|the (?:man|woman|lady|gentleman) behind the desk)\b"
    # events only the police do: the actor is implied
    r"|\b(?:as evidence|seized|went missing|reported (?:him |her |it |them )?missing|stop and search|"
    r"gave (?:a |our |my )?statements?)\b"
)
#: the writer's own experience, or that of someone they write for
_PERSONAL = re.compile(
    r"\b(?:i|me|my|we|us|our|i'm|i've|i'd|i was|son|lad|daughter|mother|mum|father|dad|husband|wife|partner|"
    r"brother|sister|grandson|granddaughter|neighbour|friend|children|kids|family|nan|gran|boy|girl|staff|"
    r"cook|customers|tenant)\b"
    # a diary-style sentence with the subject left out ("Tried 101 six times", "Got stopped again")
    r"|(?:^|[.!?]\s+|\n)(?:[\w']+ ){0,2}?(?:tried|rang|rung|called|phoned|got|held|went|reported|waited|"
    r"was|been)\b"
)
#: thanks and praise: a letter about good service, not a complaint
_PRAISE = re.compile(
    r"\b(?:thank(?:s| you)? (?:to )?(?:them|the officers?|you all|for (?:all|everything|their|the help))|"
    r"pass on (?:my|our) thanks|grateful|wonderful|superb|brilliant|excellent|fantastic|kind(?:ness)?|"
    r"helpful|reassuring|could not have been better|couldn't have been better|commend\w*|praise)\b"
)
_PAST = re.compile(
    r"\b(?:[a-z]+ed|came|went|took|taken|told|said|left|kept|gave|given|threw|put|got|saw|made|held|brought|"
    r"drove|sent|rang|knelt|stood|found|caught|hit|let|broke|did|didn't|wouldn't|couldn't|hasn't|haven't|"
    r"never|was|were|had)\b"
    # told in the present tense (common in English as a second language) but dated
    r"|\b(?:yesterday|next day|last (?:night|week|month|time)|ago|this morning|that night)\b"
)
#: a sentence about a past complaint that was settled ("the force dealt with it properly"): its
#: events are history, not a new expression of dissatisfaction
_SETTLED = re.compile(
    r"\b(?:complain\w*|complaint)\b.*\b(?:dealt with (?:it |them )?(?:properly|fairly|well|quickly|promptly)|"
    r"sorted(?: out)?|resolved|upheld|settled|put right|satisfied|handled (?:fairly|well|properly)|"
    r"no complaints?)\b"
    r"|\b(?:dealt with (?:it |them )?(?:properly|fairly|well)|sorted(?: out)?|resolved|"
    r"put right)\b.*\bcomplain"
    r"|\bno complaints? about\b"
    # an episode closed long ago, with or without a complaint ("years ago … the force sorted it out")
    r"|\b(?:years ago|last year|in (?:19|20)\d\d)\b.*\b(?:sorted (?:it |them |that )?out|put (?:it )?right|"
    r"dealt with (?:it |them )?(?:properly|fairly|well|quickly)|resolved)\b"
)
#: a sentence that says its matter is not settled ("still not resolved")
_UNSETTLED = re.compile(r"\b(?:not|n't|never|still)\b")
_SENTENCE_END = re.compile(r"[.!?;:](?: |\n|$)|\n\n")
#: a view of policing in general, not the writer's own experience
_GENERAL = re.compile(
    r"\b(?:in my (?:opinion|view|experience as a)|the plan|priorit(?:y|ies)|the precept|your survey|"
    r"consultation)\b"
)


def _sentences(text: str) -> list[int]:
    return [0] + [match.end() for match in _SENTENCE_END.finditer(text)]


def narrative(ctx: Context) -> list[Vote]:
    """A member of the public narrating police conduct or service that went wrong for them."""
    value = ctx.text.value
    police_at = [m.start() for m in _POLICE.finditer(value)]
    if not police_at:
        return []
    starts = _sentences(value)
    ends = [*starts[1:], len(value)]

    def sentence(position: int) -> int:
        return bisect_right(starts, position) - 1

    settled = {
        n
        for n in range(len(starts))
        if _SETTLED.search(value, starts[n], ends[n]) and not _UNSETTLED.search(value, starts[n], ends[n])
    }
    police = sorted({sentence(at) for at in police_at} - settled)
    # a police sentence and the three after it (what "they" went on to do), the one before
    near = sorted({n + step for n in police for step in (-1, 0, 1, 2, 3)} & set(range(len(starts))) - settled)
    text = " ".join(value[starts[n] : ends[n]] for n in near)
    if not _PERSONAL.search(text) or not _PAST.search(text):
        return []
    found: dict[str, str] = {}
    for kind, pattern in KINDS.items():
        match = pattern.search(text)
        if match:
            found[kind] = match.group(0).strip()
    if not found:
        return []
    praise = set(_PRAISE.findall(value))
    if len(praise) >= len(found):
        return []
    # one kind already outweighs the correspondence default: a missed complaint costs the most
    weight = 1.5 + 0.8 * (min(len(found), 4) - 1) - 0.5 * len(praise)
    if _GENERAL.search(value):
        weight *= 0.5  # answering a plan or survey, or a view of policing in general
    if ctx.from_force:
        weight *= 0.4  # staff about their employer: not "a member of the public"
    if weight <= 0:
        return []
    said = "; ".join(f"{kind}: '{said}'" for kind, said in list(found.items())[:4])
    return [
        (COMPLAINT, round(weight, 3), f"tells of police conduct or service that went wrong for them ({said})")
    ]
