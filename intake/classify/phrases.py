"""Matching the signals' phrases fast, with exactly the matches ``re.finditer`` gives.

A letter is ~2 KB and the signals look for ~200 phrases in it, so the cost is in how often the
whole text is scanned and how fast each scan is. Python's regular-expression engine scans fast
only for a pattern that starts with a literal string; ``\\b…`` or ``(?:my|our) …`` make it try
the pattern at every position (20–40 µs a scan). So each phrase is prepared once:

* a leading group is split into its alternatives, in the order the engine tries them
  (``\\b(?:my|our) views`` becomes ``\\bmy views`` then ``\\bour views``), and a leading ``\\b`` is
  checked by hand, so that every alternative starts with a literal the engine can scan for;
* from the parsed pattern, each alternative gets the keys (words, or a word's first or last
  letters) that a matching text must contain, so a text without them is not scanned for it at
  all: a :class:`Text` splits its words once for all the phrases.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the engine's own parser: the words a pattern needs, read from its syntax
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from re._constants import (
    ASSERT,
    ASSERT_NOT,
    AT,
    AT_NON_BOUNDARY,
    BRANCH,
    CATEGORY,
    CATEGORY_NOT_WORD,
    CATEGORY_SPACE,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    RANGE,
    SUBPATTERN,
)
from typing import Any

from intake.classify.text import STOP_WORDS

#: how many letters of a word's start or end a key can be (see :attr:`Text.present`)
AFFIX = 4
_WORD = re.compile(r"\w+")
_IS_WORD = re.compile(r"\w").fullmatch
# on ASCII text, \w is [a-z0-9_]: a translation table splits words several times faster than \w+
_ASCII_NOT_WORD = str.maketrans({chr(c): " " for c in range(128) if not _IS_WORD(chr(c))})
_FIRST = itemgetter(slice(AFFIX))
_LAST = itemgetter(slice(-AFFIX, None))
# in an expanded pattern every non-word character is alike (it ends a word); OPEN is unknown text
_END, _OPEN = "\x00", "\x01"
#: expanding a pattern into its literal strings stops here; what is left over counts as unknown
_MAX_EXPANSIONS = 256
_SMALL_CLASS = 10


class Text:
    """A text prepared for many phrase searches: the string, and its words once asked for."""

    def __init__(self, value: str) -> None:
        self.value = value

    @cached_property
    def present(self) -> frozenset[str]:
        """Its words, and the first and the last four letters of each: what keys are tested on."""
        value = self.value
        words = set(value.translate(_ASCII_NOT_WORD).split() if value.isascii() else _WORD.findall(value))
        return frozenset(words.union(map(_FIRST, words), map(_LAST, words)))


@dataclass(frozen=True)
class Alternative:
    """One way a phrase can start, searched for with the engine's literal scan.

    ``needs`` lists, for each way the pattern can match, the keys a matching text contains:
    words, or the first or last letters (AFFIX of them) of a word the pattern spells out only
    the start or end of. A text that has all the keys of none of them cannot match.
    """

    pattern: re.Pattern[str]
    boundary: bool  # the phrase's leading \b, checked by hand
    needs: tuple[frozenset[str], ...]

    def search(self, text: str, pos: int) -> re.Match[str] | None:
        match = self.pattern.search(text, pos)
        while match and self.boundary and _inside_word(text, match.start()):
            # not a match of \b…: the next one may start inside this one
            match = self.pattern.search(text, match.start() + 1)
        return match


class Phrases:
    """Alternative phrases, regular expressions each, found with exactly ``re.finditer``'s matches.

    A text is scanned only for the alternatives it has all the keys of one need of. To find those
    without testing every need, each need is filed under one of its keys, and only the needs filed
    under a key of the text are tested.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        #: each phrase's alternatives, in the order the engine tries them
        self.phrases: list[list[Alternative]] = []
        for pattern in self.patterns:
            if sre_parse.parse(pattern).getwidth()[0] == 0:
                raise ValueError(f"phrase {pattern!r} can match the empty string")
            self.phrases.append([_alternative(choice) for choice in _leading_choices(pattern)])
        needs = [
            (number, index, need)
            for number, alternatives in enumerate(self.phrases)
            for index, alternative in enumerate(alternatives)
            for need in alternative.needs
        ]
        # filed under a key few other needs share, not a stop word if it can be helped, the longest
        # (the rarer in letters) of those
        shared = Counter(key for _number, _index, need in needs for key in need)
        #: key -> (phrase number, alternative number, the need's other keys)
        self._filed: dict[str, list[tuple[int, int, frozenset[str]]]] = {}
        self._unfiled: set[tuple[int, int]] = set()  # alternatives with a need of no keys
        for number, index, need in needs:
            if not need:
                self._unfiled.add((number, index))
                continue
            key = min(need, key=lambda key: (key in STOP_WORDS, shared[key], -len(key), key))
            self._filed.setdefault(key, []).append((number, index, need - {key}))
        self._keys = frozenset(self._filed)

    def finditer(self, text: str | Text) -> Iterator[re.Match[str]]:
        """Each phrase's matches in turn; a plain string is scanned for every phrase (for a text
        searched once, splitting its words would cost more than it saves)."""
        if isinstance(text, Text):
            groups = self._possible(text.present)
            value = text.value
        else:
            groups, value = self.phrases, text
        for alternatives in groups:
            if len(alternatives) == 1:
                yield from _matches(alternatives[0], value)
            else:
                yield from _first_matches(alternatives, value)

    def search(self, text: str | Text) -> re.Match[str] | None:
        return next(self.finditer(text), None)

    def _possible(self, present: frozenset[str]) -> Iterable[list[Alternative]]:
        """The alternatives a text with ``present`` keys may match, phrase by phrase."""
        possible = set(self._unfiled)
        for key in self._keys.intersection(present):
            possible.update((number, index) for number, index, rest in self._filed[key] if rest <= present)
        groups: dict[int, list[Alternative]] = {}
        for number, index in sorted(possible):
            groups.setdefault(number, []).append(self.phrases[number][index])
        return groups.values()


