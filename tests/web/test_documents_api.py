"""A translator's documents through the API on both engines: start, confirm (stored in the
document and the memory at once), resume from the list, two confirms of one version (409 with
the other's text), export as text, TMX and XLIFF."""
from __future__ import annotations

from tests.helpers import auth, make_memory

ARTICLE = ("美国长期对俄罗斯实施经济制裁。2018年美俄双边贸易总额为250亿美元，约为中俄贸易额的四分之一。\n"
           "因此，一旦出现引发重大关切的危机，两国关系必然会恶化。")
TRADE_EN = "The total value of bilateral trade for 2018 hit US$25 billion."


def test_confirm_resume_conflict_and_export(client, token_for, app):
    make_memory(app, "news")
    translator, editor = token_for("translator", username="zhao"), token_for("editor", username="qian")
    started = client.post("/api/v1/documents", json={"title": "US-Russia ties", "text": ARTICLE, "memory": "news"},
                          headers=auth(translator))
    assert started.status_code == 201, started.get_json()
    document = started.get_json()
    assert (document["src"], document["tgt"]) == ("zh", "en")
    assert [s["paragraph"] for s in document["segments"]] == [0, 0, 1]
    url = f"/api/v1/documents/{document['id']}"

    confirmed = client.put(f"{url}/segments/2", json={"target": TRADE_EN, "version": 0}, headers=auth(translator))
    assert confirmed.status_code == 200, confirmed.get_json()
    assert (confirmed.get_json()["version"], confirmed.get_json()["confirmed_by"]) == (1, "zhao")
    unit = client.get(f"/api/v1/units/{confirmed.get_json()['unit_id']}").get_json()
    assert (unit["en"], unit["status"], unit["doc_title"]) == (TRADE_EN, "draft", "US-Russia ties")
    assert unit["context_prev"] == "美国长期对俄罗斯实施经济制裁。" and unit["context_next"].startswith("因此")

    # Resumed from the list: the confirmed target, who and the version are there.
    [listed] = client.get("/api/v1/documents", headers=auth(translator)).get_json()["documents"]
    assert (listed["id"], listed["segments"], listed["confirmed"]) == (document["id"], 3, 1)
    again = client.get(url, headers=auth(translator)).get_json()["segments"][1]
    assert (again["target"], again["version"]) == (TRADE_EN, 1)

    # The editor confirms from version 1; the translator, still on version 0, is told, not overwritten.
    fixed = TRADE_EN.replace("hit", "reached")
    newer = client.put(f"{url}/segments/2", json={"target": fixed, "version": 1}, headers=auth(editor))
    assert newer.status_code == 200
    stale = client.put(f"{url}/segments/2", json={"target": "Trade hit $25bn.", "version": 0}, headers=auth(translator))
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["current"]["target"] == fixed and error["current"]["version"] == 2
    assert error["current"]["confirmed_by"] == "qian" and "qian" in error["message"]
    assert client.get(url, headers=auth(translator)).get_json()["segments"][1]["target"] == fixed
    found = client.get("/api/v1/units?memory=news").get_json()
    assert sorted(u["en"] for u in found["units"]) == sorted([TRADE_EN, fixed])  # the stale one stored nothing

    # Someone else's document: only its owner or an editor confirms.
    other = token_for("translator", username="sun")
    assert client.put(f"{url}/segments/1", json={"target": "x", "version": 0}, headers=auth(other)).status_code == 403
    assert client.put(f"{url}/segments/9", json={"target": "x", "version": 0},
                      headers=auth(translator)).status_code == 404

    text = client.get(f"{url}/export?format=txt", headers=auth(translator))
    assert text.status_code == 200
    first, third = "美国长期对俄罗斯实施经济制裁。", "因此，一旦出现引发重大关切的危机，两国关系必然会恶化。"
    assert text.get_data(as_text=True) == f"{first} {fixed}\n{third}\n"
    tmx = client.get(f"{url}/export?format=tmx", headers=auth(translator)).get_data(as_text=True)
    assert fixed in tmx and tmx.count("<tu>") + tmx.count("<tu ") == 1
    xliff = client.get(f"{url}/export?format=xliff12", headers=auth(translator)).get_data(as_text=True)
    assert xliff.count("<trans-unit") == 3 and f'<target state="translated">{fixed}</target>' in xliff
    assert client.get(f"{url}/export?format=pdf", headers=auth(translator)).status_code == 400
