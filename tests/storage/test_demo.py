"""The demo data the README's first command loads."""
from __future__ import annotations


def test_demo_load_is_complete_and_idempotent(runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    memories = {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]}
    assert set(memories) == {"people-daily-seed", "public-health", "everyday"}
    assert memories["people-daily-seed"] >= 20 and memories["public-health"] >= 2000 and memories["everyday"] >= 2000
    assert client.get("/api/v1/glossary/entries").get_json()["total"] >= 80

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "0 units added" in again.output
    assert {m["name"]: m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]} == memories

    # The seed article is findable with its glossary terms, as a translator would meet it.
    lookup = client.get("/api/v1/tm/lookup", query_string={"q": "中国社会科学院俄罗斯东欧中亚研究所"}).get_json()
    assert any(t["targets"][0]["text"].startswith("Institute of Russian") for t in lookup["terms"])
    tatoeba = client.get("/api/v1/units", query_string={"memory": "everyday", "per_page": 1}).get_json()["units"][0]
    assert any(p[0] == "attribution" or "attribution" in p[0] for p in tatoeba["props"])
