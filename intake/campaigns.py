"""Near-duplicate detection for campaigns: word shingles, MinHash and LSH bands in the store.

A campaign is many people sending near-identical text (a web form's wording, copied into their
own mail client, with a typo fixed or a sentence of their own added). Each message's text is
cut into overlapping word triples ("shingles"); two texts are similar when the share of the
shorter text's shingles found in the other reaches ``CASEWORK_CAMPAIGN_SIMILARITY`` (the
overlap coefficient, not plain Jaccard: a sender who adds a paragraph of their own is still
part of the campaign; on the dev corpus campaign members score 0.74 and over, different letters
0.27 and under). To find candidates without
comparing against every stored message, a MinHash signature is split into bands stored in the
``fingerprint_bands`` table: similar texts share a band with high probability, so lookup is an
indexed ``band IN (...)`` query whatever the size of the store, and only those candidates are
compared exactly. Quoted replies and signature/footer blocks are left out of the text, so
people writing on the same topic in their own words stay apart.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from store.models import FingerprintBand, Message

SHINGLE_WORDS = 3
#: 24 bands of 3 rows: texts with Jaccard 0.45 share a band with probability 0.9, unrelated
#: texts (Jaccard < 0.05) almost never do
BANDS = 24
ROWS = 3
#: texts shorter than this many shingles are too short to call near-identical ("Thanks!")
MIN_SHINGLES = 12
MAX_CANDIDATES = 200
CHUNK = 20

_rng = random.Random(20130101)  # fixed seed: stored bands must stay comparable across runs
# multiply-shift hashing: (a*x + b) mod 2**64 (numpy's uint64 wraps), keeping the high 32 bits
_A = np.array([_rng.randrange(1, 1 << 64) | 1 for _ in range(BANDS * ROWS)], dtype=np.uint64)
_B = np.array([_rng.randrange(0, 1 << 64) for _ in range(BANDS * ROWS)], dtype=np.uint64)
_SHIFT = np.uint64(32)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CUT = re.compile(
    r"^(?:-- ?|--+\s*original message\s*--+|_{5,}|-{5,}|on .{5,200} wrote:|from: .*|sent from my .*)$",
    re.I,
)


def own_text(body: str) -> str:
    """The part of ``body`` the sender wrote: no quoted lines, no signature or forwarded tail."""
    kept = []
    for line in body.splitlines():
        stripped = line.strip()
        if _CUT.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(stripped)
    return "\n".join(kept)


def shingles(body: str) -> set[int]:
    words = _WORD.findall(own_text(body).lower())
    grams = (" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1))
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "big") for g in grams}


def similarity(a: set[int], b: set[int]) -> float:
    """Overlap coefficient: the share of the smaller shingle set found in the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def bands(grams: set[int]) -> list[str]:
    """The LSH band keys of a shingle set (empty when the text is too short to compare)."""
    if len(grams) < MIN_SHINGLES:
        return []
    values = np.fromiter(grams, dtype=np.uint64, count=len(grams))
    signature = ((_A[:, None] * values[None, :] + _B[:, None]) >> _SHIFT).min(axis=1)
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(rows, digest_size=16).hexdigest()
        keys.append(f"{band:02d}:{digest}")
    return keys


@lru_cache(maxsize=8)
def _candidates_sql(keys: int, mark: str) -> str:
    """Messages sharing a band with the text, most shared bands first, for ``keys`` band keys.

    Plain SQL with a fixed number of placeholders (a text has at most ``BANDS`` keys): an
    expanding IN parameter is rendered again on every execution, which cost more than the
    indexed lookup itself, and this runs for every message.
    """
    table = FingerprintBand.__tablename__
    marks = ", ".join([mark] * keys)
    return (
        f"SELECT message_pk FROM {table} WHERE band IN ({marks}) GROUP BY message_pk"
        f" ORDER BY count(id) DESC, message_pk LIMIT {MAX_CANDIDATES}"
    )


@dataclass
class Match:
    message_pk: int
    case_id: int | None
    from_addr: str
    similarity: float


def similar_messages(
    session: Session, *, grams: set[int], band_keys: list[str], threshold: float
) -> Iterator[Match]:
    """Stored messages whose text is at least ``threshold`` similar, most band hits first."""
    if not band_keys:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    found = connection.exec_driver_sql(_candidates_sql(len(band_keys), mark), tuple(band_keys))
    candidates = [row[0] for row in found]
    for start in range(0, len(candidates), CHUNK):
        # most band hits first, in chunks: a big campaign's members come first and the caller
        # can stop at the first one instead of comparing hundreds of texts
        chunk = candidates[start : start + CHUNK]
        rows = session.execute(
            select(Message.id, Message.case_id, Message.from_addr, Message.body_text).where(  # type: ignore[call-overload]
                Message.id.in_(chunk)  # type: ignore[union-attr]
            )
        ).all()
        order = {pk: i for i, pk in enumerate(chunk)}
        for row in sorted(rows, key=lambda r: order[r.id]):
            score = similarity(grams, shingles(row.body_text))
            if score >= threshold:
                yield Match(row.id, row.case_id, row.from_addr, score)
