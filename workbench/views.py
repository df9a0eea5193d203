"""The translator's workbench: lookup as you type, concordance, article analysis and export.

Thin views: they compose the TM lookup (``tm.lookup``) and the glossary recognizer
(``glossary.service``) and render. The lookup page itself asks ``/api/v1/tm/lookup`` from the
browser (``static/workbench.js``); the article page works without JavaScript.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts.auth import check_permission, current_identity
from common import params
from common.errors import DuizhaoError
from common.languages import UNDETECTED, language_of, other_language
from common.messages import N_, Message
from db import db_session
from glossary import service as glossary_service
from jobs.webutil import copy_upload, job_json, save_upload, saved_upload, visible_job
from tm import jobs as tm_jobs
from tm import lookup as tm_lookup
from tm import repository as tm_repo
from tm import service as tm_service
from tm.core.segment import split_sentences
from tm.pretranslate import FileTooLarge
from tm.webutil import pretranslate_options, pretranslate_upload, submit_pretranslate, xliff_download
from web.extensions import fragment_models, glossary_recognizer, live_index
from web.i18n import translate_message
from workbench import analysis, documents, export
from workbench import upload as upload_reader

bp = Blueprint("workbench", __name__, url_prefix="/workbench")
#: The start page composes the TM and the glossary, so it lives here rather than in either.
home_bp = Blueprint("home", __name__)


@home_bp.get("/")
def index():
    """Memories and the glossary with their sizes and growth, and a lookup box."""
    from workbench.stats import home_charts

    # The memories' names and sizes are data like any other: with ANONYMOUS_READ=0 an
    # anonymous visitor is sent to log in.
    check_permission("read")
    session = db_session()
    sizes = tm_repo.memory_sizes(session)
    memories = [(m, sizes.get(m.id, 0)) for m in tm_repo.memories(session)]
    return render_template("tm/index.html", memories=memories, growth=home_charts(session))

@home_bp.get("/favicon.ico")
def favicon():
    """The site's icon at the address browsers ask for by themselves (pages also link to it),
    so no page's console shows a 404 for it."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/x-icon", max_age=86400)


#: An article is looked up in one batch; the batch API's cap keeps a paste from tying up a worker.
MAX_SEGMENTS = tm_lookup.MAX_BATCH
#: Candidates kept per segment for the table and the XLIFF alternatives.
CANDIDATES = 3
#: Matches from 75 are pre-filled by default (CAT tools' usual pre-translate floor).
DEFAULT_THRESHOLD = 75
#: With a date filter the concordance reads at most this many hits, then filters and pages them.
DATE_FILTER_SCAN = 2_000

BAND_LABELS = {
    "context": _l("Context match (101)"),
    "exact": _l("Exact (100)"),
    "95-99": _l("95–99"),
    "85-94": _l("85–94"),
    "75-84": _l("75–84"),
    "50-74": _l("50–74"),
    "fragments": _l("Fragments only"),
    "none": _l("No match"),
    "repetition": _l("Repetitions"),
}
BAND_WORDS = {
    "context": _l("in context"), "exact": _l("exact"), "95-99": _l("high fuzzy"),
    "85-94": _l("fuzzy"), "75-84": _l("low fuzzy"), "50-74": _l("weak"),
    "fragments": _l("fragments"), "none": _l("no match"),
    "repetition": _l("repeated"),
}


def whole_percent(score: float) -> str:
    """A score as CAT tools show it, 76.92 → "77%": halves round up, as Math.round does in
    static/workbench.js (Python's round() would make 72.5 "72%" here and "73%" there)."""
    return f"{math.floor(score + 0.5)}%"


def shortcuts() -> list[tuple[str, str]]:
    """The keyboard shortcuts listed on the lookup page (keys, what they do)."""
    return [
        ("/", _("Focus the search box")),
        ("j / ↓", _("Next match (when not typing)")),
        ("k / ↑", _("Previous match (when not typing)")),
        ("c", _("Copy the selected target")),
        ("Ctrl+Enter", _("Store your translation (in the translation box); elsewhere copy the selected target")),
        ("Alt+D", _("Switch the direction")),
    ]


