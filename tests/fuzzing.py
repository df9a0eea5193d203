"""Generators of hostile requests for the fuzz suite (tests/web/test_fuzz.py) and its benchmark
(bench/fuzz_bench.py): mutated files over the seed corpus in tests/fuzz_corpus/ and odd
parameter sets, for every door a careless client or an attacker can knock on.

No Flask and no HTTP here: a generator returns a ``FuzzRequest`` (method, URL with its query
string already percent-encoded, body bytes, headers), which the test sends with Flask's test
client and the bench with ``requests``. Case ``i`` of a door is built from its own
``random.Random(f"{door}:{seed}:{i}")``, so any case can be rebuilt alone from its door and
index (``python -m tests.fuzzing DOOR INDEX`` prints it) and the runs are reproducible.
"""
from __future__ import annotations

import json
import math
import random
import re
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
DEFAULT_SEED = 12

#: The memory the suite fills before fuzzing, so lookups have candidates to score.
MEMORY = "fuzz"

#: Seconds any single fuzzed request may take (``watchdog`` interrupts it there).
TIME_LIMIT = 5.0


class RequestTimedOut(BaseException):
    """Raised into a request that runs past the limit. A BaseException, so no ``except
    Exception`` in the code under test can swallow it."""


@contextmanager
def watchdog(seconds: float):
    """Interrupt the code running in this (main) thread after ``seconds``."""
    def expire(signum, frame):
        raise RequestTimedOut(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class FuzzRequest:
    """One request, ready to send; ``needs_token`` asks the sender to add an admin's write token."""

    door: str
    index: int
    method: str
    url: str
    body: bytes | None = None
    content_type: str | None = None
    needs_token: bool = False
    #: What was done to make it (the seed file and the mutations), for the reproduction.
    recipe: tuple[str, ...] = field(default_factory=tuple)

    def describe(self, limit: int = 300) -> str:
        """The reproduction as one line: door, method, URL and what the body was."""
        text = f"[{self.door} #{self.index}] {self.method} {self.url[:limit]}"
        if self.recipe:
            text += f" file={' + '.join(self.recipe)}"
        if self.body is not None:
            shown = self.body[:limit]
            text += f" body({len(self.body)} bytes)={shown!r}" + ("..." if len(self.body) > limit else "")
        return text


# ------------------------------------------------------------------ encoding requests

def encode(value: str) -> str:
    """Percent-encode a value as a client would, keeping lone surrogates as the bytes a careless
    encoder sends (surrogatepass), so the server sees invalid UTF-8 rather than our crash."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def query_string(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in params)


def with_query(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{query_string(params)}" if params else path


def json_bytes(value) -> bytes:
    """JSON as a lax client writes it: NaN and Infinity allowed, surrogates escaped (\\ud800)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True).encode()


def multipart(filename: str, data: bytes, boundary: str = "fuzzboundary7d3a") -> tuple[bytes, str]:
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode("utf-8", "surrogatepass")
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------ odd values

SENTENCES = (
    "中国和美国在2019年举行了第十三轮贸易谈判。", "国务院新闻办公室今天发表白皮书。",
    "中国经济增长6.1%，达到99万亿元。",
    "國務院總理李克強出席會議。", "China and the United States held the 13th round of trade talks in 2019.",
    "The Shanghai Stock Exchange opened higher today.", "Exports for 2018 hit US$25 billion.",
    "People's Daily published a commentary.", "外交部发言人回答了记者提问。", "李克强在索契会见了国务院代表团。",
    "The State Council met in Sochi.", "新华社北京5月14日电", "中国", "China",
)

