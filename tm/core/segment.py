"""Sentence segmentation for Chinese and English, with offsets into the original text.

Paragraphs: by default every line break ends a paragraph, and so a sentence, because the texts
this service receives (news, exported documents) carry one paragraph per line. Hard-wrapped text
(e-mail, plain-text books) passes ``hard_wrapped=True``: then only a blank line ends a paragraph
and a single line break inside one is ordinary whitespace.

Within a paragraph a sentence ends at a terminator (Chinese 。！？；…… and their runs such as
！？, English . ! ? and ellipses), together with the closing quotes and brackets that follow it,
because ``“好。”`` closes on its quote. Chinese exceptions: a quotation followed by a short
speech tag stays one sentence (``“走吗？”他问。``), as the human-aligned novels segment it; an
ellipsis running straight on into more text (``我……我``) is a hesitation; a half-width ? or !
glued to a Han character is a mis-encoded name dot (``萨达姆?侯赛因``, common in news data).
The English rules that keep a period from ending a sentence (abbreviations, initials, decimals)
are described at ``_english_breaks``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

__all__ = ["Segment", "split_clauses", "split_sentences"]


@dataclass(frozen=True)
class Segment:
    """One sentence: ``text == original[start:end]`` and carries no surrounding whitespace.

    ``paragraph`` numbers the paragraph (0-based) the sentence belongs to; the aligner uses it
    as evidence that a bead should not straddle a paragraph break.
    """

    text: str
    start: int
    end: int
    paragraph: int = 0


_CLOSERS = "”’」』）)】》〉\"'"
#: Clause boundaries: after a comma, semicolon or colon, and at a dash.
_ZH_CLAUSE = re.compile(r"(?<=[，；：,;:])|(?<=——)")
_EN_CLAUSE = re.compile(r"(?<=[,;:])\s+|\s+(?=—)|(?<=—)")
#: Shorter pieces (a vocative, "he said") are too slight to be told apart by meaning.
_MIN_ZH_CLAUSE_CHARS = 4
_MIN_EN_CLAUSE_WORDS = 3
_PARAGRAPH_ANY_NEWLINE = re.compile(r"\r\n|\r|\n")
_PARAGRAPH_BLANK_LINE = re.compile(r"(?:\r\n|\r|\n)[ \t\u3000]*(?:\r\n|\r|\n)\s*")

# A Chinese terminator run: 。！？ (full and half width) and ；, an ellipsis ……/… or ..., any mix
# of them (！？, 。。。), then the closing quotes and brackets that belong to the sentence.
_ZH_END = re.compile(rf"(?:[。！？!?；]|…+|\.{{3,}})+[{_CLOSERS}]*")
# A quotation followed by a short speech tag is one sentence: “倒计时的尽头是什么？”汪淼无力地问。
# The tag is short and ends in a speaking verb, so a following ordinary sentence is not swallowed.
_ZH_SPEECH_TAG = re.compile(r"\s*[^。！？!?；…“”\s]{0,10}?(?:说|道|问|答|喊|叫|笑|嚷)[着了道]?[。，！？]")

# An English candidate break: . ! ? or an ellipsis, closing quotes/brackets, then whitespace.
_EN_END = re.compile(rf"(?:[.!?]+|…)[{_CLOSERS}]*(?=\s)")
_EN_LAST_WORD = re.compile(r"(\S+)$")
# Words that open sentences; after an abbreviation that can also end one (U.S., p.m., Inc.)
# a break is taken only before one of these, since a capitalised name usually continues.
_SENTENCE_OPENERS = frozenset(
    "a an the this that these those it its he she they we i you his her their our my there here "
    "but and or so yet however meanwhile then now in on at for after before when while if as "
    "since although though because according last next earlier later".split()
)
# Abbreviations that close a sentence as often as they sit inside one.
_AMBIGUOUS_ABBREVIATIONS = frozenset(
    "u.s u.k u.n e.u a.m p.m ltd co inc corp etc jr sr bros plc".split()
)
_TITLES_AND_MONTHS = frozenset(
    "mr mrs ms dr prof st no nos jan feb mar apr jun jul aug sep sept oct nov dec gen col capt "
    "lt sgt rev gov sen rep hon vs v e.g i.e cf fig approx dept est vol pp art mt ft".split()
)


@cache
def _english_nonbreaking() -> tuple[frozenset[str], frozenset[str]]:
    """Moses' English non-breaking prefixes (via sacremoses) split into always / before-a-number."""
    from sacremoses.corpus import NonbreakingPrefixes

    always: set[str] = set()
    numeric: set[str] = set()
    for entry in NonbreakingPrefixes().words("en"):
        word, _, flag = entry.partition(" ")
        (numeric if "NUMERIC_ONLY" in flag else always).add(word.lower())
    return frozenset(always), frozenset(numeric)


