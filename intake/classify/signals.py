"""The table of named signals, in one place (as Mailman's ``chains/builtin.py`` holds its rules).

Each signal reads one thing about a message and votes ``(category, weight, reason)``; the
classifier adds the weights per category and reports the reasons of the votes for the winner.
Weights are on one scale: about 1 is a hint, 2–3 is strong evidence, 4+ all but decides (the
consultation address, a campaign). The rules live in :mod:`intake.classify.rules`, one module per
category; the category meanings follow the Board report para 5 and docs/classification.md.
"""

from __future__ import annotations

from intake.classify.base import Context, Signal, Vote
from intake.classify.rules import campaign, complaint, consultation, correspondence, foi, narrative, officer

__all__ = ["SIGNALS", "Context", "Signal", "Vote"]

SIGNALS: tuple[Signal, ...] = (
    Signal(
        "campaign-group", "near-identical text from many senders (the pipeline's grouping)", campaign.campaign
    ),
    Signal("campaign-site", "sent through a campaign website's action page", campaign.campaign_site),
    Signal(
        "consultation-address",
        "written to a consultation address (CASEWORK_CONSULTATION_ADDRESSES)",
        consultation.consultation_address,
    ),
    Signal("consultation-text", "answers a consultation, survey or review", consultation.consultation_text),
    Signal("foi", "asks for recorded information, whether or not it names the Act", foi.foi),
    Signal(
        "complaint",
        "complains about officers, staff or the Chief Constable, or appeals a complaint",
        complaint.complaint,
    ),
    Signal(
        "complaint-dissatisfaction",
        "dissatisfied with the police's conduct or service, however it is phrased (PRA 2002 s12)",
        complaint.dissatisfaction,
    ),
    Signal(
        "complaint-encounter",
        "tells of something the police did to the writer that left them unhappy, in any words",
        complaint.encounter,
    ),
    Signal(
        "complaint-narrative",
        "narrates police conduct or service that went wrong for the writer (delay, property kept, force …)",
        narrative.narrative,
    ),
    Signal(
        "force-sender", "written from a police force domain (CASEWORK_FORCE_DOMAINS)", officer.force_sender
    ),
    Signal(
        "correspondence",
        "positions, thanks, invitations, marketing, MPs and councillors",
        correspondence.correspondence,
    ),
)