ODD_STRINGS = (
    "", " ", "\t\n", "中", "a", "0", "-1", "NaN", "nan", "inf", "-Infinity", "1e999", "-1e999", "1e-999",
    "99999999999999999999", "-99999999999999999999", "²", "٣", "１００", "0x10", " 70 ", "70.5", "1_0",
    "\ud800", "a\udfffb", "\x00", "a\x00b", "\x1b[31m", "\u202eevil", "\ufeff", "\ufffe", "\U0001f600" * 3,
    "e\u0301" * 5, "ｆｕｌｌ　ｗｉｄｔｈ", "%s", "{0}", "[X12X]", "[X99999999999999999999X ]", "../../etc/passwd",
    "<script>alert(1)</script>", "' OR 1=1 --", "null", "true", "[]", "{}", "\\", "%", "%00", "&amp;",
    "zh", "en", "zh-CN", "en|zh", MEMORY, "fuzz,nope", ",,,", "x" * 600, "中" * 1100, "。" * 300,
    "the " * 2500, "中国" * 5000,
)

#: Scores and counts: the usual ones (0 is a legitimate threshold) and odd ones.
ODD_NUMBERS = (
    "0", "0", "30", "50", "70", "70", "80", "90", "95", "100", "5", "1",
    "0", "0.0", "-0", "1e-300", "5e-324", "1", "30", "69.999", "70", "100", "100.0000001", "101", "-1",
    "NaN", "inf", "-inf", "1e999", "99999999999999999999", "1.5", "10", "100", "1000", "0x1F", "²", "",
    "   ", "1,5", "7e1",
)

JSON_NUMBERS = (0, -0.0, 1e-300, 5e-324, 1, 30, 70, 99.5, 100, 100.0000001, 101, -1, 10**30, -(10**30),
                2**63, 1e308, float("nan"), float("inf"), float("-inf"), 1.5, 10, 1000)

LANGUAGE_CODES = (
    "zh", "en", "zh", "en", "zh-CN", "en-US", "zh", "en", "ZH", "EN", "zh-CN", "zh_CN", "zh-Hans", "zh_hans",
    "zh-Hant-TW", "zh-Hans-CN-x-abcdefgh",
    "en-US", "en-GB", "en_us", "EN-gb", "de", "fr", "ja", "", " ", "x", "zh-", "-", "--", "zh--cn",
    "en-US-u-ca-gregory", "i-klingon", "qaa", "zh" * 100, "\ud800", "中文", "en\x00", "und", "mul",
    "zh-CN|en", "*",
)

DATES = ("2019-05-14", "0001-01-01", "9999-12-31", "2019-02-30", "20190514", "2019-05-14T00:00:00",
         "-0001-01-01", "２０１９-05-14", "2019-5-14", "today", "", "99999-01-01", "2019-W20-2")

DEEP = 3000


def odd_json(rng: random.Random, *, depth: int = 0):
    """A JSON value of any type, odd ones weighted up."""
    kind = rng.randrange(12)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice((True, False))
    if kind == 2:
        return rng.choice(JSON_NUMBERS)
    if kind in (3, 4, 5):
        return rng.choice(ODD_STRINGS + SENTENCES)
    if kind == 6:
        return rng.choice(SENTENCES)
    if kind == 7 and depth < 2:
        return [odd_json(rng, depth=depth + 1) for _ in range(rng.randrange(4))]
    if kind == 8 and depth < 2:
        return {rng.choice(("q", "x", "", "\ud800")): odd_json(rng, depth=depth + 1) for _ in range(rng.randrange(3))}
    if kind == 9:
        return rng.choice(("[" * DEEP + "]" * DEEP, {"q": SENTENCES[0]}, [SENTENCES[0]], []))
    if kind == 10:
        return rng.choice(ODD_NUMBERS)
    return rng.choice(LANGUAGE_CODES)


def text_value(rng: random.Random) -> str:
    """A text to look up or check: mostly real sentences (so scoring runs), often odd."""
    roll = rng.random()
    if roll < 0.45:
        text = rng.choice(SENTENCES)
        if rng.random() < 0.5:  # an edit or two: fuzzy rather than exact
            position = rng.randrange(len(text) + 1)
            text = text[:position] + rng.choice(("的", "x", " ", "2020", "\ud800", "！", "")) + text[position:]
        return text
    if roll < 0.6:
        return " ".join(rng.choice(SENTENCES) for _ in range(rng.randrange(2, 30)))
    return rng.choice(ODD_STRINGS)


