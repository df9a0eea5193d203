"""Alignment of long texts as a job (see jobs/ and docs/jobs.md): the texts a request decoded and
checked are saved for the worker, which segments, aligns and keeps the result as the alignment
the review page shows, exactly as the request would have. No Flask here: the web layer adds the
kind to the app (align.webutil.add_job_kinds) with what it needs of the app.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from align import service
from align.core.embedding import Embedder
from jobs.service import Handler, JobContext
from tm.core.wordalign import AlignmentModel

ALIGN = "align.run"

#: The aligner has no progress hook (and is not restructured for one): the job counts its three
#: steps, segmenting, aligning and storing, and hears a cancel between them.
STEPS = 3


def texts_file(texts: service.Texts) -> bytes:
    """What the request saves for the worker: both texts as decoded, and how (for the warnings)."""
    return json.dumps({"zh": texts.zh_text, "en": texts.en_text, "encodings": texts.encodings},
                      ensure_ascii=False).encode("utf-8")


def align_texts(*, glossary_pairs: Callable[[], Sequence[tuple[str, str]]],
                embed: Callable[[], Embedder | None], translations: Callable[[], AlignmentModel | None],
                review_url: Callable[[int], str]) -> Handler:
    """The handler aligning the saved texts ``params["upload"]`` (``texts_file``) within the job's
    bounds (``service.JOB_MAX_SENTENCES``) and storing them as an alignment to review (title, URL,
    date and hard wrapping from the params). The runner commits; the result names the alignment
    and its review page (``review_url(id)``)."""

    def handler(session: Session, context: JobContext) -> dict[str, Any]:
        params = context.params

        def step(done: int) -> None:
            context.check_cancel()  # progress() looks only twice a second: a step always looks
            context.progress(done, STEPS)

        step(0)
        data = json.loads(Path(params["upload"]).read_text(encoding="utf-8"))
        texts = service.read_texts(data["zh"], data["en"], max_chars=service.JOB_MAX_TEXT_CHARS,
                                   encodings=data.get("encodings"))
        zh, en = service.segment_texts(texts, hard_wrapped=bool(params.get("hard_wrapped")),
                                       max_sentences=service.JOB_MAX_SENTENCES, status=413)
        step(1)
        prepared = service.align_segments(texts, zh, en, glossary_pairs=glossary_pairs(), embed=embed(),
                                          translations=translations())
        step(2)
        alignment = service.create_job(session, prepared, title=params.get("title"), url=params.get("url"),
                                       doc_date=params.get("date"), user=context.user)
        step(STEPS)
        return {"alignment": alignment.id, "review_url": review_url(alignment.id),
                "sentences": {"zh": len(prepared.zh), "en": len(prepared.en)}, "beads": len(prepared.beads),
                "title": alignment.title}

    return handler
