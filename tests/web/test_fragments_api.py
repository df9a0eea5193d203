"""Fragments in lookup answers (issue 17), on SQLite and PostgreSQL: the model trained by the
CLI on a snapshot, the fragments with their translations, and the inputs that give none."""
from __future__ import annotations

import io
import shutil
import threading
import time

import pytest
from sqlalchemy import event

from tests.helpers import (
    INSTITUTE_EN,
    INSTITUTE_UNITS,
    INSTITUTE_ZH,
    NEW_SENTENCE,
    THE_INSTITUTE,
    auth,
    import_pairs,
    post_article,
    train_fragment_model,
    wmt_pairs,
)
from tests.helpers import fragment_memory as memory_pairs

CASS = {
    "concept_type": "institution",
    "terms": [{"lang": "zh", "text": "中国社会科学院", "status": "preferred"},
              {"lang": "en", "text": "Chinese Academy of Social Sciences", "status": "preferred"}],
}


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """A model of ``memory_pairs`` with the glossary entry as priors, trained once: a model
    holds words, not unit ids, so each test's database may use it."""
    return train_fragment_model(tmp_path_factory.mktemp("fragments") / "model.npz")


@pytest.fixture
def editor(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    return token


@pytest.fixture
def memory(client, editor):
    import_pairs(client, editor, memory_pairs())
    assert client.post("/api/v1/glossary/entries", json=CASS, headers=auth(editor)).status_code == 201
    return editor


def model_dir(app):
    from web.extensions import fragment_models

    with app.app_context():
        return fragment_models(app).directory


@pytest.fixture
def with_model(app, memory, trained_model):
    directory = model_dir(app)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained_model, directory / "model.npz")
    load_model(app)
    return memory


def load_model(app):
    """Load the model now, as warm-up does at start: lookups pick a new one up in the background."""
    from web.extensions import fragment_models

    with app.app_context():
        fragment_models(app).current()