def maybe(rng: random.Random, probability: float = 0.5) -> bool:
    return rng.random() < probability


# ------------------------------------------------------------------ the file mutator

def seed_files(prefix: str) -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.name.startswith(prefix))


ATTRIBUTE = re.compile(rb'([\w:.-]+)="([^"]*)"')
TEXT_NODE = re.compile(rb">([^<>]+)<")
ELEMENT = re.compile(rb"<(tu|tuv|seg|prop|note|trans-unit|unit|segment|source|target|termEntry|conceptEntry|"
                     rb"langSet|langSec|tig|termSec|term|descrip|admin|termNote)\b[^>]*>.*?</\1>", re.S)
DATE_ATTRIBUTE = re.compile(rb'((?:creationdate|changedate|lastusagedate)=")([^"]*)"')
LANG_ATTRIBUTE = re.compile(rb'((?:xml:lang|srcLang|trgLang|source-language|target-language|srclang)=")([^"]*)"')

ODD_ATTRIBUTES = (b"", b"-1", b"0", b"99999999999999999999", b"-99999999999999999999", b"1e999", b"NaN",
                  b"x" * 200, b"\xe4\xb8\xad" * 600, b"00010101T000000Z", b"99991231T235959Z",
                  b"00010101T000000+0100", b"99991231T235959-1400", b"20191301T250000Z", b"2019-05-14",
                  b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-14:00", b"2019-05-14T08:00:00.123456+08:00",
                  b"now", b"&#0;", b"&#xD800;", b"&amp;&lt;", b"yes", b"no", b"draft", b"approved", b"final",
                  b"\xff\xfe", b"zh-Hans-CN-x-abcdefgh", b"\x00")

ODD_DATES = (b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-14:00", b"00010101T000000Z", b"99991231T235959Z",
             b"20191301T250000Z", b"2019-05-14", b"now", b"", b"2019-05-14T08:00:00.123456+08:00",
             b"-20190514T000000Z", b"20190229T000000Z", b"2019-05-14T24:00:00Z")

ODD_TEXTS = (b"", b" ", b"x" * 600, b"\xe4\xb8\xad" * 1100, b"&#xD800;", b"&#0;", b"&#x1F600;", b"&#99999999;",
             b"<![CDATA[<b>]]>", b"<!-- c -->", b"<?pi x?>", b"<x:undeclared>t</x:undeclared>",
             b"<b>unknown</b>", b"&nbsp;", b"&unknown;", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\xc3\x28",
             b"a\tb\nc\r\nd", b'"quoted, with comma"', b"\t\t\t", b"<ph id='1'/>", b"]]>", b"\x0c")

PROLOGS = (b'<!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n',
           b'<!DOCTYPE x SYSTEM "file:///etc/passwd">\n',
           b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
           b"<?xml-stylesheet href='x.xsl'?>\n", b"<!-- a comment before the root -->\n")