def split_sentences(text: str, lang: str, *, hard_wrapped: bool = False) -> list[Segment]:
    """Split ``text`` (``lang`` 'zh' or 'en') into sentences with offsets into ``text``.

    Every line break ends a sentence unless ``hard_wrapped`` is true, in which case only a blank
    line does (see the module docstring). Whitespace-only stretches produce no segment.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"unsupported language {lang!r}: expected 'zh' or 'en'")
    breaks = _PARAGRAPH_BLANK_LINE if hard_wrapped else _PARAGRAPH_ANY_NEWLINE
    find_ends = _chinese_breaks if lang == "zh" else _english_breaks
    segments: list[Segment] = []
    paragraph = 0
    for start, end in _paragraph_spans(text, breaks):
        cuts = [start, *(start + cut for cut in find_ends(text[start:end])), end]
        made = False
        for a, b in pairwise(cuts):
            segment = _stripped(text, a, b, paragraph)
            if segment is not None:
                segments.append(segment)
                made = True
        paragraph += made
    return segments


def split_clauses(sentence: str, lang: str) -> list[str]:
    """The clauses of one sentence: its pieces between commas, semicolons, colons and dashes,
    leaving out those under four Chinese characters or three English words; the whole
    sentence when nothing is left.

    A translator who moves a sentence boundary moves it to a clause boundary, so the aligner
    compares clauses with the neighbouring sentences to see a boundary in the wrong place.
    """
    if lang == "zh":
        pieces = (piece.strip() for piece in _ZH_CLAUSE.split(sentence))
        kept = [piece for piece in pieces if len(piece) >= _MIN_ZH_CLAUSE_CHARS]
    else:
        pieces = (piece.strip() for piece in _EN_CLAUSE.split(sentence))
        kept = [piece for piece in pieces if len(piece.split()) >= _MIN_EN_CLAUSE_WORDS]
    return kept or [sentence]


def _paragraph_spans(text: str, breaks: re.Pattern[str]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in breaks.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _stripped(text: str, start: int, end: int, paragraph: int) -> Segment | None:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right <= left:
        return None
    return Segment(piece[left:right], start + left, start + right, paragraph)


def _chinese_breaks(paragraph: str) -> list[int]:
    """Offsets just after each Chinese sentence end in ``paragraph``."""
    cuts = []
    for match in _ZH_END.finditer(paragraph):
        end = match.end()
        if end >= len(paragraph.rstrip()):
            break
        closed_quote = paragraph[match.end() - 1] in _CLOSERS
        if closed_quote and _ZH_SPEECH_TAG.match(paragraph, end):
            continue
        if match.group() in ("?", "!") and _is_han(paragraph[end]):
            # A lone half-width ? or ! glued to the next Han character is, in real Chinese
            # text, nearly always a mis-encoded middle dot in a name (萨达姆?侯赛因).
            continue
        if match.group()[-1] in "….":
            # An ellipsis with the sentence running straight on ("我……我昨晚") is a hesitation,
            # not an end; followed by a space, a quotation or a new line it ends the sentence.
            following = paragraph[end]
            if not following.isspace() and following not in "“‘「『":
                continue
        cuts.append(end)
    return cuts


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _english_breaks(paragraph: str) -> list[int]:
    """Offsets just after each English sentence end in ``paragraph``.

    A period does not end a sentence after a title or month (Mr., Dr., No. 5, Jan.), after an
    initial (J. R. R. Tolkien), or inside a number (3.5, which never has a space after the
    point). After an abbreviation that can also end a sentence (U.S., p.m., Ltd.) it ends one
    only when a typical sentence opener follows. An ellipsis, or ! or ?, ends a sentence only
    when the next word starts with a capital, digit or opening quote.
    """
    always, numeric = _english_nonbreaking()
    cuts = []
    for match in _EN_END.finditer(paragraph):
        end = match.end()
        rest = paragraph[end:].lstrip()
        if not rest:
            break
        next_word = rest.split(None, 1)[0]
        if not _opens_sentence(next_word):
            continue
        terminator = match.group().rstrip(_CLOSERS)
        if terminator == ".":
            last = _EN_LAST_WORD.search(paragraph, 0, match.start())
            word = last.group(1).lstrip("(\"'“‘[") if last else ""
            if not _period_ends_sentence(word, next_word, always, numeric):
                continue
        cuts.append(end)
    return cuts


def _opens_sentence(word: str) -> bool:
    first = word.lstrip("\"'“‘([")[:1]
    return bool(first) and (first.isupper() or first.isdigit() or word[0] in "\"'“‘([")


def _period_ends_sentence(
    word: str, next_word: str, always: frozenset[str], numeric: frozenset[str]
) -> bool:
    key = word.lower()
    if not key:
        return True
    next_key = next_word.strip("\"'“‘(").lower().rstrip(",.;:")
    if key in _AMBIGUOUS_ABBREVIATIONS:
        return next_key in _SENTENCE_OPENERS
    # Initials and dotted acronyms ("J. R. R.", "U.S.A.") end a sentence only before an opener.
    if re.fullmatch(r"[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]", word):
        return next_key in _SENTENCE_OPENERS
    if key in _TITLES_AND_MONTHS or key in always:
        return False
    if key in numeric:
        return not next_word[:1].isdigit()
    return True
