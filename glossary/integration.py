"""What the glossary lends other areas, free of Flask: ``create_app`` installs these as the TM
lookup's extras and the aligner's term pairs (``web.extensions``), so ``tm`` never imports
``glossary``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from glossary import repository as repo
from glossary import service
from glossary.core.model import term_pairs


@dataclass(frozen=True)
class TermsForLookup:
    """What a TM lookup answer carries from the glossary: the terms found in the query that
    apply on the day ``on`` (all, when None), found by this process's ``recognizer``."""

    recognizer: service.LiveRecognizer

    def __call__(self, session: Session, q: str, src: str, tgt: str, *,
                 on: dt.date | None = None) -> dict:
        return {"terms": service.recognize(session, self.recognizer, q, src, on=on)}


@dataclass(frozen=True)
class TermsQa:
    """The glossary's part of a segment's QA (``glossary.core.qa.check``): terms of the source
    missing from the translation, forbidden and deprecated renderings used in it, as dicts
    whose ``message`` is a ``Message``. Installed beside the TM's own checks (``tm.core.qa``)."""

    recognizer: service.LiveRecognizer

    def __call__(self, session: Session, source: str, target: str, src: str, tgt: str, *,
                 on: dt.date | None = None) -> list[dict]:
        return service.qa(session, self.recognizer, source=source, translation=target, src=src, tgt=tgt, on=on)


def term_pairs_for_alignment(session: Session) -> list[tuple[str, str]]:
    """(zh, en) pairs of every live entry's terms: evidence for the sentence aligner."""
    return term_pairs(repo.to_domain(row) for row in repo.live_entries(session))