def js_messages() -> dict[str, str]:
    """Every text static/workbench.js shows, in the reader's language; ``{name}`` marks what the
    script fills in (static/common.js)."""
    return {
        "searching": _("Searching…"), "noMatches": _("No matches in the memory."),
        "busyRetrying": _("The server is busy: asking again in a moment…"),
        "typeToSearch": _("Type or paste a segment to see matches."),
        "copy": _("Copy"), "copied": _("Copied to the clipboard."),
        "copyFailed": _("The browser did not allow copying; select the text and copy it by hand."),
        "adapted": _("numbers adapted"), "penalties": _("Penalties"),
        "memory": _("Memory"), "document": _("Document"), "date": _("Date"), "who": _("By"),
        "source": _("Source with differences"), "target": _("Translation"),
        "score": _("Score"), "status": _("Status"), "renderings": _("Renderings"),
        "notFound": _("Nothing found."), "page": _("Page {page} of {pages}"),
        "previous": _("Previous"), "next": _("Next"), "hits": _("{total} units found."),
        "networkError": _("The server could not be reached. Check the connection and try again."),
        "serverError": _("The server could not answer: {message}"),
        "termsFound": _("Glossary terms in the segment"), "noTerms": _("No glossary terms in the segment."),
        "inserted": _("only in your segment"), "deleted": _("only in the memory"),
        "draft": _("draft"), "approved": _("approved"), "preferred": _("preferred"),
        "admitted": _("admitted"), "deprecated": _("deprecated"), "forbidden": _("forbidden"),
        "doNotTranslate": _("do not translate"),
        "penalty_draft": _("draft unit"), "penalty_lower-priority memory": _("lower-priority memory"),
        "penalty_width": _("full/half width"), "penalty_punctuation": _("punctuation"),
        "penalty_case": _("upper/lower case"), "penalty_script": _("traditional/simplified"),
        "penalty_whitespace": _("spacing"), "penalty_formatting": _("formatting"),
        "penalty_number": _("number changed"), "penalty_unadapted number": _("number not adapted"),
        "use": _("Use"), "noIssues": _("No problems found."), "storing": _("Storing…"),
        "stored_created_draft": _("Stored in {memory} as a draft."),
        "stored_created_approved": _("Stored in {memory} as an approved unit."),
        "stored_approved": _("The draft in {memory} is approved now."),
        "stored_unchanged": _("{memory} already holds this translation."),
        "emptyTarget": _("The translation is empty: type it before storing it."),
        "emptySource": _("Type or paste the segment to translate first."),
        "noMemory": _("There is no memory to store into: ask an admin to create one."),
        "severity_error": _("error"), "severity_warning": _("warning"),
        "fragmentUnit": _("({count} unit)"), "fragmentUnits": _("({count} units)"),
        "fragmentMore": _("Other renderings and an example"),
        "detected": _("detected: {direction}"), "zhen": _("Chinese → English"), "enzh": _("English → Chinese"),
        **{f"band_{key}": str(label) for key, label in BAND_LABELS.items()},
        **{f"bandword_{key}": str(label) for key, label in BAND_WORDS.items()},
    }


def js_config() -> dict:
    """What static/workbench.js must agree on with the server: the score bands (key and lowest
    score, best first; the last, "none", has no floor) and the language of a text without letters."""
    return {"bands": [{"key": key, "floor": floor} for key, floor in analysis.BANDS], "undetected": UNDETECTED}


def _memories():
    return tm_repo.memories(db_session())


@bp.get("/")
def lookup_page():
    check_permission("read")
    return render_template("workbench/lookup.html", memories=_memories(), shortcuts=shortcuts(),
                           messages=js_messages(), wb_config=js_config(), store=store_rights())


