"""Align a Chinese text with its English translation from the command line.

    python -m align FILE_A FILE_B              raw texts: split, align, print
                                                  "A-text<TAB>B-text<TAB>confidence" per bead
    python -m align --presplit FILE_A FILE_B   one sentence per line: print one bead per line,
                                                  "[i,j]:[k]" (0-based lines of FILE_A, FILE_B)

Either file may be the Chinese one; output always follows the FILE_A / FILE_B order. Files may be
UTF-8, GB18030 or Big5. Bad input (missing or empty file, both files in one language, text in
neither) exits with status 2 and a message on stderr.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

# Cap BLAS threads before numpy loads, as align.core.embedding.embedding_threads explains: threads
# beyond the free cores spin instead of working. DUIZHAO_ALIGN_THREADS raises the cap.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, os.environ.get("DUIZHAO_ALIGN_THREADS", "1"))

from align.core.aligner import align  # noqa: E402
from align.core.beads import SENTENCE_RATIO_WARNING, unaligned_passages  # noqa: E402
from align.core.encoding import UnknownEncoding, decode_text  # noqa: E402
from tm.core.segment import Segment, split_sentences  # noqa: E402
from tm.core.text import detect_language  # noqa: E402

#: English/Chinese character ratios outside this range are unusual for a full translation
#: (typical news and fiction run from about 2 to 4 English characters per Chinese one).
CHAR_RATIO_RANGE = (0.8, 8.0)


class InputError(Exception):
    """Input the aligner cannot use; the message is meant for the user."""


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of a file's bytes; InputError naming the file when none fits."""
    try:
        return decode_text(data)
    except UnknownEncoding as err:
        raise InputError(f"{name}: {err}") from None


def read_text(path: Path) -> str:
    """A file's text (decoded as ``decode`` says; a non-UTF-8 encoding is reported on stderr)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from err
    text, encoding = decode(data, str(path))
    if encoding != "utf-8":
        print(f"{path}: decoded as {encoding}", file=sys.stderr)
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    return text


def language_of(text: str, path: Path) -> str:
    lang = detect_language(text)
    if lang is None:
        raise InputError(f"{path}: contains neither Chinese nor English text")
    return lang


def _warn_if_lopsided(a_count: int, b_count: int, zh_chars: int, en_chars: int) -> None:
    low, high = min(a_count, b_count), max(a_count, b_count)
    if high > SENTENCE_RATIO_WARNING * max(low, 1):
        print(f"warning: very different lengths ({a_count} vs {b_count} sentences); "
              "are these translations of the same text?", file=sys.stderr)
    elif not CHAR_RATIO_RANGE[0] <= en_chars / max(zh_chars, 1) <= CHAR_RATIO_RANGE[1]:
        print(f"warning: very different lengths ({zh_chars} Chinese vs {en_chars} English "
              "characters); are these translations of the same text?", file=sys.stderr)


def run(path_a: Path, path_b: Path, presplit: bool, out: TextIO) -> None:
    """Align FILE_A with FILE_B and write the result to ``out``."""
    text_a, text_b = read_text(path_a), read_text(path_b)
    lang_a, lang_b = language_of(text_a, path_a), language_of(text_b, path_b)
    if lang_a == lang_b:
        raise InputError(f"both files are in the same language ({lang_a}): "
                         "expected one Chinese and one English text")
    side_a: list[str] | list[Segment]
    side_b: list[str] | list[Segment]
    if presplit:
        # Keep every line, blank ones too, so bead indices are the files' line numbers.
        side_a, side_b = text_a.splitlines(), text_b.splitlines()
        texts_a, texts_b = side_a, side_b
    else:
        side_a, side_b = split_sentences(text_a, lang_a), split_sentences(text_b, lang_b)
        texts_a, texts_b = [s.text for s in side_a], [s.text for s in side_b]
    zh_chars = sum(map(len, texts_a if lang_a == "zh" else texts_b))
    en_chars = sum(map(len, texts_b if lang_a == "zh" else texts_a))
    _warn_if_lopsided(len(texts_a), len(texts_b), zh_chars, en_chars)
    beads = align(side_a, side_b, src_lang=lang_a)
    for side, first, last in unaligned_passages(beads):
        path = path_a if side == "src" else path_b
        print(f"warning: {path}: sentences {first + 1}-{last + 1} have no counterpart in the other "
              "text (left unaligned)", file=sys.stderr)
    join_a = "" if lang_a == "zh" else " "
    join_b = "" if lang_b == "zh" else " "
    for bead in beads:
        if presplit:
            out.write(f"[{','.join(map(str, bead.src))}]:[{','.join(map(str, bead.tgt))}]\n")
        else:
            a = _one_line(join_a.join(texts_a[i] for i in bead.src))
            b = _one_line(join_b.join(texts_b[j] for j in bead.tgt))
            out.write(f"{a}\t{b}\t{bead.score:.3f}\n")


def _one_line(text: str) -> str:
    return " ".join(text.replace("\t", " ").split()) if any(c in text for c in "\t\r\n") else text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m align",
        description="Sentence-align a Chinese text with its English translation.",
    )
    parser.add_argument("file_a", type=Path, metavar="FILE_A")
    parser.add_argument("file_b", type=Path, metavar="FILE_B")
    parser.add_argument("--presplit", action="store_true",
                        help="files hold one sentence per line; print beads as [i,j]:[k]")
    args = parser.parse_args(argv)
    try:
        run(args.file_a, args.file_b, args.presplit, sys.stdout)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
