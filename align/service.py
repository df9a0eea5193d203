"""Harvest translation memory from a published article and its translation.

The reviewer's workflow: paste or upload a Chinese article and its English version
(``prepare`` checks, decodes, segments and aligns them), keep the alignment as a job
(``create_job``) that the browser saves as the reviewer edits it (``save_job``, guarded by a
version number so two tabs cannot overwrite each other), and finally store the approved
pairs as TM units (``store_job``). Nothing reaches the TM before that last step.

No Flask here: callers pass a ``Session`` and commit. After ``store_job`` the caller also tells
the live candidate index that units changed. Storage goes through ``align.repository`` (jobs)
and ``tm.repository`` (memories and units).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from align import repository as jobs
from align.core.aligner import align
from align.core.beads import SENTENCE_RATIO_WARNING, Bead, unaligned_passages
from align.core.embedding import Embedder
from align.core.encoding import UnknownEncoding, decode_text
from common.errors import Conflict, DuizhaoError, NotFound
from common.fieldlimits import too_long
from common.messages import N_, Message, from_data, to_data
from common.timeutil import isoformat, utcnow
from tm import repository as repo
from tm.core.segment import Segment, split_sentences
from tm.core.text import detect_language
from tm.core.wordalign import AlignmentModel
from tm.formats.records import UnitRecord
from tm.models import Memory

if TYPE_CHECKING:
    from align.models import AlignmentJob

#: What each slot holds, in the words the messages use (translated with them: see ``_slot``).
SLOT_NAMES = {"zh": N_("Chinese"), "en": N_("English")}
#: Sentences per side we align in one request. The aligner is roughly linear, about 9 s for a
#: chapter of a few hundred sentences on two cores, and a request must answer within the worker
#: timeout (120 s in scripts/run-demo.sh); a book belongs on the command line (python -m align).
#: Longer texts are aligned by a job (align.jobs) instead, up to ``JOB_MAX_SENTENCES``; the web
#: layer reads its bound from ALIGN_INLINE_SENTENCES, which defaults to this.
MAX_SENTENCES = 1000
#: Characters of one text, checked before it is split: 1,000 sentences of news are about
#: 100,000 characters, and the text box cannot send more than 500,000 bytes anyway. A longer
#: text (an upload) is aligned by a job.
MAX_TEXT_CHARS = 500_000
#: Bytes of an uploaded text read at most (four per character covers UTF-8, GB18030 and Big5):
#: a larger upload is refused before it is decoded.
MAX_TEXT_BYTES = 4 * MAX_TEXT_CHARS
#: Sentences per side a job aligns: the aligner is roughly linear (the 5,000-verse Bible takes a few
#: minutes on two cores), so 20,000 is a long book's worth of worker time; past it, the command line.
JOB_MAX_SENTENCES = 20_000
#: Characters of one text a job takes: 20,000 long sentences of 200 characters.
JOB_MAX_TEXT_CHARS = 4_000_000
JOB_MAX_TEXT_BYTES = 4 * JOB_MAX_TEXT_CHARS
#: Beads scoring below this are shown shaded and labelled "low confidence" for review.
LOW_CONFIDENCE = 0.5
MAX_TITLE = 500
MAX_URL = 1000
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# ------------------------------------------------------------------ preparing an alignment

@dataclass(frozen=True)
class AlignedBead:
    """Sentence indices of each side aligned together (either may be empty) and a 0..1 score."""

    zh: tuple[int, ...]
    en: tuple[int, ...]
    score: float

    def to_dict(self) -> dict:
        return {"zh": list(self.zh), "en": list(self.en), "score": self.score}


@dataclass(frozen=True)
class Prepared:
    """Both texts as decoded, their sentences (with offsets into the texts), the beads and
    whatever the reviewer should be told (encodings used, lopsided lengths, passages one text
    leaves out) as Messages, which the web layer shows in the reader's language."""

    zh_text: str
    en_text: str
    zh: list[Segment]
    en: list[Segment]
    beads: list[AlignedBead]
    warnings: list[Message] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "zh": [_segment_dict(s) for s in self.zh],
            "en": [_segment_dict(s) for s in self.en],
            "beads": [b.to_dict() for b in self.beads],
            "warnings": list(self.warnings),
            "encodings": dict(self.encodings),
        }