def store_rights() -> dict[str, bool]:
    """Whether this reader may store translations (any logged-in user: translators store drafts)
    and whether they are stored approved (editors and admins)."""
    identity = current_identity()
    allowed = identity is not None and identity.scope == "write"
    return {"allowed": allowed, "approved": allowed and identity is not None and identity.user.has_role("editor")}


@bp.get("/concordance")
def concordance_page():
    check_permission("read")
    return render_template("workbench/concordance.html", memories=_memories(), messages=js_messages(),
                           q=request.args.get("q", ""))


@bp.get("/concordance.json")
def concordance_json():
    """The concordance API's answer, filtered by the date of the last change (``since``,
    ``until``, inclusive). The API has no date filter yet, so this reads up to
    DATE_FILTER_SCAN hits and pages what is left."""
    check_permission("read")
    try:
        return jsonify(_dated_concordance())
    except DuizhaoError as err:  # this page's script reads errors as the API gives them
        return jsonify({"error": {"status": err.status, "message": translate_message(err.message),
                                  **err.details}}), err.status


def _dated_concordance() -> dict:
    since, until = (params.date(request.args.get(name), name) for name in ("since", "until"))
    page = params.lenient_page(request.args.get("page"), most=tm_service.MAX_PAGE)
    per_page = min(max(1, request.args.get("per_page", 20, type=int) or 20), tm_service.CONCORDANCE_MAX_PER_PAGE)
    q = request.args.get("q", "")
    memories = [m for m in request.args.getlist("memory") if m] or None
    session = db_session()
    kept, scan_page = [], 1
    while True:
        result = tm_service.concordance(session, q=q, lang=request.args.get("lang") or None,
                                        memory_names=memories, page=scan_page,
                                        per_page=tm_service.CONCORDANCE_MAX_PER_PAGE)
        for hit in result.hits:
            day = (hit.unit.changed_at or hit.unit.created_at).date()
            if (since is None or day >= since) and (until is None or day <= until):
                kept.append(hit)
        if scan_page * result.per_page >= min(result.total, DATE_FILTER_SCAN):
            break
        scan_page += 1
    shown = kept[(page - 1) * per_page: page * per_page]
    return {"query": result.query, "lang": result.lang, "page": page, "per_page": per_page,
            "total": len(kept), "truncated": result.total > DATE_FILTER_SCAN,
            "results": [h.to_dict() for h in shown]}


# ------------------------------------------------------------------ article mode

@dataclass
class ArticleRow:
    number: int
    text: str
    band: str
    matches: list[dict]
    terms: list[dict]
    #: The fragments shown for the segment (tm.lookup.fragments_many) and its counts.
    fragments: list[dict]
    counts: analysis.BandCount

    @property
    def best(self) -> dict | None:
        return self.matches[0] if self.matches else None


def _threshold() -> int:
    raw = request.form.get("threshold", "") or str(DEFAULT_THRESHOLD)
    try:
        value = int(raw)
    except ValueError:
        raise DuizhaoError(Message(N_("The threshold must be a whole number from 50 to 101."))) from None
    if not 50 <= value <= 101:
        raise DuizhaoError(Message(N_("The threshold must be a whole number from 50 to 101.")))
    return value


