"""What the fuzz suite (test_fuzz.py) and bench/fuzz_bench.py found, one minimal request each,
run on both engines. A request must answer below 500 and within 5 s. Each case records where it
failed when found and which item of issue 12 it belonged to.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from tests.fuzzing import TIME_LIMIT, RequestTimedOut, encode, multipart, watchdog
from tests.helpers import auth, job_outcome

BOTH = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Repro:
    id: str
    method: str
    url: str
    body: bytes | None = None
    content_type: str | None = None
    needs_token: bool = False
    #: Engines where it failed when found, and why: the issue's item, or NEW.
    found_on: tuple[str, ...] = ()
    item: str = ""
    #: Statuses a fixed server may give (None: anything below 500).
    expect: tuple[int, ...] | None = None


def get(id, url, **kw):
    return Repro(id, "GET", url, **kw)


def post_json(id, url, value, **kw):
    return Repro(id, "POST", url, json.dumps(value, allow_nan=True).encode(), "application/json", **kw)


def upload(id, url, filename, data: bytes, **kw):
    body, content_type = multipart(filename, data)
    return Repro(id, "POST", url, body, content_type, needs_token=True, **kw)


LOOKUP = "/api/v1/tm/lookup"
ZH = "中国"
TSV = "zh\ten\n中国政府高度重视环境保护。\tThe Chinese government attaches great importance to the environment.\n"
TMX_YEAR_1 = b"""<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="t" creationtoolversion="1" segtype="sentence" o-tmf="t" adminlang="en"
srclang="zh-CN" datatype="plaintext"/><body>
<tu creationdate="0001-01-01T00:00:00+01:00"><tuv xml:lang="zh-CN"><seg>\xe4\xb8\xad\xe5\x9b\xbd</seg></tuv>
<tuv xml:lang="en"><seg>China</seg></tuv></tu></body></tmx>"""
XLIFF_UNDECLARED_PREFIX = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en" trgLang="zh-CN">'
    b'<x:undeclared>t</x:undeclared>\n'
    b'<file id="f1"><unit id="u1"><segment state="final">'
    b'<source>China</source><target>\xe4\xb8\xad\xe5\x9b\xbd</target></segment></unit>\n'
    b'</file></xliff>'
)
ITEM1 = "issue 12 item 1 (min_score near 0 stalls the index)"
ITEM4 = "issue 12 item 4 (over-long values are a database error on PostgreSQL)"
ITEM8 = "issue 12 item 8 (other 500s)"
NUL = ("NEW, not in issue 12's list (near item 4): PostgreSQL text cannot hold NUL (0x00) and the error "
       "is a 500; SQLite stores it")

REPROS = [
    # -- item 1: the unbounded length window
    get("lookup-get-min-score-0", f"{LOOKUP}?q={encode(ZH)}&min_score=0", found_on=BOTH, item=ITEM1, expect=(200,)),
    post_json("lookup-post-min-score-0", LOOKUP, {"q": ZH, "min_score": 0}, found_on=BOTH, item=ITEM1, expect=(200,)),
    post_json("batch-min-score-0", f"{LOOKUP}/batch", {"segments": [ZH], "min_score": 0}, found_on=BOTH,
              item=ITEM1, expect=(200,)),
    get("mymemory-min-score-0", f"/api/mymemory/get?q={encode(ZH)}&langpair=zh%7Cen&min_score=0", found_on=BOTH,
        item=ITEM1, expect=(200,)),
    get("lookup-min-score-denormal", f"{LOOKUP}?q={encode(ZH)}&min_score=5e-324", found_on=BOTH, expect=(200,),
        item="issue 12 item 1's code, a case the issue does not list: ZeroDivisionError in "
               "tm/core/match.py length_window for min_score=5e-324"),
    # -- item 8: numbers that are not finite
    get("lookup-limit-inf", f"{LOOKUP}?q={encode(ZH)}&limit=inf", found_on=BOTH, item=ITEM8, expect=(400,)),
    get("lookup-limit-minus-inf", f"{LOOKUP}?q={encode(ZH)}&limit=-inf", found_on=BOTH, item=ITEM8, expect=(400,)),
    get("lookup-limit-1e999", f"{LOOKUP}?q={encode(ZH)}&limit=1e999", found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("lookup-json-limit-infinity", LOOKUP, {"q": ZH, "limit": float("inf")}, found_on=BOTH, item=ITEM8,
              expect=(400,)),
    # -- item 8: JSON values of the wrong type
    post_json("lookup-src-list", LOOKUP, {"q": ZH, "src": ["zh"]}, found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("lookup-src-object", LOOKUP, {"q": ZH, "src": {"q": ZH}}, found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("lookup-tgt-number", LOOKUP, {"q": ZH, "tgt": 10}, found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("batch-src-number", f"{LOOKUP}/batch", {"segments": [ZH], "src": 1}, found_on=BOTH, item=ITEM8,
              expect=(400,)),
    post_json("recognize-lang-list", "/api/v1/glossary/recognize", {"text": ZH, "lang": ["zh"]}, found_on=BOTH,
              item=ITEM8, expect=(400,)),
    post_json("recognize-lang-number", "/api/v1/glossary/recognize", {"text": ZH, "lang": 10}, found_on=BOTH,
              item=ITEM8, expect=(400,)),
    post_json("recognize-date-list", "/api/v1/glossary/recognize", {"text": ZH, "date": ["2019-05-14"]},
              found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("qa-tgt-list", "/api/v1/glossary/qa", {"source": ZH, "translation": "China", "tgt": ["en"]},
              found_on=BOTH, item=ITEM8, expect=(400,)),
    post_json("qa-date-number", "/api/v1/glossary/qa", {"source": ZH, "translation": "China", "date": 20190514},
              found_on=BOTH, item=ITEM8, expect=(400,)),
    # -- item 8: lone surrogates (JSON "\ud800"), on both engines where the issue saw SQLite only
    post_json("lookup-q-surrogate", LOOKUP, {"q": "中\ud800国"}, found_on=BOTH, item=ITEM8, expect=(200, 400)),
    post_json("lookup-memory-surrogate", LOOKUP, {"q": ZH, "memory": "\ud800"}, found_on=BOTH, expect=(400, 404),
              item=ITEM8 + " (the issue names q, text, source and zh; memory is one more)"),
    post_json("recognize-text-surrogate", "/api/v1/glossary/recognize", {"text": "中\ud800国", "lang": "zh"},
              found_on=BOTH, item=ITEM8, expect=(200, 400)),
    post_json("qa-translation-surrogate", "/api/v1/glossary/qa",
              {"source": "0x10", "translation": "opened higher \ud800today."},
              found_on=BOTH, item=ITEM8, expect=(200, 400)),
    # -- item 8: files that make the importers raise something other than a format error
    upload("import-tmx-date-year-1-with-offset", "/api/v1/memories/fuzz/import", "a.tmx", TMX_YEAR_1,
           found_on=BOTH, item=ITEM8, expect=(400,)),
    upload("import-xliff-undeclared-prefix", "/api/v1/memories/fuzz/import", "a.xlf", XLIFF_UNDECLARED_PREFIX,
           found_on=BOTH, item=ITEM8, expect=(400,)),
    # -- item 4: over-long values on PostgreSQL
    upload("import-memory-name-130", f"/api/v1/memories/{'m' * 130}/import", "a.tsv", TSV.encode(),
           found_on=("postgresql",), item=ITEM4),
    upload("import-filename-600", "/api/v1/memories/fuzz/import", "x" * 600 + ".tsv", TSV.encode(),
           found_on=("postgresql",), item=ITEM4),
    upload("glossary-import-term-1100", "/api/v1/glossary/import", "g.tsv",
           f"entry_id\tlang\tterm\ng1\tzh\t{'中' * 1100}\ng1\ten\tChina\n".encode(), found_on=("postgresql",),
           item=ITEM4),
    # -- NEW: NUL characters on PostgreSQL
    upload("import-memory-name-nul", "/api/v1/memories/a%00b/import", "a.tsv", TSV.encode(),
           found_on=("postgresql",), item=NUL),
    upload("import-tsv-cell-nul", "/api/v1/memories/fuzz/import", "a.tsv",
           "zh\ten\tnote\n中国\tChina\ta\x00b\n".encode(), found_on=("postgresql",), item=NUL),
    upload("glossary-import-id-nul", "/api/v1/glossary/import", "g.tsv",
           "entry_id\tlang\tterm\nx\x00\tzh\t中国\nx\x00\ten\tChina\n".encode(), found_on=("postgresql",), item=NUL),
    get("lookup-memory-nul", f"{LOOKUP}?q={encode(ZH)}&memory=a%00b", found_on=("postgresql",), item=NUL,
        expect=(400, 404)),
    post_json("unit-zh-nul", "/api/v1/units", {"memory": "fuzz", "zh": "中\x00国", "en": "China"}, needs_token=True,
              found_on=("postgresql",), item=NUL, expect=(400,)),
    post_json("units-batch-prop-nul", "/api/v1/units/batch",
              {"memory": "fuzz", "units": [{"zh": "中国", "en": "China", "props": [["x", "a\x00"]]}]},
              needs_token=True, found_on=("postgresql",), item=NUL, expect=(400,)),
    get("concordance-q-nul", "/api/v1/tm/concordance?q=%E4%B8%AD%00", item=NUL),
    get("glossary-search-nul", "/api/v1/glossary/entries?q=%E4%B8%AD%00", item=NUL),
]


def engine_cases():
    for repro in REPROS:
        for engine in BOTH:
            yield pytest.param(engine, repro, id=f"{engine}-{repro.id}")


@pytest.mark.parametrize(("database_url", "repro"), list(engine_cases()), indirect=["database_url"])
def test_answers_below_500_within_the_limit(client, token_for, repro):
    admin = token_for("admin")
    # A unit in the index: an empty index answers every lookup at once, stall or not.
    seeded = job_outcome(client, client.post("/api/v1/memories/fuzz/import", data=TSV.encode(),
                                             query_string={"format": "tsv", "filename": "seed.tsv"},
                                             headers=auth(admin)), auth(admin))
    assert seeded.status_code == 201, seeded.get_json()
    # And a term: with an empty glossary, recognition and QA return before reading the text.
    body, content_type = multipart("seed.tsv", "entry_id\tlang\tterm\ng1\tzh\t中国\ng1\ten\tChina\n".encode())
    seeded = client.post("/api/v1/glossary/import", data=body, headers={**auth(admin), "Content-Type": content_type})
    assert seeded.status_code == 201, seeded.get_json()
    headers = auth(admin) if repro.needs_token else {}
    if repro.content_type:
        headers["Content-Type"] = repro.content_type
    started = time.perf_counter()
    try:
        with watchdog(TIME_LIMIT):
            response = client.open(repro.url, method=repro.method, data=repro.body, headers=headers)
    except RequestTimedOut:
        pytest.fail(f"no answer within {TIME_LIMIT:g} s")
    assert time.perf_counter() - started < TIME_LIMIT
    if response.status_code == 202 and "/api/v1/jobs/" in response.headers.get("Location", ""):
        response = job_outcome(client, response, auth(admin))  # an import: its job tells how it went
        text = str(response.get_json())[:300]
    else:
        text = response.get_data(as_text=True)[:300]
    assert response.status_code < 500, text
    if repro.expect:
        assert response.status_code in repro.expect, text
