"""Benchmark: intake's campaign lookup and whole pipeline with a large store, against a naive parse.

Question: does finding campaign near-duplicates stay fast as the store grows (issue 3: "lookup
stays fast with 100,000 cases stored")? Everything is measured in one run, on one machine:

1. **baseline**: ``email.message_from_bytes(raw, policy=email.policy.default)`` plus
   ``get_body(("plain", "html")).get_content()`` over the dev corpus messages: ms per message;
2. **campaign lookup**: shingles + MinHash bands + the ``fingerprint_bands`` query and exact
   comparison of the candidates (``intake.campaigns``), per message, with ``--small`` and then
   ``--prefill`` messages (with their bands) already stored: ms per message, ratio to baseline,
   and the ratio large/small (flat = about 1);
3. **pipeline**: ``Pipeline.process`` of the dev corpus (fresh Message-IDs) into the large
   store: messages/s and the ratio to the baseline's messages/s.

Prefilled texts are synthetic letters (150 words drawn from a 4,000-word vocabulary with a
Zipf-like skew) plus 1% campaign members (near-identical text, 100 campaigns), so the band
table has the shape of a real office's: about 24 rows per message.

Usage::

    python bench/campaign_bench.py --prefill 100000 --small 1000
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casework.settings import Settings
from intake import campaigns
from intake.pipeline import Pipeline
from store.db import make_engine, upgrade
from store.models import Case, Correspondent, FingerprintBand, Message

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev"


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def letter(rng: random.Random, words: list[str], length: int = 150) -> str:
    # skewed towards common words, like real prose
    return " ".join(words[min(int(rng.paretovariate(1.2)) - 1, len(words) - 1)] for _ in range(length))


def prefill(engine: Engine, count: int, seed: int = 7) -> float:
    """Store ``count`` messages on cases, with their campaign bands; seconds taken."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    templates = [letter(rng, words, 180) for _ in range(100)]
    start = time.perf_counter()
    at = datetime(2012, 11, 22, 9, tzinfo=UTC)
    with Session(engine) as session:
        for base in range(0, count, 5000):
            ns = range(base, min(count, base + 5000))
            session.execute(
                insert(Correspondent),
                [{"id": n + 1, "email": f"p{n}@bench.example", "name": "", "created_at": at} for n in ns],
            )
            session.execute(
                insert(Case),
                [
                    {
                        "id": n + 1,
                        "reference": f"BENCH-2013-{n:06d}",
                        "category": "correspondence",
                        "status": "open",
                        "received_at": at + timedelta(minutes=n),
                        "received_on": (at + timedelta(minutes=n)).date(),
                        "due_on": (at + timedelta(days=28)).date(),
                        "status_changed_at": at,
                        "correspondent_id": n + 1,
                        "subject": "prefilled",
                        "reasons": [],
                        "needs_triage": False,
                        "created_at": at,
                        "updated_at": at,
                    }
                    for n in ns
                ],
            )
            texts = {
                n: (templates[n % 100] + " " + letter(rng, words, 10)) if n % 100 == 0 else letter(rng, words)
                for n in ns
            }
            session.execute(
                insert(Message),
                [
                    {
                        "id": n + 1,
                        "case_id": n + 1,
                        "message_id": f"<pre-{n}@bench.example>",
                        "raw_sha256": hashlib.sha256(f"pre-{n}".encode()).hexdigest(),
                        "direction": "in",
                        "correspondent_id": n + 1,
                        "from_addr": f"p{n}@bench.example",
                        "from_name": "",
                        "to_addrs": [],
                        "subject": "prefilled",
                        "received_at": at,
                        "references": [],
                        "body_text": texts[n],
                        "source": "bench",
                        "raw": b"Message-ID: <pre>\r\n\r\nprefilled\r\n",
                    }
                    for n in ns
                ],
            )
            session.execute(
                insert(FingerprintBand),
                [
                    {"band": band, "message_pk": n + 1}
                    for n in ns
                    for band in campaigns.bands(campaigns.shingles(texts[n]))
                ],
            )
            session.commit()
    return time.perf_counter() - start


def corpus() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]


def baseline_ms(raws: list[bytes], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in raws:
            message = email.message_from_bytes(raw, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
            if body is not None:
                body.get_content()
        best = min(best, time.perf_counter() - start)
    return best / len(raws) * 1000


def lookup_ms(engine: Engine, texts: list[str], rounds: int = 3) -> float:
    best = float("inf")
    with Session(engine) as session:
        for _ in range(rounds):
            start = time.perf_counter()
            for text in texts:
                grams = campaigns.shingles(text)
                keys = campaigns.bands(grams)
                list(campaigns.similar_messages(session, grams=grams, band_keys=keys, threshold=0.6))
            best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefill", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    args = parser.parse_args()
    raws = corpus()
    texts = [
        email.message_from_bytes(r, policy=email.policy.default)
        .get_body(  # type: ignore[attr-defined]
            preferencelist=("plain", "html")
        )
        .get_content()
        for r in raws
    ]
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, shared",
        "messages": len(raws),
        "prefill": args.prefill,
        "small": args.small,
    }
    with tempfile.TemporaryDirectory() as tmp:
        engines = {}
        for name, size in (("small", args.small), ("large", args.prefill)):
            url = f"sqlite:///{tmp}/{name}.db"
            engine = make_engine(url)
            upgrade(engine)
            result[f"prefill_{name}_s"] = round(prefill(engine, size), 1)
            engines[name] = (url, engine)
        base = baseline_ms(raws)
        small = lookup_ms(engines["small"][1], texts)
        large = lookup_ms(engines["large"][1], texts)
        url, engine = engines["large"]
        settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
        pipeline = Pipeline(settings, engine)
        fresh = [
            raw.replace(b"Message-ID: <", b"Message-ID: <bench-", 1).replace(
                b"Message-Id: <", b"Message-Id: <bench-", 1
            )
            for raw in raws
        ]
        start = time.perf_counter()
        kinds: dict[str, int] = {}
        for index, raw in enumerate(fresh):
            kind = pipeline.process(raw, source=f"bench:{index}").kind
            kinds[kind] = kinds.get(kind, 0) + 1
        per_message = (time.perf_counter() - start) / len(fresh) * 1000
        result.update(
            {
                "baseline_parse_ms": round(base, 3),
                "lookup_small_ms": round(small, 3),
                "lookup_large_ms": round(large, 3),
                "lookup_large_over_small": round(large / small, 2),
                "lookup_large_over_baseline": round(large / base, 2),
                "pipeline_ms": round(per_message, 2),
                "pipeline_msgs_per_s": round(1000 / per_message, 1),
                "baseline_msgs_per_s": round(1000 / base, 1),
                "pipeline_ratio": round(base / per_message, 3),
                "outcomes": kinds,
            }
        )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
