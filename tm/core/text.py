"""Text facts shared by the pure core: which language a text is in.

Normalisation for matching (match keys) lives here too; stored text is never changed by it.
"""
from __future__ import annotations

import re

#: CJK Unified Ideographs (basic block + extension A) and compatibility ideographs.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")

SUPPORTED_LANGUAGES = ("zh", "en")


def han_ratio(text: str) -> float:
    """Share of Han characters among the letters (Han + Latin) of ``text``; 0.0 when it has none."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    letters = han + latin
    return han / letters if letters else 0.0


def detect_language(text: str) -> str | None:
    """'zh' or 'en' for a text, None when it has no letters of either script.

    A Chinese sentence often carries Latin names or acronyms (CGTN, G20), and an English one
    rarely carries Han characters, so a low share of Han characters already means Chinese:
    a Han character stands for roughly a whole English word of four or five letters.
    """
    han = len(_HAN.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if han == 0 and latin == 0:
        return None
    return "zh" if han * 4 >= latin else "en"