def _slot(slot: str) -> Message:
    """The slot's language as a phrase of a message: "Chinese", “中文” for a Chinese reader."""
    return Message(SLOT_NAMES[slot])


def _segment_dict(segment: Segment) -> dict:
    return {"text": segment.text, "start": segment.start, "end": segment.end,
            "paragraph": segment.paragraph}


def decode_upload(data: bytes, slot: str) -> tuple[str, str]:
    """Text of an uploaded file: UTF-8, else GB18030 or Big5 (align.core.encoding, which
    tells the two legacy encodings apart by how many dictionary words each decoding forms).
    Returns (text, encoding); raises naming the slot when no encoding fits."""
    try:
        return decode_text(data)
    except UnknownEncoding:
        raise DuizhaoError(Message(
            N_("The encoding of the {slot} file could not be determined: it is not UTF-8, GB18030 or "
               "Big5 text. Save it as UTF-8 and upload it again."), slot=_slot(slot)), field=slot,
        ) from None


def _encoding_warning(slot: str, encoding: str) -> Message:
    return Message(N_("The {slot} file was decoded as {encoding}."), slot=_slot(slot), encoding=encoding.upper())


def _as_text(value: str | bytes | None, slot: str, warnings: list[Message],
             encodings: dict[str, str], *, max_chars: int = MAX_TEXT_CHARS) -> str:
    if value is None:
        value = ""
    if isinstance(value, bytes):
        if len(value) > 4 * max_chars:
            raise _too_long(slot, max_chars)
        value, encoding = decode_upload(value, slot)
        encodings[slot] = encoding
        if encoding != "utf-8":
            warnings.append(_encoding_warning(slot, encoding))
    if not isinstance(value, str):
        raise DuizhaoError(Message(N_("The {slot} text must be a string."), slot=_slot(slot)), field=slot)
    if len(value) > max_chars:
        raise _too_long(slot, max_chars)
    return value


def _too_long(slot: str, most: int = MAX_TEXT_CHARS) -> DuizhaoError:
    return DuizhaoError(Message(N_("The {slot} text is longer than {most:,} characters, the most aligned here. "
                                   "Split it, or use python -m align."), slot=_slot(slot), most=most),
                        status=413, field=slot)


def check_slots(zh_text: str, en_text: str) -> None:
    """Raise with a clear message when a text is missing or in the wrong slot."""
    for slot, text in (("zh", zh_text), ("en", en_text)):
        if not text.strip():
            raise DuizhaoError(Message(N_("The {slot} text is empty: paste the {slot} article or upload it "
                                          "as a .txt file."), slot=_slot(slot)), field=slot)
    zh_lang, en_lang = detect_language(zh_text), detect_language(en_text)
    if zh_lang == "en" and en_lang == "zh":
        raise DuizhaoError(Message(N_("The texts are swapped: the Chinese slot holds English and the English "
                                      "slot holds Chinese. Exchange them and try again.")), field="zh")
    for slot, lang in (("zh", zh_lang), ("en", en_lang)):
        if lang is None:
            raise DuizhaoError(Message(N_("The {slot} text contains neither Chinese nor English words."),
                                       slot=_slot(slot)), field=slot)
        if lang != slot:
            raise DuizhaoError(Message(N_("The {slot} slot holds {lang} text; put the {slot} article there."),
                                       slot=_slot(slot), lang=_slot(lang)), field=slot)


def length_warnings(zh: Sequence[Segment], en: Sequence[Segment]) -> list[Message]:
    """Say so when one side has far more sentences than the other."""
    n, m = len(zh), len(en)
    if max(n, m) <= SENTENCE_RATIO_WARNING * max(min(n, m), 1):
        return []
    longer, shorter = ("en", "zh") if m > n else ("zh", "en")
    ratio = max(n, m) / max(min(n, m), 1)
    return [Message(N_("The {longer} has {ratio:.0f}× the sentences of the {shorter} ({more} against {fewer}): "
                       "is one of them a different or shortened text? What matches is aligned; the rest is "
                       "left unaligned for review."),
                    longer=_slot(longer), shorter=_slot(shorter), ratio=ratio, more=max(n, m), fewer=min(n, m))]