def _article_text() -> tuple[str, str | None, bytes | None]:
    """The article from the upload (if any) or the text box, the upload's file name, and the
    upload itself when it is an XLIFF (the page offers it back pre-translated)."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.stream.read(upload_reader.MAX_UPLOAD_BYTES + 1)
        text = upload_reader.read_upload(io.BytesIO(data), upload.filename, max_segments=MAX_SEGMENTS)
        return text, upload.filename, data if upload_reader.is_xliff(upload.filename) else None
    text = request.form.get("text", "")
    upload_reader.check_length(text)
    return text, None, None


def _direction(text: str) -> tuple[str, str]:
    chosen = request.form.get("direction", "auto")
    if chosen == "zh-en":
        return "zh", "en"
    if chosen == "en-zh":
        return "en", "zh"
    src = language_of(text)
    return src, other_language(src)


def _segments(text: str, src: str) -> list[str]:
    if not text.strip():
        raise DuizhaoError(Message(N_("The article is empty: paste a text or choose a file.")))
    segments = [s.text for s in split_sentences(text, src)]
    if len(segments) > MAX_SEGMENTS:
        raise DuizhaoError(Message(N_("The article has {count} segments; at most {most} can be analysed at once. "
                                      "Split it into parts."), count=len(segments), most=MAX_SEGMENTS))
    return segments


def _lookup_all(segments: list[str], src: str, tgt: str, *, limit: int = CANDIDATES) -> list[list[dict]]:
    # The neighbouring segments go along, so a segment in the same context as stored scores 101.
    requests = [tm_lookup.make_request(q=s, src=src, tgt=tgt, min_score=analysis.LOWEST_BAND, limit=limit,
                                       prev=segments[i - 1] if i else "",
                                       next=segments[i + 1] if i + 1 < len(segments) else "")
                for i, s in enumerate(segments)]
    return tm_lookup.lookup_many(db_session(), live_index(), requests)


def _fragments(segments: list[str], terms: list[list[dict]], src: str, tgt: str) -> list[list[dict]]:
    """The fragments shown for each segment (those a lookup shows: glossary terms not repeated),
    all in one batch; none until the fragment model is trained."""
    requests = [tm_lookup.make_request(q=s, src=src, tgt=tgt) for s in segments]
    spans = [[(hit["start"], hit["end"]) for hit in hits] for hits in terms]
    found = tm_lookup.fragments_many(db_session(), live_index(), fragment_models(), requests, spans)
    return [shown or [] for shown in found]


def _terms(text: str, src: str, _tgt: str = "") -> list[dict]:
    return glossary_service.recognize(db_session(), glossary_recognizer(), text, src)


@bp.route("/article", methods=["GET", "POST"])
def article_page():
    check_permission("read")
    context: dict[str, Any] = {"text": "", "rows": None, "report": None, "error": None, "direction": "auto",
                               "threshold": DEFAULT_THRESHOLD, "band_labels": BAND_LABELS, "band_words": BAND_WORDS,
                               "whole_percent": whole_percent,
                               "rows_order": analysis.ROWS, "filename": None, "carried": None,
                               "xliff_upload": False, "held": None, "modes": pretranslate_modes()}
    if request.method == "GET":
        return render_template("workbench/article.html", **context)
    context["direction"] = request.form.get("direction", "auto")
    try:
        context["threshold"] = _threshold()
        text, filename, xliff = _article_text()
        context["text"], context["filename"] = text, filename
        if xliff is not None:
            context["xliff_upload"], context["carried"] = True, upload_reader.carry(xliff)
            if context["carried"] is None:
                # Too large to come back with the form: kept in the jobs folder for the
                # pre-translation job the page offers (removed after JOB_RESULTS_DAYS if unused).
                context["held"] = save_upload(io.BytesIO(xliff), filename or "upload.xlf").name
        src, tgt = _direction(text)
        segments = _segments(text, src)
        found = _lookup_all(segments, src, tgt)
    except DuizhaoError as err:
        context["error"] = translate_message(err.message)
        return render_template("workbench/article.html", **context), err.status
    terms = [_terms(text_, src) for text_ in segments]
    fragments = _fragments(segments, terms, src, tgt)
    report = analysis.analyse(segments, [m[0]["score"] if m else None for m in found],
                              [[(f["start"], f["end"]) for f in shown] for shown in fragments])
    rows = [ArticleRow(n, *row) for n, row in enumerate(zip(
        segments, report.segment_bands, found, terms, fragments, report.segment_counts, strict=True), 1)]
    context.update(rows=rows, report=report, bars=analysis.chart_bars(report), src=src, tgt=tgt)
    context["to_editor"] = editor_start(segments, filename)
    return render_template("workbench/article.html", **context)


def editor_start(segments: list[str], filename: str | None) -> dict[str, Any] | None:
    """What the article page's "Translate in the editor" form needs (a title to start from and
    the memories), or None when this reader may not store translations."""
    if not store_rights()["allowed"]:
        return None
    title = PurePath(filename).stem if filename else segments[0]
    return {"title": title[:80], "memories": _memories()}


def pretranslate_modes() -> list[tuple[str, str]]:
    """The choices of what a pre-translation writes (`tm.pretranslate.MODES`), for the form."""
    return [("both", _("Fill the targets and add candidates")), ("fill", _("Fill the targets only")),
            ("candidates", _("Add candidates only"))]


@bp.post("/article/pretranslate")
def article_pretranslate():
    """The XLIFF uploaded on the article page, back whole with its empty targets filled: the
    result page posts the file back (``xliff``, as `workbench.upload.carry` packed it), or the
    name it was kept under when too large for a form (``held``). A file over the inline bounds
    (tm.webutil.pretranslate_upload), and every held one, is pre-translated by a job: 303 to
    the page that shows its progress, then the link to the file."""
    identity = check_permission("read")
    filename = request.form.get("filename") or "pretranslated.xlf"
    options = pretranslate_options(memories=None, min_score=request.form.get("threshold"),
                                   mode=request.form.get("mode"))
    held = saved_upload(request.form.get("held"))
    if held is not None:
        job = submit_pretranslate(upload=copy_upload(held), filename=filename, options=options, identity=identity)
    else:
        data = upload_reader.carried(request.form.get("xliff"))
        try:
            return xliff_download(*pretranslate_upload(data, options), filename)
        except FileTooLarge:
            job = submit_pretranslate(stream=io.BytesIO(data), filename=filename, options=options,
                                      identity=identity)
    return redirect(url_for("workbench.article_pretranslate_job", job=job.id), 303)


@bp.get("/article/pretranslate")
def article_pretranslate_job():
    """A pre-translation job's progress (polled by static/import.js), then the link to its file."""
    identity = check_permission("read")
    job = None
    if identity is not None and request.args.get("job", "").isdigit():
        job = visible_job(int(request.args["job"]), identity.name, admin=identity.user.has_role("admin"))
    if job is None or job.kind != tm_jobs.PRETRANSLATE:
        raise DuizhaoError(Message(N_("You have no pre-translation job {job}."), job=request.args.get("job", "")),
                           status=404)
    return render_template("workbench/pretranslate_job.html", job=job_json(job))


