"""Races, on SQLite and PostgreSQL, against a real threaded server: requests released together
by a barrier, and the invariants that must hold afterwards (one winner, no 500, nothing
acknowledged lost, no deadlock).

Each race is run a few rounds: before the fixes every one of them failed in the first or
second round on both engines.
"""
from __future__ import annotations

import functools
import io
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from werkzeug.serving import make_server

from tests.helpers import auth

ROUNDS = 3
#: No request of these tests may take longer: a lock wait without end fails instead of hanging.
TIMEOUT = 30

ENTRY = {
    "concept_type": "institution",
    "terms": [{"lang": "zh", "text": "国家航天局"}, {"lang": "en", "text": "China National Space Administration"}],
}


@pytest.fixture
def server(app):
    """The app behind a real threaded HTTP server on a free port; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def race(count: int, work) -> list:
    """Run ``work(i)`` for i in range(count) in as many threads, released together."""
    barrier = threading.Barrier(count)

    def run(i):
        with requests.Session() as http:
            http.request = functools.partial(http.request, timeout=TIMEOUT)
            barrier.wait(timeout=10)
            return work(http, i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _create_entry(server, token, body=ENTRY) -> dict:
    response = requests.post(f"{server}/api/v1/glossary/entries", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()


# ------------------------------------------------------------------ glossary: lost updates

def test_two_editors_saving_one_entry_one_wins_the_other_gets_409(server, token_for):
    editors = [token_for("editor", username="wang"), token_for("editor", username="zhao")]
    for _round in range(ROUNDS):
        entry = _create_entry(server, editors[0])
        url = f"{server}/api/v1/glossary/entries/{entry['id']}"

        def save(http, i, entry=entry, url=url):
            body = {**ENTRY, "version": entry["version"], "definition": f"change {i}"}
            return http.put(url, json=body, headers=auth(editors[i]))

        answers = race(2, save)
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
        loser = answers[1 - winner].json()["error"]
        assert loser["current_version"] == entry["version"] + 1
        now = requests.get(url).json()
        assert now["definition"] == f"change {winner}" and now["version"] == entry["version"] + 1
        history = requests.get(f"{url}/history").json()["events"]
        assert [e["action"] for e in history] == ["create", "update"]
        assert history[-1]["after"]["definition"] == f"change {winner}"


def test_an_edit_and_a_delete_at_once_do_not_both_succeed(server, token_for):
    editor = token_for("editor")
    for _round in range(ROUNDS):
        entry = _create_entry(server, editor)
        url = f"{server}/api/v1/glossary/entries/{entry['id']}"

        def act(http, i, url=url):
            if i == 0:
                return http.put(url, json={**ENTRY, "version": 1, "definition": "edited"}, headers=auth(editor))
            return http.delete(url, params={"version": 1}, headers=auth(editor))

        edit, delete = race(2, act)
        assert sorted([edit.status_code, delete.status_code]) in ([200, 409], [204, 409])
        history = [e["action"] for e in requests.get(f"{url}/history").json()["events"]]
        assert history in (["create", "update"], ["create", "delete"])


def test_two_editors_accepting_one_proposal_add_its_term_once(server, token_for):
    editors = [token_for("editor"), token_for("editor")]
    translator = token_for("translator", scope="write")
    for _round in range(ROUNDS):
        entry = _create_entry(server, editors[0])
        proposal = requests.post(f"{server}/api/v1/glossary/proposals", headers=auth(translator),
                                 json={"entry_id": entry["id"], "terms": [{"lang": "en", "text": "CNSA"}]})
        assert proposal.status_code == 201, proposal.text
        url = f"{server}/api/v1/glossary/proposals/{proposal.json()['id']}/accept"

        answers = race(2, lambda http, i, url=url: http.post(url, headers=auth(editors[i])))
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        terms = requests.get(f"{server}/api/v1/glossary/entries/{entry['id']}").json()["terms"]
        assert [t["text"] for t in terms].count("CNSA") == 1


def test_two_glossary_imports_updating_the_same_entries_in_opposite_orders_both_succeed(server, token_for):
    editors = [token_for("editor"), token_for("editor")]
    entries = [(f"第{i}号小行星", f"Asteroid {i}") for i in range(40)]

    def tbx(pairs) -> bytes:
        body = "".join(f'<termEntry id="a{zh}"><langSet xml:lang="zh"><tig><term>{zh}</term></tig></langSet>'
                       f'<langSet xml:lang="en"><tig><term>{en}</term></tig></langSet></termEntry>' for zh, en in pairs)
        return f'<martif type="TBX-Basic"><text><body>{body}</body></text></martif>'.encode()

    def upload(http, token, name, pairs):
        return http.post(f"{server}/api/v1/glossary/import", headers=auth(token),
                         files={"file": (name, tbx(pairs), "application/x-tbx+xml")})

    assert upload(requests, editors[0], "base.tbx", entries).status_code == 201
    for number in range(ROUNDS):
        # Other files with the same terms update the same entries, one forwards, one backwards.
        orders = [entries, entries[::-1]]
        answers = race(2, lambda http, i, number=number, orders=orders:
                       upload(http, editors[i], f"copy{number}-{i}.tbx", orders[i]))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        assert [a.json()["updated"] for a in answers] == [40, 40]
    assert requests.get(f"{server}/api/v1/glossary/entries").json()["total"] == 40


# ------------------------------------------------------------------ units and imports

@pytest.fixture
def memory(server, token_for) -> str:
    response = requests.post(f"{server}/api/v1/memories", json={"name": "news"}, headers=auth(token_for("admin")))
    assert response.status_code == 201, response.text
    return "news"


def test_twenty_creations_of_one_pair_make_one_unit_and_no_500(server, token_for, memory):
    editor = token_for("editor")
    for number in range(ROUNDS):
        pair = {"memory": memory, "zh": f"嫦娥{number}号着陆月球背面", "en": f"Chang'e {number} lands on the far side"}
        answers = race(20, lambda http, _i, pair=pair: http.post(f"{server}/api/v1/units", json=pair,
                                                                headers=auth(editor)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200] * 19 + [201], [a.text for a in answers if a.status_code >= 500][:1]
        assert len({a.json()["id"] for a in answers}) == 1
    units = requests.get(f"{server}/api/v1/units", params={"memory": memory}).json()
    assert units["total"] == ROUNDS


def _tsv(pairs) -> bytes:
    return ("zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in pairs)).encode()


@dataclass
class _Outcome:
    status_code: int
    body: dict
    text: str

    def json(self) -> dict:
        return self.body


def _import(http, server, token, memory, body, filename="file.tsv"):
    """An import through HTTP and how its job ended: 201 and the report when done, the error's
    status and body when failed. (The ``app`` fixture's jobs run inside the request, so these
    imports still race each other as the test means them to.)"""
    answer = http.post(f"{server}/api/v1/memories/{memory}/import", data=body, headers=auth(token),
                       params={"filename": filename, "format": "tsv"})
    if answer.status_code != 202:
        return _Outcome(answer.status_code, {}, answer.text)
    deadline = time.monotonic() + TIMEOUT
    while True:
        job = http.get(server + answer.headers["Location"], headers=auth(token)).json()
        if job["state"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if job["state"] == "done":
        return _Outcome(201, job["result"], str(job["result"]))
    return _Outcome((job["error"] or {}).get("status", 500), job, str(job))


def test_two_imports_creating_one_new_memory_both_land_in_it(server, token_for):
    admin = token_for("admin")
    for number in range(ROUNDS):
        name = f"launches-{number}"
        files = [_tsv([(f"第{i}次发射", f"Launch {i}") for i in range(k * 50, k * 50 + 60)]) for k in range(2)]
        answers = race(2, lambda http, i, name=name, files=files: _import(http, server, admin, name, files[i]))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        reports = [a.json() for a in answers]
        assert sum(r["added"] for r in reports) == 110 and sum(r["duplicates"] for r in reports) == 10
        memories = requests.get(f"{server}/api/v1/memories").json()["memories"]
        assert [m["units"] for m in memories if m["name"] == name] == [110]


def test_overlapping_imports_into_one_memory_neither_deadlock_nor_lose_units(server, token_for, memory,
                                                                              monkeypatch):
    # Small batches, so that each import holds rows the other wants while it inserts more:
    # in opposite orders this deadlocked PostgreSQL every time.
    monkeypatch.setattr("tm.repository.IMPORT_BATCH", 40)
    admin = token_for("admin")
    for number in range(ROUNDS):
        pairs = [(f"{number}号文件第{i}句", f"Sentence {i} of file {number}") for i in range(200)]
        files = [_tsv(pairs), _tsv(reversed(pairs))]
        answers = race(2, lambda http, i, files=files: _import(http, server, admin, memory, files[i]))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        reports = [a.json() for a in answers]
        assert sum(r["added"] for r in reports) == 200 and sum(r["duplicates"] for r in reports) == 200
    units = requests.get(f"{server}/api/v1/units", params={"memory": memory, "per_page": 1}).json()
    assert units["total"] == 200 * ROUNDS


def test_unit_creations_during_an_import_of_the_same_pairs_lose_nothing(server, token_for, memory):
    admin, editor = token_for("admin"), token_for("editor")
    pairs = [(f"第{i}条快讯", f"Newsflash {i}") for i in range(300)]

    def act(http, i):
        if i == 0:
            return [_import(http, server, admin, memory, _tsv(pairs))]
        return [http.post(f"{server}/api/v1/units", json={"memory": memory, "zh": zh, "en": en}, headers=auth(editor))
                for zh, en in pairs[i::40][:3]]

    answers = [a for batch in race(4, act) for a in batch]
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers if a.status_code >= 300]
    report = answers[0].json()
    by_hand = sum(a.status_code == 201 for a in answers[1:])
    assert report["added"] + by_hand == 300 and report["duplicates"] == by_hand
    units = requests.get(f"{server}/api/v1/units", params={"memory": memory, "per_page": 1}).json()
    assert units["total"] == 300


# ------------------------------------------------------------------ a write while an import holds the lock

@pytest.fixture
def impatient_server(database_url, tmp_path):
    """A server whose requests wait at most half a second for a lock."""
    from app import create_app
    from web.extensions import db_engine

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "ANONYMOUS_READ": True, "DB_LOCK_TIMEOUT": 0.5})
    app.instance_path = str(tmp_path / "instance")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)
    db_engine(app).dispose()


def test_a_write_blocked_by_a_running_import_gets_503_with_retry_after(impatient_server, make_user):
    from db import new_session
    from tm import service

    app, server = impatient_server
    admin = _token(app, make_user, "admin")
    assert requests.post(f"{server}/api/v1/memories", json={"name": "news"}, headers=auth(admin)).status_code == 201
    pairs = [(f"第{i}条快讯", f"Newsflash {i}") for i in range(50)]
    with app.app_context():
        importing = new_session()  # an import (the CLI's, say) that has written and not yet committed
        service.import_file(importing, memory_name="news", stream=io.BytesIO(_tsv(pairs)), filename="big.tsv",
                            file_format="tsv", user="cli")
        try:
            started = time.monotonic()
            answer = requests.post(f"{server}/api/v1/units", headers=auth(admin),
                                   json={"memory": "news", "zh": pairs[0][0], "en": pairs[0][1]}, timeout=TIMEOUT)
            waited = time.monotonic() - started
        finally:
            importing.commit()
            importing.close()
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"].isdigit()
    assert "try again" in answer.json()["error"]["message"]
    assert waited < 10
    retried = requests.post(f"{server}/api/v1/units", headers=auth(admin),
                            json={"memory": "news", "zh": pairs[0][0], "en": pairs[0][1]})
    assert retried.status_code == 200


def test_a_read_with_a_new_token_during_an_import_is_answered(impatient_server, make_user):
    from db import new_session
    from tm import service

    app, server = impatient_server
    admin = _token(app, make_user, "admin")
    assert requests.post(f"{server}/api/v1/memories", json={"name": "news"}, headers=auth(admin)).status_code == 201
    reader = _token(app, make_user, "translator")  # never used: its first request notes the time
    with app.app_context():
        importing = new_session()
        service.import_file(importing, memory_name="news", stream=io.BytesIO(_tsv([("新闻", "News")])),
                            filename="big.tsv", file_format="tsv", user="cli")
        try:
            answer = requests.get(f"{server}/api/v1/memories", headers=auth(reader), timeout=TIMEOUT)
        finally:
            importing.rollback()
            importing.close()
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_request_finding_every_pooled_connection_in_use_gets_503_with_retry_after(database_url, tmp_path):
    """Past capacity the service says so at once (and when to retry) instead of queueing."""
    from app import create_app
    from web.extensions import db_engine, ratelimit_engine

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "ANONYMOUS_READ": True, "DB_LOCK_TIMEOUT": 0.5, "DB_POOL_SIZE": 1, "DB_POOL_OVERFLOW": 0})
    app.instance_path = str(tmp_path / "instance")
    try:
        with db_engine(app).connect():  # the process's one connection, held elsewhere
            busy = app.test_client().get("/api/v1/memories")
        assert busy.status_code == 503, busy.text
        assert int(busy.headers["Retry-After"]) >= 1
        assert "busy" in busy.get_json()["error"]["message"]
        assert app.test_client().get("/api/v1/memories").status_code == 200
    finally:
        db_engine(app).dispose()
        ratelimit_engine(app).dispose()


def test_a_command_line_import_blocked_too_long_says_so(impatient_server, tmp_path):
    from db import new_session
    from tm import service

    app, _server = impatient_server
    path = tmp_path / "late.tsv"
    path.write_bytes(_tsv([("新闻", "News")]))
    with app.app_context():
        importing = new_session()
        service.import_file(importing, memory_name="news", stream=io.BytesIO(_tsv([("快讯", "Newsflash")])),
                            filename="first.tsv", file_format="tsv", user="cli")
        try:
            result = app.test_cli_runner().invoke(args=["tm", "import", str(path), "--memory", "news"])
        finally:
            importing.commit()
            importing.close()
    assert result.exit_code == 1 and "stayed locked" in result.output, result.output


def _token(app, make_user, role: str) -> str:
    from accounts import service
    from db import new_session

    username = f"{role}-{uuid.uuid4().hex[:6]}"
    make_user(username, role)
    with app.app_context():
        session = new_session()
        _token_row, secret = service.create_token(session, service.user_by_name(session, username), name="t",
                                                  scope="write")
        session.commit()
        session.close()
    return secret
