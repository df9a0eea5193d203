"""Inline codes of a segment carried into a translation that has none (pure, no XML library).

A CAT tool's segment is text with inline codes (bold, a link, a line break, a variable). The
memory stores and matches text only (an XLIFF import keeps the text of ``<g>``/``<pc>`` and drops
the codes, like a TMX without ``<bpt>``), so a match's target has no codes and they must be put
back, as OmegaT and Okapi do when they leverage a plain match:

* codes before the first word or after the last word of the source go before the first word /
  after the last word of the target (leading or trailing punctuation stays outside them as in
  the source: ``<g>Hello</g>.`` gives ``<g>你好</g>。``);
* a code inside the text goes next to a run of Latin letters or digits that the source has right
  after (or right before) it and that occurs exactly once in the target: numbers, names in Latin
  script, URLs, product names (``Prices rose by <ph/>3%`` gives ``价格上涨了<ph/>3%``);
* a source equal to the target (a number, a code name) keeps every code where it is.

Anything else (a code between two Chinese words, a paired code around a phrase that was
translated) has no place we can know, so `place` answers None and the caller offers the match as
a candidate for a person to place the codes, never writing a target with codes lost. Codes keep
their order, and a paired code never ends up around nothing when it had text in the source.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Code", "place"]

#: A run a code can be anchored on: Latin letters and digits, with the punctuation numbers and
#: URLs carry inside them (``3.5%``, ``US$25``, ``example.org/a``).
_ANCHOR_AFTER = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z.,%$:/_+-]*[0-9A-Za-z%])?")
_ANCHOR_BEFORE = re.compile(r"(?:[0-9A-Za-z][0-9A-Za-z.,%$:/_+-]*)?[0-9A-Za-z%]$")
_WORDISH = re.compile(r"\w")


@dataclass(frozen=True)
class Code:
    """An inline code at ``offset`` in the segment's plain text: ``kind`` is ``open``, ``close``
    (the two ends of a paired code, matched by ``pair``) or ``standalone``; ``raw`` is the markup
    written back as it was."""

    offset: int
    kind: str
    raw: str
    pair: int | None = None


def place(source: str, target: str, codes: Sequence[Code]) -> list[int] | None:
    """The offset in ``target`` of each code of ``source`` (same order), or None when one of
    them cannot be placed as the module says."""
    if not codes:
        return []
    lead = len(source) - len(source.lstrip())
    trail = len(source) - len(source.rstrip())
    core_source, core_target = source.strip(), target.strip()
    target_lead = len(target) - len(target.lstrip())
    positions = []
    for code in codes:
        offset = code.offset
        if offset <= lead:
            positions.append(min(offset, target_lead))
            continue
        if offset >= len(source) - trail:
            positions.append(len(target) - (len(source) - offset) if len(target) >= len(source) - offset
                             else len(target))
            continue
        inner = _place_inner(core_source, core_target, offset - lead)
        if inner is None:
            return None
        positions.append(target_lead + inner)
    if any(b < a for a, b in zip(positions, positions[1:], strict=False)):
        return None
    for index, code in enumerate(codes):
        if code.kind != "open":
            continue
        close = next((j for j in range(index + 1, len(codes)) if codes[j].kind == "close"
                      and codes[j].pair == code.pair), None)
        if close is None:
            continue
        had_text = bool(source[code.offset:codes[close].offset].strip())
        if had_text and not target[positions[index]:positions[close]].strip():
            return None
    return positions


def _place_inner(source: str, target: str, offset: int) -> int | None:
    """Where an interior code of ``source`` at ``offset`` goes in ``target`` (both stripped)."""
    if source == target:
        return offset
    before, after = source[:offset], source[offset:]
    if not _WORDISH.search(before):
        return len(target) - len(target.lstrip(_punctuation_of(target)))
    if not _WORDISH.search(after):
        return len(target.rstrip(_punctuation_of(target)))
    found = _ANCHOR_AFTER.match(after)
    if found and not (before and before[-1].isascii() and before[-1].isalnum()):
        # The whole run (``16%``), else its letters or digits alone (``16 %`` in the target).
        for run in dict.fromkeys((found.group(), re.match(r"[0-9A-Za-z]+", found.group()).group())):  # type: ignore[union-attr]
            at = _only_occurrence(target, run)
            if at is not None:
                return at
    found = _ANCHOR_BEFORE.search(before)
    if found and not (after and after[0].isascii() and after[0].isalnum()):
        for run in dict.fromkeys((found.group(), re.search(r"[0-9A-Za-z]+$", found.group()).group())):  # type: ignore[union-attr]
            at = _only_occurrence(target, run)
            if at is not None:
                return at + len(run)
    return None


def _punctuation_of(text: str) -> str:
    """The characters of ``text`` that are neither word characters nor Han: what may sit
    outside a leading or trailing code."""
    return "".join({c for c in text if not _WORDISH.match(c)})


def _only_occurrence(text: str, run: str) -> int | None:
    """The offset of ``run`` in ``text`` when it occurs there exactly once as a whole run (not
    inside a longer run of Latin letters and digits)."""
    hits = [m.start() for m in re.finditer(re.escape(run), text)
            if not (m.start() > 0 and text[m.start() - 1].isascii() and text[m.start() - 1].isalnum())
            and not (m.end() < len(text) and text[m.end()].isascii() and text[m.end()].isalnum())]
    return hits[0] if len(hits) == 1 else None