def passage_warnings(beads: Sequence[Bead], zh_count: int, en_count: int) -> list[Message]:
    """Name each passage that one text has and the other leaves out (``unaligned_passages``),
    whatever the two lengths are, so the reviewer looks there first. The beads align Chinese (src) with
    English (tgt); sentence numbers count from 1, as a reader does."""
    warnings: list[Message] = []
    for side, first, last in unaligned_passages(beads):
        slot, other = ("zh", "en") if side == "src" else ("en", "zh")
        warnings.append(Message(
            N_("{slot} sentences {first}–{last} ({count} of {total}) have no counterpart in the "
               "{other}: left unaligned. Is it a passage one text leaves out?"),
            slot=_slot(slot), other=_slot(other), first=first + 1, last=last + 1,
            count=last - first + 1, total=zh_count if slot == "zh" else en_count))
    return warnings


@dataclass(frozen=True)
class Texts:
    """Both texts decoded and checked (slots, lengths), with what decoding them found."""

    zh_text: str
    en_text: str
    warnings: list[Message] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)


def read_texts(zh_text: str | bytes | None, en_text: str | bytes | None, *,
               max_chars: int = MAX_TEXT_CHARS, encodings: dict[str, str] | None = None) -> Texts:
    """Decode (uploads given as bytes) and check both texts. ``encodings`` says how texts given
    as strings were decoded earlier (a job's texts, decoded in the request that queued it), so
    the reviewer is told of a legacy encoding either way."""
    warnings: list[Message] = []
    found: dict[str, str] = {}
    zh_text = _as_text(zh_text, "zh", warnings, found, max_chars=max_chars)
    en_text = _as_text(en_text, "en", warnings, found, max_chars=max_chars)
    for slot, encoding in (encodings or {}).items():
        if slot in ("zh", "en") and slot not in found:
            found[slot] = encoding
            if encoding != "utf-8":
                warnings.append(_encoding_warning(slot, encoding))
    check_slots(zh_text, en_text)
    return Texts(zh_text, en_text, warnings, found)


def segment_texts(texts: Texts, *, hard_wrapped: bool = False,
                  max_sentences: int | None = None, status: int = 400) -> tuple[list[Segment], list[Segment]]:
    """Both texts split into sentences; more than ``max_sentences`` (default ``MAX_SENTENCES``)
    on a side raises (``status``)."""
    max_sentences = MAX_SENTENCES if max_sentences is None else max_sentences
    zh = split_sentences(texts.zh_text, "zh", hard_wrapped=hard_wrapped)
    en = split_sentences(texts.en_text, "en", hard_wrapped=hard_wrapped)
    for slot, sentences in (("zh", zh), ("en", en)):
        if len(sentences) > max_sentences:
            raise DuizhaoError(Message(N_("The {slot} text has {count:,} sentences; at most {most:,} are aligned "
                                          "here. Split it, or use python -m align."),
                                       slot=_slot(slot), count=len(sentences), most=max_sentences),
                               status=status, field=slot)
    return zh, en


def align_segments(texts: Texts, zh: list[Segment], en: list[Segment], *,
                   glossary_pairs: Sequence[tuple[str, str]] = (), embed: Embedder | None = None,
                   translations: AlignmentModel | None = None) -> Prepared:
    """Align sentences already split (``segment_texts``): the long step."""
    warnings = list(texts.warnings)
    warnings.extend(length_warnings(zh, en))
    pairs = [(z, e) for z, e in glossary_pairs if z and e]
    beads = align(zh, en, src_lang="zh", glossary=pairs, embed=embed, translations=translations)
    warnings.extend(passage_warnings(beads, len(zh), len(en)))
    aligned = [AlignedBead(tuple(b.src), tuple(b.tgt), round(float(b.score), 4)) for b in beads]
    return Prepared(texts.zh_text, texts.en_text, zh, en, aligned, warnings, dict(texts.encodings))