def _matches(alternative: Alternative, text: str) -> Iterator[re.Match[str]]:
    pos = 0
    while match := alternative.search(text, pos):
        yield match
        pos = match.end()


def _first_matches(alternatives: list[Alternative], text: str) -> Iterator[re.Match[str]]:
    """The leftmost match of any alternative, the earlier alternative at the same position (as the
    engine chooses in ``(?:a|b)…``); each alternative is searched again only once it is overtaken."""
    found = [alternative.search(text, 0) for alternative in alternatives]
    pos = 0
    while True:
        best = None
        for index, match in enumerate(found):
            if match is not None and match.start() < pos:
                found[index] = match = alternatives[index].search(text, pos)
            if match is not None and (best is None or match.start() < best.start()):
                best = match
        if best is None:
            return
        yield best
        pos = best.end()


def _inside_word(text: str, start: int) -> bool:
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")


# --- preparing a phrase --------------------------------------------------------------------------


def _leading_choices(pattern: str) -> list[str]:
    """``pattern`` as the alternatives the engine tries in turn when it starts with a group:
    ``\\b(?:my|our) x`` → ``\\bmy x``, ``\\bour x``; ``(?:draft )?plan`` → ``draft plan``, ``plan``."""
    head = "\\b" if pattern.startswith("\\b") else ""
    body = pattern[len(head) :]
    if not body.startswith("(?:"):
        return [pattern]
    close = _group_end(body)
    choices, rest = _split_top_level(body[3:close]), body[close + 1 :]
    if rest[:1] == "?" and rest[1:2] not in ("?", "+"):
        choices, rest = [*choices, ""], rest[1:]  # greedy: with the group first, then without
    elif rest[:1] in ("?", "*", "+", "{"):
        return [pattern]
    return [alt for choice in choices for alt in _leading_choices(head + choice + rest)]


def _group_end(pattern: str) -> int:
    """Index of the ``)`` closing the group that ``pattern`` starts with."""
    depth = 0
    for index, char in _syntax(pattern):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced group in {pattern!r}")


def _split_top_level(pattern: str) -> list[str]:
    """``pattern`` cut at each ``|`` outside any group."""
    parts, depth, start = [], 0, 0
    for index, char in _syntax(pattern):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    return [*parts, pattern[start:]]


