"""What the alignment pages and its JSON API share (the web layer: it may use Flask)."""
from __future__ import annotations

from typing import Any

from tm.core.wordalign import AlignmentModel
from web import extensions
from web.extensions import SentenceEncoder
from web.i18n import translate_message


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
