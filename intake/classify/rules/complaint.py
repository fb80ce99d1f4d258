"""Complaints about officers, staff or the Chief Constable, and appeals about complaint handling."""

from __future__ import annotations

import re
from bisect import bisect_right

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
    resolved_at = [(m.start(), m.end(), m.group(0)) for m in _RESOLVED.finditer(ctx.text)]
    resolved = [r[2] for r in resolved_at]
    if resolved_at:
        # "my complaint last year was sorted out": the words that name the old complaint, in the
        # same sentence, say nothing about a new one
        starts = _sentences(ctx.text.value)
        settled = {bisect_right(starts, start) - 1 for start, _end, _said in resolved_at}
        made = list(
            dict.fromkeys(
                m.group(0).strip()
                for m in _COMPLAINT_MAKE.finditer(ctx.text)
                if bisect_right(starts, m.start()) - 1 not in settled
            )
        )
    else:
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
    if resolved and not made and not appeal:
        votes.append((COMPLAINT, -1.5, f"mentions a past complaint that was settled ('{resolved[0]}')"))
    return votes


# --- dissatisfaction with the police: the Police Reform Act's definition ----------------------------
# A complaint is "any expression of dissatisfaction with a police force" by or for a member of the
# public (PRA 2002 s12 as amended). It need not say "complaint": people are polite ("I don't want
# to get anyone into trouble, but"), tell a story, or chase a matter nobody came back to them
# about. The signal therefore looks for three things in the letter's own sentences: words of
# dissatisfaction, a police actor (an officer, a call handler, the front desk, custody) close to
# them, and the writer's own experience (what happened to them or someone they write for).
_DISSATISFIED = phrases(
    r"not good enough",
    r"\bnot (?:acceptable|right|fair|on)\b",
    r"\bunacceptable\b",
    r"\b(?:very |deeply |extremely |really |so )?disappoint(?:ed|ing)\b",
    r"\blet (?:me|us|her|him|them|my [a-z]+|our [a-z]+) down\b",
    r"\bletting (?:us|me|people|residents|victims) down\b",
    r"\b(?:been|was|were|feel|felt) (?:badly |completely |totally )?let down\b",
    r"\b(?:no ?one|nobody|no-one) (?:has |had |ever )?(?:came|come|got|get|rang|rung|phoned|called|contacted|"
    r"replied|returned|bothered|checked|listened|seemed|took|knows|told)\b",
    r"\bnever (?:came|come|got back|rang|phoned|called|contacted|replied|collected|returned|followed|heard|"
    r"bothered|turned up|arrived)\b",
    r"\b(?:no ?one|nobody|no-one) (?:ever )?did\b",
    r"\b(?:really|very|so|pretty|extremely) poor\b",
    r"\bpoor (?:service|response|communication|show|treatment)\b",
    r"\bheard nothing\b",
    r"\bnot (?:had|received|heard) (?:any|a) (?:reply|response|update|call|acknowledgement)",
    r"\bno (?:update|reply|response|acknowledgement|follow-up|feedback|explanation) "
    r"(?:at all|since|from|whatsoever)",
    r"\bnot even an? (?:acknowledgement|reply|call|update|apology)",
    r"\bstill (?:waiting|want|would like|not|haven't|have not|hasn't|has not|no)\b",
    r"\bfell short\b",
    r"\bfalls? short\b",
    r"\b(?:should|must) not (?:have )?happen",
    r"\bshould never have\b",
    r"\bno way to (?:speak|treat|talk|deal)",
    r"\bmade (?:me|us|her|him|them|my [a-z]+) feel\b",
    r"\bhumiliat",
    r"\b(?:i|we) (?:have |'ve )?had enough\b",
    r"\bpicked on\b",
    r"\bsingled (?:me|him|her|us) out\b",
    r"\b(?:fed|sick) up\b",
    r"\bgiven up on\b",
    r"\b(?:not|never) (?:being )?taken seriously\b",
    r"\b(?:didn't|did not|don't|do not|doesn't|does not) (?:think (?:they|it was|the [a-z]+) )?"
    r"(?:take|took|taken) "
    r"(?:it|this|us|me|her|him|them|my [a-z]+) seriously",
    r"\bexpected better\b",
    r"\bis (?:that|this) how (?:it|they|you|the police|officers)\b",
    r"\b(?:like|want|expect) an apology\b",
    r"\b(?:appalling|shocking|disgraceful|disgusted|outrageous|shameful)\b",
    r"\bupset\b",
    r"\bnothing (?:has|was|had) (?:been )?(?:done|happened)\b",
    r"\b(?:talked|spoke|spoken) over me\b",
    r"\b(?:hung|put) (?:the phone )?(?:up|down) on (?:me|us|her|him)\b",
    r"\b(?:ended|cut off) the call\b",
    r"\bput the phone down\b",
    r"\bshrugged\b",
    r"\bwasting (?:police|your|their|our) time\b",
    r"\bwithout question\b",
    r"\bmade up (?:his|her|their) minds?\b",
    r"\b(?:didn't|did not|wouldn't|would not|won't|will not|couldn't|could not) (?:even )?"
    r"(?:bother|listen|help|look|check|come|take|explain|answer|investigate|collect|tell|return|give)\b",
    r"\bcovered (?:it|his number|her number|his badge|up)\b",
    r"\bfor no reason\b",
    r"\b(?:keeps?|kept) (?:being |getting )?(?:stopp|pull|search|pick|follow)",
    r"\b(?:stopped|pulled over|searched)[a-z ,]{0,60} "
    r"(?:two|three|four|five|six|seven|eight|several|many|\d+) times\b",
    r"\byou again\b",
    r"\bwrong address\b",
    r"\bwhy (?:this|it|he|she|they|so much)[a-z ]{0,30} (?:happened|keeps|was allowed|was used)",
    r"\bno excuse\b",
    r"\btreated (?:me|us|him|her|them|my [a-z]+) (?:like|as if|as though|badly|unfairly)\b",
    r"\bnot how (?:it|this|that) should\b",
    r"\b(?:i|we) (?:want|would like|'d like) (?:it|this|that|something|him|her|them|someone|somebody) "
    r"(?:to stop|looked|dealt|done|investigated|taken up|to listen|to hear|to look|to explain|spoken)",
    r"\b(?:want|would like|'d like|like) (?:this|it|that|the matter|my complaint) (?:to be )?"
    r"(?:looked (?:into|at)|taken (?:up|further)|investigated|dealt with)",
    r"\bhear (?:that|the) call\b",
    r"\b(?:listen|listened) to the recording\b",
    r"\bis not enough\b",
    r"\bcame away feeling\b",
    r"\b(?:don't|do not) want (?:to get )?(?:anyone|anybody|someone|him|her|them|the officers?) "
    r"(?:into|in) trouble",
    r"\b(?:don't|do not) want to (?:make a fuss|cause (?:trouble|a fuss))",
    r"\b(?:don't|do not) want (?:anyone|anybody|him|her|them) to lose (?:their|his|her) jobs?",
    r"\b(?:emailed|rang|phoned|called|chased|written|wrote|contacted|asked)[a-z ,.']{0,50} "
    r"(?:twice|three times|four times|five times|\d+ times|several times|many times|again and again)",
    r"\bwant (?:my|our|his|her|their) [a-z]+ back\b",
    r"\bit(?: is|'s| has been) (?:now )?(?:two|three|four|five|six|seven|eight|nine|ten|\d+|several|many) "
    r"(?:weeks|months)\b",
)
#: who the dissatisfaction is with: the police's people and services
_POLICE = phrases(
    r"\bpolice\b",
    r"\bofficers?\b",
    r"\b(?:pc|pcso|dc|ds|sgt|insp|di) ?[a-z0-9]+",
    r"\bpcsos?\b",
    r"\bsergeants?\b",
    r"\binspectors?\b",
    r"\bconstables?\b",
    r"\bdetectives?\b",
    r"\bcoppers?\b",
    r"\bcops?\b",
    r"\bcall handlers?\b",
    r"\b(?:operator|woman|man|lady|person|someone|bloke) "
    r"(?:i spoke to|who answered|on the (?:phone|desk|line))",
    r"\b(?:101|999)\b",
    r"\bfront (?:desk|counter)\b",
    r"\bthe desk\b",
    r"\bcustody\b",
    r"\bcells?\b",
    r"\barrest(?:ed|ing)?\b",
    r"\bwarrant\b",
    r"\bcrime (?:number|reference|ref)\b",
    r"\bthe force\b",
    r"\bofficer in (?:the|charge of the) case\b",
    r"\b(?:he|she|they) (?:searched|stopped|arrested|pulled)\b",
    r"\bpulled (?:me|him|her|us) over\b",
)
#: another agency: dissatisfaction with it alone is not a police complaint
_OTHER_AGENCY = phrases(
    r"\bcouncil(?:'s)?\b",
    r"\bhousing association\b",
    r"\bnhs\b",
    r"\bambulance\b",
    r"\bhealth service\b",
    r"\blandlord\b",
    r"\bhousing (?:officer|department|team)\b",
    r"\basb team\b",
    r"\banti-social behaviour team\b",
)
#: the police named only to say the matter is not theirs
_NOT_POLICE = phrases(
    r"\bnot (?:really |strictly |actually )?(?:a |an? )?police (?:matter|issue|job|problem)"
)
#: the writer's own experience, or that of someone they write for
_EXPERIENCE = phrases(
    r"\b(?:i|we) (?:rang|called|phoned|reported|went|dialled|was told|were told|asked|was stopped|"
    r"was arrested|was taken|was left|handed|offered|gave|have reported|had reported|have rung|"
    r"have emailed|emailed)\b",
    r"\b(?:he|she|they|the officers?|the officer) (?:told|said|asked|came|arrived|took|laughed|kept|searched|"
    r"stopped|followed|shoved|pushed|refused|walked)\b",
    r"\bcame (?:round|out|to (?:my|our|the) (?:house|home|flat|door))\b",
    r"\b(?:last|on|this|that) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|week|night|month|"
    r"weekend|sat)\b",
    r"\bon (?:the )?\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:january|february|march|april|may|june|july|august|"
    r"september|october|november|december)\b",
    r"\b(?:ago|since (?:easter|christmas|january|february|march|april|may|june|july|august|september|"
    r"october|november|december))\b",
    r"\b(?:my|our) (?:son|daughter|mother|mum|father|dad|husband|wife|partner|friend|brother|sister|"
    r"neighbour|grandson|granddaughter|mate)\b",
    r"\bon behalf of (?:my|a) (?:father|mother|son|daughter|friend|client|husband|wife|neighbour)\b",
    r"\bwriting (?:for|on behalf of) (?:my|a)\b",
    r"\bcrime (?:number|reference|ref)\b",
    r"\bmy (?:reference|ref)\b",
)
#: a past complaint that was settled, mentioned in passing ("my complaint last year was sorted out")
_RESOLVED = phrases(
    r"complaint[a-z0-9 ,']{0,80}\b(?:was|were|got|has been|had been|being) "
    r"(?:sorted(?: out)?|resolved|upheld|settled|put right|"
    r"dealt with (?:fairly|quickly|well|properly|promptly|very well))",
    r"complaint[a-z0-9 ,']{0,80}\band it was (?:sorted(?: out)?|resolved|upheld|settled|put right|"
    r"dealt with (?:fairly|quickly|well|properly|promptly))",
    r"complaint[a-z0-9 ,']{0,80}\b(?:it was|was) (?:handled|dealt with) (?:fairly|well|properly|promptly)",
    r"complaint[a-z0-9 ,']{0,120}\b(?:i was|we were) (?:satisfied|happy) with (?:the|its) (?:result|outcome)",
)
_OPINION = phrases(
    r"\bin my (?:opinion|view)\b",
    r"\bi (?:think|believe|feel) (?:that )?the police (?:have|are|should|need)\b",
    r"\b(?:i|we) do not blame\b",
    r"\bi don't blame\b",
)
_SENTENCE_END = re.compile(r"[.!?;:](?: |$)")


