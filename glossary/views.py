"""Browser pages of the glossary: search and browse, view with history, edit, merge, proposals, QA."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from accounts.auth import check_permission, current_identity
from common import params
from common.errors import DuizhaoError
from common.languages import language_of, other_language
from db import db_session
from glossary import repository as repo
from glossary import service
from glossary.core.model import CONCEPT_TYPES, STATUSES, TERM_TYPES, GlossaryFormatError
from glossary.webutil import issues_for_reader
from web.extensions import glossary_recognizer
from web.i18n import translate_message

bp = Blueprint("glossary", __name__, url_prefix="/glossary")

#: Blank term rows offered under an entry's terms in the edit form.
BLANK_TERM_ROWS = 3
PER_PAGE = 50
#: Pages past this show the last one served (the API's own bound for its page parameter).
MAX_PAGE = 10**6


def _can_edit() -> bool:
    identity = current_identity()
    return bool(identity and identity.user.has_role("editor"))


@bp.get("/")
def index():
    check_permission("read")
    session = db_session()
    q = request.args.get("q", "").strip()
    concept_type = request.args.get("type") or None
    page = params.lenient_page(request.args.get("page"), most=MAX_PAGE)
    rows, total = repo.search(session, text=q or None, concept_type=concept_type,
                              offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    return render_template("glossary/index.html", rows=rows, total=total, q=q, concept_type=concept_type,
                           page=page, pages=max(1, (total + PER_PAGE - 1) // PER_PAGE),
                           counts=repo.counts_by_type(session), types=CONCEPT_TYPES,
                           entries=[service.entry_json(r) for r in rows], can_edit=_can_edit())


@bp.get("/<int:entry_id>")
def show(entry_id: int):
    check_permission("read")
    session = db_session()
    row = service.get_entry(session, entry_id, include_deleted=True)
    return render_template("glossary/show.html", entry=service.entry_json(row),
                           history=repo.history(session, entry_id), can_edit=_can_edit())


def _form_entry_data(form) -> dict:
    terms = []
    index = 0
    while f"terms-{index}-text" in form:
        text = form.get(f"terms-{index}-text", "").strip()
        if text:
            terms.append({
                "lang": form.get(f"terms-{index}-lang"), "text": text,
                "status": form.get(f"terms-{index}-status"), "term_type": form.get(f"terms-{index}-term_type") or None,
                "case_sensitive": bool(form.get(f"terms-{index}-case_sensitive")),
                "do_not_translate": bool(form.get(f"terms-{index}-do_not_translate")),
                "valid_from": form.get(f"terms-{index}-valid_from") or None,
                "valid_to": form.get(f"terms-{index}-valid_to") or None,
                "note": form.get(f"terms-{index}-note", ""),
            })
        index += 1
    return {key: form.get(key) or None for key in ("concept_type", "definition", "note", "source",
                                                     "valid_from", "valid_to")} | {"terms": terms}


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(entry_id: int | None = None):
    """Editors save entries; translators use the same form to propose one."""
    identity = check_permission("propose")
    editor = identity.user.has_role("editor")
    session = db_session()
    error, status = None, 200
    row = service.get_entry(session, entry_id) if entry_id else None
    data = service.entry_json(row) if row else {"concept_type": "institution", "terms": [], "version": None}
    if request.method == "POST":
        data = _form_entry_data(request.form) | {"version": request.form.get("version", type=int)}
        try:
            if not editor:
                if row is None:
                    proposal = service.propose(session, data, user=identity.name)
                else:
                    # A translator proposes the terms they added to an existing entry.
                    known = {(t["lang"], t["text"]) for t in service.entry_json(row)["terms"]}
                    added = [t for t in data["terms"] if (t["lang"], t["text"]) not in known]
                    proposal = service.propose(session, {"terms": added}, user=identity.name, entry_id=row.id)
                session.commit()
                flash(_("Thank you: your proposal %(number)s waits for an editor.", number=proposal.id))
                return redirect(url_for("glossary.index"))
            entry = service.entry_from_json(data)
            if row is None:
                row = service.create_entry(session, entry, user=identity.name)
            else:
                row = service.update_entry(session, row.id, entry, expected_version=data["version"],
                                           user=identity.name)
            session.commit()
            glossary_recognizer().changed()
            flash(_("Entry saved."))
            return redirect(url_for("glossary.show", entry_id=row.id))
        except (DuizhaoError, GlossaryFormatError) as err:
            session.rollback()
            error = translate_message(err.message)
            status = getattr(err, "status", 400)  # 409 when someone saved in between
    blank = {"lang": "", "text": "", "status": "preferred"}
    terms = list(data.get("terms") or []) + [dict(blank) for _ in range(BLANK_TERM_ROWS)]
    return render_template("glossary/edit.html", entry=data, entry_id=entry_id, terms=terms, error=error,
                           types=CONCEPT_TYPES, statuses=STATUSES, term_types=TERM_TYPES, editor=editor), status


@bp.post("/<int:entry_id>/delete")
def delete(entry_id: int):
    identity = check_permission("edit")
    session = db_session()
    service.delete_entry(session, entry_id, expected_version=request.form.get("version", type=int),
                         user=identity.name)
    session.commit()
    glossary_recognizer().changed()
    flash(_("Entry %(number)s deleted; its history is kept.", number=entry_id))
    return redirect(url_for("glossary.index"))


@bp.post("/<int:entry_id>/merge")
def merge(entry_id: int):
    identity = check_permission("edit")
    session = db_session()
    try:
        other = int(request.form.get("merge", ""))
        service.merge_entries(session, entry_id, other, user=identity.name)
        session.commit()
        glossary_recognizer().changed()
        flash(_("Entry %(number)s merged into this one.", number=other))
    except (ValueError, DuizhaoError) as err:
        session.rollback()
        flash(translate_message(err.message) if isinstance(err, DuizhaoError)
              else _("Give the number of the entry to merge."), "error")
    return redirect(url_for("glossary.show", entry_id=entry_id))


@bp.get("/proposals")
def proposals():
    check_permission("edit")
    return render_template("glossary/proposals.html", proposals=repo.proposals(db_session()))


@bp.post("/proposals/<int:proposal_id>")
def decide(proposal_id: int):
    identity = check_permission("edit")
    session = db_session()
    accept = request.form.get("decision") == "accept"
    service.decide(session, proposal_id, accept=accept, user=identity.name)
    session.commit()
    glossary_recognizer().changed()
    flash(_("Proposal %(number)s accepted.", number=proposal_id) if accept
          else _("Proposal %(number)s rejected.", number=proposal_id))
    return redirect(url_for("glossary.proposals"))


@bp.route("/qa", methods=["GET", "POST"])
def qa():
    check_permission("read")
    issues = None
    error = None
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        source, translation = form.get("source", ""), form.get("translation", "")
        if not source.strip() or not translation.strip():
            error = _("Give both the source text and its translation.")
        else:
            src = language_of(source)
            tgt = other_language(src)
            issues = issues_for_reader(service.qa(db_session(), glossary_recognizer(), source=source,
                                                  translation=translation, src=src, tgt=tgt))
    return render_template("glossary/qa.html", issues=issues, error=error, form=form), 400 if error else 200
