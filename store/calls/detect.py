"""``--format auto``: which phone system wrote this file, from its first lines.

Each reader scores a sample of the file's first lines; the best score wins. A file no reader
recognises is read as casework's own CSV, whose header check then says what a file must look
like.
"""

from __future__ import annotations

from store.calls import asterisk_csv, asterisk_queue_log, freepbx, freeswitch_csv, teams, threecx
from store.calls.base import split_csv

SAMPLE = 25


def detect(lines: list[str]) -> str:
    sample = [line for line in lines[:SAMPLE] if line.strip()]
    if not sample:
        return "casework"
    first = sample[0].lower().replace(" ", "")
    if first.startswith("call_id,") or "call_id,started_at" in first:
        return "casework"
    rows = [split_csv(line, lambda n: n >= 12) for line in sample]
    scores = {
        teams.NAME: teams.sniff(sample),
        asterisk_queue_log.NAME: asterisk_queue_log.sniff(sample),
        asterisk_csv.NAME: asterisk_csv.sniff(rows),
        freepbx.NAME: freepbx.sniff([freepbx.split_fields(line) for line in sample]),
        freeswitch_csv.NAME: freeswitch_csv.sniff(rows),
        threecx.NAME: threecx.sniff(rows),
    }
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] > 0 else "casework"