def _sentences(text: str) -> list[int]:
    """The start of each sentence of ``text`` (one pass; positions for :func:`bisect_right`)."""
    return [0] + [match.end() for match in _SENTENCE_END.finditer(text)]


def dissatisfaction(ctx: Context) -> list[Vote]:
    """Dissatisfaction with the police's conduct or service, however politely put."""
    found = list(_DISSATISFIED.finditer(ctx.text))
    if not found:
        return []
    value = ctx.text.value
    starts = _sentences(value)

    def sentence(position: int) -> int:
        return bisect_right(starts, position) - 1

    disowned = [m.span() for m in _NOT_POLICE.finditer(ctx.text)]
    police = [
        m.start()
        for m in _POLICE.finditer(ctx.text)
        if not any(start <= m.start() < end for start, end in disowned)
    ]
    if not police:
        return []  # nothing in the letter is about the police
    actors = sorted(
        [(at, True) for at in police] + [(m.start(), False) for m in _OTHER_AGENCY.finditer(ctx.text)]
    )
    at = [position for position, _is_police in actors]
    aimed: list[str] = []
    for match in found:
        here = sentence(match.start())
        same = {is_police for position, is_police in actors if sentence(position) == here}
        if same:
            if True in same:
                aimed.append(match.group(0).strip())
            continue  # "the council have let us down": another agency's failing
        # otherwise whoever was spoken of last (within two sentences) is who it is about
        before = bisect_right(at, match.start()) - 1
        if before >= 0 and sentence(actors[before][0]) >= here - 2:
            if actors[before][1]:
                aimed.append(match.group(0).strip())
        elif not any(sentence(position) == here + 1 and is_police for position, is_police in actors):
            # nobody named nearby: a letter about the police, with no other agency in it
            if not any(not is_police for _position, is_police in actors):
                aimed.append(match.group(0).strip())
        else:
            aimed.append(match.group(0).strip())
    aimed = list(dict.fromkeys(aimed))
    if not aimed:
        return []
    experience = hits(_EXPERIENCE, ctx.text)
    weight = 1.2 + 0.5 * min(len(aimed) - 1, 3)
    if len(experience) >= 2:
        weight += 1.2
    elif experience:
        weight += 0.6
    if not experience and _OPINION.search(ctx.text):
        weight *= 0.5  # a view of policing in general, not what happened to the writer
    if ctx.from_force:
        weight *= 0.5  # staff about their employer: not "a member of the public"
    said = ", ".join(f"'{a}'" for a in aimed[:3])
    return [(COMPLAINT, round(weight, 3), f"dissatisfied with the police's conduct or service ({said})")]


