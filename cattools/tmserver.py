"""The tmserver protocol (translate-toolkit's tmserver, amaGama), as Weblate and Virtaal call it.

    GET <base>/languages/                    -> {"sourceLanguages": [...], "targetLanguages": [...]}
    GET <base>/<src>/<tgt>/unit/<text>       -> [{"source", "target", "quality", "rank"}, ...]

``<base>`` is ``/tmserver/<token>`` (Weblate's tmserver client sends no Authorization header,
so the token travels as a path segment) or ``/tmserver`` when anonymous reading is on.

What Weblate's client does, and why each rule below exists (weblate/machinery/tmserver.py and
base.py, read for behaviour only):

* language codes go out lower-case with ``-`` turned into ``_`` (``zh_hans``, ``en_us``); the
  client tries the code, then strips one ``_suffix`` at a time (``zh_hans`` -> ``zh``) until a
  pair is in the advertised ``/languages/`` lists. We advertise only ``en`` and ``zh`` so every
  variant falls back to them, and we also accept the variants and hyphenated spellings in the
  unit URL for clients (Virtaal, scripts) that send them as they are.
* a new service is validated by looking up "test" from ``en`` to ``de``: an unsupported pair
  must answer 200 with ``[]``, not an error.
* the text is cut to 500 characters, ``\\r`` becomes a space, and it is percent-encoded with
  nothing kept safe (``/`` is ``%2F``). Werkzeug decodes ``%2F`` before routing, so the unit
  rule uses a ``path`` converter, does not merge ``//``, and the text is re-read from the raw
  request URI when the server provides one (gunicorn ``RAW_URI``, Werkzeug ``REQUEST_URI``).
* before sending, placeholders the translator must not touch (``%s``, ``{0}``...) are replaced by
  ``[X<offset>X]``; the offset changes with the position, so each such placeholder is folded
  into a single neutral token here: it costs one unit, not six characters of edits, and its
  digits are never taken for a number to adapt.
* the answer is read as a list; each item's ``quality`` goes through ``int()`` and anything
  under the threshold (80 for automatic suggestions, 10 for the search box) is hidden.
* the request times out after 5 seconds.

``min_similarity`` and ``max_candidates`` query parameters work as in amaGama: a missing or
non-integer value means the default (70 and 5); ``min_similarity`` is never below 30.
"""
from __future__ import annotations

import math
import re
from urllib.parse import unquote

from flask import Blueprint, jsonify, request

from accounts.auth import check_permission
from common.errors import DuizhaoError
from common.languages import UnsupportedLanguage, normalize_lang
from common.messages import N_, Message
from db import read_session
from tm import lookup
from web.extensions import live_index
from web.util import reject_invalid_utf8

bp = Blueprint("tmserver", __name__, url_prefix="/tmserver")
bp.before_request(reject_invalid_utf8)

#: What Weblate's client falls back to from any variant (zh_hans -> zh, en_us -> en).
ADVERTISED_LANGUAGES = ("en", "zh")
#: amaGama's defaults (settings.MIN_SIMILARITY, MAX_CANDIDATES) and its floor of 30.
DEFAULT_MIN_SIMILARITY = 70
MIN_SIMILARITY_FLOOR = 30
DEFAULT_MAX_CANDIDATES = 5
#: Weblate's client never sends more; we score at most lookup.MAX_SCORED_CHARS anyway.
WEBLATE_TEXT_LIMIT = 500
#: Weblate's placeholder for protected text: "[X" + character offset + "X]", with an optional
#: space before "]" (its own re-substitution allows one).
WEBLATE_PLACEHOLDER = re.compile(r"\[X\d+X *\]")
#: One private-use character stands for every placeholder: a single scoring unit for both
#: languages (a Moses token of its own; one character for Chinese), never a number.
PLACEHOLDER_UNIT = "\ue001"


@bp.get("/languages/")
@bp.get("/<token>/languages/")
def languages(token: str | None = None):
    """The language lists Weblate's client turns into supported pairs."""
    check_permission("read")
    return jsonify({"sourceLanguages": list(ADVERTISED_LANGUAGES),
                    "targetLanguages": list(ADVERTISED_LANGUAGES)})