@bp.post("/article/export")
def article_export():
    check_permission("read")
    file_format = request.form.get("format", "xliff12")
    if file_format not in export.FORMATS:
        raise DuizhaoError(Message(N_("Choose XLIFF 1.2, XLIFF 2.0 or TSV.")), parameter="format")
    threshold = _threshold()
    text = request.form.get("text", "")
    src, tgt = _direction(text)
    segments = _segments(text, src)
    if file_format == "tsv":
        found = _lookup_all(segments, src, tgt, limit=1)
        body = export.export_tsv(segments, [m[0] if m else None for m in found], src, tgt, threshold=threshold)
    else:
        def lookup_fn(batch: list[str], s: str, t: str) -> list[list[dict]]:
            return _lookup_all(batch, s, t)

        body = export.export_xliff(segments, src, tgt, version=1 if file_format == "xliff12" else 2,
                                   lookup=lookup_fn, terms=_terms, threshold=threshold)
    filename = f"article-{src}-{tgt}.{export.EXTENSIONS[file_format]}"
    return Response(body, mimetype=export.MIMETYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})



# ------------------------------------------------------------------ documents (the segment editor)

def editor_messages() -> dict[str, str]:
    """Every text static/editor.js shows, in the reader's language."""
    return {
        "confirming": _("Confirming…"), "confirmed": _("Confirmed by {who} at {when}."),
        "conflict": _("Someone confirmed this segment meanwhile:"), "emptyTarget": _("The translation is empty: "
                                                                                   "type it before storing it."),
        "noIssues": _("No problems found."), "severity_error": _("error"), "severity_warning": _("warning"),
        "networkError": _("The server could not be reached. Check the connection and try again."),
        "serverError": _("The server could not answer: {message}"),
        "progress": _("{done} of {total} confirmed"),
        "state_open": _("Not confirmed"), "state_confirmed": _("✓ Confirmed"),
        "state_edited": _("Changed, not confirmed"), "state_conflict": _("⚠ Confirmed by someone else"),
        "useTheirs": _("Use their version"), "use": _("Use"), "fragments": _("Fragments"),
        "fragmentUnit": _("({count} unit)"), "fragmentUnits": _("({count} units)"),
        "fragmentMore": _("Other renderings and an example"), "memory": _("Memory"),
    }


