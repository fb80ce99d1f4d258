"""Record files written from each format's documented layout, for the readers' tests.

Each writer takes calls as local wall-clock times (naive ``datetime``) the way the phone system
would print them, so a test can put a call in the repeated October hour and say which instant
it means by the order of the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STAMP = "%Y-%m-%d %H:%M:%S"


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@dataclass
class AsteriskLeg:
    src: str
    dst: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    uniqueid: str
    linkedid: str = ""
    clid: str = ""
    channel: str = "SIP/trunk-00000001"
    dstchannel: str = "SIP/201-00000002"
    dcontext: str = "from-trunk"
    userfield: str = ""


def asterisk_csv(
    legs: list[AsteriskLeg], *, uniqueid: bool = True, userfield: bool = True, newcdr: bool = False
) -> str:
    """Master.csv as ``cdr_csv.c`` builds it: strings quoted, numbers bare, no header."""
    lines = []
    for leg in legs:
        duration = int((leg.end - leg.start).total_seconds())
        billsec = int((leg.end - leg.answer).total_seconds()) if leg.answer else 0
        fields = [
            _q(""),
            _q(leg.src),
            _q(leg.dst),
            _q(leg.dcontext),
            _q(leg.clid or f'"Caller" <{leg.src}>'),
            _q(leg.channel),
            _q(leg.dstchannel),
            _q("Dial"),
            _q("SIP/201,20"),
            _q(leg.start.strftime(STAMP)),
            _q(leg.answer.strftime(STAMP) if leg.answer else ""),
            _q(leg.end.strftime(STAMP)),
            str(duration),
            str(billsec),
            _q(leg.disposition),
            _q("DOCUMENTATION"),
        ]
        if uniqueid:
            fields.append(_q(leg.uniqueid))
        if userfield:
            fields.append(_q(leg.userfield))
        if newcdr:
            fields += [_q(""), _q(leg.linkedid or leg.uniqueid), "1"]
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


FREEPBX_HEADER = (
    "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,"
    "amaflags,accountcode,uniqueid,userfield,recordingfile,cnum,cnam,outbound_cnum,outbound_cnam,dst_cnam,did"
)


def freepbx(legs: list[AsteriskLeg], *, header: bool = True, did: str = "01216266060") -> str:
    """The cdr table as FreePBX's CDR report downloads it (``NULL`` where MySQL has nothing)."""
    lines = [FREEPBX_HEADER] if header else []
    for leg in legs:
        duration = int((leg.end - leg.start).total_seconds())
        billsec = int((leg.end - leg.answer).total_seconds()) if leg.answer else 0
        lines.append(
            ",".join(
                [
                    leg.start.strftime(STAMP),
                    _q(leg.clid or f'"Caller" <{leg.src}>'),
                    leg.src,
                    leg.dst,
                    leg.dcontext,
                    leg.channel,
                    leg.dstchannel,
                    "Dial",
                    _q("SIP/201,20"),
                    str(duration),
                    str(billsec),
                    leg.disposition,
                    "3",
                    "",
                    leg.uniqueid,
                    "NULL",
                    "",
                    leg.src,
                    "Caller",
                    "NULL",
                    "NULL",
                    "",
                    did,
                ]
            )
        )
    return "\n".join(lines) + "\n"


def queue_log(events: list[tuple[int, str, str, str, str, str]]) -> str:
    """``timestamp|callid|queuename|agent|event|data…`` lines."""
    return "".join(
        f"{ts}|{callid}|{queue}|{agent}|{event}|{data}\n" for ts, callid, queue, agent, event, data in events
    )


def freeswitch(rows: list[dict[str, str]]) -> str:
    """mod_cdr_csv's default template, every field quoted."""
    order = [
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
    "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
    "accountcode", "read_codec", "write_codec",
    ]  # fmt: skip
    return "".join(",".join(_q(row.get(name, "")) for name in order) + "\n" for row in rows)


THREECX_ORDER = [
    "historyid", "callid", "duration", "time-start", "time-answered", "time-end",
    "reason-terminated", "from-no", "to-no", "from-dn", "to-dn", "dial-no", "reason-changed",
    "final-number", "final-dn", "bill-code", "bill-rate", "bill-cost", "bill-name", "chain",
    "from-type", "to-type", "final-type", "from-dispname", "to-dispname", "final-dispname",
    "missed-queue-calls",
]  # fmt: skip


def threecx(rows: list[dict[str, str]], *, header: bool = False) -> str:
    lines = [",".join(THREECX_ORDER)] if header else []
    for row in rows:
        lines.append(",".join(row.get(name, "") for name in THREECX_ORDER))
    return "\n".join(lines) + "\n"
