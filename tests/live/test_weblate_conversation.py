"""Weblate's tmserver conversation replayed over HTTP against the real server, and two worker
processes on one PostgreSQL database seeing each other's changes.

`WeblateTmserverClient` does what Weblate's "tmserver" machinery does (weblate/machinery/
base.py and tmserver.py, read for behaviour; no code taken): URL parts joined with "/" and each
quoted with nothing safe; language codes lower-cased with "_" and shortened at "_" until the pair
is in /languages/; validation by looking up "test" from en to de; text cut to 500 characters
with "\\r" as a space; a 5-second timeout; Referer and Accept headers but no credentials; the
answer read as a list, each "quality" through int(), anything under the threshold hidden.
"""
from __future__ import annotations

import time
from urllib.parse import quote

import requests

from tests.helpers import flask, flask_all, wmt_pairs

TIMEOUT = 5.0  # Weblate's request_timeout
THRESHOLD = 80  # Weblate's MACHINERY_DEFAULT_THRESHOLD


class WeblateTmserverClient:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.timings: list[float] = []

    def url(self, *parts: str) -> str:
        return "/".join([self.base, *(quote(part, safe=b"") for part in parts)])

    def get(self, url: str):
        started = time.monotonic()
        response = self.session.get(url, timeout=TIMEOUT, headers={
            "Referer": "https://weblate.example.org/", "Accept": "application/json; charset=utf-8"})
        self.timings.append(time.monotonic() - started)
        response.raise_for_status()
        return response.json()

    def supported_pairs(self) -> set[tuple[str, str]]:
        data = self.get(self.url("languages", ""))
        return {(s, t) for s in data["sourceLanguages"] for t in data["targetLanguages"]}

    @staticmethod
    def possibilities(code: str):
        code = code.replace("-", "_").lower()
        yield code
        while "_" in code:
            code = code.rsplit("_", 1)[0]
            yield code

    def languages(self, source: str, target: str, supported) -> tuple[str, str] | None:
        for src in self.possibilities(source):
            for tgt in self.possibilities(target):
                if (src, tgt) in supported:
                    return src, tgt
        return None

    def translate(self, source: str, target: str, text: str, threshold: int = THRESHOLD) -> list[dict]:
        payload = self.get(self.url(source, target, "unit", text[:500].replace("\r", " ")))
        assert isinstance(payload, list)
        out = []
        for line in payload:
            quality = int(line["quality"])
            if quality < threshold:
                continue
            out.append({"text": line["target"], "quality": quality, "source": line["source"]})
        return out


def write_tsv(path, pairs) -> None:
    path.write_text("zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in pairs), encoding="utf-8")


def test_weblate_conversation_with_the_real_server(tmp_path, servers):
    database = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    flask(database, "db", "upgrade")
    pairs = wmt_pairs(300)
    # A long English source with slashes and a printf placeholder at offset 12, the kind of
    # string Weblate hides as [X12X] before asking.
    long_en = ("Please file %s/news/2019 under desk/inbox//archive first. "
               + " ".join(en for _, en in pairs[:8]))[:560]
    long_zh = "请先将%s/news/2019归档到desk/inbox//archive。" + "".join(zh for zh, _ in pairs[:8])
    write_tsv(tmp_path / "news.tsv", pairs + [(long_zh, long_en)])
    flask_all(database, ("tm", "import", str(tmp_path / "news.tsv"), "--memory", "news"),
              ("user", "create", "weblate", "--role", "translator", "--password", "live-test-password"))
    token = flask(database, "user", "token", "weblate", "--scope", "read").strip().splitlines()[-1]
    (server,) = servers(database)

    client = WeblateTmserverClient(f"{server.url}/tmserver/{token}/")
    # 1. Settings validation: languages, then "test" from en to de.
    supported = client.supported_pairs()
    assert client.translate("en", "de", "test") == []
    # 2. A component in zh_Hans translated to en: the client falls back to zh.
    pair = client.languages("zh_Hans", "en", supported)
    assert pair == ("zh", "en")
    zh, en = pairs[42]
    assert client.translate(*pair, zh)[0] == {"text": en, "quality": 100, "source": zh}
    # 3. The search box (threshold 10) shows a fuzzy hit the automatic suggestion (80) hides.
    fuzzy = zh[: round(len(zh) * 0.75)]  # scores in the 70s: served, but under 80
    assert not client.translate(*pair, fuzzy) and client.translate(*pair, fuzzy, threshold=10)
    # 4. 500 characters with "/" and a placeholder, English to Chinese (zh_Hans again).
    cleaned = long_en.replace("%s", "[X12X]")
    assert long_en.index("%s") == 12 and len(cleaned) > 500
    reverse = client.languages("en", "zh_Hans", supported)
    suggestions = client.translate(*reverse, cleaned)
    assert suggestions and suggestions[0]["text"] == long_zh and suggestions[0]["source"] == long_en
    assert THRESHOLD <= suggestions[0]["quality"] < 100
    # 5. Without a token the same base works while anonymous reading is on.
    anonymous = WeblateTmserverClient(f"{server.url}/tmserver/")
    assert anonymous.translate("zh", "en", zh)[0]["text"] == en
    assert max(client.timings + anonymous.timings) < TIMEOUT


def test_two_workers_on_postgresql_see_each_others_units(clean_postgres_url, servers):
    database = clean_postgres_url
    flask(database, "user", "create", "desk", "--role", "admin", "--password", "live-test-password")
    token = flask(database, "user", "token", "desk", "--scope", "write").strip().splitlines()[-1]
    a, b = servers(database, count=2)
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{a.url}/api/v1/memories", json={"name": "news"}, headers=headers, timeout=5)
    assert created.status_code == 201
    zh, en = wmt_pairs(1, "newstest2019.zho-eng")[0]
    query = {"q": zh, "src": "zh", "tgt": "en"}
    # B is warm (its index is built) before A changes anything, as in production.
    assert requests.get(f"{b.url}/api/v1/tm/lookup", params=query, timeout=5).json()["matches"] == []
    added = requests.post(f"{a.url}/api/v1/units", json={"memory": "news", "zh": zh, "en": en},
                          headers=headers, timeout=5)
    assert added.status_code == 201
    started = time.monotonic()
    while True:
        matches = requests.get(f"{b.url}/api/v1/tm/lookup", params=query, timeout=5).json()["matches"]
        if matches:
            break
        assert time.monotonic() - started < 2.0, "process B did not see process A's unit within 2 s"
        time.sleep(0.05)
    assert matches[0]["unit_id"] == added.json()["id"] and matches[0]["score"] == 100
    # And B's tmserver door shows it too.
    assert requests.get(f"{b.url}/tmserver/zh/en/unit/{quote(zh, safe='')}", timeout=5).json()[0]["target"] == en