def editor_shortcuts() -> list[tuple[str, str]]:
    """The keys of the segment editor, listed on its page. Alt with the arrows because Ctrl with
    them already moves the cursor by word or paragraph inside a text box."""
    return [
        ("Ctrl+Enter", _("Confirm the segment and go to the next one")),
        ("Alt+↓", _("Next segment")),
        ("Alt+↑", _("Previous segment")),
    ]


@bp.route("/documents", methods=["GET", "POST"])
def documents_page():
    """My documents, and a form to start one from a pasted text or an uploaded file."""
    identity = check_permission("propose")
    session = db_session()
    error = None
    if request.method == "POST":
        try:
            text, filename, _xliff = _article_text()
            # Started from the article page: the file was read there, its name comes along.
            filename = filename or request.form.get("filename") or None
            src, tgt = _direction(text)
            document = documents.create_document(
                session, owner=identity.name, title=request.form.get("title") or filename or "", text=text,
                src=src, tgt=tgt, memory=request.form.get("memory", ""), filename=filename)
            session.commit()
            return redirect(url_for("workbench.document_page", document_id=document.id))
        except DuizhaoError as err:
            session.rollback()
            error = translate_message(err.message)
    return render_template("workbench/documents.html", documents=documents.documents_of(session, identity.name),
                           memories=_memories(), error=error, form=request.form), 400 if error else 200


@bp.get("/documents/<int:document_id>")
def document_page(document_id: int):
    """The segment-by-segment editor: each segment with its best match, terms and checks."""
    check_permission("propose")
    document = documents.get_document(db_session(), document_id)
    sources = [s.source for s in document.segments]
    found = _lookup_all(sources, document.src, document.tgt, limit=1)
    terms = [_terms(text, document.src) for text in sources]
    rows = list(zip(document.segments, found, terms, strict=True))
    messages = editor_messages()
    confirmed = sum(1 for s in document.segments if s.confirmed_at is not None)
    from_word = (document.filename or "").lower().endswith(".docx")
    return render_template("workbench/document.html", document=document, rows=rows, whole_percent=whole_percent,
                           band_words=BAND_WORDS, band_of=analysis.band, messages=messages,
                           confirmed=confirmed, progress=messages["progress"].format(done=confirmed, total=len(rows)),
                           shortcuts=editor_shortcuts(), default_format="docx" if from_word else "txt",
                           formats=(("txt", _("Text")), ("docx", _("Word (.docx)")), ("tmx", "TMX"),
                                    ("xliff12", "XLIFF 1.2"), ("xliff20", "XLIFF 2.0")))


@bp.get("/documents/<int:document_id>/export")
def document_export(document_id: int):
    check_permission("propose")
    from workbench.webutil import document_download

    return document_download(documents.get_document(db_session(), document_id), request.args.get("format", "txt"))
