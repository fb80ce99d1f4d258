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

_N = r"(?:\d+|a few|several|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|fifteen|twenty|" \
    r"thirty|forty|fifty|sixty|ninety|a couple of|an?)"

#: kind of adverse outcome -> its lexicon (meaning-level: the event, not a set phrase of complaint)
KINDS: dict[str, re.Pattern[str]] = {
    "kept waiting": re.compile(
        rf"\b(?:for|about|over|nearly|almost) {_N} (?:minutes|mins|hours|hrs|days|weeks|months)\b"
        rf"|\b{_N} (?:hours|days|weeks|months) (?:later|on|after)\b"
        r"|\bthe next (?:morning|day|afternoon|evening)\b|\b(?:half|quarter) (?:past )?\w+ the next\b"
        r"|\b(?:wait|waited|waiting) (?:24|48|\d+|for|over|until|all)\b|\bstill (?:waiting|sitting|there|at)\b"
    ),
    "property kept": re.compile(
        r"\b(?:not|never|n't) (?:been )?(?:brought|given|handed|sent|returned|got) (?:it |them |this |my \w+ )?back\b"
        r"|\b(?:not|never|n't) (?:been )?returned\b|\b(?:still )?(?:not |n't )?(?:got|get|have|had) (?:it|them) back\b"
        r"|\b(?:seized|confiscated|impounded|to the pound)\b|\b(?:took|taken) (?:it|them|my \w+|our \w+|his \w+|her \w+) away\b"
        r"|\b(?:took|taken|kept) (?:my|our|his|her|the) (?:\w+ )?(?:phone|bag|handbag|bike|bicycle|car|van|laptop|"
        r"drive|hard drive|keys|money|passport|licence|property|footage|cctv)\b"
        r"|\bas evidence\b|\bwhere it is\b"
    ),
    "no follow-up": re.compile(
        r"\b(?:heard|had) nothing\b|\bnothing (?:since|back|more)\b|\b(?:no ?one|nobody|no-one) (?:has |ever )?"
        r"(?:rang|called|phoned|contacted|spoke|came|let|told|got back|looked|checked|knows)\b"
        r"|\b(?:ring|call|phone|get) (?:me |her |him |us )?back\b|\bcall(?:ed)? (?:me |her |him )?back\b"
        r"|\bvoicemail\b|\bbounce[sd]?(?: back)?\b|\bno (?:reply|response|update|word|contact|call)\b"
        r"|\bnever (?:heard|rang|called|spoke|came|got)\b|\bhaven't (?:heard|had)\b|\bhave not (?:heard|had)\b"
        r"|\b(?:filed|closed) (?:pending|without|the case)\b|\bfiled\b|\bno further action\b"
    ),
    "call not answered": re.compile(
        r"\bline went dead\b|\b(?:held|hung) on\b|\bon hold\b|\bno(?:body|one)? answer(?:ed)?\b"
        r"|\b(?:not|never|n't) answer(?:ed)?\b|\bcut off\b|\b(?:tried|rang|rung|called|phoned|ringing|calling) (?:101 |999 |them |the \w+ )?"
        r"(?:six|five|four|three|\d+|several|many) times\b"
    ),
    "force used": re.compile(
        r"\b(?:pushed|shoved|knelt|kneeling|pinned|dragged|grabbed|punched|kicked|tasered|sprayed|"
        r"restrained|handcuffed|cuffed|slammed|thrown|threw|tackled|forced)\b|\bon the (?:ground|floor)\b"
        r"|\b(?:bruis\w*|bleeding)\b|\binjur(?:ed|ies|y) (?:to )?(?:my|his|her|our)\b"
    ),
    "stopped or searched": re.compile(
        r"\b(?:pulled|stopped|searched|questioned|detained|arrested|held) (?:me|him|her|us|them|my \w+|our \w+)\b"
        r"|\b(?:got|was|were|been|being) (?:pulled|stopped|searched|questioned|detained|arrested|held)\b"
        r"|\bwent through (?:my|his|her|our) \w+\b|\bin front of (?:his|her|my|our|the) \w+\b"
        r"|\bmatch(?:ed|es)? (?:a|the) description\b|\bthe (?:second|third|fourth|fifth|\d+th) time\b|\b(?:second|third|fourth|fifth|\d+th) time (?:this|since|in)\b"
        r"|\bpulled (?:me |him |her )?(?:over|onto|in)\b"
    ),
    "remark made": re.compile(
        r"\b(?:said|told (?:me|him|her|us|my \w+)|asked (?:me|him|her|us|whether|if)|called (?:me|him|her)) "
        r"(?:to )?[\"'‘“]"
        r"|\btold (?:me|him|her|us|my \w+) (?:to (?:just|go|come|wait|stop|calm)|there was nothing|he was|she was|"
        r"i was|they were)\b|\b(?:laughed|yawned|shrugged|sighed|smirked|sneered)\b|\bon (?:his|her) phone\b"
        r"|\bgo back (?:inside|home|where)\b|\bwhether i was sure\b|\bwhat do you want us to do\b"
    ),
    "turned away": re.compile(
        r"\b(?:come|ring|call) back (?:another|later|tomorrow|next)\b|\b(?:turned|sent) (?:me |us |her |him )?"
        r"away\b|\b(?:too|very|were) busy\b|\bnothing (?:they|we|he|she|anyone) (?:could|can) do\b"
        r"|\b(?:didn't|did not|wouldn't|would not) (?:write|take|ask|look|check|come|listen|record|give)\b"
        r"|\bnot (?:even )?(?:written|recorded|taken|looked at|checked)\b|\bnobody (?:came|did|turned up)\b"
        r"|\b(?:didn't|did not|never) (?:turn up|show up|come|arrive)\b|\bwere promised\b|\bwas promised\b"
    ),
    "wrong person or place": re.compile(
        r"\bwrong (?:address|house|person|man|woman|car|flat|household|name)\b|\b(?:was|is) not me\b"
        r"|\bwasn't me\b|\b(?:did not|didn't) do\b|\bdoesn't live here\b|\bdoes not live here\b"
        r"|\bmoved out\b|\bno (?:insurance|reason)\b|\bfor nothing\b|\bfound nothing\b|\bnever been in\b"
    ),
    "loss to the writer": re.compile(
        r"\blost (?:my|his|her|our|two|a|the) (?:\w+ )?(?:job|work|day|days|shift|money)\b|\bmissed (?:my|our|his|"
        r"her|the) \w+\b|\bpaid (?:£|\d|a)\w*|\b£\d+\b|\bout of pocket\b|\bcost (?:me|us)\b|\bcouldn't get out\b"
        r"|\b(?:hasn't|has not|haven't|have not|didn't|did not|won't|not) slept\b|\bin tears\b|\bnearly hit\b"
        r"|\bred light\b|\bhypothermia\b"
    ),
}

