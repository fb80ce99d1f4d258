"""Officer correspondence: a force-domain sender writing about their own job."""

from __future__ import annotations

from intake.classify.base import OFFICER, Context, Vote, hits, phrases

_OWN_MATTERS = phrases(
    r"\bmy (?:shifts?|rest days?|overtime|pay|allowance|expenses|kit|uniform|body armour|vehicle|transfer|"
    r"promotion|career|training|course|line manager|supervisor|sergeant|inspector|team|role|post|contract|"
    r"annual leave|leave|pension|application|colleagues|childcare|claims?)\b",
    r"\brest days?\b",
    r"\bovertime\b",
    r"shift (?:pattern|allowance|rota)",
    r"\bon-?call\b",
    r"\ballowances?\b",
    r"\bgrievance\b",
    r"transfer request",
    r"\bspecial constables?\b",
    r"\bas a (?:serving|pc|pcso|sergeant|"
    r"police officer|detective|special|member of (?:police )?staff)",
    r"\bour (?:team|unit|department|lpu)\b",
    r"\bfederation\b",
    r"\bunison\b",
    r"\bhr\b",
    r"\bsuperintendent\b",
    r"\bbody armour\b",
    r"\bkit\b",
    r"\bcollar number\b",
    r"\bi (?:am|have been) (?:a|an) (?:pc|pcso|sergeant|inspector|officer|detective|special)",
)


def force_sender(ctx: Context) -> list[Vote]:
    if not ctx.from_force:
        return []
    votes: list[Vote] = [(OFFICER, 2.2, f"sender's domain {ctx.msg.sender_domain} is a police force")]
    own = hits(_OWN_MATTERS, ctx.text)
    if own:
        votes.append(
            (
                OFFICER,
                0.7 * min(len(own), 4),
                "writes about their own job (" + ", ".join(f"'{o}'" for o in own[:3]) + ")",
            )
        )
    return votes
