"""The OpenAPI 3.1 document of ``/api/v1/``, built as a plain dict.

Every route is one `Route` entry in `ROUTES` (path in OpenAPI's ``{name}`` spelling, method,
and the operation: summary, parameters, body, responses, example). To document a new route,
append an entry (or call `add_route`); tests/web/test_openapi.py fails until every rule under
``/api/v1`` in the app's URL map is here with its methods, and nothing else is.

Shared pieces (schemas, the error answer, the bearer token) live in `COMPONENTS` and are
referenced with `ref`. `build_document` assembles the whole thing; the HTML page at ``/api/``
renders the same dict, so the two never disagree.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from glossary.core.model import CONCEPT_TYPES
from tm.core.renderings import MIN_CONFIDENCE

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def param(name: str, where: str, schema: dict, description: str, *, required: bool = False,
          example: Any = None) -> dict:
    """One parameter object; path parameters are always required."""
    out = {"name": name, "in": where, "required": required or where == "path",
           "description": description, "schema": schema}
    if example is not None:
        out["example"] = example
    return out


def json_response(description: str, schema: dict, example: Any = None) -> dict:
    media: dict = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}


def json_body(schema: dict, example: Any = None, *, required: bool = True) -> dict:
    media: dict = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"required": required, "content": {"application/json": media}}


ERROR = {"$ref": "#/components/responses/Error"}
STRING = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
INTEGER = {"type": "integer"}
LANG = {"type": "string", "description": "zh or en in any common spelling (zh-CN, zh_TW, en-GB ...)",
        "examples": ["zh", "en", "zh-CN", "en-US"]}
MEMORY_LIST = {"type": "string", "description": "Memory names, comma-separated or repeated."}
PAGE = param("page", "query", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "Page number, from 1.")
NAME = param("name", "path", NONEMPTY, "The memory's name.", example="news")
#: Ids are INTEGER columns: 32-bit on PostgreSQL. Werkzeug's int converter accepts any size,
#: so larger ids are outside the contract (the server should answer 404 for them).
ID = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**31 - 1}
UNIT_ID = param("unit_id", "path", ID, "The unit's id.", example=1)
JOB_ID = param("job_id", "path", ID, "The job's id.", example=1)
DOCUMENT_ID = param("document_id", "path", ID, "The document's id.", example=1)
EXPORT_FORMAT = param("format", "query", {"type": "string", "enum": ["tmx", "tsv", "csv"], "default": "tmx"},
                      "File format of the export.")
FILE_MEDIA = {"application/x-tmx+xml": {"schema": {"type": "string"}},
              "text/tab-separated-values": {"schema": {"type": "string"}},
              "text/csv": {"schema": {"type": "string"}}}
PREFER = param("Prefer", "header", {"type": "string", "enum": ["respond-async"]},
               "`respond-async` (RFC 7240): run it as a job whatever the size (202).")
ACCEPTED_JOB = {**json_response("Accepted: a job does it; poll `Location`, then GET its `download`.", ref("Job")),
                "headers": {"Location": {"description": "The job: GET /api/v1/jobs/<id>.", "schema": STRING}}}
EXPORT_AS_JOB = ("Memories of at most 50,000 units together (EXPORT_INLINE_UNITS) are answered with the file. "
                 "Larger ones, or any with `Prefer: respond-async`, are exported by a job (which needs a login "
                 "or a token): 202 with `Location: /api/v1/jobs/<id>`; the file, read from the database in "
                 "chunks and written as it is read, is then at `/api/v1/jobs/<id>/result`, byte for byte what "
                 "the direct answer would have been.")

UNIT_EXAMPLE = {"memory": "news", "zh": "2018年双边贸易总额达到250亿美元。",
                "en": "The total value of bilateral trade for 2018 hit US$25 billion."}
LOOKUP_EXAMPLE = {"query": "2019年双边贸易总额达到300亿美元。", "src": "zh", "tgt": "en", "matches": [{
    "unit_id": 1, "source": UNIT_EXAMPLE["zh"], "target": UNIT_EXAMPLE["en"], "memory": "news",
    "score": 96.0, "base_score": 100.0, "penalties": [{"reason": "numbers", "points": 4.0}],
    "adapted": True, "adapted_target": "The total value of bilateral trade for 2019 hit US$30 billion.",
    "in_context": False, "diff": [{"op": "replace", "q": [0, 4], "s": [0, 4]},
                                  {"op": "equal", "q": [4, 13], "s": [4, 13]},
                                  {"op": "replace", "q": [13, 16], "s": [13, 16]},
                                  {"op": "equal", "q": [16, 20], "s": [16, 20]}]}],
    "fragments": [{"start": 5, "end": 11, "source": "双边贸易总额", "units": 12, "translations": [{
        "text": "total value of bilateral trade", "units": 9, "confidence": 0.83, "example": {
            "unit_id": 1, "memory": "news", "source": UNIT_EXAMPLE["zh"], "target": UNIT_EXAMPLE["en"],
            "target_span": [4, 34]}}]}]}

FRAGMENTS_FIELD = (
    "Runs of the query that stored sources contain (Chinese: 4+ Han characters on word boundaries; "
    "English: 3+ words, one a content word), ordered by position, with their translations learnt "
    "from the memory (word alignment of the stored pairs). Only fragments with a rendering of "
    f"confidence {MIN_CONFIDENCE} or more (a run without one gives way to a shorter run inside it that has "
    "one); glossary terms are not repeated unless a fragment is longer. Empty "
    "until the model is trained (`flask tm fragments train`, or in the background after imports); "
    "absent when `fragments` is 0.")
FRAGMENTS_SWITCH = {"oneOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}],
                    "description": "false or 0: leave out the fragments (default: include them)."}

COMPONENTS: dict = {
    "securitySchemes": {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "An API token (`flask user token NAME --scope read|write`, or the API tokens "
                       "page). Reads are open without one when ANONYMOUS_READ is on."}},
    "responses": {"Error": json_response("An error, with the reason in plain words.", ref("Error"), {
        "error": {"status": 400, "message": "Parameter 'q' is empty: give the segment to look up.",
                  "parameter": "q"}})},
    "schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["status", "message"],
            "properties": {"status": INTEGER, "message": STRING, "parameter": STRING, "field": STRING,
                           "line": {"type": ["integer", "null"]}}}}},
        "Memory": {"type": "object", "properties": {
            "name": STRING, "description": STRING, "priority": INTEGER, "units": INTEGER,
            "created_at": {"type": "string", "format": "date-time"}}},
        "NewMemory": {"type": "object", "required": ["name"], "properties": {
            "name": NONEMPTY, "description": STRING, "priority": INTEGER}},
        "UnitFields": {"type": "object", "properties": {
            "zh": NONEMPTY, "en": NONEMPTY, "status": {"type": "string", "enum": ["draft", "approved"]},
            "note": {"type": ["string", "null"]}, "origin_file": {"type": ["string", "null"]},
            "doc_title": {"type": ["string", "null"]}, "doc_url": {"type": ["string", "null"]},
            "context_prev": {"type": ["string", "null"]}, "context_next": {"type": ["string", "null"]},
            "usage_count": {"type": "integer", "minimum": 0},
            "props": {"type": ["array", "null"], "items": {
                "type": "array", "items": STRING, "minItems": 2, "maxItems": 2}}}},
        "NewUnit": {"allOf": [ref("UnitFields"), {"type": "object", "required": ["memory", "zh", "en"],
                                                   "properties": {"memory": NONEMPTY}}]},
        "Unit": {"type": "object", "properties": {
            "id": INTEGER, "memory": STRING, "zh": STRING, "en": STRING, "status": STRING}},
        "UnitPage": {"type": "object", "properties": {
            "page": INTEGER, "per_page": INTEGER, "total": INTEGER, "units": {"type": "array", "items": ref("Unit")}}},
        "History": {"type": "object", "properties": {"unit_id": INTEGER, "events": {"type": "array", "items": {
            "type": "object", "properties": {"action": STRING, "user": {"type": ["string", "null"]},
                                             "at": STRING, "before": {}, "after": {}}}}}},
        "PretranslateReport": {"type": "object", "description": "Each segment counted once among "
                               "filled_exact, filled_fuzzy, skipped_translated (it had a target) and left_empty; "
                               "codes_not_placed (of left_empty) had a match offered as a candidate only.",
                               "properties": {
            "version": {"type": "integer", "enum": [1, 2]}, "direction": {"type": "string", "enum": ["zh-en", "en-zh"]},
            **{key: INTEGER for key in ("segments", "filled_exact", "filled_fuzzy", "skipped_translated",
                                        "left_empty", "codes_not_placed", "with_candidates")}}},
        "Job": {"type": "object", "description": "Long work run by a worker; the import's report is its result.",
                "properties": {
            "id": INTEGER, "kind": {"type": "string", "examples": ["tm.import", "tm.fragments.train",
                                                                   "tm.pretranslate", "tm.export", "align.run"]},
            "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
            "user": {"type": ["string", "null"]},
            "progress": {"type": "object", "properties": {
                "done": INTEGER, "total": {"type": ["integer", "null"]}},
                "description": "An import counts bytes of its file; a pre-translation segments looked up; "
                               "an export units written."},
            "result": {"type": ["object", "null"], "description": "An import's: an ImportReport. A pre-translation's: "
                       "`filename`, `report` (a PretranslateReport) and `file`; an export's: `units`, `format`, "
                       "`memories` and `file`. `file` is `{name, content_type, bytes}`, with `removed_at` once "
                       "its retention (JOB_RESULTS_DAYS, 7 by default) removed it."},
            "download": {"type": "string", "description": "Where the job's file is, while it has one: "
                                                          "GET /api/v1/jobs/<id>/result."},
            "error": {"type": ["object", "null"], "description": "As the `error` of an error answer (status, "
                                                                 "message, line...)."},
            "cancel_requested": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "url": STRING}},
        "ImportReport": {"type": "object", "properties": {
            "memory": STRING, "filename": STRING, "file_format": STRING, "read": INTEGER,
            "added": INTEGER, "duplicates": INTEGER, "import_id": INTEGER}},
        "Match": {"type": "object", "properties": {
            "unit_id": INTEGER, "source": STRING, "target": STRING, "memory": STRING,
            "score": {"type": "number", "description": "0–100; 101 for an exact match in context"},
            "base_score": {"type": "number"}, "penalties": {"type": "array"}, "adapted": {"type": "boolean"},
            "adapted_target": STRING, "in_context": {"type": "boolean"}, "diff": {"type": "array"}}},
        "LookupAnswer": {"type": "object", "properties": {
            "query": STRING, "src": STRING, "tgt": STRING, "matches": {"type": "array", "items": ref("Match")},
            "fragments": {"type": "array", "items": ref("Fragment"), "description": FRAGMENTS_FIELD}}},
        "Fragment": {"type": "object", "properties": {
            "start": {"type": "integer", "description": "Offset into the query as sent (characters)."},
            "end": {"type": "integer", "description": "End offset into the query (exclusive)."},
            "source": {"type": "string", "description": "The query's text from start to end."},
            "units": {"type": "integer", "description": "Stored units whose sources contain the fragment."},
            "translations": {"type": "array", "items": ref("FragmentTranslation"),
                             "description": "Renderings, the most units first."}}},
        "FragmentTranslation": {"type": "object", "properties": {
            "text": STRING,
            "units": {"type": "integer", "description": "Units whose aligned translations agree on this text."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "Estimated probability that the rendering is right; at least 0.5."},
            "example": {"type": "object", "properties": {
                "unit_id": INTEGER, "memory": STRING, "source": STRING, "target": STRING,
                "target_span": {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2,
                                "description": "Offsets of the rendering in the example's target."}}}}},
        "LookupRequest": {"type": "object", "required": ["q"], "properties": {
            "q": NONEMPTY, "src": LANG, "tgt": LANG, "min_score": {"type": "number", "minimum": 0, "maximum": 100},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "memory": {"type": "array", "items": STRING}, "prev": STRING, "next": STRING,
            "fragments": FRAGMENTS_SWITCH},
            "additionalProperties": False},
        "BatchRequest": {"type": "object", "required": ["segments"], "properties": {
            "segments": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"oneOf": [
                NONEMPTY, {"type": "object", "required": ["q"],
                           "properties": {"q": NONEMPTY, "prev": STRING, "next": STRING}}]}},
            "src": LANG, "tgt": LANG, "min_score": {"type": "number", "minimum": 0, "maximum": 100},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100}, "memory": {"type": "array", "items": STRING},
            "fragments": FRAGMENTS_SWITCH}},
        "Concordance": {"type": "object", "properties": {
            "query": STRING, "lang": STRING, "page": INTEGER, "per_page": INTEGER, "total": INTEGER,
            "results": {"type": "array", "items": ref("Unit")}}},
    },
}


@dataclass
class Route:
    """One documented operation: ``path`` in OpenAPI spelling, ``method`` lower-case."""

    path: str
    method: str
    summary: str
    tag: str
    permission: str  # read, edit, admin: shown on the page, and decides the security entry
    parameters: list = field(default_factory=list)
    body: dict | None = None
    responses: dict = field(default_factory=dict)
    description: str = ""

    def operation(self) -> dict:
        op: dict = {"summary": self.summary, "tags": [self.tag],
                    "operationId": f"{self.method}_"
                                   f"{self.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
                    "x-permission": self.permission}
        if self.description:
            op["description"] = self.description
        if self.parameters:
            op["parameters"] = self.parameters
        if self.body:
            op["requestBody"] = self.body
        op["responses"] = {**self.responses, "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
        # Reads work anonymously when the server allows it; writes need a token.
        op["security"] = {"public": [{}], "read": [{"bearer": []}, {}]}.get(self.permission, [{"bearer": []}])
        return op


V1 = "/api/v1"
#: A language parameter's words (common.languages.language_of).
DETECTED = "Its language; detected when omitted (Chinese for a text without letters, such as \"2024\")."
_LOOKUP_PARAMS = [
    param("q", "query", NONEMPTY, "The segment to look up.", required=True, example="双边贸易总额"),
    param("src", "query", LANG, DETECTED),
    param("tgt", "query", LANG, "The language wanted; the other one when omitted."),
    param("min_score", "query", {"type": "number", "minimum": 0, "maximum": 100}, "Lowest score (default 70)."),
    param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 100}, "Most matches (default 10)."),
    param("memory", "query", MEMORY_LIST, "Search only these memories."),
    param("prev", "query", STRING, "The previous segment, for in-context (101) matches."),
    param("next", "query", STRING, "The next segment, for in-context (101) matches."),
    param("fragments", "query", {"type": "string", "enum": ["0", "1"]},
          "`0`: leave out the fragments (default 1: include them)."),
]

ROUTES: list[Route] = [
    Route(f"{V1}/memories", "get", "List memories and their sizes", "memories", "read",
          responses={"200": json_response("The memories.", {"type": "object", "properties": {
              "memories": {"type": "array", "items": ref("Memory")}}})}),
    Route(f"{V1}/memories", "post", "Create a memory", "memories", "admin",
          body=json_body(ref("NewMemory"), {"name": "news", "description": "Wire copy", "priority": 1}),
          responses={"201": json_response("Created.", ref("Memory")), "409": ERROR}),
    Route(f"{V1}/memories/{{name}}/import", "post", "Import a TMX, TSV or CSV file (all or nothing) as a job",
          "memories", "edit",
          description="Send the file as multipart field `file`, or as the raw body with `?filename=`. "
                      "The answer is 202 with `Location: /api/v1/jobs/<id>`: poll the job until its state is "
                      "`done` (its `result` is the import's report) or `failed` (its `error` names the line "
                      "and the reason). A file with an error imports nothing. A memory name, a format or a "
                      "permission that is wrong is refused at once.",
          parameters=[NAME, param("format", "query", {"type": "string", "enum": ["tmx", "tsv", "csv"]},
                                  "The file's format; guessed from its name and content when omitted."),
                      param("filename", "query", STRING, "The file's name, for a raw body.")],
          body={"required": True, "content": {
              "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                  "file": {"type": "string", "format": "binary"}}}},
              "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
          responses={"202": {**json_response("Accepted: the import is a job.", ref("Job")),
                             "headers": {"Location": {"description": "The job: GET /api/v1/jobs/<id>.",
                                                      "schema": STRING}}},
                     "413": ERROR}),
    Route(f"{V1}/jobs", "get", "Your jobs, newest first", "jobs", "read",
          responses={"200": json_response("The jobs you started.", {"type": "object", "properties": {
              "jobs": {"type": "array", "items": ref("Job")}}})}),
    Route(f"{V1}/jobs/{{job_id}}", "get", "A job: state, progress, result or error", "jobs", "read",
          parameters=[JOB_ID], responses={"200": json_response("The job.", ref("Job"))}),
    Route(f"{V1}/jobs/{{job_id}}", "delete", "Cancel a job", "jobs", "read",
          description="A queued job is cancelled at once; a running one at its next check, and its work "
                      "is rolled back (nothing stored, no file kept). Whoever started the job may.",
          parameters=[JOB_ID], responses={"202": json_response("The job as it stands.", ref("Job")),
                                          "409": ERROR}),
    Route(f"{V1}/jobs/{{job_id}}/cancel", "post", "Cancel a job (as DELETE)", "jobs", "read",
          parameters=[JOB_ID], responses={"202": json_response("The job as it stands.", ref("Job")),
                                          "409": ERROR}),
    Route(f"{V1}/jobs/{{job_id}}/result", "get", "The file a finished job gives", "jobs", "read",
          description="A pre-translated XLIFF or an export, under the name its user knows it by "
                      "(`Content-Disposition`) with its content type. Only whoever started the job, or an "
                      "admin. 404 while the job has not ended done (a failed or cancelled job leaves no "
                      "file) or when it gives none; 410 once removed, JOB_RESULTS_DAYS (7 by default) after "
                      "the job ended (by the worker's hourly clean-up or `flask jobs cleanup`).",
          parameters=[JOB_ID], responses={"200": {"description": "The file.", "content": {
              **FILE_MEDIA, "application/x-xliff+xml": {"schema": {"type": "string", "format": "binary"}},
              "application/xliff+xml": {"schema": {"type": "string", "format": "binary"}}}},
              "410": ERROR}),
    Route(f"{V1}/memories/{{name}}/export", "get", "Export a memory as a file", "memories", "read",
          description=EXPORT_AS_JOB, parameters=[NAME, EXPORT_FORMAT, PREFER],
          responses={"200": {"description": "The file.", "content": FILE_MEDIA}, "202": ACCEPTED_JOB}),
    Route(f"{V1}/export", "get", "Export several memories (all when none is named)", "memories", "read",
          description=EXPORT_AS_JOB,
          parameters=[EXPORT_FORMAT, param("memory", "query", MEMORY_LIST, "Memories to export."), PREFER],
          responses={"200": {"description": "The file.", "content": FILE_MEDIA}, "202": ACCEPTED_JOB}),
    Route(f"{V1}/units", "get", "List units, a page at a time", "units", "read",
          parameters=[param("memory", "query", MEMORY_LIST, "Only these memories."), PAGE,
                      param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Units per page.")],
          responses={"200": json_response("A page of units.", ref("UnitPage"))}),
    Route(f"{V1}/units", "post", "Add a unit", "units", "edit",
          description="An identical pair already in the memory is returned with 200 instead of being doubled.",
          body=json_body(ref("NewUnit"), UNIT_EXAMPLE),
          responses={"201": json_response("Created.", ref("Unit")),
                     "200": json_response("The existing unit.", ref("Unit"))}),
    Route(f"{V1}/translations", "post", "Store a translator's translation of one segment", "units", "propose",
          description="The workbench's Store: the pair becomes a unit of an existing memory, with the document's "
                      "title and the neighbouring source segments as context. A translator's unit is a draft, "
                      "an editor's approved (an editor storing a translator's draft approves it); the same pair "
                      "twice is one unit. `outcome` says what happened: created, approved or unchanged.",
          body=json_body({"type": "object", "required": ["memory", "source", "target"], "properties": {
              "memory": NONEMPTY, "source": NONEMPTY, "target": NONEMPTY, "src": LANG, "tgt": LANG,
              "doc_title": {"type": ["string", "null"]}, "prev": {"type": ["string", "null"]},
              "next": {"type": ["string", "null"]}}},
              {"memory": "news", "source": UNIT_EXAMPLE["zh"], "target": UNIT_EXAMPLE["en"], "src": "zh", "tgt": "en"}),
          responses={"201": json_response("Created.", ref("Unit")),
                     "200": json_response("The pair was there (approved now, or unchanged).", ref("Unit")),
                     "404": ERROR}),
    Route(f"{V1}/qa", "post", "Check a segment's translation: numbers, terms, untranslated Chinese", "lookup", "read",
          description="Numbers of the source missing or changed in the target, compared by value (250亿 is 25 "
                      "billion, 1.2万 is 12,000; month names and numbers up to twelve spelt out count); glossary "
                      "terms missing and forbidden or deprecated renderings used; Chinese left in an English "
                      "target. An empty target has no issues.",
          body=json_body({"type": "object", "required": ["source", "target"], "properties": {
              "source": NONEMPTY, "target": STRING, "src": LANG, "tgt": LANG,
              "date": {"type": "string", "format": "date"}}},
              {"source": UNIT_EXAMPLE["zh"], "target": "Bilateral trade hit US$2.5 billion in 2018.",
               "src": "zh", "tgt": "en"}),
          responses={"200": json_response("The issues, in reading order: each with kind, severity, message and "
                                          "source_span/target_span ([start, end] or null).", {"type": "object"})}),
    Route(f"{V1}/documents", "get", "Your documents, the last changed first", "documents", "propose",
          responses={"200": json_response("Each with its segment count and how many are confirmed.",
                                          {"type": "object"})}),
    Route(f"{V1}/documents", "post", "Start a document: an article split into segments", "documents", "propose",
          body=json_body({"type": "object", "required": ["title", "text", "memory"], "properties": {
              "title": NONEMPTY, "text": NONEMPTY, "memory": NONEMPTY, "src": LANG, "tgt": LANG}},
              {"title": "US-Russia ties", "text": UNIT_EXAMPLE["zh"], "memory": "news"}),
          responses={"201": json_response("The document with its segments.", {"type": "object"}), "404": ERROR}),
    Route(f"{V1}/documents/{{document_id}}", "get", "A document with its segments and confirmed targets",
          "documents", "propose", parameters=[DOCUMENT_ID],
          responses={"200": json_response("The document.", {"type": "object"}), "404": ERROR}),
    Route(f"{V1}/documents/{{document_id}}/segments/{{position}}", "put", "Confirm a segment's translation",
          "documents", "propose",
          description="Stored in the document and as a unit of its memory (a draft for a translator, approved "
                      "for an editor). `version` is the segment's version the translation started from: when "
                      "someone confirmed it meanwhile the answer is 409 with `current`, their text and version.",
          parameters=[DOCUMENT_ID, param("position", "path", ID, "The segment's number, from 1.")],
          body=json_body({"type": "object", "required": ["target", "version"], "properties": {
              "target": NONEMPTY, "version": {"type": "integer", "minimum": 0}}},
              {"target": UNIT_EXAMPLE["en"], "version": 0}),
          responses={"200": json_response("The confirmed segment.", {"type": "object"}), "409": ERROR}),
    Route(f"{V1}/documents/{{document_id}}/export", "get", "The translated document as a file", "documents",
          "propose", parameters=[DOCUMENT_ID, param("format", "query", {
              "type": "string", "enum": ["txt", "docx", "tmx", "xliff12", "xliff20"], "default": "txt"},
              "txt: the translation (unconfirmed segments in the source language); docx: the same as a Word "
              "file, one paragraph per source paragraph; tmx: the confirmed pairs; "
              "xliff12/xliff20: every segment, confirmed ones with their target.")],
          responses={"200": {"description": "The file."}, "404": ERROR}),
    Route(f"{V1}/units/batch", "post", "Add or update many units in one transaction", "units", "edit",
          description="Idempotent: an item with an `id` updates that unit; one without is matched to the "
                      "memory's unit with the same pair, or created. One bad item rejects the batch, naming "
                      "its position.",
          body=json_body({"type": "object", "required": ["memory", "units"], "properties": {
              "memory": NONEMPTY, "units": {"type": "array", "minItems": 1, "items": {"allOf": [
                  ref("UnitFields"), {"type": "object", "properties": {"id": ID}}]}}}},
              {"memory": "news", "units": [{k: v for k, v in UNIT_EXAMPLE.items() if k != "memory"}]}),
          responses={"200": json_response("Counts and ids of created, updated and unchanged units.", {
              "type": "object", "properties": {"created": INTEGER, "updated": INTEGER, "unchanged": INTEGER,
                                               "ids": {"type": "object"}}})}),
    Route(f"{V1}/units/{{unit_id}}", "get", "One unit", "units", "read", parameters=[UNIT_ID],
          responses={"200": json_response("The unit.", ref("Unit"))}),
    Route(f"{V1}/units/{{unit_id}}", "patch", "Change a unit", "units", "edit", parameters=[UNIT_ID],
          body=json_body(ref("UnitFields"), {"en": "A better translation.", "status": "approved"}),
          responses={"200": json_response("The changed unit.", ref("Unit")), "409": ERROR}),
    Route(f"{V1}/units/{{unit_id}}", "put", "Change a unit (same as PATCH)", "units", "edit", parameters=[UNIT_ID],
          body=json_body(ref("UnitFields"), {"en": "A better translation."}),
          responses={"200": json_response("The changed unit.", ref("Unit")), "409": ERROR}),
    Route(f"{V1}/units/{{unit_id}}", "delete", "Delete a unit (its history stays)", "units", "edit",
          parameters=[UNIT_ID], responses={"204": {"description": "Deleted."}}),
    Route(f"{V1}/units/{{unit_id}}/history", "get", "Every change to a unit, with who and when", "units", "read",
          parameters=[UNIT_ID], responses={"200": json_response("The events, oldest first.", ref("History"))}),
    Route(f"{V1}/tm/concordance", "get", "Units containing a word or phrase, with hit offsets", "lookup", "read",
          parameters=[param("q", "query", NONEMPTY, "The text to find.", required=True, example="社科院"),
                      param("lang", "query", {"type": "string", "enum": ["zh", "en"]}, DETECTED),
                      param("memory", "query", MEMORY_LIST, "Only these memories."), PAGE,
                      param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 100}, "Hits per page.")],
          responses={"200": json_response("A page of hits.", ref("Concordance"))}),
    Route(f"{V1}/tm/lookup", "get", "Fuzzy matches for one segment", "lookup", "read",
          parameters=_LOOKUP_PARAMS,
          responses={"200": json_response("Matches, best first.", ref("LookupAnswer"), LOOKUP_EXAMPLE)}),
    Route(f"{V1}/tm/lookup", "post", "Fuzzy matches for one segment (JSON body)", "lookup", "read",
          body=json_body(ref("LookupRequest"), {"q": "2019年双边贸易总额达到300亿美元。", "src": "zh", "tgt": "en"}),
          responses={"200": json_response("Matches, best first.", ref("LookupAnswer"), LOOKUP_EXAMPLE)}),
    Route(f"{V1}/tm/lookup/batch", "post", "Fuzzy matches for many segments at once", "lookup", "read",
          body=json_body(ref("BatchRequest"),
                         {"segments": ["双边贸易", {"q": "贸易总额", "prev": "上一句。"}], "src": "zh"}),
          responses={"200": json_response("One answer per segment, in order.", {"type": "object", "properties": {
              "results": {"type": "array", "items": ref("LookupAnswer")}}})}),
    Route(f"{V1}/xliff/pretranslate", "post", "Pre-translate a translator's XLIFF file and get it back whole",
          "lookup", "read",
          description="Send an XLIFF 1.2 or 2.x file (Chinese to English or English to Chinese, from its "
                      "`source-language`/`srcLang`) as multipart field `file`. The answer is the same file "
                      "(same version, encoding and XML declaration, under its own name in "
                      "`Content-Disposition`), byte for byte as sent except where it was filled: each empty "
                      "target whose best match reaches `min_score` is written (1.2: `state` "
                      "`translated`/`needs-review-translation` with `state-qualifier` `exact-match`/"
                      "`fuzzy-match`; 2.x: the segment's `state` and `subState=\"duizhao:exact|fuzzy\"`), "
                      "and the best matches are offered beside it (1.2 `<alt-trans origin=\"duizhao\">`, "
                      "2.x `<mtc:match origin=\"duizhao\">`). Inline codes (`g`, `x`, `bx`, `ex`, `ph`, "
                      "`bpt`, `ept`, `pc`, `sc`, `ec` ...) are matched as placeholders and carried into the "
                      "target in order; a match whose target cannot take them is only offered as a "
                      "candidate. Segments that have a target are left alone. Nothing is stored. The "
                      "report comes in `X-Pretranslate-*` headers, or alone as JSON with "
                      "`Accept: application/json`. A file over 16 MB or 5,000 segments (PRETRANSLATE_INLINE_BYTES, "
                      "_SEGMENTS), or any with `Prefer: respond-async`, is pre-translated by a job: 202 with "
                      "`Location: /api/v1/jobs/<id>`, whose `result` is the JSON report and whose file is at "
                      "`/api/v1/jobs/<id>/result` (a job needs a login or a token). 413 for a file over 200 MB "
                      "(a job's segments past 200,000 fail it with 413); 422 when "
                      "every segment has a target; 400 (with the line) for a file that is not XLIFF, is "
                      "broken XML or has other languages.",
          parameters=[param("memory", "query", MEMORY_LIST, "Memories to take matches from (all when none); "
                            "also accepted as form fields."),
                      param("min_score", "query", {"type": "number", "minimum": 0, "maximum": 101, "default": 75},
                            "Fill and offer matches from this score; also a form field."),
                      param("mode", "query", {"type": "string", "enum": ["fill", "candidates", "both"],
                                              "default": "both"},
                            "Fill the targets, offer candidates only, or both; also a form field."), PREFER],
          body={"required": True, "content": {"multipart/form-data": {"schema": {
              "type": "object", "required": ["file"], "properties": {
                  "file": {"type": "string", "format": "binary"}, "memory": MEMORY_LIST,
                  "min_score": {"type": "number"}, "mode": STRING}}}}},
          responses={"200": {"description": "The file, pre-translated; or, for `Accept: application/json`, "
                                            "the report.",
                             "headers": {header: {"schema": STRING} for header in (
                                 "X-Xliff-Version", "X-Pretranslate-Direction", "X-Pretranslate-Segments",
                                 "X-Pretranslate-Filled-Exact", "X-Pretranslate-Filled-Fuzzy",
                                 "X-Pretranslate-Skipped-Translated", "X-Pretranslate-Left-Empty",
                                 "X-Pretranslate-Codes-Not-Placed", "X-Pretranslate-With-Candidates")},
                             "content": {
                                 "application/x-xliff+xml": {"schema": {"type": "string", "format": "binary"}},
                                 "application/xliff+xml": {"schema": {"type": "string", "format": "binary"}},
                                 "application/json": {"schema": {"type": "object", "properties": {
                                     "filename": STRING, "report": ref("PretranslateReport")}}}}},
                     "202": ACCEPTED_JOB, "413": ERROR, "422": ERROR}),
    Route(f"{V1}/openapi.json", "get", "This document", "meta", "public",
          responses={"200": json_response("The OpenAPI 3.1 document.", {"type": "object"})}),
]


# ------------------------------------------------------------------ glossary (/api/v1/glossary)
# Written from glossary/api.py as it stands; the route-matching test tells when it drifts.

G1 = f"{V1}/glossary"
ENTRY_ID = param("entry_id", "path", ID, "The entry's id.", example=1)
TERM = {"type": "object", "required": ["lang", "text"], "properties": {
    "lang": LANG, "text": NONEMPTY,
    "status": {"type": "string", "enum": ["preferred", "admitted", "deprecated", "forbidden"]},
    "case_sensitive": {"type": "boolean"}, "do_not_translate": {"type": "boolean"},
    "valid_from": {"type": ["string", "null"], "format": "date"},
    "valid_to": {"type": ["string", "null"], "format": "date"},
    "note": STRING, "term_type": {"type": ["string", "null"]}}}
CONCEPT_TYPE = {"type": "string", "enum": list(CONCEPT_TYPES), "default": "other"}
COMPONENTS["schemas"].update({
    "Term": TERM,
    "EntryFields": {"type": "object", "required": ["terms"], "properties": {
        "terms": {"type": "array", "minItems": 1, "items": ref("Term")},
        "concept_type": CONCEPT_TYPE, "definition": STRING, "note": STRING, "source": STRING,
        "valid_from": {"type": ["string", "null"], "format": "date"},
        "valid_to": {"type": ["string", "null"], "format": "date"},
        "version": {"type": "integer", "description": "For PUT: the version you loaded (optimistic locking)."}}},
    "Entry": {"type": "object", "properties": {
        "id": INTEGER, "version": INTEGER, "concept_type": CONCEPT_TYPE, "deleted": {"type": "boolean"},
        "terms": {"type": "array", "items": ref("Term")}}},
    "Proposal": {"type": "object", "properties": {
        "id": INTEGER, "entry_id": {"type": ["integer", "null"]}, "payload": {}, "proposed_by": STRING,
        "proposed_at": STRING, "state": STRING, "decided_by": {"type": ["string", "null"]}}},
})
ENTRY_EXAMPLE = {"concept_type": "institution", "terms": [
    {"lang": "zh", "text": "中国社会科学院"}, {"lang": "en", "text": "Chinese Academy of Social Sciences"}]}
OBJECT = {"type": "object"}

ROUTES += [
    Route(f"{G1}/entries", "get", "Search glossary entries", "glossary", "read",
          parameters=[param("q", "query", STRING, "Text a term contains."),
                      param("type", "query", STRING, "Only this concept type."), PAGE,
                      param("per_page", "query", {"type": "integer", "minimum": 1, "maximum": 200},
                            "Entries per page.")],
          responses={"200": json_response("A page of entries.", OBJECT)}),
    Route(f"{G1}/entries", "post", "Create a glossary entry", "glossary", "edit",
          body=json_body(ref("EntryFields"), ENTRY_EXAMPLE),
          responses={"201": json_response("Created.", ref("Entry"))}),
    Route(f"{G1}/entries/{{entry_id}}", "get", "One glossary entry (deleted ones too)", "glossary", "read",
          parameters=[ENTRY_ID], responses={"200": json_response("The entry.", ref("Entry"))}),
    Route(f"{G1}/entries/{{entry_id}}", "put", "Replace a glossary entry", "glossary", "edit",
          parameters=[ENTRY_ID], body=json_body(ref("EntryFields"), {**ENTRY_EXAMPLE, "version": 1}),
          responses={"200": json_response("The changed entry.", ref("Entry")), "409": ERROR}),
    Route(f"{G1}/entries/{{entry_id}}", "delete", "Delete a glossary entry", "glossary", "edit",
          parameters=[ENTRY_ID,
                      param("version", "query", {"type": "integer", "minimum": 0}, "The version you loaded.")],
          responses={"204": {"description": "Deleted."}, "409": ERROR}),
    Route(f"{G1}/entries/{{entry_id}}/history", "get", "Every change to a glossary entry", "glossary", "read",
          parameters=[ENTRY_ID], responses={"200": json_response("The events.", OBJECT)}),
    Route(f"{G1}/entries/{{entry_id}}/merge", "post", "Merge a duplicate entry into this one", "glossary", "edit",
          parameters=[ENTRY_ID], body=json_body({"type": "object", "required": ["merge"], "properties": {"merge": ID}},
                                                {"merge": 2}),
          responses={"200": json_response("The merged entry.", ref("Entry"))}),
    Route(f"{G1}/proposals", "get", "Glossary proposals", "glossary", "read",
          parameters=[param("state", "query", STRING, "open (default), accepted, rejected.")],
          responses={"200": json_response("The proposals.", OBJECT)}),
    Route(f"{G1}/proposals", "post", "Propose an entry, or terms for one", "glossary", "propose",
          body=json_body(OBJECT, {"entry": ENTRY_EXAMPLE}),
          responses={"201": json_response("Proposed.", ref("Proposal"))}),
    Route(f"{G1}/proposals/{{proposal_id}}/{{decision}}", "post", "Accept or reject a proposal", "glossary", "edit",
          parameters=[param("proposal_id", "path", ID, "The proposal's id."),
                      param("decision", "path", {"type": "string", "enum": ["accept", "reject"]}, "What to do.")],
          responses={"200": json_response("The decided proposal.", ref("Proposal"))}),
    Route(f"{G1}/recognize", "get", "Glossary terms in a text", "glossary", "read",
          parameters=[param("text", "query", NONEMPTY, "The text.", required=True, example="中国社会科学院发布报告"),
                      param("lang", "query", LANG, DETECTED),
                      param("date", "query", {"type": "string", "format": "date"}, "Terms valid on this day.")],
          responses={"200": json_response("The terms found, with offsets.", OBJECT)}),
    Route(f"{G1}/recognize", "post", "Glossary terms in a text (JSON body)", "glossary", "read",
          body=json_body({"type": "object", "required": ["text"], "properties": {
              "text": NONEMPTY, "lang": LANG, "date": {"type": "string", "format": "date"}}},
              {"text": "中国社会科学院发布报告"}),
          responses={"200": json_response("The terms found, with offsets.", OBJECT)}),
    Route(f"{G1}/qa", "post", "Check a translation's terminology", "glossary", "read",
          body=json_body({"type": "object", "required": ["source", "translation"], "properties": {
              "source": NONEMPTY, "translation": NONEMPTY, "src": LANG, "tgt": LANG,
              "date": {"type": "string", "format": "date"}}},
              {"source": "中国社会科学院发布报告", "translation": "CASS published a report"}),
          responses={"200": json_response("The issues found.", OBJECT)}),
    Route(f"{G1}/import", "post", "Import a TBX, CSV or TSV glossary", "glossary", "edit",
          parameters=[param("format", "query", {"type": "string", "enum": ["tbx", "csv", "tsv"]},
                            "The file's format.")],
          body={"required": True, "content": {"multipart/form-data": {"schema": {
              "type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "format": "binary"}}}}}},
          responses={"201": json_response("What was imported.", OBJECT)}),
    Route(f"{G1}/export", "get", "Export the glossary", "glossary", "read",
          parameters=[param("format", "query", {"type": "string", "default": "tbx"}, "tbx, tbx3, csv or tsv.")],
          responses={"200": {"description": "The file.", "content": {"application/x-tbx+xml": {"schema": STRING}}}}),
]


def add_route(route: Route) -> None:
    """Document one more route (the glossary API adds its own this way)."""
    ROUTES.append(route)


# ------------------------------------------------------------------ alignment (/api/v1/align)
A1 = f"{V1}/align"
JOB_ID = param("job_id", "path", ID, "The alignment job's id.", required=True)
_SENTENCE = {"type": "object", "properties": {"text": STRING, "start": INTEGER, "end": INTEGER, "paragraph": INTEGER}}
_BEAD = {"type": "object", "required": ["zh", "en"], "properties": {
    "zh": {"type": "array", "items": INTEGER}, "en": {"type": "array", "items": INTEGER},
    "score": {"type": ["number", "null"], "minimum": 0, "maximum": 1}, "approved": {"type": "boolean"}}}
_TEXTS = {"type": "object", "required": ["zh", "en"], "properties": {
    "zh": NONEMPTY, "en": NONEMPTY, "hard_wrapped": {"type": "boolean"},
    "title": STRING, "url": STRING, "date": STRING}}
_TEXTS_BODY = {"required": True, "content": {
    "application/json": {"schema": _TEXTS, "example": {
        "zh": "北京今天发布了新的空气质量报告。专家认为，这主要得益于减少燃煤。",
        "en": "Beijing released a new air quality report today. "
              "Experts believe this is mainly thanks to burning less coal."}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "zh": {"type": "string", "format": "binary"}, "en": {"type": "string", "format": "binary"},
        "title": STRING, "url": STRING, "date": STRING, "hard_wrapped": STRING}}}}}
_ALIGNMENT = {"type": "object", "properties": {
    "zh": {"type": "array", "items": _SENTENCE}, "en": {"type": "array", "items": _SENTENCE},
    "beads": {"type": "array", "items": _BEAD}, "warnings": {"type": "array", "items": STRING},
    "encodings": {"type": "object"}}}
_JOB = {"type": "object", "properties": {
    "id": INTEGER, "title": STRING, "url": {"type": ["string", "null"]}, "date": {"type": ["string", "null"]},
    "status": STRING, "version": INTEGER, "warnings": {"type": "array", "items": STRING},
    "zh": {"type": "array", "items": _SENTENCE}, "en": {"type": "array", "items": _SENTENCE},
    "beads": {"type": "array", "items": _BEAD}, "approved": INTEGER}}
ROUTES.extend([
    Route(A1, "post", "Align a Chinese text with its English version (stores nothing)", "alignment", "read",
          description="Texts as JSON strings or multipart files (UTF-8, GB18030 or Big5; the encoding used is "
                      "reported). Returns the sentences with offsets into the texts, the beads (sentence numbers "
                      "of each side and a 0–1 score) and warnings (lopsided lengths, legacy encodings) in the "
                      "reader's language.",
          body=_TEXTS_BODY, responses={"200": json_response("The alignment.", _ALIGNMENT)}),
    Route(f"{A1}/jobs", "post", "Align and keep the result as a job to review", "alignment", "edit",
          description="Texts of at most 1,000 sentences a side (ALIGN_INLINE_SENTENCES) and 500,000 characters "
                      "are aligned within the request: 201 with the alignment. Longer ones, or any with `Prefer: "
                      "respond-async`, are aligned by a job (`align.run`): 202 with `Location: /api/v1/jobs/<id>`; "
                      "the done job's result names the stored alignment (`alignment`, its id here, and "
                      "`review_url`, the review page), the same alignment the request would have made. Progress "
                      "counts three steps (segmenting, aligning, storing); a cancel is heard between them. More "
                      "than 20,000 sentences a side: 413.",
          parameters=[PREFER], body=_TEXTS_BODY,
          responses={"201": json_response("The new job, version 1.", _JOB),
                     "202": {**json_response("Accepted: a job aligns the texts; poll `Location`.", ref("Job")),
                             "headers": {"Location": {"description": "The job: GET /api/v1/jobs/<id>.",
                                                      "schema": STRING}}},
                     "413": ERROR}),
    Route(f"{A1}/jobs/{{job_id}}", "get", "An alignment job under review", "alignment", "edit",
          parameters=[JOB_ID], responses={"200": json_response("The job.", _JOB)}),
    Route(f"{A1}/jobs/{{job_id}}", "put", "Save the reviewed beads", "alignment", "edit",
          description="The beads must cover every sentence of both sides exactly once, in order. `version` is "
                      "the version last read; a job saved since answers 409 with `current_version`.",
          parameters=[JOB_ID],
          body=json_body({"type": "object", "required": ["beads", "version"], "properties": {
              "beads": {"type": "array", "items": _BEAD}, "version": INTEGER}},
              {"beads": [{"zh": [0], "en": [0], "score": 0.93, "approved": True}], "version": 1}),
          responses={"200": json_response("The new version.", {"type": "object", "properties": {
              "id": INTEGER, "version": INTEGER, "status": STRING, "changed_at": STRING}}), "409": ERROR}),
    Route(f"{A1}/jobs/{{job_id}}/store", "post", "Store the approved pairs in a memory", "alignment", "edit",
          description="Approved beads with both sides become units (made if the memory is new) with the job's "
                      "title, URL and date and the neighbouring Chinese sentences as context; pairs already in "
                      "the memory are counted, not doubled.",
          parameters=[JOB_ID], body=json_body({"type": "object", "required": ["memory"], "properties": {
              "memory": NONEMPTY}}, {"memory": "news"}),
          responses={"201": json_response("What was stored.", {"type": "object", "properties": {
              "job_id": INTEGER, "memory": STRING, "approved": INTEGER, "added": INTEGER,
              "duplicates": INTEGER, "skipped_one_sided": INTEGER}})}),
])


def build_document(server_url: str | None = None) -> dict:
    """The OpenAPI document as a dict, ready for ``jsonify``."""
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = route.operation()
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Duizhao (对照) translation memory API", "version": API_VERSION,
                 "description": "Chinese–English translation memory: lookup, concordance, units, "
                                "memories, import and export. Errors are JSON: "
                                "`{\"error\": {\"status\", \"message\", \"parameter\"|\"field\"|\"line\"}}`."},
        "paths": paths,
        "components": copy.deepcopy(COMPONENTS),
        "tags": [{"name": "lookup"}, {"name": "units"},
                 {"name": "documents"}, {"name": "memories"}, {"name": "jobs"}, {"name": "glossary"},
                 {"name": "meta"}],
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def openapi_path(werkzeug_rule: str) -> str:
    """``/api/v1/units/<int:unit_id>`` -> ``/api/v1/units/{unit_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", werkzeug_rule)