def _syntax(pattern: str) -> Iterator[tuple[int, str]]:
    """The characters of ``pattern`` that are syntax: not escaped and not inside ``[...]``."""
    index, in_class, class_start = 0, False, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]" or index == class_start  # "[]…]" and "[^]…]": that ] is literal
        elif char == "[":
            in_class = True
            class_start = index + 2 if pattern[index + 1 : index + 2] == "^" else index + 1
        else:
            yield index, char
        index += 1


def _alternative(pattern: str) -> Alternative:
    parsed = sre_parse.parse(pattern)
    items = list(parsed)
    # keys and the hand-made \b assume Unicode words matched case by case, as in the text's words
    plain = not parsed.state.flags & (re.IGNORECASE | re.ASCII | re.LOCALE)
    boundary = (
        plain
        and pattern.startswith("\\b")
        and len(items) > 1
        and items[1][0] is LITERAL
        and bool(_IS_WORD(chr(items[1][1])))
    )
    # with the \b checked by hand the engine scans for the literal that follows
    compiled = re.compile(pattern[2:] if boundary else pattern)
    needs = _needs(_words(expansion) for expansion in _expand(items)) if plain else (frozenset(),)
    return Alternative(compiled, boundary, needs)


def _needs(expansions: Iterable[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """The distinct key sets, leaving out any that contains another (it is never the only one met)."""
    needs: list[frozenset[str]] = []
    for keys in sorted(set(expansions), key=lambda keys: (len(keys), sorted(keys))):
        if not any(kept <= keys for kept in needs):
            needs.append(keys)
    return tuple(needs)


def _words(expansion: str) -> frozenset[str]:
    """The keys a text matching ``expansion`` contains: each word the pattern spells out whole,
    and the first (last) four letters of a word only its start (end) is spelled out of."""
    keys = set()
    for run in _WORD.finditer(expansion):
        word, start, end = run.group(), run.start(), run.end()
        starts = start > 0 and expansion[start - 1] == _END
        ends = end < len(expansion) and expansion[end] == _END
        if starts and ends:
            keys.add(word)
        elif starts and len(word) >= AFFIX:
            keys.add(_FIRST(word))
        elif ends and len(word) >= AFFIX:
            keys.add(_LAST(word))
    return frozenset(keys)


def _expand(items: Iterable[tuple[Any, Any]]) -> set[str]:
    """The strings a parsed pattern matches, non-word characters written as _END and anything
    not worth spelling out (``[a-z]+``, ``.{0,60}``) as _OPEN."""
    expansions = {""}
    for op, av in items:
        choices = _expand_item(op, av)
        if len(expansions) * len(choices) > _MAX_EXPANSIONS:
            choices = {_OPEN}
        expansions = {head + tail for head in expansions for tail in choices}
    return expansions


def _expand_item(op: Any, av: Any) -> set[str]:
    if op is LITERAL:
        return {_char(chr(av))}
    if op is AT:
        # \b, ^ and $ all stand between a word character and something that is not one
        return {""} if av is AT_NON_BOUNDARY else {_END}
    if op in (ASSERT, ASSERT_NOT):
        return {""}  # looks without consuming: the text around it is the rest of the pattern
    if op is SUBPATTERN and not av[1] and not av[2]:
        return _expand(av[3])
    if op is BRANCH:
        return set().union(*(_expand(branch) for branch in av[1]))
    if op in (MAX_REPEAT, MIN_REPEAT) and av[1] == 1:
        once = _expand(av[2])
        return once | {""} if av[0] == 0 else once
    if op is IN:
        return _class_chars(av)
    return {_OPEN}


def _class_chars(members: list[tuple[Any, Any]]) -> set[str]:
    if all(op is CATEGORY and av in (CATEGORY_SPACE, CATEGORY_NOT_WORD) for op, av in members):
        return {_END}
    chars: set[str] = set()
    for op, av in members:
        if op is LITERAL:
            chars.add(_char(chr(av)))
        elif op is RANGE and av[1] - av[0] < _SMALL_CLASS:
            chars.update(_char(chr(code)) for code in range(av[0], av[1] + 1))
        else:
            return {_OPEN}
    return chars


def _char(char: str) -> str:
    return char if _IS_WORD(char) else _END