def prepare(zh_text: str | bytes | None, en_text: str | bytes | None, *,
            glossary_pairs: Sequence[tuple[str, str]] = (), hard_wrapped: bool = False,
            embed: Embedder | None = None, translations: AlignmentModel | None = None) -> Prepared:
    """Check, decode (uploads given as bytes), segment and align an article and its translation,
    within the request's bounds (``MAX_SENTENCES``, ``MAX_TEXT_CHARS``).

    ``glossary_pairs`` are (zh, en) terms the aligner counts as translations of each other;
    ``hard_wrapped`` texts end paragraphs only at blank lines (see ``split_sentences``);
    ``embed`` replaces the aligner's sentence encoder (tests use a fast lexical one);
    ``translations`` is the memory's word-translation model, when one is trained.
    """
    texts = read_texts(zh_text, en_text)
    zh, en = segment_texts(texts, hard_wrapped=hard_wrapped)
    return align_segments(texts, zh, en, glossary_pairs=glossary_pairs, embed=embed, translations=translations)


# ------------------------------------------------------------------ jobs

def check_metadata(title: str | None, url: str | None, doc_date: str | None) -> tuple[str, str | None, str | None]:
    """A job's title, URL and date, stripped and checked (callers check before aligning, so a
    typo in the URL does not cost an alignment)."""
    title = (title or "").strip()
    if len(title) > MAX_TITLE:
        raise DuizhaoError(Message(N_("The title is longer than {most} characters."), most=MAX_TITLE),
                           field="title")
    url = (url or "").strip() or None
    if url is not None:
        parts = urlsplit(url)
        # Shown as a link on the review page: only web addresses, never javascript: and the like.
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
            raise DuizhaoError(Message(N_("The URL must be a web address starting with http:// or https://.")),
                               field="url")
    doc_date = (doc_date or "").strip() or None
    if doc_date is not None and not _DATE.match(doc_date):
        raise DuizhaoError(Message(N_("The date must be written YYYY-MM-DD (or YYYY-MM, or YYYY).")),
                           field="date")
    return title, url, doc_date


def create_job(session: Session, prepared: Prepared, *, title: str | None = None,
               url: str | None = None, doc_date: str | None = None,
               user: str | None = None) -> AlignmentJob:
    """Keep a prepared alignment as a job to review; no beads are approved yet. The warnings are
    stored as templates and parameters (``messages.to_data``), to be shown in the language of
    whoever reads the job."""
    title, url, doc_date = check_metadata(title, url, doc_date)
    state = {
        "zh": [_segment_dict(s) for s in prepared.zh],
        "en": [_segment_dict(s) for s in prepared.en],
        "beads": [dict(b.to_dict(), approved=False) for b in prepared.beads],
    }
    return jobs.add_job(session, title=title, url=url, doc_date=doc_date, zh_text=prepared.zh_text,
                        en_text=prepared.en_text, state=state, warnings=[to_data(w) for w in prepared.warnings],
                        created_by=user, now=utcnow())


def get_job(session: Session, job_id: int) -> AlignmentJob:
    job = jobs.get_job(session, job_id)
    if job is None:
        raise NotFound(Message(N_("No alignment job has id {job_id}."), job_id=job_id))
    return job


def recent_jobs(session: Session, *, limit: int = 20) -> list[AlignmentJob]:
    """The jobs changed last, for picking up a review where it was left."""
    return jobs.recent_jobs(session, limit=limit)


def job_warnings(job: AlignmentJob) -> list[str]:
    """The job's warnings as Messages (a job stored before they were kept as templates holds
    plain English strings, which come back as they are)."""
    return [from_data(w) for w in job.warnings or []]