def _replace_match(rng: random.Random, data: bytes, pattern: re.Pattern, group: int, values) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    m = rng.choice(matches)
    return data[:m.start(group)] + rng.choice(values) + data[m.end(group):]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def mutate_once(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """One random change to a file; returns the new bytes and what was done."""
    kind = rng.randrange(20)
    if kind == 0 and data:
        position = rng.randrange(len(data))
        flipped = bytes([data[position] ^ (1 << rng.randrange(8))])
        return data[:position] + flipped + data[position + 1:], f"flip@{position}"
    if kind == 1:
        position = rng.randrange(len(data) + 1)
        return data[:position], f"truncate@{position}"
    if kind == 2:
        position = rng.randrange(len(data) + 1)
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        return data[:position] + junk + data[position:], f"insert@{position}"
    if kind == 3 and data:
        start = rng.randrange(len(data))
        return data[:start] + data[start + rng.randrange(1, 40):], f"delete@{start}"
    if kind == 4:
        lines = _lines(data)
        i = rng.randrange(len(lines))
        return b"".join(lines[:i] + [lines[i]] * rng.randrange(2, 5) + lines[i:]), f"repeat-line{i}"
    if kind == 5:
        lines = _lines(data)
        i = rng.randrange(len(lines))
        return b"".join(lines[:i] + lines[i + 1:]), f"drop-line{i}"
    if kind == 6:
        elements = list(ELEMENT.finditer(data))
        if elements:
            m = rng.choice(elements)
            copies = rng.choice((2, 3, 50, 200))
            return (data[:m.end()] + data[m.start():m.end()] * (copies - 1) + data[m.end():],
                    f"dup-{m.group(1).decode()}x{copies}")
    if kind == 7:
        elements = list(ELEMENT.finditer(data))
        if elements:
            m = rng.choice(elements)
            return data[:m.start()] + data[m.end():], f"drop-{m.group(1).decode()}"
    if kind == 8 or (kind == 9 and not DATE_ATTRIBUTE.search(data)):
        return _replace_match(rng, data, ATTRIBUTE, 2, ODD_ATTRIBUTES), "odd-attribute"
    if kind == 9:
        return _replace_match(rng, data, DATE_ATTRIBUTE, 2, ODD_DATES), "odd-date"
    if kind == 10:
        codes = [c.encode("utf-8", "surrogatepass") for c in LANGUAGE_CODES]
        if LANG_ATTRIBUTE.search(data):
            return _replace_match(rng, data, LANG_ATTRIBUTE, 2, codes), "odd-lang"
        # a table: a row of odd codes where zh_lang/en_lang/lang cells may be
        return data + b"\t".join([rng.choice(codes)] * 3) + b"\n", "odd-lang-row"
    if kind in (11, 12):
        return _replace_match(rng, data, TEXT_NODE, 1, ODD_TEXTS), "odd-text"
    if kind == 13:
        encoding = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030", "big5", "latin-1",
                               "utf-8-sig", "bom-twice", "cp1252"))
        text = data.decode("utf-8", "replace")
        if encoding == "bom-twice":
            return b"\xef\xbb\xbf\xef\xbb\xbf" + data, "bom-twice"
        return text.encode(encoding, "replace"), f"encode-{encoding}"
    if kind == 14:
        newline = rng.choice((b"\r\n", b"\r", b"\n\n", b"\x85", "\u2028".encode()))
        return data.replace(b"\n", newline), f"newlines-{newline!r}"
    if kind == 15 and data.startswith(b"<?xml"):
        end = data.find(b"?>") + 2
        return data[:end] + b"\n" + rng.choice(PROLOGS) + data[end:], "prolog"
    if kind == 16:
        depth = rng.choice((300, 3000))
        m = TEXT_NODE.search(data)
        if m:
            return data[:m.start(1)] + b"<g>" * depth + b"x" + b"</g>" * depth + data[m.end(1):], f"nest{depth}"
    if kind == 17:
        other = rng.choice(list(CORPUS.iterdir()))
        cut = rng.randrange(len(data) + 1)
        extra = other.read_bytes()
        return data[:cut] + extra[rng.randrange(len(extra) + 1):], f"splice-{other.name}"
    if kind == 18 and (b"\t" in data or b"," in data):
        lines = _lines(data)
        i = rng.randrange(len(lines))
        separator = b"\t" if b"\t" in data else b","
        cells = lines[i].rstrip(b"\r\n").split(separator)
        j = rng.randrange(len(cells))
        cells[j] = rng.choice(ODD_TEXTS + ODD_ATTRIBUTES + (b"\"", b"\"unclosed", separator * 30))
        return b"".join(lines[:i] + [separator.join(cells) + b"\n"] + lines[i + 1:]), f"cell{i}.{j}"
    return data.replace(b"\n", b"\n" + rng.choice((b"\x00", b" ", b"\t", b"\xef\xbb\xbf")), 1), "junk-after-line1"


