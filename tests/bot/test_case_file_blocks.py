"""The case file's builders without a server: letters cut into sections that fit Slack whatever
they hold, drafts cut into inputs and joined back losslessly, and every view valid."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from bot import blocks, case_file
from bot.queries import Letter
from store.models import Case

ESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


def _unescape(text: str) -> str:
    for entity, char in ESCAPES.items():
        text = text.replace(entity, char)
    return text


def _normalise(text: str) -> str:
    """Every character but whitespace, in order (a hard cut of a long line adds a line break)."""
    return "".join(text.split())


@pytest.mark.parametrize("seed", range(6))
def test_letter_sections_fit_and_lose_nothing(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "abc de&<>\n" + "x" * 5
    # long lines, entity-heavy lines (escaping grows them five-fold) and blank lines
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(5_000, 40_000)))
    text += "\n" + "&" * 7000 + "\n" + "y" * 9000
    sections = case_file.sections_of(text)
    assert all(0 < len(s) <= 3000 for s in sections)
    assert _normalise(_unescape("\n".join(sections))) == _normalise(text)


def test_letter_text_cannot_ping_or_link() -> None:
    (section,) = case_file.sections_of("<!channel> see <https://evil.example|here> @here *bold*")
    assert "<!channel>" not in section and "<https://" not in section and "@here" not in section
    assert "*bold*" not in section


@pytest.mark.parametrize(
    "body",
    [
        "",
        "short",
        "a\n\nb\n",
        "x" * 7000,  # one line longer than two inputs
        "\n".join(f"line {n} " * 30 for n in range(200)),
        ("word " * 700 + "\n") * 5,
    ],
)
def test_draft_parts_fit_inputs_and_join_back(body: str) -> None:
    parts, joins = case_file.draft_parts(body)
    assert all(len(p) <= 3000 for p in parts)
    assert case_file.join_parts(parts, joins) == body.strip("\n")


def _case(**values: object) -> Case:
    received = datetime(2013, 4, 8, 9, 0, tzinfo=UTC)
    base: dict[str, object] = {
        "id": 1,
        "reference": "WMOPC-2013-000123",
        "category": "complaint",
        "status": "in_progress",
        "stage": "drafting",
        "drafts": 1,
        "received_at": received,
        "received_on": received.date(),
        "due_on": datetime(2013, 5, 7).date(),
        "status_changed_at": received,
        "subject": "Rude officer",
    }
    base.update(values)
    return Case(**base)


def test_read_letter_view_of_a_huge_letter_is_valid_on_every_page() -> None:
    body = "\n".join(f"paragraph {n} " + "& < > " * 200 for n in range(300))
    letter = Letter(1, "in", datetime(2013, 4, 8, tzinfo=UTC), "Jo <jo@example.org>", ["a@b"], "Hi", body)
    letters = [letter] + [
        Letter(n, "in", letter.at, "x", [], f"s{n}", "b") for n in range(2, 80)
    ]  # more messages than a select can hold
    total = len(case_file.pages(body))
    assert total > 3
    for page in (0, total // 2, total - 1):
        view = case_file.read_letter_view(reference="R", letters=letters, total=200, shown=letter, page=page)
        assert len(view["blocks"]) <= 100
    picker = next(b for b in view["blocks"] if b.get("block_id") == "pick")
    assert len(picker["elements"][0]["options"]) == case_file.OPTION_LIMIT


@pytest.mark.parametrize(
    ("stage", "drafts", "shown", "hidden"),
    [
        ("new", 0, {"case_read", "case_draft", "case_stage"}, {"case_request_signoff", "case_send_final"}),
        ("drafting", 1, {"case_request_signoff", "case_send_holding"}, {"case_send_final"}),
        ("awaiting_signoff", 1, {"case_read"}, {"case_draft", "case_request_signoff", "case_send_final"}),
        ("ready_to_send", 1, {"case_send_final", "case_send_holding"}, {"case_request_signoff"}),
        ("closed", 1, {"case_read", "case_note"}, {"case_send_final", "case_send_holding", "case_draft"}),
    ],
)
def test_case_file_buttons_follow_the_stage(
    stage: str, drafts: int, shown: set[str], hidden: set[str]
) -> None:
    from casework.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    status = {"new": "open", "closed": "closed"}.get(stage, "in_progress")
    actions = blocks.case_file_actions(_case(stage=stage, drafts=drafts, status=status), settings)
    blocks.validated([actions])
    ids = {e["action_id"] for e in actions["elements"]}
    assert shown <= ids and not (hidden & ids)