def job_dict(job: AlignmentJob) -> dict:
    """A job as the API gives it (the texts themselves stay on the server); the web layer
    translates the warnings."""
    state = job.state or {}
    beads = state.get("beads", [])
    return {
        "id": job.id,
        "title": job.title,
        "url": job.url,
        "date": job.doc_date,
        "status": job.status,
        "version": job.version,
        "warnings": job_warnings(job),
        "zh": state.get("zh", []),
        "en": state.get("en", []),
        "beads": beads,
        "approved": sum(1 for b in beads if b.get("approved")),
        "low_confidence": LOW_CONFIDENCE,
        "memory_id": job.memory_id,
        "created_by": job.created_by,
        "created_at": isoformat(job.created_at),
        "changed_at": isoformat(job.changed_at),
    }


def validate_beads(beads: object, n_zh: int, n_en: int) -> list[dict]:
    """The beads of a save, checked: every sentence of both sides exactly once, in order
    (so the alignment stays monotone), no empty bead. Returns them cleaned."""
    if not isinstance(beads, list):
        raise DuizhaoError(Message(N_("Field {field!r} must be a list."), field="beads"), field="beads")
    cleaned: list[dict] = []
    next_index = {"zh": 0, "en": 0}
    sizes = {"zh": n_zh, "en": n_en}
    for position, bead in enumerate(beads):
        if not isinstance(bead, dict):
            raise DuizhaoError(Message(N_("Bead {position} must be an object."), position=position),
                               field="beads", bead=position)
        clean: dict = {}
        for side in ("zh", "en"):
            indices = bead.get(side, [])
            if not isinstance(indices, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in indices
            ):
                raise DuizhaoError(Message(N_("Bead {position}: {field!r} must be a list of sentence numbers."),
                                           position=position, field=side), field="beads", bead=position)
            for index in indices:
                if index != next_index[side] or index >= sizes[side]:
                    expected = next_index[side]
                    problem = (Message(N_("{slot} sentence {expected} is missing or out of order"),
                                       slot=_slot(side), expected=expected)
                               if expected < sizes[side] else
                               Message(N_("the {slot} text has only {count} sentences"),
                                       slot=_slot(side), count=sizes[side]))
                    raise DuizhaoError(Message(N_("Bead {position}: {problem} (found {index}). The beads must "
                                                  "cover every sentence exactly once, in order."),
                                               position=position, problem=problem, index=index),
                                       field="beads", bead=position)
                next_index[side] += 1
            clean[side] = indices
        if not clean["zh"] and not clean["en"]:
            raise DuizhaoError(Message(N_("Bead {position} holds no sentence."), position=position),
                               field="beads", bead=position)
        score = bead.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                                  or not 0 <= score <= 1):
            raise DuizhaoError(Message(N_("Bead {position}: {field!r} must be a number from 0 to 1, or null."),
                                       position=position, field="score"), field="beads", bead=position)
        approved = bead.get("approved", False)
        if not isinstance(approved, bool):
            raise DuizhaoError(Message(N_("Bead {position}: {field!r} must be true or false."),
                                       position=position, field="approved"), field="beads", bead=position)
        clean["score"] = None if score is None else float(score)
        clean["approved"] = approved
        cleaned.append(clean)
    for side in ("zh", "en"):
        if next_index[side] != sizes[side]:
            template = (N_("The beads leave out {slot} sentence {index} and later ones. The beads must cover "
                           "every sentence exactly once, in order.") if sizes[side] - next_index[side] > 1
                        else N_("The beads leave out {slot} sentence {index}. The beads must cover every "
                                "sentence exactly once, in order."))
            raise DuizhaoError(Message(template, slot=_slot(side), index=next_index[side]), field="beads")
    return cleaned


