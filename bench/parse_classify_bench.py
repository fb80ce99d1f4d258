"""Benchmark: parse_message + automatic_reason + classify against the naive parse, same run.

Baseline (the one the intake issue names): ``email.message_from_bytes(raw, policy=default)`` then
``get_body(("plain", "html")).get_content()``. Measured on the same messages, interleaved rounds,
median of the rounds; prints messages/s and the ratio to the baseline, then the milliseconds a
message of each CPU step after parsing (classify, campaign shingles, campaign bands).

    python bench/parse_classify_bench.py [FOLDER_OF_EML] [--rounds 5] [--repeat 4]
    python bench/parse_classify_bench.py --realistic 600 --before /tmp/before

With no folder it uses ../shared/corpus/dev plus ../shared/fixtures/mail when present;
``--realistic N`` uses N messages of ``intake_bench.realistic_message`` instead. ``--before DIR``
times the steps of the ``intake`` package in DIR too (an earlier version, e.g. from
``git archive <commit> | tar -x -C DIR``), in the same rounds, and prints the speed-up.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import email.policy
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from intake.automatic import automatic_reason
from intake.classify import Classifier
from intake.parse import Unparseable, parse_message

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FORCE_DOMAINS = ["west-midlands.pnn.police.uk"]
CONSULTATION_ADDRESSES = ["consultation@pcc.example.gov.uk"]


def load(folder: Path | None) -> list[bytes]:
    folders = [folder] if folder else [SHARED / "corpus" / "dev", SHARED / "fixtures" / "mail"]
    raws = []
    for base in folders:
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix not in (".tsv", ".md"):
                raws.append(path.read_bytes())
    return raws


def realistic(count: int) -> list[bytes]:
    """``count`` messages of intake_bench's realistic mail (~11 KB, ~2.3 KB of body text)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    intake_bench = importlib.import_module("intake_bench")  # a sibling script, not a package
    return [intake_bench.realistic_message(i) for i in range(count)]


def naive(raw: bytes) -> None:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    except Exception:  # noqa: S110 - the naive baseline fails on some real mail; we still time it
        pass


def steps(root: Path | None) -> dict[str, Any]:
    """classify, shingles and bands of the ``intake`` package in ``root`` (None: this tree's)."""
    if root is None:
        campaigns, classify = (
            importlib.import_module("intake.campaigns"),
            importlib.import_module("intake.classify"),
        )
    else:
        campaigns, classify = _import_from(root, "intake.campaigns", "intake.classify")
    classifier = classify.Classifier(
        force_domains=FORCE_DOMAINS, consultation_addresses=CONSULTATION_ADDRESSES
    )
    return {"classify": classifier.classify, "shingles": campaigns.shingles, "bands": campaigns.bands}


def _import_from(root: Path, *names: str) -> list[Any]:
    """Modules ``names`` imported from the tree at ``root``, leaving this tree's ``intake`` in place."""

    def ours() -> dict[str, Any]:
        return {name: module for name, module in sys.modules.items() if name.split(".")[0] == "intake"}

    saved = ours()
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(str(root))
        for name in ours():
            del sys.modules[name]
        sys.modules.update(saved)


def timed(fn: Callable[[Any], object], items: Sequence[Any]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--realistic", type=int, default=0, help="use N realistic messages instead")
    parser.add_argument("--before", type=Path, help="an earlier tree whose steps to time alongside")
    args = parser.parse_args()
    raws = (realistic(args.realistic) if args.realistic else load(args.folder)) * args.repeat
    classifier = Classifier(force_domains=FORCE_DOMAINS, consultation_addresses=CONSULTATION_ADDRESSES)
    versions = {"now": steps(None)} | ({"before": steps(args.before)} if args.before else {})
    messages = []
    for raw in raws:
        with contextlib.suppress(Unparseable):
            messages.append(parse_message(raw))
    bodies = [msg.body_text for msg in messages]
    grams = {name: [version["shingles"](body) for body in bodies] for name, version in versions.items()}

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

    whole: dict[str, list[float]] = {"baseline": [], "parse": [], "parse+automatic+classify": []}
    step: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, fn in (("baseline", naive), ("parse", ours_parse), ("parse+automatic+classify", ours_all)):
            whole[name].append(timed(fn, raws))
        for name, version in versions.items():
            for what, items in (("classify", messages), ("shingles", bodies), ("bands", grams[name])):
                step.setdefault((what, name), []).append(timed(version[what], items) / len(items))
    base = statistics.median(whole["baseline"])
    print(
        f"{len(raws)} messages x {args.rounds} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for name, values in whole.items():
        median = statistics.median(values)
        print(f"{name:28} {len(raws) / median:8.0f} msg/s   ratio to baseline {base / median:.2f}")
    per_message = base / len(raws)
    print(f"\nms a message (baseline parse {per_message * 1000:.3f} ms)")
    for what in ("classify", "shingles", "bands"):
        now = statistics.median(step[(what, "now")])
        line = f"{what:10} {now * 1000:7.3f} ms   {now / per_message:.2f} of the baseline parse"
        if args.before:
            before = statistics.median(step[(what, "before")])
            line += f"   before {before * 1000:.3f} ms, x{before / now:.2f} faster"
        print(line)


if __name__ == "__main__":
    main()