def mutated_file(rng: random.Random, seeds: list[Path]) -> tuple[str, bytes, list[str]]:
    """(file name, bytes, recipe): a seed with 0 to 4 mutations (a few seeds go in untouched)."""
    seed = rng.choice(seeds)
    data = seed.read_bytes()
    recipe = [seed.name]
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
        data, what = mutate_once(rng, data)
        recipe.append(what)
    name = seed.name
    if maybe(rng, 0.1):
        name = rng.choice(("upload", "x.txt", "a.tmx.tsv", "..\\..\\evil.tmx", "名字.tmx", "x" * 600 + ".tmx",
                           "\ud800.tsv", "a\"b.csv", ""))
        recipe.append(f"named-{name[:20]!r}")
    return name, data, recipe


# ------------------------------------------------------------------ doors

def gen_import(rng: random.Random, index: int) -> FuzzRequest:
    name, data, recipe = mutated_file(rng, seed_files("tm"))
    memory = MEMORY if maybe(rng, 0.7) else rng.choice(("fuzz2", "新记忆", "m" * 130, " ", "a b", "\ud800", "%2F",
                                                       "x" * 64, "fuzz.", "NUL\x00"))
    params: list[tuple[str, str]] = []
    if maybe(rng, 0.25):
        params.append(("format", rng.choice(("tmx", "tsv", "csv", "xliff", "TMX", "docx", "", "tbx"))))
    path = f"/api/v1/memories/{encode(memory)}/import"
    if maybe(rng, 0.6):
        body, content_type = multipart(name, data)
    else:
        params.append(("filename", name))
        body, content_type = data, "application/octet-stream"
    return FuzzRequest("import", index, "POST", with_query(path, params), body, content_type, True, tuple(recipe))


def gen_glossary_import(rng: random.Random, index: int) -> FuzzRequest:
    name, data, recipe = mutated_file(rng, seed_files("glossary"))
    params = [("format", rng.choice(("tbx", "csv", "tsv", "tbx3", "TBX", "", "tmx")))] if maybe(rng, 0.25) else []
    body, content_type = multipart(name, data)
    return FuzzRequest("glossary_import", index, "POST", with_query("/api/v1/glossary/import", params), body,
                       content_type, True, tuple(recipe))


def _lookup_params(rng: random.Random, *, as_json: bool) -> dict:
    """The lookup's parameters, each present or not, each odd or not."""
    value = (lambda pool: odd_json(rng) if maybe(rng, 0.12) else rng.choice(pool)) if as_json else \
        (lambda pool: rng.choice(pool) if maybe(rng, 0.88) else rng.choice(ODD_STRINGS))
    params: dict = {"q": text_value(rng) if not (as_json and maybe(rng, 0.15)) else odd_json(rng)}
    choices = {
        "src": LANGUAGE_CODES, "tgt": LANGUAGE_CODES,
        "min_score": JSON_NUMBERS + ODD_NUMBERS if as_json else ODD_NUMBERS,
        "limit": JSON_NUMBERS + ODD_NUMBERS if as_json else ODD_NUMBERS,
        "memory": (MEMORY, "nope", f"{MEMORY},nope", "", " ", "\ud800", "m" * 300, [MEMORY], [MEMORY, "fuzz2"],
                   [1], []),
        "prev": SENTENCES + ("",), "next": SENTENCES + ("",), "date": DATES,
    }
    for name, pool in choices.items():
        if maybe(rng, 0.3):
            if not as_json:
                pool = tuple(p for p in pool if isinstance(p, str)) or ("",)
                params[name] = value(pool)
            else:
                params[name] = value(pool)
    if maybe(rng, 0.05):
        params[rng.choice(("extra", "Q", "q ", ""))] = "1"
    return params


