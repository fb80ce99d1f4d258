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
import string
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np
from sqlalchemy import Connection, select
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
#: band keys per query of :func:`band_index` (well inside every database's parameter limit)
INDEX_CHUNK = 1000
CHUNK = 20

_rng = random.Random(20130101)  # fixed seed: stored bands must stay comparable across runs
# multiply-shift hashing: (a*x + b) mod 2**64 (numpy's uint64 wraps), keeping the high 32 bits
_A = np.array([_rng.randrange(1, 1 << 64) | 1 for _ in range(BANDS * ROWS)], dtype=np.uint64)
_B = np.array([_rng.randrange(0, 1 << 64) for _ in range(BANDS * ROWS)], dtype=np.uint64)
_SHIFT = np.uint64(32)
_WORD = re.compile(rb"[a-z0-9]+(?:'[a-z]+)?")
#: every byte but [a-z0-9] made a space: in text without apostrophes, split() then gives the words
_SPACED = bytes(byte if chr(byte) in string.ascii_lowercase + string.digits else 0x20 for byte in range(256))
_SHINGLE_HASH = hashlib.blake2b(digest_size=4)
_BAND_HASH = hashlib.blake2b(digest_size=16)
_BAND_NAMES = [f"{band:02d}:" for band in range(BANDS)]  # each band key starts with its number
_CUT = re.compile(
    r"^(?:-- ?|--+\s*original message\s*--+|_{5,}|-{5,}|on .{5,200} wrote:|from: .*|sent from my .*)$",
    re.I,
)
#: a line own_text leaves out contains one of these (lower-cased, on ASCII text)
_CUT_MARKS = (">", "--", "__", "wrote:", "from:", "sent from my")


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
    """Each run of SHINGLE_WORDS words of the sender's own text, hashed: the first 4 bytes of the
    run's BLAKE2b, read as a big-endian number."""
    words = _own_words(body)
    grams = list(map(b" ".join, zip(*(words[start:] for start in range(SHINGLE_WORDS)), strict=False)))
    # all digests read at once as big-endian numbers, rather than int.from_bytes on each
    digests = b"".join(map(hashlib.blake2b.digest, _hashers(_SHINGLE_HASH, grams)))
    return set(np.frombuffer(digests, dtype=">u4").tolist())


def _own_words(body: str) -> list[bytes]:
    """The words of ``own_text(body)``, lower-cased, in UTF-8: runs of [a-z0-9], each with any
    ``'[a-z]+`` after it."""
    text = body.lower()
    # an ASCII body with none of the marks of a line own_text leaves out keeps every word: quicker
    # to tell than to go through it line by line
    if not body.isascii() or any(mark in text for mark in _CUT_MARKS):
        text = own_text(body).lower()
    data = text.encode("utf-8", "surrogatepass")
    return _WORD.findall(data) if b"'" in data else data.translate(_SPACED).split()


def _hashers(template: hashlib.blake2b, items: list[bytes]) -> list[hashlib.blake2b]:
    """A copy of ``template`` fed each item: copying is twice as fast as making a hasher (blake2b's
    constructor parses all its options), and map() keeps the per-item calls in C."""
    hashers = list(map(hashlib.blake2b.copy, repeat(template, len(items))))
    deque(map(hashlib.blake2b.update, hashers, items), maxlen=0)
    return hashers


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
    # the smallest hash has the smallest high bits: shift the minima, not every hash
    signature = (np.multiply.outer(_A, values) + _B[:, None]).min(axis=1) >> _SHIFT
    rows = signature.tobytes()
    size = len(rows) // BANDS
    hashers = _hashers(_BAND_HASH, [rows[start : start + size] for start in range(0, len(rows), size)])
    return [name + hasher.hexdigest() for name, hasher in zip(_BAND_NAMES, hashers, strict=True)]


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


def _placeholder(connection: Connection) -> str:
    """The driver's own parameter mark, for SQL written here past SQLAlchemy's compiler."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def band_index(session: Session, keys: Iterable[str]) -> dict[str, list[int]]:
    """The stored messages of each of ``keys``: one query for a whole batch's band keys.

    Asking once per batch instead of once per message saves a round trip a message, which on
    PostgreSQL cost more than everything else the campaign step does.
    """
    keys = list(dict.fromkeys(keys))
    index: dict[str, list[int]] = {}
    connection = session.connection()
    mark = _placeholder(connection)
    table = FingerprintBand.__tablename__
    for start in range(0, len(keys), INDEX_CHUNK):
        chunk = keys[start : start + INDEX_CHUNK]
        sql = f"SELECT band, message_pk FROM {table} WHERE band IN ({', '.join([mark] * len(chunk))})"
        for band, message_pk in connection.exec_driver_sql(sql, tuple(chunk)):
            index.setdefault(band, []).append(message_pk)
    return index


def ranked_candidates(index: dict[str, list[int]], band_keys: list[str]) -> list[int]:
    """What the candidate query would answer, from a :func:`band_index` holding ``band_keys``."""
    counts = Counter(pk for key in band_keys for pk in index.get(key, ()))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [pk for pk, _count in ranked[:MAX_CANDIDATES]]


def similar_messages(
    session: Session,
    *,
    grams: set[int],
    band_keys: list[str],
    threshold: float,
    index: dict[str, list[int]] | None = None,
) -> Iterator[Match]:
    """Stored messages whose text is at least ``threshold`` similar, most band hits first.

    ``index`` (from :func:`band_index`, kept up to date by the caller) answers the candidate
    lookup without a query.
    """
    if not band_keys:
        return
    if index is not None:
        candidates = ranked_candidates(index, band_keys)
    else:
        connection = session.connection()
        mark = _placeholder(connection)
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
