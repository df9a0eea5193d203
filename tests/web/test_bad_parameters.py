"""Odd parameters get a 400 naming what is wrong, never a 500 (issue 12, item 8): numbers
that are infinite, not numbers or too large, JSON values of the wrong type, lone surrogates.
Every case on SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest

from tests.helpers import auth

GOOD = {"q": "中国", "src": "zh", "tgt": "en"}
INF = float("inf")
ENTRY = {"concept_type": "place", "terms": [{"lang": "zh", "text": "中国"}, {"lang": "en", "text": "China"}]}

#: (name, method, path, how to send, what to send, the parameter or field the 400 names)
CASES = [
    *[(f"lookup {name}={value}", "GET", "/api/v1/tm/lookup", "query", {**GOOD, name: value}, name)
      for name in ("limit", "min_score") for value in ("inf", "-inf", "1e999", "nan", "NaN", "²", "1" * 400)],
    *[(f"lookup JSON {name}={value!r}", "POST", "/api/v1/tm/lookup", "json", {**GOOD, name: value}, name)
      for name in ("limit", "min_score") for value in (INF, -INF, 10**30, "Infinity", [], {}, True)],
    *[(f"lookup JSON {name}={value!r}", "POST", "/api/v1/tm/lookup", "json", {**GOOD, name: value}, name)
      for name in ("q", "src", "tgt", "prev", "next") for value in (5, 1.5, True, [], {"a": 1})],
    *[(f"lookup JSON date={value!r}", "POST", "/api/v1/tm/lookup", "json", {**GOOD, "date": value}, "date")
      for value in (5, True, [], {"a": 1})],
    *[(f"lookup JSON memory={value!r}", "POST", "/api/v1/tm/lookup", "json", {**GOOD, "memory": value}, "memory")
      for value in (5, True, {"a": 1}, [1])],
    *[(f"batch {name}={value!r}", "POST", "/api/v1/tm/lookup/batch", "json",
       {"segments": ["中国"], "src": "zh", name: value}, name)
      for name, value in (("limit", INF), ("min_score", INF), ("tgt", 5), ("date", 7), ("memory", 3))],
    *[(f"batch segment {value!r}", "POST", "/api/v1/tm/lookup/batch", "json", {"segments": [value]}, name)
      for value, name in ((5, "q"), (None, "q"), ({"q": 5}, "q"), ({"q": "中国", "prev": 3}, "prev"))],
    *[(f"recognize JSON {name}={value!r}", "POST", "/api/v1/glossary/recognize", "json",
       {"text": "中国", name: value}, name)
      for name in ("text", "lang", "date") for value in (5, True, [], {"a": 1})],
    *[(f"QA {name}={value!r}", "POST", "/api/v1/glossary/qa", "json",
       {"source": "中国", "translation": "China", name: value}, name)
      for name in ("source", "translation", "src", "tgt", "date") for value in (5, True, [], {"a": 1})],
    *[(f"unit {name}={value!r}", "POST", "/api/v1/units", "json",
       {"memory": "news", "zh": "中国", "en": "China", name: value}, name)
      for name in ("zh", "en", "memory", "note") for value in (5, True, [], {"a": 1})],
    # Lone surrogates: valid JSON, not text any database can store or any encoder write.
    ("lookup q lone surrogate", "POST", "/api/v1/tm/lookup", "json", {"q": "中\ud800国"}, "q"),
    ("batch q lone surrogate", "POST", "/api/v1/tm/lookup/batch", "json", {"segments": ["\udfff"]}, "segments"),
    ("recognize text lone surrogate", "POST", "/api/v1/glossary/recognize", "json", {"text": "\ud800"}, "text"),
    ("QA source lone surrogate", "POST", "/api/v1/glossary/qa", "json",
     {"source": "中国\ud800", "translation": "China"}, "source"),
    ("unit zh lone surrogate", "POST", "/api/v1/units", "json", {"memory": "news", "zh": "\ud800", "en": "x"}, "zh"),
    ("unit en lone surrogate", "POST", "/api/v1/units", "json", {"memory": "news", "zh": "中", "en": "a\udc00"}, "en"),
    ("unit note lone surrogate", "PATCH", "/api/v1/units/{unit}", "json", {"note": "\ud83d"}, "note"),
    ("lookup q lone surrogate in the URL", "GET", "/api/v1/tm/lookup?q=%ED%A0%80", "raw", None, None),
    ("mymemory q lone surrogate in the URL", "GET", "/api/mymemory/get?q=%ED%A0%80&langpair=zh|en", "raw", None, None),
    ("recognize lone surrogate in the URL", "GET", "/api/v1/glossary/recognize?text=%ED%A0%80", "raw", None, None),
    # Numbers in query strings.
    *[(f"{path} {name}={value}", "GET", path, "query", {"q": "中国", name: value}, name)
      for path in ("/api/v1/tm/concordance", "/api/v1/units", "/api/v1/glossary/entries")
      for name in ("page", "per_page") for value in ("99999999999999999999", "inf", "²", "-1")],
    ("glossary delete version=²", "DELETE", "/api/v1/glossary/entries/{entry}", "query", {"version": "²"}, "version"),
    ("glossary delete version=1e999", "DELETE", "/api/v1/glossary/entries/{entry}", "query", {"version": "1e999"},
     "version"),
    *[(f"glossary PUT version={value!r}", "PUT", "/api/v1/glossary/entries/{entry}", "json",
       {**ENTRY, "version": value}, "version") for value in (INF, True, 10**30, "²")],
    ("mymemory min_score=inf", "GET", "/api/mymemory/get", "query",
     {"q": "中国", "langpair": "zh|en", "min_score": "inf"}, "min_score"),
]


@pytest.fixture
def setup(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    unit = client.post("/api/v1/units", json={"memory": "news", "zh": "中国", "en": "China"}, headers=auth(token))
    entry = client.post("/api/v1/glossary/entries", headers=auth(token), json=ENTRY)
    return token, {"unit": unit.get_json()["id"], "entry": entry.get_json()["id"]}


def test_odd_parameters_get_a_400_that_names_them(client, setup):
    """Every case of CASES, in one app per engine (an app per case would cost minutes):
    the failures are listed together."""
    token, ids = setup
    wrong = []
    for name, method, path, how, payload, names in CASES:
        kwargs = {"headers": auth(token)}
        if how == "query":
            kwargs["query_string"] = payload
        elif how == "json":
            kwargs["json"] = payload
        response = client.open(path.format(**ids), method=method, **kwargs)
        body = response.get_json(silent=True) or {}
        error = body.get("error", {})
        if response.status_code != 400 or not error.get("message") or (
                names is not None and names not in (error.get("parameter"), error.get("field"))):
            wrong.append((name, response.status_code, error))
    assert wrong == []


def test_pages_take_any_page_number(client, setup):
    """HTML pages: a page number past the end (or not a number) shows a page, not a 500."""
    answers = {(path, page): client.get(path, query_string={"q": "中国", "page": page}).status_code
               for path in ("/concordance", "/workbench/concordance", "/glossary/")
               for page in ("99999999999999999999", "²", "inf", "-5", "1e999")}
    assert {key: status for key, status in answers.items() if status != 200} == {}


def test_revoking_a_token_that_is_not_a_number_says_so(client, make_user):
    make_user("wang", "translator", "secret-pass-1")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "wang", "password": "secret-pass-1", "csrf_token": csrf})
    page = client.get("/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/tokens", data={"revoke": "abc", "csrf_token": csrf})
    assert response.status_code == 400