def gen_lookup_get(rng: random.Random, index: int) -> FuzzRequest:
    params = _lookup_params(rng, as_json=False)
    pairs = list(params.items())
    if maybe(rng, 0.1):  # a repeated parameter
        pairs.append(rng.choice(pairs))
    return FuzzRequest("lookup_get", index, "GET", with_query("/api/v1/tm/lookup", pairs))


def gen_lookup_post(rng: random.Random, index: int) -> FuzzRequest:
    if maybe(rng, 0.05):
        body = rng.choice((b"", b"{", b"[]", b"null", b'"q"', b"\xff\xfe{}", b'{"q": "\xed\xa0\x80"}',
                           b"[" * DEEP + b"]" * DEEP, b'{"q": 1e999999}', b'{"q": "a", "q": "b"}'))
    else:
        body = json_bytes(_lookup_params(rng, as_json=True))
    return FuzzRequest("lookup_post", index, "POST", "/api/v1/tm/lookup", body, "application/json")


def gen_lookup_batch(rng: random.Random, index: int) -> FuzzRequest:
    shared = _lookup_params(rng, as_json=True)
    del shared["q"]
    count = rng.choice((0, 1, 2, 5, 30, 200, 1000, 1001))
    segments = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            segments.append(text_value(rng) if count < 200 else rng.choice(SENTENCES))
        elif roll < 0.9:
            segment = {"q": text_value(rng)}
            if maybe(rng):
                segment[rng.choice(("prev", "next", "min_score", "limit", "src", "bogus"))] = odd_json(rng)
            segments.append(segment)
        else:
            segments.append(odd_json(rng))
    body: dict = dict(shared, segments=segments if maybe(rng, 0.95) else odd_json(rng))
    return FuzzRequest("lookup_batch", index, "POST", "/api/v1/tm/lookup/batch", json_bytes(body), "application/json")


def gen_recognize(rng: random.Random, index: int) -> FuzzRequest:
    params: dict = {"text": text_value(rng)}
    if maybe(rng, 0.4):
        params["lang"] = rng.choice(LANGUAGE_CODES)
    if maybe(rng, 0.4):
        params["date"] = rng.choice(DATES)
    if maybe(rng, 0.5):
        return FuzzRequest("recognize", index, "GET", with_query("/api/v1/glossary/recognize", list(params.items())))
    for name in list(params):
        if maybe(rng, 0.3):
            params[name] = odd_json(rng)
    return FuzzRequest("recognize", index, "POST", "/api/v1/glossary/recognize", json_bytes(params), "application/json")


def gen_qa(rng: random.Random, index: int) -> FuzzRequest:
    body: dict = {"source": text_value(rng), "translation": text_value(rng)}
    for name, pool in (("src", LANGUAGE_CODES), ("tgt", LANGUAGE_CODES), ("date", DATES)):
        if maybe(rng, 0.35):
            body[name] = rng.choice(pool)
    for name in list(body):
        if maybe(rng, 0.2):
            body[name] = odd_json(rng)
    return FuzzRequest("qa", index, "POST", "/api/v1/glossary/qa", json_bytes(body), "application/json")


def gen_tmserver(rng: random.Random, index: int) -> FuzzRequest:
    base = ("/tmserver" if maybe(rng, 0.8)
            else "/tmserver/" + encode(rng.choice(("dz_nope", "x" * 300, "%00", "\ud800"))))
    if maybe(rng, 0.1):
        return FuzzRequest("tmserver", index, "GET", base + "/languages/")
    src, tgt = rng.choice(LANGUAGE_CODES), rng.choice(LANGUAGE_CODES)
    if maybe(rng, 0.6):
        src, tgt = rng.choice((("zh", "en"), ("en", "zh"), ("zh_hans", "en_us"), ("en", "de")))
    text = text_value(rng)
    if maybe(rng, 0.2):
        text = rng.choice(("a//b", "/", "%2F", "x/../..", "[X7X]" * 50, text + "/")) + text
    params = []
    for name in ("min_similarity", "max_candidates"):
        if maybe(rng, 0.5):
            params.append((name, rng.choice(ODD_NUMBERS)))
    path = f"{base}/{encode(src) or 'zh'}/{encode(tgt) or 'en'}/unit/{encode(text)}"
    return FuzzRequest("tmserver", index, "GET", with_query(path, params))