#: a police actor or service: who the narrated events are about
_POLICE = re.compile(
    r"\b(?:police|officers?|pcs?o?s?|pc \d+|pc [a-z]+|sgt|sergeants?|constables?|detectives?|dc [a-z]+|"
    r"coppers?|cops?|bobb(?:y|ies)|call handlers?|101|999|front (?:desk|counter|office)|the desk|custody|"
    r"cells?|warrant|crime (?:number|reference|ref)|officer in (?:the|charge)|professional standards|"
    r"the force|police (?:car|van|station)|marked (?:car|van)|the station|station|the man on the phone|"
    r"the woman on the phone|the person on the phone|the (?:man|woman|lady|gentleman) behind the desk)\b"
)
#: the writer's own experience, or that of someone they write for
_PERSONAL = re.compile(
    r"\b(?:i|me|my|we|us|our|i'm|i've|i'd|i was|son|lad|daughter|mother|mum|father|dad|husband|wife|partner|"
    r"brother|sister|grandson|granddaughter|neighbour|friend|children|kids|family|nan|gran|boy|girl|staff|"
    r"cook|customers|tenant)\b"
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
)
#: a sentence about a past complaint that was settled ("the force dealt with it properly"): its
#: events are history, not a new expression of dissatisfaction
_SETTLED = re.compile(
    r"\b(?:complain\w*|complaint)\b.*\b(?:dealt with (?:it |them )?(?:properly|fairly|well|quickly|promptly)|"
    r"sorted(?: out)?|resolved|upheld|settled|put right|satisfied|no complaints?)\b"
    r"|\b(?:dealt with (?:it |them )?(?:properly|fairly|well)|sorted(?: out)?|resolved|put right)\b.*\bcomplain"
    r"|\bno complaints? about\b"
)
_SENTENCE_END = re.compile(r"[.!?;:](?: |\n|$)|\n\n")
#: a view of policing in general, not the writer's own experience
_GENERAL = re.compile(
    r"\b(?:in my (?:opinion|view|experience as a)|the plan|priorit(?:y|ies)|the precept|your survey|consultation)\b"
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

    settled = {n for n in range(len(starts)) if _SETTLED.search(value, starts[n], ends[n])}
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
    weight = 0.9 * min(len(found), 4) - 0.5 * len(praise)
    if _GENERAL.search(value):
        weight *= 0.5  # answering a plan or survey, or a view of policing in general
    if ctx.from_force:
        weight *= 0.4  # staff about their employer: not "a member of the public"
    if weight <= 0:
        return []
    said = "; ".join(f"{kind}: '{said}'" for kind, said in list(found.items())[:4])
    return [(COMPLAINT, round(weight, 3), f"tells of police conduct or service that went wrong for them ({said})")]
