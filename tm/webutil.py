"""What the TM's pages and its JSON APIs share (the web layer: it may use Flask)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from accounts.auth import check_permission
from common.errors import Forbidden
from common.messages import N_, Message
from tm import fragments, lookup
from tm import repository as repo
from web.extensions import fragment_models, live_index, lookup_extras


def check_may_write_into(session: Session, name: object, *, field: str = "memory") -> None:
    """Writing into a memory that does not exist creates it, and creating memories is the
    admin's: an editor (or an editor's write token) gets 403 naming the memory instead.
    The CLI is the operator and does not ask."""
    if not isinstance(name, str) or not name.strip() or repo.memory_by_name(session, name.strip()) is not None:
        return
    try:
        check_permission("admin")
    except Forbidden:
        raise Forbidden(Message(N_("There is no memory called {name!r}, and only an admin may create one: "
                                   "choose an existing memory or ask an admin to create it."),
                                name=name.strip()), field=field) from None


def lookup_answers(session: Session, requests: Sequence[lookup.LookupRequest],
                   results: Sequence[list[dict]]) -> list[dict]:
    """The answers of lookups whose matches are ``results``: with what other areas add (the
    glossary adds "terms", installed at start-up so the TM package needs no import of theirs)
    and the fragments, which leave the glossary's terms alone."""
    answers = []
    for request, matches in zip(requests, results, strict=True):
        answer: dict[str, Any] = {"query": request.q, "src": request.src, "tgt": request.tgt, "matches": matches}
        for extra in lookup_extras():
            answer.update(extra(session, request.q, request.src, request.tgt, on=request.on))
        answers.append(answer)
    spans = [[(term["start"], term["end"]) for term in answer.get("terms", ())] for answer in answers]
    found = lookup.fragments_many(session, live_index(), fragment_models(), requests, spans)
    for answer, shown in zip(answers, found, strict=True):
        if shown is not None:
            answer["fragments"] = shown
    return answers


def train_fragments_after_import(session: Session) -> bool:
    """Call after an import committed: when the memory has outgrown the fragment model
    (tm.fragments.is_stale), start training it in a background process. True if one started.
    FRAGMENT_TRAIN_AFTER_IMPORT off (tests) turns this off."""
    app = current_app
    if not app.config.get("FRAGMENT_TRAIN_AFTER_IMPORT"):
        return False
    store = fragment_models()
    if not fragments.is_stale(session, store):
        return False
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "FRAGMENT_MODEL_DIR": str(store.directory)}
    return fragments.start_training(store.directory, cwd=Path(app.root_path), env=env)