# --- a police encounter told as a story, that left the writer unhappy ------------------------------
# Phrase lists catch how people usually say it; this catches what they describe. A sentence
# where the police did something to the writer or someone close (an officer, a call handler, a
# PCSO came, said, took, stopped, left …), and around it words of hurt, fear or unfairness,
# make a complaint however it is worded. Words of praise around it make a thank-you instead.
_PAST_ACT = re.compile(
    r"\b(?:[a-z]+ed|came|went|took|told|said|left|kept|shone|spoke|gave|threw|put|got|saw|made|held|"
    r"brought|drove|sent|rang|stood|knew|thought|felt|found|caught|hit|let|shut|tore|broke|did|didn't|"
    r"wouldn't|couldn't|won't|hasn't|haven't|never)\b"
)
_PERSONAL = re.compile(
    r"\b(?:i|me|my|we|us|our|i'm|i've|i'd|son|daughter|mother|mum|father|dad|husband|wife|partner|"
    r"brother|sister|grandson|granddaughter|neighbour|friend|children|kids|family|nan|gran)\b"
)
_NEGATIVE = re.compile(
    r"\b(?:scared|frightened|afraid|terrified|tears|crying|cried|upset|shaking|shaken|humiliat[a-z]*|"
    r"embarrass[a-z]*|ashamed|angry|furious|disgust[a-z]*|shock(?:ed|ing)|appall[a-z]*|apolog[a-z]*|"
    r"mistake[ns]?|wrong(?:ly|ful[a-z]*)?|unfair(?:ly)?|rude(?:ly|ness)?|refus(?:ed|al)|ignor(?:ed|ing)|"
    r"laugh(?:ed|ing)|mock(?:ed|ing)|sneer[a-z]*|dismissive|yawn(?:ed|ing)|shrugg?ed|nobody|no-one|"
    r"never|didn't|wouldn't|couldn't|won't|hasn't|haven't|nothing|lost|owed|deserve[sd]?|poor|worse|"
    r"awful|terrible|horrible|disgrace[a-z]*|unacceptable|still|waiting|blame[ds]?|side|threat[a-z]*|"
    r"bang(?:ed|ing)|shout(?:ed|ing)|swore|accus[a-z]*|treated|suspect|anxious|distress[a-z]*|hurt|"
    r"injur[a-z]*|bruis[a-z]*|unlawful[a-z]*|without|nowhere|rarely|bother(?:ed)?|useless|fault|"
    r"trouble|fuss|dismiss[a-z]*|sarcas[a-z]*|patronis[a-z]*|belittl[a-z]*|lie[sd]?|"
    r"lying|insult[a-z]*|intimidat[a-z]*)\b"
)
_PRAISE = re.compile(
    r"\b(?:kind(?:ly|ness)?|thank(?:s|ful)?|grateful|great|excellent|helpful|brilliant|fantastic|"
    r"patient|professional(?:ly|ism)?|caring|reassur[a-z]*|wonderful|superb|praise|commend[a-z]*|"
    r"impressed|credit|good|polite(?:ly)?|respectful(?:ly)?|calm(?:ly)?|sympathetic)\b"
)


