"""Each format's words for how a leg ended, mapped to what the caller experienced.

One table per format, in one place, so docs/calls.md and the code can be read side by side.
"""

from __future__ import annotations

from store.calls.base import ANSWERED, BUSY, FAILED, NO_ANSWER

#: Asterisk ``disposition`` (cdr_csv and FreePBX's cdr table).
ASTERISK = {
    "ANSWERED": ANSWERED,
    "NO ANSWER": NO_ANSWER,
    "NOANSWER": NO_ANSWER,
    "BUSY": BUSY,
    "FAILED": FAILED,
    "CONGESTION": FAILED,
    "UNKNOWN": FAILED,  # older Asterisk's word for a CDR whose channel never got a disposition
}

#: FreeSWITCH ``hangup_cause`` of a leg that was never answered (an answered leg is answered
#: whatever its cause). Causes not listed are failures of the network or the number.
FREESWITCH_UNANSWERED = {
    "USER_BUSY": BUSY,
    "NO_ANSWER": NO_ANSWER,
    "NO_USER_RESPONSE": NO_ANSWER,
    "ORIGINATOR_CANCEL": NO_ANSWER,
    "NORMAL_CLEARING": NO_ANSWER,
    "ALLOTTED_TIMEOUT": NO_ANSWER,
    "LOSE_RACE": NO_ANSWER,
    "PICKED_OFF": NO_ANSWER,
}

#: 3CX ``reason-terminated`` values meaning the destination was busy.
THREECX_BUSY = frozenset({"RouteBusy", "Busy", "DstBusy", "TerminatedByBusy"})
#: 3CX reasons meaning the call never reached anyone, whatever ``time-answered`` says.
THREECX_FAILED = frozenset({"Failed", "NoRouteExists", "NotAvailable", "Failed_Cancelled", "Rejected"})

#: SIP final responses (Teams direct routing ``finalSipCode``) that mean busy.
SIP_BUSY = frozenset({486, 600})
