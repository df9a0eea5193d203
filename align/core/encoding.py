"""Decode the bytes of a Chinese or English text file: UTF-8, else GB18030 or Big5."""
from __future__ import annotations

from tm.core.lexicon import load_lexicon


class UnknownEncoding(ValueError):
    """The bytes are not UTF-8, GB18030 or Big5 text."""


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a file's bytes as UTF-8, else GB18030 or Big5; return (text, encoding).

    Big5 bytes usually also decode as GB18030, into nonsense, so when both legacy encodings
    succeed the one whose text forms more dictionary words wins.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("gb18030", "big5"):
        try:
            candidates.append((data.decode(encoding), encoding))
        except UnicodeDecodeError:
            continue
    if not candidates:
        raise UnknownEncoding("not UTF-8, GB18030 or Big5 text")
    if len(candidates) == 1:
        return candidates[0]
    return max(candidates, key=lambda c: (_word_share(c[0]), c[1] == "gb18030"))


def _word_share(text: str) -> float:
    """Share of adjacent Han-character pairs that are dictionary words: real Chinese text is
    dense with two-character words, mis-decoded text almost never forms one."""
    lexicon = load_lexicon()
    sample = text[:20_000]
    pairs = [sample[k : k + 2] for k in range(len(sample) - 1)]
    pairs = [p for p in pairs if all("\u4e00" <= c <= "\u9fff" for c in p)]
    return sum(p in lexicon for p in pairs) / len(pairs) if pairs else 0.0