@bp.get("/<src>/<tgt>/unit/", defaults={"text": ""})
@bp.get("/<src>/<tgt>/unit/<path:text>", merge_slashes=False)
@bp.get("/<token>/<src>/<tgt>/unit/", defaults={"text": ""})
@bp.get("/<token>/<src>/<tgt>/unit/<path:text>", merge_slashes=False)
def unit(src: str, tgt: str, text: str, token: str | None = None):
    """Matches for one text, best first, as a bare JSON list."""
    session = read_session()
    check_permission("read")
    text = raw_unit_text(request.environ) or text
    pair = language_pair(src, tgt)
    min_similarity, max_candidates = amagama_limits(request.args)
    if pair is None or not text.strip():
        return jsonify([])
    query = fold_placeholders(text)
    lookup_request = lookup.make_request(q=query, src=pair[0], tgt=pair[1],
                                         min_score=min_similarity, limit=max_candidates)
    matches = lookup.lookup(session, live_index(), lookup_request)
    return jsonify(to_tmserver(matches))


def language_pair(src: str, tgt: str) -> tuple[str, str] | None:
    """``('zh', 'en')`` for any spelling of Chinese and English (``zh_hans``, ``en-GB``...);
    None for a pair we do not hold (Weblate's en->de validation among them)."""
    try:
        pair = normalize_lang(src.replace("_", "-")), normalize_lang(tgt.replace("_", "-"))
    except UnsupportedLanguage:
        return None
    return pair if pair[0] != pair[1] else None


def amagama_limits(args) -> tuple[int, int]:
    """(min_similarity, max_candidates) as amaGama reads them: junk means the default."""
    def integer(name: str) -> int | None:
        try:
            return int(args.get(name, ""))
        except ValueError:
            return None

    similarity = integer("min_similarity") or DEFAULT_MIN_SIMILARITY
    similarity = min(max(similarity, MIN_SIMILARITY_FLOOR), 100)
    candidates = integer("max_candidates") or DEFAULT_MAX_CANDIDATES
    candidates = min(max(candidates, 1), lookup.MAX_LIMIT)
    return similarity, candidates


def raw_unit_text(environ: dict) -> str | None:
    """The text after ``/unit/`` decoded from the raw request URI, or None if there is none.

    PATH_INFO is already decoded (``%2F`` is ``/``) and may have been normalised by a proxy or
    a server; the raw URI is exactly what the client sent, so ``a//b`` and a trailing ``/``
    survive. Invalid UTF-8 is a 400, as everywhere in the API.
    """
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        return None
    path = raw.split("?", 1)[0]
    if not path.startswith("/") and "://" in path:  # an absolute-form request line (via a proxy)
        after_scheme = path.split("://", 1)[1]
        path = after_scheme[after_scheme.find("/"):] if "/" in after_scheme else "/"
    marker = path.find("/unit/")
    if marker < 0:
        return None
    encoded = path[marker + len("/unit/"):]
    try:
        return unquote(encoded.encode("latin-1").decode("utf-8"), errors="strict")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise DuizhaoError(Message(N_("The text in the URL is not valid UTF-8."))) from None


def fold_placeholders(text: str) -> str:
    """Weblate's ``[X12X]`` placeholders as one neutral scoring unit each (see module doc)."""
    return WEBLATE_PLACEHOLDER.sub(PLACEHOLDER_UNIT, text[: lookup.MAX_SCORED_CHARS])


def to_tmserver(matches: list[dict]) -> list[dict]:
    """Lookup matches in the tmserver shape, best first.

    ``quality`` is the score floored to a whole number (Weblate applies ``int()``; flooring
    keeps 100 for exact hits only); ``rank`` the score itself, for clients that sort on it.
    A target with adapted numbers is the suggestion: that is the text a translator would keep.
    """
    out = []
    for match in matches:
        score = min(float(match["score"]), 100.0)
        out.append({
            "source": match["source"],
            "target": match.get("adapted_target") or match["target"],
            "quality": math.floor(score),
            "rank": score,
        })
    out.sort(key=lambda item: item["rank"], reverse=True)
    return out