def encounter(ctx: Context) -> list[Vote]:
    """The police did something to the writer (or someone close) and it left them unhappy."""
    value = ctx.text.value
    disowned = [m.span() for m in _NOT_POLICE.finditer(ctx.text)]
    police_at = [
        m.start() for m in _POLICE.finditer(ctx.text) if not any(s <= m.start() < e for s, e in disowned)
    ]
    if not police_at:
        return []
    starts = _sentences(value)
    ends = [*starts[1:], len(value)]

    def sentence(position: int) -> int:
        return bisect_right(starts, position) - 1

    police = {sentence(at) for at in police_at}
    agency = {sentence(m.start()) for m in _OTHER_AGENCY.finditer(ctx.text)} - police
    told = [n for n in sorted(police) if _PAST_ACT.search(value, starts[n], ends[n])]
    if not told or not any(_PERSONAL.search(value, starts[n], ends[n]) for n in told):
        return []
    near = {n + step for n in told for step in (-1, 0, 1, 2)} - agency
    negative: set[str] = set()
    praise: set[str] = set()
    for n in sorted(k for k in near if 0 <= k < len(starts)):
        part = value[starts[n] : ends[n]]
        negative.update(_NEGATIVE.findall(part))
        praise.update(_PRAISE.findall(part))
    if len(negative) < 2 or len(praise) >= len(negative):
        return []
    weight = 0.8 + 0.35 * min(len(negative) - 2, 6)
    if ctx.from_force:
        weight *= 0.5  # staff about their employer: not "a member of the public"
    said = ", ".join(f"'{w}'" for w in sorted(negative)[:4])
    return [(COMPLAINT, round(weight, 3), f"tells of a police encounter that left them unhappy ({said})")]