def save_job(session: Session, job_id: int, beads: object, *, expected_version: object) -> AlignmentJob:
    """Replace a job's beads, if nobody saved since ``expected_version``; returns the job with
    its new version. A stale version is a 409 naming the current one."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise DuizhaoError(Message(N_("Field {field!r} must be the job's version number, as last read."),
                                   field="version"), field="version")
    job = get_job(session, job_id)
    state = job.state or {}
    cleaned = validate_beads(beads, len(state.get("zh", [])), len(state.get("en", [])))
    new_state = dict(state, beads=cleaned)
    if not jobs.replace_state(session, job, new_state, expected_version=expected_version):
        raise Conflict(Message(N_("This alignment was saved elsewhere (another tab or another reviewer) and "
                                  "is now at version {current}, not {yours}. Reload it to see the latest "
                                  "state."), current=job.version, yours=expected_version),
                       current_version=job.version)
    return job


@dataclass(frozen=True)
class StoreReport:
    job_id: int
    memory: str
    approved: int
    added: int
    duplicates: int
    skipped_one_sided: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


_LATIN_BREAK = re.compile(r"(?<=[A-Za-z0-9])\s*[\r\n]+\s*(?=[A-Za-z0-9])")
_LINE_BREAK = re.compile(r"\s*[\r\n]+\s*")


def _joined(sentences: list[dict], indices: list[int], lang: str) -> str:
    """The text of a bead's sentences as one line: a hard-wrapped sentence keeps no line break
    (Chinese lines join without a space, except between Latin words; English runs of whitespace
    become one space)."""
    if lang == "en":
        return " ".join(" ".join(sentences[i]["text"].split()) for i in indices)
    text = "".join(sentences[i]["text"] for i in indices)
    return _LINE_BREAK.sub("", _LATIN_BREAK.sub(" ", text)).strip()


def approved_records(job: AlignmentJob, *, user: str | None) -> tuple[list[UnitRecord], int]:
    """The job's approved beads with both sides as TM records, and how many approved beads
    had only one side (those cannot be stored). Context is the Chinese sentence before and
    after the pair in the document, as a CAT tool would send it for a 101% match."""
    state = job.state or {}
    zh, en = state.get("zh", []), state.get("en", [])
    props: list[tuple[str, str]] = []
    if job.doc_date:
        props.append(("x-doc-date", job.doc_date))
    records, one_sided = [], 0
    for bead in state.get("beads", []):
        if not bead.get("approved"):
            continue
        if not bead["zh"] or not bead["en"]:
            one_sided += 1
            continue
        first, last = bead["zh"][0], bead["zh"][-1]
        records.append(UnitRecord(
            zh=_joined(zh, bead["zh"], "zh"),
            en=_joined(en, bead["en"], "en"),
            creationid=user,
            changeid=user,
            props=tuple(props),
            origin_file=f"alignment:{job.id}",
            doc_title=job.title or None,
            doc_url=job.url,
            context_prev=_joined(zh, [first - 1], "zh") if first > 0 else None,
            context_next=_joined(zh, [last + 1], "zh") if last + 1 < len(zh) else None,
            status="approved",
        ))
    return records, one_sided


def store_job(session: Session, job_id: int, *, memory_name: object, user: str | None) -> StoreReport:
    """Write the job's approved two-sided beads into ``memory_name`` (made if new) as units,
    through the importer: a pair already in the memory is counted, not doubled, and the run
    is logged. The caller commits, then tells the live index (``changed()``)."""
    if not isinstance(memory_name, str) or not memory_name.strip():
        raise DuizhaoError(Message(N_("Choose a memory to store the approved pairs in.")), field="memory")
    memory_name = memory_name.strip()
    most = too_long(Memory.name, memory_name)
    if most is not None:
        raise DuizhaoError(Message(N_("A memory name has at most {most} characters."), most=most),
                           field="memory")
    job = get_job(session, job_id)
    records, one_sided = approved_records(job, user=user)
    if not records:
        raise DuizhaoError(Message(N_("No approved pair to store: approve the pairs to keep first (a pair "
                                      "needs both a Chinese and an English side).")), field="beads")
    memory = repo.get_or_create_memory(session, memory_name)
    run = repo.start_import(session, memory, filename=f"alignment:{job.id}", file_format="align",
                            user=user)
    counts = repo.import_records(session, memory, run, records)
    jobs.mark_stored(session, job, memory.id)
    return StoreReport(job.id, memory.name, len(records), counts.added, counts.duplicates, one_sided)