def lookup(client, q, **params):
    response = client.get("/api/v1/tm/lookup", query_string={"q": q, "src": "zh", "tgt": "en", **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_new_sentence_gets_the_institute_with_its_translation(client, with_model):
    body = lookup(client, NEW_SENTENCE)
    assert body["matches"] == []
    assert [t["surface"] for t in body["terms"]] == ["中国社会科学院"]  # the term stays as it is ...
    (fragment,) = body["fragments"]  # ... and the longer fragment over it is shown too
    assert (fragment["start"], fragment["end"], fragment["source"]) == (0, len(INSTITUTE_ZH), INSTITUTE_ZH)
    assert fragment["units"] == len(INSTITUTE_UNITS)
    best = fragment["translations"][0]
    assert INSTITUTE_EN in best["text"] and best["units"] >= 3 and 0.5 <= best["confidence"] <= 1
    example = best["example"]
    assert example["memory"] == "news" and INSTITUTE_ZH in example["source"]
    start, end = example["target_span"]
    assert example["target"][start:end] == best["text"]
    unit = client.get(f"/api/v1/units/{example['unit_id']}").get_json()
    assert (unit["zh"], unit["en"]) == (example["source"], example["target"])


def test_offsets_are_into_the_query_as_sent(client, with_model):
    traditional = f"  據{INSTITUTE_ZH}所長孫壯志認為，兩國關係進入新階段。"
    traditional = traditional.replace("中国社会科学院俄罗斯东欧中亚研究所", "中國社會科學院俄羅斯東歐中亞研究所")
    (fragment,) = lookup(client, traditional)["fragments"]
    assert fragment["source"] == "中國社會科學院俄羅斯東歐中亞研究所"
    assert traditional[fragment["start"]:fragment["end"]] == fragment["source"]


def test_fragments_0_turns_them_off_and_post_and_batch_carry_them(client, with_model):
    assert "fragments" not in lookup(client, NEW_SENTENCE, fragments="0")
    posted = client.post("/api/v1/tm/lookup", json={"q": NEW_SENTENCE, "src": "zh", "tgt": "en"}).get_json()
    assert [f["source"] for f in posted["fragments"]] == [INSTITUTE_ZH]
    off = client.post("/api/v1/tm/lookup", json={"q": NEW_SENTENCE, "fragments": False}).get_json()
    assert "fragments" not in off
    bad = client.get("/api/v1/tm/lookup", query_string={"q": NEW_SENTENCE, "fragments": "maybe"})
    assert bad.status_code == 400 and "fragments" in bad.get_json()["error"]["message"]


def test_a_batch_reads_its_example_units_in_one_query(app, client, with_model):
    from web.extensions import db_engine

    statements = []

    def record(_conn, _cursor, statement, *_args):
        # repo.unit_texts (the ranking's query reads the memories too, with more unit columns)
        if statement.startswith("SELECT units.id, units.zh, units.en, (SELECT memories.name"):
            statements.append(statement)

    engine = db_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        segments = [NEW_SENTENCE, f"他曾在{INSTITUTE_ZH}工作多年。", "今天天气很好。"]
        body = client.post("/api/v1/tm/lookup/batch", json={"segments": segments, "src": "zh", "tgt": "en"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    results = body.get_json()["results"]
    assert [[f["source"] for f in r["fragments"]] for r in results] == [[INSTITUTE_ZH], [INSTITUTE_ZH], []]
    assert len(statements) == 1


def test_a_fragment_without_a_trusted_rendering_gives_way_to_its_part(client, with_model):
    # 记者采访了 + the institute is in one unit, whose projection runs into 专家's "experts"
    # outside the fragment: no rendering. The institute inside it, in six units, has one.
    query = f"记者采访了{INSTITUTE_ZH}的学者。"
    (fragment,) = lookup(client, query)["fragments"]
    assert (fragment["start"], fragment["source"]) == (len("记者采访了"), INSTITUTE_ZH)
    assert query[fragment["start"]:fragment["end"]] == fragment["source"]
    assert fragment["units"] == len(INSTITUTE_UNITS)
    assert INSTITUTE_EN in fragment["translations"][0]["text"]


def test_no_model_yet_gives_no_fragments_and_no_error(client, memory):
    assert lookup(client, NEW_SENTENCE)["fragments"] == []


@pytest.mark.parametrize("query", [
    "。。。，！？", "2019 2020 3.5", "１２３４５６７８", "%%% ### ...",
    NEW_SENTENCE + "这是一个很长的句子。" * 300,  # over the scoring cap
], ids=["punctuation", "numbers", "full-width-numbers", "symbols", "over-the-cap"])
def test_bad_input_gives_no_fragments(client, with_model, query):
    assert lookup(client, query)["fragments"] == []


def test_memories_without_translations_give_none(app, client, editor, trained_model, runner):
    directory = model_dir(app)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(trained_model, directory / "model.npz")
    assert lookup(client, NEW_SENTENCE)["fragments"] == []  # an empty memory
    import_pairs(client, editor, [(f"{INSTITUTE_ZH}研究员李永辉说", "Li Yonghui said.")])
    assert lookup(client, NEW_SENTENCE)["fragments"] == []  # one unit
    import_pairs(client, editor, [(f"{INSTITUTE_ZH}研究员说{i}", f"{INSTITUTE_ZH}的研究员说{i}") for i in range(5)])
    assert lookup(client, NEW_SENTENCE)["fragments"] == []  # targets in the wrong script


def test_the_index_follows_adds_and_deletes(client, with_model):
    before = lookup(client, NEW_SENTENCE)["fragments"][0]["units"]
    unit = client.post("/api/v1/units", json={"memory": "news", "zh": f"{INSTITUTE_ZH}今天开放。",
                                              "en": f"The {THE_INSTITUTE[4:]} opens today."},
                       headers=auth(with_model)).get_json()["id"]
    assert lookup(client, NEW_SENTENCE)["fragments"][0]["units"] == before + 1
    assert client.delete(f"/api/v1/units/{unit}", headers=auth(with_model)).status_code == 204
    assert lookup(client, NEW_SENTENCE)["fragments"][0]["units"] == before
    client.post("/api/v1/memories", json={"name": "elsewhere"}, headers=auth(with_model))
    assert lookup(client, NEW_SENTENCE, memory="elsewhere")["fragments"] == []


def test_the_cli_trains_then_says_the_model_is_current(app, client, runner, memory):
    first = runner.invoke(args=["tm", "fragments", "train"])
    assert first.exit_code == 0, first.output
    assert f"Trained on {len(memory_pairs())} units with 1 term pairs" in first.output
    assert (model_dir(app) / "model.npz").is_file()
    # A lookup does not wait for the new model: it starts loading it, and later lookups use it.
    started = time.monotonic()
    assert lookup(client, NEW_SENTENCE)["fragments"] == []
    assert time.monotonic() - started < 1.0
    while not (shown := lookup(client, NEW_SENTENCE)["fragments"]):
        assert time.monotonic() - started < 30, "the new model was never picked up"
        time.sleep(0.05)
    assert [f["source"] for f in shown] == [INSTITUTE_ZH]
    again = runner.invoke(args=["tm", "fragments", "train"])
    assert again.exit_code == 0 and "The model is current" in again.output
    printed = runner.invoke(args=["tm", "lookup", NEW_SENTENCE])
    assert printed.exit_code == 0 and "Fragments:" in printed.output and INSTITUTE_EN in printed.output
    assert "Fragments:" not in runner.invoke(args=["tm", "lookup", NEW_SENTENCE, "--no-fragments"]).output


def test_training_while_an_import_commits_uses_one_snapshot(app, client, editor):
    """Units committed after the training read its snapshot's first row are not in the model,
    and the model says it covers the memory as it was then."""
    from db import new_session
    from tm import fragments, repository, service
    from web.extensions import fragment_models

    import_pairs(client, editor, wmt_pairs(200))
    done = threading.Event()

    def import_meanwhile(message: str) -> None:
        if message.startswith("training on") and not done.is_set():
            done.set()
            # Another connection commits an import while the training reads.
            other = new_session()
            table = "zh\ten\n" + "".join(f"新的句子{i}。\tA new sentence {i}.\n" for i in range(50))
            service.import_file(other, memory_name="news", stream=io.BytesIO(table.encode()),
                                filename="late.tsv", file_format="tsv", user="late")
            other.commit()
            other.close()

    with app.app_context():
        session = new_session()
        try:
            before_events = repository.last_event_id(session)
            session.rollback()
            outcome = fragments.train_model(session, fragment_models(app).directory, log=import_meanwhile)
            assert done.is_set() and outcome.trained
            assert repository.unit_count(session) == 250
        finally:
            session.close()
        model = fragment_models(app).current()
    assert outcome.units == 200 and outcome.last_event_id == before_events
    assert model.meta["memory_units"] == 200 and model.units <= 200
    assert model.meta["last_event_id"] == before_events
    assert "新的句子" not in "".join(model.zh_vocab)


def test_an_import_that_outgrows_the_model_queues_a_training_job(app, client, editor):
    """The training is a job of the service's own (no user), queued after the import that
    outgrew the model; it runs (here in the request: the tests' queue is immediate) and leaves
    a model covering the memory."""
    from db import new_session
    from jobs import repository as jobs_repo
    from web.extensions import fragment_models

    import_pairs(client, editor, wmt_pairs(30))
    with app.app_context():
        session = new_session()
        assert [j.kind for j in jobs_repo.jobs_of(session, None)] == ["tm.import"]  # the switch is off
        session.close()
    app.config["FRAGMENT_TRAIN_AFTER_IMPORT"] = True
    import_pairs(client, editor, wmt_pairs(60)[30:])
    with app.app_context():
        session = new_session()
        jobs = jobs_repo.jobs_of(session, None)
        session.close()
        training = [j for j in jobs if j.kind == "tm.fragments.train"]
        assert len(training) == 1 and training[0].user is None
        assert training[0].state == "done", training[0].error
        assert training[0].result["trained"] and training[0].result["units"] == 60
        assert fragment_models(app).coverage()["memory_units"] == 60


def test_one_training_at_a_time(tmp_path):
    from tm import fragments

    with fragments.training_lock(tmp_path) as held:
        assert held
        with fragments.training_lock(tmp_path, wait=False) as second:
            assert second is False


def test_article_analysis_counts_fragment_coverage(client, with_model):
    """Issue 17: per segment and in total, the characters fragments cover, and the band
    "fragments only" for a segment without a match of 50 but with a fragment."""
    import re

    stored = INSTITUTE_UNITS[1][0]  # an exact match
    # New text too far from every stored sentence for a match of 50, with the institute in it.
    new = f"据报道，{INSTITUTE_ZH}的一位专家昨天在论坛上谈到了两国之间的经济合作与未来的发展方向。"
    text = "\n".join([new, "今天天气很好，我们去公园散步吧。", stored])
    html = post_article(client, text=text, direction="zh-en", threshold="75").get_data(as_text=True)
    bands = dict(re.findall(r'<tr data-band="([\w-]+)"><th scope="row">.*?</th>\s*<td class="num">(\d+)</td>',
                            html, re.S))
    assert (bands["fragments"], bands["none"], bands["exact"]) == ("1", "1", "1")
    covered = re.findall(r'<td class="num wb-fragment-count" data-fragments="(\d+)">(\d+)', html)
    # The new text: the institute's 17 characters; the unrelated one nothing; the exact
    # match's fragments are counted too (the memory holds them), though its band is "exact".
    assert covered[:2] == [("1", str(len(INSTITUTE_ZH))), ("0", "0")]
    total = re.search(r'<tfoot>.*?<td class="num wb-fragment-count">(\d+)</td>', html, re.S)
    assert total is not None and int(total.group(1)) == sum(int(n) for _, n in covered)
    assert INSTITUTE_EN in html
    assert "Fragments only" in html


def trained_by_the_cli(app, client, runner):
    result = runner.invoke(args=["tm", "fragments", "train"])
    assert result.exit_code == 0, result.output
    load_model(app)


def count_alignments(monkeypatch) -> list[tuple[str, str]]:
    """The pairs tm.fragments aligns at lookup, recorded."""
    from tm import fragments
    from tm.core.wordalign import align

    aligned: list[tuple[str, str]] = []
    monkeypatch.setattr(fragments, "align", lambda model, zh, en: aligned.append((zh, en)) or align(model, zh, en))
    return aligned


def institute_units(client, memory) -> list[dict]:
    units = client.get("/api/v1/units", query_string={"memory": "news", "q": INSTITUTE_ZH, "limit": 100},
                       headers=auth(memory)).get_json()
    return [u for u in units.get("units", units.get("items", [])) if INSTITUTE_ZH in u["zh"]]


def test_a_lookup_after_training_reads_the_stored_alignments(app, client, runner, memory, monkeypatch):
    trained_by_the_cli(app, client, runner)
    aligned = count_alignments(monkeypatch)
    (fragment,) = lookup(client, NEW_SENTENCE)["fragments"]
    assert INSTITUTE_EN in fragment["translations"][0]["text"]
    assert fragment["translations"][0]["units"] >= 3
    assert aligned == []  # every sampled unit was covered by the model


def test_an_edited_unit_is_aligned_again_not_served_its_old_links(app, client, runner, memory, monkeypatch):
    from web.extensions import fragment_models

    trained_by_the_cli(app, client, runner)
    with app.app_context():
        model = fragment_models(app).current()
    (zh, en) = INSTITUTE_UNITS[3]
    unit_id = next(int(u) for u, z, e in [(i, z, e) for i, z, e in stored_units(app)] if z == zh)
    assert model.links.alignment(model, unit_id, zh, en) is not None
    edited = f"Founded in 1976: the {INSTITUTE_EN} of the Chinese Academy of Social Sciences."
    response = client.patch(f"/api/v1/units/{unit_id}", json={"en": edited}, headers=auth(memory))
    assert response.status_code == 200, response.get_json()
    assert model.links.alignment(model, unit_id, zh, edited) is None  # the digest no longer matches
    aligned = count_alignments(monkeypatch)
    (fragment,) = lookup(client, NEW_SENTENCE)["fragments"]
    assert aligned == [(zh, edited)]  # only the edited unit, with its new text
    for rendering in fragment["translations"]:
        example = rendering["example"]
        start, end = example["target_span"]
        assert example["target"][start:end] == rendering["text"]


def test_units_added_after_training_are_aligned_a_few_per_lookup(app, client, runner, memory, monkeypatch):
    from tm import fragments

    trained_by_the_cli(app, client, runner)
    monkeypatch.setattr(fragments, "UNCOVERED_BUDGET", 2)
    added = [(f"{INSTITUTE_ZH}今年招收了{n}名学生。", f"The {THE_INSTITUTE[4:]} admitted {n} students this year.")
             for n in range(10, 15)]
    import_pairs(client, memory, added)
    aligned = count_alignments(monkeypatch)
    (fragment,) = lookup(client, NEW_SENTENCE)["fragments"]
    assert fragment["units"] == len(INSTITUTE_UNITS) + len(added)
    assert len(aligned) == 2 and set(aligned) <= set(added)
    lookup(client, NEW_SENTENCE)  # the two are cached: two more
    assert len(aligned) == 4 and len(set(aligned)) == 4


def stored_units(app) -> list[tuple[int, str, str]]:
    from db import new_session
    from tm import repository

    with app.app_context():
        session = new_session()
        try:
            return list(repository.unit_pairs(session, chunk=1000))
        finally:
            session.close()
