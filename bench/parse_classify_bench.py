"""Benchmark: parse_message + automatic_reason + classify against the naive parse, same run.

Baseline (the one the intake issue names): ``email.message_from_bytes(raw, policy=default)`` then
``get_body(("plain", "html")).get_content()``. Measured on the same messages, interleaved rounds,
median of the rounds; prints messages/s and the ratio to the baseline.

    python bench/parse_classify_bench.py [FOLDER_OF_EML] [--rounds 5] [--repeat 4]

With no folder it uses ../shared/corpus/dev plus ../shared/fixtures/mail when present.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import os
import statistics
import time
from pathlib import Path

from intake.automatic import automatic_reason
from intake.classify import Classifier
from intake.parse import Unparseable, parse_message

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def load(folder: Path | None) -> list[bytes]:
    folders = [folder] if folder else [SHARED / "corpus" / "dev", SHARED / "fixtures" / "mail"]
    raws = []
    for base in folders:
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix not in (".tsv", ".md"):
                raws.append(path.read_bytes())
    return raws


def naive(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    except Exception:  # noqa: S110 - the naive baseline fails on some real mail; we still time it
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    raws = load(args.folder) * args.repeat
    classifier = Classifier(
        force_domains=["west-midlands.pnn.police.uk"],
        consultation_addresses=["consultation@pcc.example.gov.uk"],
    )

    def ours_parse(raw: bytes) -> None:
        with contextlib.suppress(Unparseable):
            parse_message(raw)

    def ours_all(raw: bytes) -> None:
        try:
            msg = parse_message(raw)
        except Unparseable:
            return
        automatic_reason(msg)
        classifier.classify(msg)

    timings: dict[str, list[float]] = {"baseline": [], "parse": [], "parse+automatic+classify": []}
    for _ in range(args.rounds):
        for name, fn in (("baseline", naive), ("parse", ours_parse), ("parse+automatic+classify", ours_all)):
            start = time.perf_counter()
            for raw in raws:
                fn(raw)
            timings[name].append(time.perf_counter() - start)
    base = statistics.median(timings["baseline"])
    print(
        f"{len(raws)} messages x {args.rounds} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:28} {len(raws) / median:8.0f} msg/s   ratio to baseline {base / median:.2f}")


if __name__ == "__main__":
    main()
