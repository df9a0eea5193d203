"""A translator's documents through the API on both engines: start, confirm (stored in the
document and the memory at once), resume from the list, two confirms of one version (409 with
the other's text), export as text, TMX and XLIFF; a .docx analysed on the article page, started
in the editor from there, and given back as a .docx with its paragraphs."""
from __future__ import annotations

import html
import io
import re

from tests.helpers import auth, make_memory, post_article

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


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_docx_from_the_article_page_comes_back_as_a_docx_with_its_paragraphs(client, app, make_user):
    import docx

    make_memory(app, "news")
    first, second = ARTICLE.split("\n")
    upload = _docx([first, "", second])  # two paragraphs, the first of two sentences; a blank one between
    # Anyone may analyse an article; only who may store translations is offered the editor.
    assert 'id="ed-from-article"' not in post_article(
        client, file=(io.BytesIO(upload), "ties.docx"), direction="zh-en").get_data(as_text=True)
    username, password = make_user("wang", "translator")
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}).status_code == 302
    page = post_article(client, file=(io.BytesIO(upload), "ties.docx"), direction="zh-en").get_data(as_text=True)
    start = page[page.index('id="ed-from-article"'):]
    start = start[:start.index("</form>")]
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', start)}
    assert (fields["direction"], fields["filename"], fields["title"]) == ("zh-en", "ties.docx", "ties")
    fields["memory"] = "news"
    started = client.post("/workbench/documents", data=fields)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    document_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    editor = client.get(f"/workbench/documents/{document_id}").get_data(as_text=True)
    assert "0 of 3 confirmed" in editor and '<option value="docx" selected>' in editor

    csrf_token = re.search(r'name="csrf-token" content="([^"]+)"', editor).group(1)
    targets = {1: "The US has long imposed economic sanctions on Russia.",
               3: "So in any crisis of grave concern, relations will sour."}
    for position, target in targets.items():
        answer = client.put(f"/api/v1/documents/{document_id}/segments/{position}",
                            json={"target": target, "version": 0}, headers={"X-CSRFToken": csrf_token})
        assert answer.status_code == 200, answer.get_json()
    assert "2 of 3 confirmed" in client.get(f"/workbench/documents/{document_id}").get_data(as_text=True)

    exported = client.get(f"/workbench/documents/{document_id}/export?format=docx")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].endswith('.en.docx"')
    word = docx.Document(io.BytesIO(exported.data))
    untranslated = first[first.index("。") + 1:]  # segment 2 is not confirmed: kept in Chinese
    assert [p.text for p in word.paragraphs] == [f"{targets[1]} {untranslated}", targets[3]]
    assert word.core_properties.title == "ties"
