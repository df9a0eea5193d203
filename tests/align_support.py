"""A fast stand-in for the aligner's sentence encoder, for tests of the alignment service.

The real encoder (USE multilingual) takes seconds to load and to embed a document; these tests
check the service around the aligner, not its accuracy (tests/core does that). This one embeds
a sentence as hashed bag of English word stems: English words directly, Chinese words through
CC-CEDICT, numbers and Latin names as they are, so a sentence and its translation still land
close together.
"""
from __future__ import annotations

import re
import zlib

import numpy as np

from tm.core.lexicon import chinese_words, english_stems, load_lexicon, stem

DIMENSIONS = 512
_HAN = re.compile(r"[\u3400-\u9fff]")


def _features(text: str) -> dict[str, float]:
    features: dict[str, float] = {}
    if _HAN.search(text):
        lexicon = load_lexicon()
        for word in chinese_words(text):
            stems = lexicon.get(word)
            if stems:
                for s in stems:
                    features[s] = features.get(s, 0.0) + 1.0 / len(stems)
            elif word.isascii():
                key = stem(word)
                features[key] = features.get(key, 0.0) + 1.0
    else:
        for key in english_stems(text):
            features[key] = features.get(key, 0.0) + 1.0
    return features


def lexical_embed(texts: list[str]) -> np.ndarray:
    """Unit row vectors for ``texts`` (the ``embed`` argument of ``align.core.aligner.align``)."""
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        for key, weight in _features(text).items():
            out[row, zlib.crc32(key.encode()) % DIMENSIONS] += weight
        norm = np.linalg.norm(out[row])
        if norm:
            out[row] /= norm
        else:
            out[row, zlib.crc32(text.encode()) % DIMENSIONS] = 1.0
    return out
