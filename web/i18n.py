"""The interface in Chinese and English (Flask-Babel).

The language comes from the ``lang`` cookie when the reader chose one with the switch in the
header (``/lang/<code>``), otherwise from the browser's Accept-Language. The catalogue lives in
``translations/zh/LC_MESSAGES/messages.po``; ``init_i18n`` compiles it to ``messages.mo`` when
the .mo is missing or older, so a fresh checkout needs no ``pybabel compile`` step.

Extract new strings with ``pybabel extract -F babel.cfg -k _l -k N_ -o translations/messages.pot .``
and merge them with ``pybabel update -i translations/messages.pot -d translations``.

Errors raised below the views carry a ``common.messages.Message`` (the English sentence, its template and
its parameters); ``translate_message`` turns one into the reader's language at the edge (web/errors.py
and the views that show an error themselves).
"""
from __future__ import annotations

import functools
import io
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import Babel, get_locale, gettext
from flask_babel import lazy_gettext as _l

from common.messages import Message, Word

LANGUAGES = ("en", "zh")
#: The switch shows each language in its own name.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

bp = Blueprint("i18n", __name__)

#: Closed vocabularies stored in English (glossary statuses and types, roles, token scopes),
#: shown through ``word`` in templates: ``{{ word(t.status) }}`` or ``{{ t.status|word }}``.
#: Unknown values pass through.
VOCABULARY = {
    "preferred": _l("preferred"), "admitted": _l("admitted"), "deprecated": _l("deprecated"),
    "forbidden": _l("forbidden"), "institution": _l("institution"), "media_outlet": _l("media outlet"),
    "person": _l("person"), "place": _l("place"), "title": _l("title"), "event": _l("event"),
    "other": _l("other"), "fullForm": _l("full form"), "acronym": _l("acronym"),
    "abbreviation": _l("abbreviation"), "shortForm": _l("short form"), "variant": _l("variant"),
    "phrase": _l("phrase"), "translator": _l("translator"), "editor": _l("editor"), "admin": _l("admin"),
    "read": _l("read"), "write": _l("write"), "draft": _l("draft"), "approved": _l("approved"),
    "pending": _l("pending"), "accepted": _l("accepted"), "rejected": _l("rejected"),
    "zh": _l("Chinese"), "en": _l("English"),
    "create": _l("created"), "update": _l("changed"), "delete": _l("deleted"), "merge": _l("merged"),
    "import": _l("imported"), "missing_term": _l("missing term"), "forbidden_term": _l("forbidden term"),
    "deprecated_term": _l("deprecated term"), "inconsistent_variants": _l("inconsistent variants"),
}


def word(value) -> str:
    """A stored vocabulary value (``"preferred"``, ``"media_outlet"``) in the reader's language."""
    label = VOCABULARY.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else ("" if value is None else str(value))


def translate_message(text) -> str:
    """A message in the reader's language: a :class:`common.messages.Message` is looked up by its
    template and formatted with its parameters (those that are Messages translated first, Words
    shown through ``word``); any other string is returned unchanged (it is already what the
    reader should see, or has no translation, like werkzeug's own descriptions).

    Works outside a request too, where it gives the English sentence.
    """
    if not isinstance(text, Message):
        return "" if text is None else str(text)
    params = {name: _translated(value) for name, value in text.params.items()}
    try:
        return gettext(text.template).format(**params)
    except (IndexError, KeyError, ValueError):
        # A translation whose placeholders do not match its template (the catalogue test guards
        # against it): the English sentence is better than a 500 in place of a 400.
        return text.template.format(**params)


def _translated(value):
    if isinstance(value, Message):
        return translate_message(value)
    if isinstance(value, Word):
        return word(str(value))
    return value


def select_locale() -> str:
    """The cookie's choice, else the best match for Accept-Language, else English."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    # zh-CN, zh-Hans, zh-TW all match "zh": werkzeug compares the primary tag.
    return request.accept_languages.best_match(LANGUAGES) or _primary_match() or "en"


def _primary_match() -> str | None:
    for value, _quality in request.accept_languages:
        primary = value.split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return None


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


@bp.get("/lang/<code>")
def switch_language(code: str):
    """Remember the reader's language in a cookie and go back where they were."""
    target = request.args.get("next") or request.referrer or url_for("home.index")
    parts = urlsplit(target)
    # Only ever go back to a page of this site (no open redirect).
    if parts.netloc and parts.netloc != request.host:
        target = url_for("home.index")
    else:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("home.index")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def compile_catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` under ``directory`` whose .mo is missing or differs from it.

    Compared by content, not by time: a fresh clone gives both files the same time, and a
    commit that changed the .po without the .mo would otherwise serve stale translations.

    Written to a temporary file and renamed, so several workers starting at once never read a
    half-written catalogue; the file is made readable by all (0644, less what the umask takes
    away), as a checkout's files are, since mkstemp makes it 0600 and a service running as
    another user than whoever compiled it must read it. Returns the .mo files written.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        if mo.exists() and mo.read_bytes() == compiled.getvalue():
            continue
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=".messages-", suffix=".mo")
        try:
            os.fchmod(fd, 0o644 & ~_umask())
            with os.fdopen(fd, "wb") as out:
                out.write(compiled.getvalue())
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(mo)
    return written


def _umask() -> int:
    """The process's umask (reading it means setting it: put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@functools.cache
def _compile_once() -> OSError | None:
    """Compile the catalogues once per process (every app a process builds shares them)."""
    try:
        compile_catalogues()
    except OSError as err:  # a read-only checkout with a stale .mo still serves the old one
        return err
    return None


def init_i18n(app: Flask) -> None:
    """Set up Flask-Babel, the language switch and the template helpers on ``app``."""
    problem = _compile_once()
    if problem is not None:
        app.logger.warning("Could not compile the message catalogues: %s", problem)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.add_template_filter(word, "word")
    app.add_template_global(word, "word")

    @app.context_processor
    def _language_context():
        return {"lang_code": "zh-Hans" if current_language() == "zh" else "en",
                "ui_language": current_language(), "language_names": LANGUAGE_NAMES}
