"""Stable export URLs for CAT tools that poll: ``GET /feeds/tm/<memory>.tmx``, and the
glossary as ``/feeds/glossary/all.tbx`` (TBX-Basic) and ``/feeds/glossary/all.txt`` (OmegaT).

OmegaT team projects (and scripts) fetch a remote file on every project load or sync; most
of the time nothing has changed. Each feed therefore has a strong ``ETag`` and a
``Last-Modified`` derived from the memory's change log without exporting anything, so a
conditional request (``If-None-Match`` / ``If-Modified-Since``) is answered 304 with two
small indexed queries. Clients that send no header put their token in the path:
``/feeds/<token>/tm/<memory>.tmx``.

`conditional_feed` is the reusable part: it takes a validator and a callable that produces
the body, and calls the callable only when the client's copy is stale.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from accounts.auth import check_permission
from common.errors import DuizhaoError, NotFound
from common.languages import other_language
from common.messages import N_, Message
from db import db_session, session_factory
from glossary import repository as glossary_repo
from glossary import service as glossary_service
from tm import repository as repo
from tm import service
from tm.models import Memory
from web.i18n import translate_message
from web.util import reject_invalid_utf8

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
bp.before_request(reject_invalid_utf8)


@bp.errorhandler(DuizhaoError)
def _error(err: DuizhaoError):
    """Feeds are fetched by programs: a JSON error with the status, never a login redirect
    (OmegaT would store the login page as the memory)."""
    response = jsonify({"error": {"status": err.status, "message": translate_message(err.message),
                                  **err.details}})
    response.status_code = err.status
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="duizhao"'
    if "retry_after" in err.details:
        response.headers["Retry-After"] = err.details["retry_after"]
    return response


@dataclass(frozen=True)
class FeedState:
    """What a feed's validators are made of: cheap to compute, changes with every edit."""

    etag: str  # the opaque value, without quotes
    last_modified: datetime  # aware UTC


def conditional_feed(state: FeedState, produce: Callable[[], bytes | Iterator[bytes]], *,
                     mimetype: str, filename: str) -> Response:
    """A 304 when the client's copy is current, else the body ``produce()`` makes: bytes, or
    an iterator of chunks, which is streamed.

    ``If-None-Match`` wins over ``If-Modified-Since`` (RFC 9110 §13.2.2). The ETag is strong:
    the body is byte-for-byte the same for the same state (exports carry no timestamp).
    ``Cache-Control: no-cache`` lets clients and proxies keep a copy but revalidate each time.
    """
    headers = {"Cache-Control": "no-cache", "Vary": "Authorization"}
    if request.if_none_match:
        # Weak comparison, as RFC 9110 prescribes for If-None-Match.
        fresh = request.if_none_match.contains_weak(state.etag) or request.if_none_match.star_tag
    else:
        since = request.if_modified_since
        fresh = since is not None and state.last_modified.replace(microsecond=0) <= since
    if fresh:
        response = Response(status=304, headers=headers)
    else:
        response = Response(produce(), mimetype=mimetype, headers={
            **headers, "Content-Disposition": f'inline; filename="{filename}"'})
    response.set_etag(state.etag)
    response.last_modified = state.last_modified
    return response


def tm_feed_state(session: Session, memory: Memory) -> FeedState:
    """The validators of a memory's export: its id, the last event touching it, its size.

    Every change to a memory's units (create, update, delete, import) writes a UnitEvent with
    the memory's id, and event ids only grow; the count guards against an event id reused by
    a recreated database. The memory id tells a recreated memory of the same name apart.
    """
    last_id, last_at = repo.last_memory_event(session, memory.id)
    size = repo.memory_size(session, memory.id)
    moment = last_at or memory.created_at
    return FeedState(f"tm-{memory.id}-{last_id}-{size}", moment.replace(tzinfo=UTC))


