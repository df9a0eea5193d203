"""What the alignment pages and its JSON API share (the web layer: it may use Flask)."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from align import jobs as align_jobs
from align import service
from db import db_session
from jobs.service import Kind
from jobs.webutil import save_upload, submit
from tm.core.wordalign import AlignmentModel
from web import extensions
from web.extensions import SentenceEncoder, add_job_kind
from web.i18n import translate_message

if TYPE_CHECKING:
    from align.models import AlignmentJob
    from jobs.models import Job


def glossary_pairs() -> list[tuple[str, str]]:
    """(zh, en) term pairs for the aligner, from whatever another area installed (the glossary
    does, through ``create_app``: alignment imports no glossary code)."""
    provider = extensions.align_glossary_pairs()
    return list(provider()) if provider is not None else []


def aligner_embedder() -> SentenceEncoder | None:
    """The installed sentence encoder (tests install a fast one); None means the aligner's default."""
    return extensions.align_embedder()


def translation_model() -> AlignmentModel | None:
    """The memory's word-translation model (the fragment model: one component, two uses), for
    the aligner's ``TranslationEvidence``; None until one is trained. Never waits for a load:
    a model being read in the background is used from the next alignment on."""
    return extensions.fragment_models().available()


def for_reader(alignment: dict[str, Any]) -> dict[str, Any]:
    """An alignment or a job (``to_dict``, ``job_dict``) with its warnings in the reader's language."""
    return dict(alignment, warnings=[translate_message(w) for w in alignment.get("warnings", [])])


def inline_sentences() -> int:
    """Sentences per side aligned inside the request (ALIGN_INLINE_SENTENCES, else
    ``service.MAX_SENTENCES``); longer texts are aligned by a job."""
    configured = current_app.config.get("ALIGN_INLINE_SENTENCES")
    return int(configured) if configured else service.MAX_SENTENCES


def align_or_queue(zh_text: str | bytes | None, en_text: str | bytes | None, *, title: str | None,
                   url: str | None, doc_date: str | None, hard_wrapped: bool, user: str | None,
                   as_job: bool = False) -> AlignmentJob | Job:
    """Align two texts and keep them as an alignment to review (the caller commits), or, when
    they are longer than a request aligns (``inline_sentences``, ``service.MAX_TEXT_CHARS``) or
    ``as_job``, save them for a worker and queue an ``align.run`` job (committed), returned
    instead. Everything a job would refuse is refused here first: the metadata, the encodings,
    the slots, and more than ``service.JOB_MAX_SENTENCES`` sentences a side (413)."""
    service.check_metadata(title, url, doc_date)
    texts = service.read_texts(zh_text, en_text, max_chars=service.JOB_MAX_TEXT_CHARS)
    # Split here to choose (cheap next to aligning); the worker splits again the same way.
    zh, en = service.segment_texts(texts, hard_wrapped=hard_wrapped, max_sentences=service.JOB_MAX_SENTENCES,
                                   status=413)
    long = (max(len(zh), len(en)) > inline_sentences()
            or max(len(texts.zh_text), len(texts.en_text)) > service.MAX_TEXT_CHARS)
    if as_job or long:
        path = save_upload(io.BytesIO(align_jobs.texts_file(texts)), "texts.json")
        return submit(align_jobs.ALIGN, user=user, params={
            "upload": str(path), "title": title, "url": url, "date": doc_date, "hard_wrapped": hard_wrapped})
    prepared = service.align_segments(texts, zh, en, glossary_pairs=glossary_pairs(), embed=aligner_embedder(),
                                      translations=translation_model())
    return service.create_job(db_session(), prepared, title=title, url=url, doc_date=doc_date, user=user)


def add_job_kinds(app: Flask) -> None:
    """Alignment's kind of job (align.jobs), with what it needs of this app: the glossary's term
    pairs, the sentence encoder, the fragment model, and the review page's address (built without
    a request: a worker has none)."""

    def review_url(alignment_id: int) -> str:
        urls = app.url_map.bind("localhost", script_name=app.config.get("APPLICATION_ROOT") or "/")
        return urls.build("align.review", {"job_id": alignment_id})

    def pairs() -> list[tuple[str, str]]:
        provider = extensions.align_glossary_pairs(app)
        return list(provider()) if provider is not None else []

    add_job_kind(app, align_jobs.ALIGN, Kind(align_jobs.align_texts(
        glossary_pairs=pairs, embed=lambda: extensions.align_embedder(app),
        translations=lambda: extensions.fragment_models(app).available(), review_url=review_url)))