def gen_mymemory(rng: random.Random, index: int) -> FuzzRequest:
    params: list[tuple[str, str]] = [("q", text_value(rng))]
    pair = rng.choice(("zh-CN|en", "en|zh", "zh|en-GB", "en-US|zh-TW", "en|de", "en", "|", "zh|zh", "", "a|b|c"))
    if maybe(rng, 0.2):
        pair = f"{rng.choice(LANGUAGE_CODES)}|{rng.choice(LANGUAGE_CODES)}"
    params.append(("langpair", pair))
    for name, pool in (("min_score", ODD_NUMBERS), ("numres", ODD_NUMBERS), ("mt", ("0", "1", "x")),
                       ("key", ("dz_nope", "", "x" * 300, "\ud800")), ("de", ("a@b.c", "x" * 300))):
        if maybe(rng, 0.3 if name != "key" else 0.05):
            params.append((name, rng.choice(pool)))
    return FuzzRequest("mymemory", index, "GET", with_query("/api/mymemory/get", params))


DOORS = {
    "import": gen_import,
    "glossary_import": gen_glossary_import,
    "lookup_get": gen_lookup_get,
    "lookup_post": gen_lookup_post,
    "lookup_batch": gen_lookup_batch,
    "recognize": gen_recognize,
    "qa": gen_qa,
    "tmserver": gen_tmserver,
    "mymemory": gen_mymemory,
}

#: How many inputs each door gets, relative to the others (files and batches cost more).
WEIGHTS = {"import": 3, "glossary_import": 2, "lookup_get": 3, "lookup_post": 3, "lookup_batch": 1,
           "recognize": 3, "qa": 2, "tmserver": 3, "mymemory": 3}


def case(door: str, index: int, seed: int = DEFAULT_SEED) -> FuzzRequest:
    """Case ``index`` of ``door``: the same request every time for the same seed."""
    return DOORS[door](random.Random(f"{door}:{seed}:{index}"), index)


def cases(door: str, count: int, seed: int = DEFAULT_SEED, start: int = 0):
    for index in range(start, start + count):
        yield case(door, index, seed)


def split(total: int) -> dict[str, int]:
    """``total`` inputs shared among the doors by their weights (each gets at least one)."""
    weight = sum(WEIGHTS.values())
    return {door: max(1, math.floor(total * w / weight)) for door, w in WEIGHTS.items()}


def setup_requests() -> list[FuzzRequest]:
    """What the suite and the bench send first (with an admin token): the seed TM and glossary,
    so lookups score real candidates and recognition finds terms."""
    out = []
    for seed in seed_files("tm"):
        body, content_type = multipart(seed.name, seed.read_bytes())
        out.append(FuzzRequest("setup", 0, "POST", f"/api/v1/memories/{MEMORY}/import", body, content_type, True))
    for seed in seed_files("glossary"):
        body, content_type = multipart(seed.name, seed.read_bytes())
        out.append(FuzzRequest("setup", 0, "POST", "/api/v1/glossary/import", body, content_type, True))
    return out


if __name__ == "__main__":  # python -m tests.fuzzing DOOR INDEX [SEED]: print one case, body to a file
    door, index = sys.argv[1], int(sys.argv[2])
    request = case(door, index, int(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_SEED)
    print(request.describe(limit=10_000))
    if request.body is not None:
        out = Path(f"fuzz-{door}-{index}.bin")
        out.write_bytes(request.body)
        print(f"body written to {out}")
