"""A MyMemory-shaped lookup: ``GET /api/mymemory/get?q=...&langpair=zh-CN|en``.

For CAT tools and scripts that let a user point the MyMemory connector at another URL. The
answer has MyMemory's shape: ``responseData`` (the best ``translatedText`` and its ``match``
0–1), ``responseStatus``, ``responseDetails`` and ``matches[]`` with MyMemory's keys
(``id``, ``segment``, ``translation``, ``quality`` as a string, ``match`` 0–1, ``created-by``,
``create-date`` ...). MyMemory's ``key`` parameter carries a Duizhao API token for clients
that can send no header; an Authorization header works too.

Errors keep MyMemory's fields (``responseStatus``, ``responseDetails``) so its clients show
the message, and carry the house ``error`` object as well; the HTTP status matches.
A language pair Duizhao does not hold (``en|de``) is not an error: no matches, as for a
MyMemory pair without entries.

MyMemory documents ``get`` as a GET with ``q`` of at most 500 bytes (about 166 Chinese
characters). Duizhao takes longer texts, so ``POST`` with the same parameters as a form body
(``application/x-www-form-urlencoded``) answers the same, for a script or plug-in whose text
would not fit in a URL.
"""
from __future__ import annotations

import math
from urllib.parse import unquote_to_bytes

from flask import Blueprint, g, jsonify, request

from accounts.auth import check_permission, token_identity
from common.errors import DuizhaoError
from common.languages import UnsupportedLanguage, canonical_tag, normalize_lang
from common.messages import N_, Message
from db import read_session
from tm import lookup
from tm import repository as repo
from web.extensions import live_index
from web.i18n import translate_message
from web.util import reject_invalid_utf8

bp = Blueprint("mymemory", __name__, url_prefix="/api/mymemory")

#: MyMemory returns at most a handful of matches unless asked; the same default here.
DEFAULT_MATCHES = 5
#: MyMemory's date format ("2013-06-12 17:32:06").
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@bp.before_request
def _guard():
    reject_invalid_utf8()
    _reject_invalid_utf8_form()
    key = request.values.get("key")
    if key and not request.headers.get("Authorization"):
        # MyMemory's own "key" parameter: the only credential such clients know how to send.
        # It is a token like any other, rate limit included.
        g.identity = token_identity(key, unknown=Message(
            N_("The API token given as {parameter!r} is unknown or has been revoked."), parameter="key"))


@bp.errorhandler(DuizhaoError)
def _error(err: DuizhaoError):
    message = translate_message(err.message)
    body = {
        "responseData": {"translatedText": None, "match": 0},
        "responseStatus": err.status, "responseDetails": message, "matches": [],
        "error": {"status": err.status, "message": message, **err.details},
    }
    response = jsonify(body)
    if "retry_after" in err.details:
        response.headers["Retry-After"] = err.details["retry_after"]
    return response, err.status


def _reject_invalid_utf8_form() -> None:
    # Werkzeug decodes a form body leniently (bad bytes become U+FFFD), as it does URLs.
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return
    try:
        unquote_to_bytes(request.get_data(cache=True).replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as err:
        raise DuizhaoError(Message(N_("The form body is not valid UTF-8 (byte {byte})."), byte=err.start)) from None


@bp.route("/get", methods=["GET", "POST"])
def get():
    """Matches for ``q`` in ``langpair``, MyMemory-shaped (GET, or POST with a form body)."""
    session = read_session()
    check_permission("read")
    args = request.values
    q = args.get("q", "")
    if not q.strip():
        # MyMemory's own words (here and for a bad langpair), which its clients may recognise: kept
        # verbatim, in English, whatever the reader's language.
        raise DuizhaoError("NO QUERY SPECIFIED. Example request: get?q=Hello World!&langpair=en|it",
                           parameter="q")
    tags = parse_langpair(args.get("langpair", ""))
    pair = duizhao_pair(*tags)
    if pair is None:
        return jsonify(to_mymemory([], {}, tags))
    lookup_request = lookup.make_request(q=q, src=pair[0], tgt=pair[1], limit=match_count(args),
                                         min_score=args.get("min_score"))
    matches = lookup.lookup(session, live_index(), lookup_request)
    units = {u.id: u for u in repo.units_by_ids(session, [m["unit_id"] for m in matches])}
    return jsonify(to_mymemory(matches, units, tags))


def match_count(args) -> int:
    """``numres``: how many matches, 1 to lookup.MAX_LIMIT; junk means the default, as MyMemory."""
    try:
        wanted = int(args.get("numres", DEFAULT_MATCHES))
    except ValueError:
        wanted = DEFAULT_MATCHES
    return min(max(wanted, 1), lookup.MAX_LIMIT)


def parse_langpair(value: str) -> tuple[str, str]:
    """``'zh-CN|en'`` -> ``('zh-CN', 'en')``; a 400 in MyMemory's words when malformed."""
    parts = [p.strip() for p in value.split("|")]
    if len(parts) != 2 or not all(parts):
        raise DuizhaoError(f"INVALID LANGUAGE PAIR SPECIFIED: {value!r}. Example: langpair=zh-CN|en",
                           parameter="langpair")
    return parts[0], parts[1]


def duizhao_pair(source: str, target: str) -> tuple[str, str] | None:
    """('zh', 'en') or ('en', 'zh') for the pair, or None when Duizhao holds no such pair."""
    try:
        pair = normalize_lang(source), normalize_lang(target)
    except UnsupportedLanguage:
        return None
    return pair if pair[0] != pair[1] else None


def _tag(code: str) -> str:
    try:
        return canonical_tag(code)
    except UnsupportedLanguage:
        return code


def to_mymemory(matches: list[dict], units: dict, tags: tuple[str, str]) -> dict:
    """The MyMemory answer for ``matches`` (best first) and their stored units."""
    items = []
    for match in matches:
        unit = units.get(match["unit_id"])
        score = min(float(match["score"]), 100.0)
        created = unit.created_at if unit is not None else None
        changed = unit.changed_at if unit is not None else None
        items.append({
            "id": str(match["unit_id"]),
            "segment": match["source"],
            "translation": match.get("adapted_target") or match["target"],
            "source": _tag(tags[0]),
            "target": _tag(tags[1]),
            # MyMemory's quality is a string; tools show "match". Floored, so only an exact
            # hit says 100.
            "quality": str(math.floor(score)),
            "reference": match.get("note") or match.get("doc_title"),
            "usage-count": match.get("usage_count", 0),
            "subject": "All",
            "created-by": match.get("created_by") or "",
            "last-updated-by": match.get("changed_by") or "",
            "create-date": created.strftime(DATE_FORMAT) if created else "",
            "last-update-date": changed.strftime(DATE_FORMAT) if changed else "",
            "match": round(score / 100, 4),
            "memory": match["memory"],
        })
    best = items[0] if items else None
    return {
        "responseData": {"translatedText": best["translation"] if best else "",
                         "match": best["match"] if best else 0},
        "quotaFinished": False,
        "mtLangSupported": None,
        "responseDetails": "" if items else "NO MATCHES FOUND",
        "responseStatus": 200,
        "responderId": None,
        "exception_code": None,
        "matches": items,
    }