@bp.get("/tm/<memory>.tmx")
@bp.get("/<token>/tm/<memory>.tmx")
def tm_tmx(memory: str, token: str | None = None):
    """The memory as TMX 1.4b (the file ``flask tm export`` writes)."""
    check_permission("read")
    session = db_session()
    found = repo.memory_by_name(session, memory)
    if found is None:
        raise NotFound(Message(N_("No memory is called {name!r}."), name=memory))

    make_session = session_factory()

    def produce() -> Iterator[bytes]:
        # Streamed: a million-unit memory would otherwise sit in memory whole, once per request.
        return _streamed_export(make_session, found.name)

    return conditional_feed(tm_feed_state(session, found), produce,
                            mimetype=service.EXPORT_MIMETYPES["tmx"], filename=f"{found.name}.tmx")


def _streamed_export(make_session: Callable[[], Session], memory: str) -> Iterator[bytes]:
    """The memory's TMX, read in a session of its own that lasts as long as the download and
    is closed when it ends or the client goes away (the server closes the body). The request's
    own session ends with the request, so a slow download holds no lock of it."""
    with make_session() as session:
        yield from service.export_tmx_chunks(session, memory_names=[memory])


# ------------------------------------------------------------------ glossary feeds

def glossary_feed_state(session: Session) -> FeedState:
    """The validators of the termbase's export: the last glossary event and the live size."""
    last_id, last_at = glossary_repo.last_event(session)
    size = glossary_repo.live_entry_count(session)
    moment = last_at or datetime(2000, 1, 1)
    return FeedState(f"glossary-{last_id}-{size}", moment.replace(tzinfo=UTC))


@bp.get("/glossary/all.tbx")
@bp.get("/<token>/glossary/all.tbx")
def glossary_tbx(token: str | None = None):
    """The termbase as TBX-Basic 2008 (martif), which OmegaT and translate-toolkit read."""
    check_permission("read")
    session = db_session()

    def produce() -> bytes:
        buffer = io.BytesIO()
        glossary_service.export_entries(session, buffer, file_format="tbx")
        return buffer.getvalue()

    return conditional_feed(glossary_feed_state(session), produce,
                            mimetype=glossary_service.EXPORT_MIMETYPES["tbx"], filename="all.tbx")


@bp.get("/glossary/all.txt")
@bp.get("/<token>/glossary/all.txt")
def glossary_omegat(token: str | None = None):
    """OmegaT's tab-separated glossary (UTF-8, as OmegaT reads ``.txt`` glossaries): one line
    per source term and acceptable target term, ``source<TAB>target<TAB>comment``; the
    comment gives the status and, for forbidden and deprecated terms, what to use instead.
    ``?src=zh`` (default) or ``?src=en`` picks the direction."""
    check_permission("read")
    src = request.args.get("src", "zh")
    if src not in ("zh", "en"):
        raise DuizhaoError(Message(N_("Parameter {parameter!r} must be 'zh' or 'en'."), parameter="src"),
                           parameter="src", supported=["zh", "en"])
    session = db_session()

    def produce() -> bytes:
        entries = (glossary_repo.to_domain(row) for row in glossary_repo.iter_live_entries(session))
        return omegat_glossary(entries, src=src).encode("utf-8")

    state = glossary_feed_state(session)
    return conditional_feed(FeedState(f"{state.etag}-{src}", state.last_modified), produce,
                            mimetype="text/plain", filename="all.txt")


def omegat_glossary(entries, *, src: str) -> str:
    """Lines of OmegaT's glossary format for ``entries``, source language ``src``."""
    tgt = other_language(src)
    lines = []
    for entry in entries:
        targets = [t for t in entry.terms_in(tgt) if t.acceptable]
        if not targets:
            continue
        preferred = targets[0].text
        for source in entry.terms_in(src):
            for target in targets:
                comment = [
                    "" if source.status == "preferred" else f"{source.status} source form",
                    "" if target.status == "preferred" else f"{target.status} rendering; preferred: {preferred}",
                    entry.definition,
                ]
                cells = [source.text, target.text, "; ".join(c for c in comment if c)]
                lines.append("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in cells))
    return "\n".join(lines) + ("\n" if lines else "")
