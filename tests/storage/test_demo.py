"""The demo data the README's first command loads."""
from __future__ import annotations

from tests.helpers import auth


def test_demo_load_is_complete_and_idempotent(runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    memories = {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]}
    assert set(memories) == {"people-daily-seed", "public-health", "everyday"}
    assert memories["people-daily-seed"] >= 20 and memories["public-health"] >= 2000 and memories["everyday"] >= 2000
    assert client.get("/api/v1/glossary/entries").get_json()["total"] >= 80

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "not loaded again" in again.output
    assert {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]} == memories

    # The seed article is findable with its glossary terms, as a translator would meet it.
    lookup = client.get("/api/v1/tm/lookup", query_string={"q": "中国社会科学院俄罗斯东欧中亚研究所"}).get_json()
    assert any(t["targets"][0]["text"].startswith("Institute of Russian") for t in lookup["terms"])
    tatoeba = client.get("/api/v1/units", query_string={"memory": "everyday", "per_page": 1}).get_json()["units"][0]
    assert any(p[0] == "attribution" or "attribution" in p[0] for p in tatoeba["props"])


def test_demo_load_never_reverts_what_editors_changed(runner, client, token_for):
    """`make run` loads the demo at every start: an edited or deleted demo entry stays as the
    editor left it."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    headers = auth(token_for("editor"))
    entries = client.get("/api/v1/glossary/entries", query_string={"per_page": 2}).get_json()["entries"]
    edited, deleted = entries[0], entries[1]
    body = client.get(f"/api/v1/glossary/entries/{edited['id']}").get_json()
    for term in body["terms"]:
        term["status"] = "deprecated"
    saved = client.put(f"/api/v1/glossary/entries/{edited['id']}", json=body, headers=headers)
    assert saved.status_code == 200, saved.get_json()
    gone = client.delete(f"/api/v1/glossary/entries/{deleted['id']}",
                         query_string={"version": deleted["version"]}, headers=headers)
    assert gone.status_code in (200, 204), gone.get_data(as_text=True)
    unit = client.get("/api/v1/units", query_string={"memory": "everyday", "per_page": 1}).get_json()["units"][0]
    assert client.delete(f"/api/v1/units/{unit['id']}", headers=headers).status_code in (200, 204)
    sizes = {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]}

    assert runner.invoke(args=["demo", "load"]).exit_code == 0

    after = client.get(f"/api/v1/glossary/entries/{edited['id']}").get_json()
    assert {t["status"] for t in after["terms"]} == {"deprecated"}
    assert client.get(f"/api/v1/glossary/entries/{deleted['id']}").get_json()["deleted"] is True
    assert {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]} == sizes


def test_the_seed_query_shows_the_institute_after_training_on_the_demo(app, runner, client):
    """Issue 17's seed case as `make run` sets it up: the demo loaded, the fragment model trained
    on it (with the demo glossary as priors). One demo unit holds the fragment; the glossary's
    names of the institute, the academy, the title and the person back its rendering."""
    from web.extensions import fragment_models

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    trained = runner.invoke(args=["tm", "fragments", "train"])
    assert trained.exit_code == 0, trained.output
    with app.app_context():
        fragment_models(app).current()
    query = "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉说"
    body = client.get("/api/v1/tm/lookup", query_string={"q": query, "src": "zh", "tgt": "en"}).get_json()
    assert body["matches"] == []
    (fragment,) = body["fragments"]
    assert query[fragment["start"]:fragment["end"]] == fragment["source"]
    assert fragment["source"].startswith("中国社会科学院俄罗斯东欧中亚研究所")
    best = fragment["translations"][0]
    assert "Institute for Russian, East European and Central Asian Studies" in best["text"]
    assert best["units"] == 1 and best["confidence"] >= 0.6
