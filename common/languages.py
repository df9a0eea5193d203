"""Duizhao's two languages, and the language codes real files and requests carry mapped to them.

Files say ``zh-CN``, ``ZH-CN``, ``zh_CN``, ``zh-Hans-CN``, ``zh-TW``, ``cmn``, ``chi``,
``en-US``, ``EN-GB``, ``eng``...  The TM is script-insensitive for matching
(traditional is folded to simplified in the match key), so every Chinese variant
is ``'zh'``; callers keep the original spelling where they need to write it back.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from common import params
from common.errors import DuizhaoError
from common.messages import N_, Message

Lang = Literal["zh", "en"]

#: The two languages Duizhao stores, as its own code for each.
LANGUAGES: tuple[Lang, ...] = ("zh", "en")

#: The language of a text with no letters of either script ("2024", "……", "3.5%"), wherever
#: a caller guesses one: Chinese. Such a text matches alike in either language, so what decides
#: is the direction a person most likely works in: Duizhao's first direction is Chinese to
#: English (the workbench offers it first, and its "Detect" showed it for such a text already),
#: and `detect_language` itself already settles mixed text towards Chinese. One default keeps a
#: lookup, the concordance, the glossary's recognition and QA, and the article page in the same
#: direction for the same text.
UNDETECTED: Lang = "zh"

#: CJK Unified Ideographs (basic block + extension A) and compatibility ideographs.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def han_ratio(text: str) -> float:
    """Share of Han characters among the letters (Han + Latin) of ``text``; 0.0 when it has none."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    letters = han + latin
    return han / letters if letters else 0.0


def detect_language(text: str) -> Lang | None:
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


def language_of(text: str) -> Lang:
    """The language of ``text`` as `detect_language` sees it, `UNDETECTED` when it has no letters."""
    return detect_language(text) or UNDETECTED


def other_language(lang: str) -> Lang:
    """The language a ``'zh'`` or ``'en'`` text is translated into."""
    if lang == "zh":
        return "en"
    if lang == "en":
        return "zh"
    raise ValueError(f"unsupported language {lang!r}: expected 'zh' or 'en'")


class UnsupportedLanguage(Exception):
    """A language code that is neither Chinese nor English."""

    def __init__(self, code: str, supported: tuple[str, ...]) -> None:
        self.code = code
        self.supported = supported
        self.message = Message(
            N_("unsupported language {code!r}: Duizhao stores Chinese and English only "
               "(supported codes: {supported})"),
            code=code, supported=", ".join(supported),
        )
        super().__init__(self.message)


# Primary subtags (ISO 639-1, 639-2/B, 639-2/T, 639-3 individual and macro
# languages) that mean "Chinese".  Only Mandarin and the macrolanguage: a file
# tagged Cantonese (yue) or Hokkien (nan) is not a Mandarin TM and is refused.
_ZH = frozenset({"zh", "chi", "zho", "cmn"})
_EN = frozenset({"en", "eng"})

#: What error messages list as accepted, most common first.
SUPPORTED_CODES: tuple[str, ...] = (
    "zh", "zh-CN", "zh-Hans", "zh-SG", "zh-TW", "zh-HK", "zh-Hant", "cmn", "chi", "zho",
    "en", "en-US", "en-GB", "eng",
)

# BCP 47 tag shape: letters/digits in subtags; '_' is the POSIX-locale spelling many
# tools emit (zh_CN), and a POSIX suffix like '.UTF-8' or '@euro' is dropped.
_TAG = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")


@lru_cache(maxsize=512)  # files repeat a handful of codes millions of times
def normalize_lang(code: str) -> Lang:
    """Return ``'zh'`` or ``'en'`` for any spelling of Chinese or English.

    >>> normalize_lang("ZH_cn"), normalize_lang("zh-Hant-TW"), normalize_lang("eng")
    ('zh', 'zh', 'en')

    Raises `UnsupportedLanguage` (listing the supported codes) for anything else,
    including the TMX wildcard ``*all*`` which names no single language.
    """
    cleaned = (code or "").strip().split(".", 1)[0].split("@", 1)[0]
    if not _TAG.match(cleaned):
        raise UnsupportedLanguage(code, SUPPORTED_CODES)
    primary = re.split(r"[-_]", cleaned, maxsplit=1)[0].lower()
    if primary in _ZH:
        return "zh"
    if primary in _EN:
        return "en"
    raise UnsupportedLanguage(code, SUPPORTED_CODES)


def is_supported(code: str) -> bool:
    """True when `normalize_lang` accepts ``code``."""
    try:
        normalize_lang(code)
    except UnsupportedLanguage:
        return False
    return True


@lru_cache(maxsize=512)  # a writer asks for the same few tags once per unit
def canonical_tag(code: str) -> str:
    """Rewrite a code in BCP 47 casing with hyphens (``zh_cn`` -> ``zh-CN``).

    Used to write the original variant back to a file in the standard spelling.
    Script subtags get title case, region subtags upper case (RFC 5646 §2.1.1).
    """
    normalize_lang(code)  # refuse what we would not read
    parts = re.split(r"[-_]", code.strip().split(".", 1)[0].split("@", 1)[0])
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha() or len(part) == 3 and part.isdigit():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def script_of(code: str) -> Literal["Hans", "Hant"] | None:
    """The Chinese script a code implies, or None (English, or plain ``zh``/``cmn``).

    ``zh-TW``, ``zh-HK``, ``zh-MO`` and ``zh-Hant*`` imply traditional characters;
    ``zh-CN``, ``zh-SG`` and ``zh-Hans*`` simplified.
    """
    if normalize_lang(code) != "zh":
        return None
    subtags = {p.lower() for p in re.split(r"[-_]", code.strip())[1:]}
    if "hant" in subtags or subtags & {"tw", "hk", "mo"}:
        return "Hant"
    if "hans" in subtags or subtags & {"cn", "sg", "my"}:
        return "Hans"
    return None


def parse_language(value: str | None, parameter: str) -> Lang:
    """A language parameter (``zh``, ``zh-Hans``, ``en-GB``...) as ``zh`` or ``en``."""
    params.text(value, parameter)
    try:
        return normalize_lang(value or "")
    except UnsupportedLanguage as err:
        raise DuizhaoError(Message(N_("Parameter {parameter!r}: unsupported language {value!r}; use one of "
                                      "{supported}."), parameter=parameter, value=value,
                                   supported=", ".join(err.supported)), parameter=parameter,
                           supported=list(err.supported)) from None


def source_and_target(src: str | None, tgt: str | None, text: str) -> tuple[Lang, Lang]:
    """The ``src`` and ``tgt`` parameters of a request about ``text`` as ``zh``/``en``.

    Either may be absent (None or ""): the source is then the language of ``text``
    (`language_of`), the target the other one. Only None and "" mean absent: a value of the
    wrong type ([], 0) is refused like any bad parameter. The two may come out equal (both
    given the same): callers refuse that in their own words.
    """
    source = parse_language(src, "src") if src not in (None, "") else language_of(text)
    target = parse_language(tgt, "tgt") if tgt not in (None, "") else other_language(source)
    return source, target
