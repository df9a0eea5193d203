"""The OpenAPI document matches the routes, the reference page renders it, and a bounded
schemathesis run against the app in-process finds no server error."""
from __future__ import annotations

import re
import shutil
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from apiref.openapi import build_document, openapi_path
from tests.align_support import lexical_embed
from tests.helpers import auth, import_pairs, wmt_pairs
from web.extensions import install_align_embedder

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
#: Server errors this run has found in code outside apiref/cattools, reported to the lead and
#: tolerated here by name until fixed (remove the line with the fix): (request start, cause).
KNOWN_SERVER_ERRORS: list[tuple[str, str]] = []


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    # Only the schemathesis run touches data, and twice its time on PostgreSQL would blow the
    # suite's budget: SQLite here; the routes' behaviour on PostgreSQL is tested elsewhere.
    path = tmp_path / "duizhao.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(app):
    # The lexical stand-in for the sentence encoder: the real model would take minutes here.
    install_align_embedder(app, lexical_embed)
    return app


def routes_under_v1(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            found.setdefault(openapi_path(rule.rule), set()).update(rule.methods & HTTP_METHODS)
    return found


def test_the_document_describes_exactly_the_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {path: {m.upper() for m in ops} for path, ops in document["paths"].items()}
    assert documented == routes_under_v1(app)
    for path, operations in document["paths"].items():
        for op in operations.values():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), path


def test_the_reference_page_shows_every_endpoint(client):
    page = client.get("/api/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path, operations in build_document()["paths"].items():
        for method in operations:
            assert f"{method.upper()} {path}" in html
    assert "min_score" in html and "adapted_target" in html  # parameters and examples


def test_schemathesis_finds_no_server_error(app, client, token_for):
    import schemathesis

    admin = token_for("admin")
    import_pairs(client, admin, wmt_pairs(20))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 to record, as in production
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    started = time.monotonic()
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{o.method.upper()} {o.path}" for o in operations} == {
        f"{method.upper()} {path}" for path, ops in build_document()["paths"].items() for method in ops
    } - {"GET /api/v1/openapi.json"}  # schemathesis leaves out the document's own URL
    for operation in operations:
        writes = operation.method.upper() != "GET"
        # Reads anonymously and with a token; writes with an admin's write token.
        for headers in ([auth(admin)] if writes else [{}, auth(admin)]):
            exercise(operation, headers, 8 if writes else 5, failures)
    unexpected = [f for f in failures if not any(f.startswith(known) and cause in f
                                                 for known, cause in KNOWN_SERVER_ERRORS)]
    assert not unexpected, "\n".join(unexpected[:10])
    assert time.monotonic() - started < 60


def exercise(operation, headers: dict, examples: int, failures: list[str]) -> None:
    """Run ``examples`` generated requests of one operation; collect every 5xx."""

    # derandomize: the same examples every run, so CI is stable and a failure reproduces.
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy())
    def run(case):
        try:
            response = case.call(headers=headers)
        except Exception as err:  # schemathesis re-raises what the app raised (a 500 in production)
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} -> "
                            f"{type(err).__name__}: {str(err)[:200]}")
            return
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]} "
                            f"-> {response.status_code}: {response.text[:300]}")

    run()


def test_the_lookup_example_is_what_the_service_answers(client, token_for):
    """The documented example is checked against the real answer, so it cannot rot."""
    from apiref.openapi import LOOKUP_EXAMPLE, UNIT_EXAMPLE

    admin = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(admin))
    client.post("/api/v1/units", json=UNIT_EXAMPLE, headers=auth(admin))
    answer = client.get("/api/v1/tm/lookup",
                        query_string={"q": LOOKUP_EXAMPLE["query"], "src": "zh", "tgt": "en"}).get_json()
    keys = ("source", "target", "memory", "score", "base_score", "penalties", "adapted", "adapted_target", "in_context",
            "diff")
    assert {k: answer["matches"][0][k] for k in keys} == {k: LOOKUP_EXAMPLE["matches"][0][k] for k in keys}


def test_the_glossary_entry_example_is_accepted(client, token_for):
    """The documented entry example must pass the glossary's own validation."""
    from apiref.openapi import ENTRY_EXAMPLE

    answer = client.post("/api/v1/glossary/entries", json=ENTRY_EXAMPLE, headers=auth(token_for("editor")))
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["concept_type"] == ENTRY_EXAMPLE["concept_type"]
