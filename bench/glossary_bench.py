"""Glossary recognition benchmark: 20,000 entries, 1,000-character texts, one edit.

    .venv/bin/python bench/glossary_bench.py [--entries 20000] [--runs 300]

Synthetic entries are built from the demo termbase's patterns (institutes, media, people,
places) and words of the WMT news test sets in shared/data/parallel, read in place. The texts
are real news paragraphs from the same sets, 1,000 characters each, with a dozen glossary terms
written into them so that the recogniser has hits to resolve. Targets: a lookup under 5 ms, a
rebuild after one edit under 1 s. Writing and reading the glossary in each exchange format is
timed too.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from glossary.core.model import Entry, Term  # noqa: E402
from glossary.core.qa import check  # noqa: E402
from glossary.core.recognize import TermRecognizer  # noqa: E402
from glossary.demo import load_demo_entries  # noqa: E402
from glossary.formats.table import dumps_table, read_table  # noqa: E402
from glossary.formats.tbx import dumps_tbx, read_tbx  # noqa: E402

PARALLEL = Path("/work/shared/data/parallel/wmt_newstest_zh_en")
if not PARALLEL.exists():  # CI lays shared/ beside the clone
    PARALLEL = ROOT.parent / "shared" / "data" / "parallel" / "wmt_newstest_zh_en"

ZH_SUFFIXES = [("研究所", "Institute of {}"), ("研究院", "Academy of {}"), ("委员会", "{} Commission"),
               ("日报", "{} Daily"), ("大学", "{} University"), ("银行", "{} Bank"), ("集团", "{} Group"),
               ("协会", "{} Association"), ("中心", "{} Center"), ("电视台", "{} Television"),
               ("省", "{} Province"), ("市", "{} City"), ("港", "Port of {}")]
TRANSLIT = list("阿巴达尔斯特克拉夫罗诺维奇尼科洛马杜蓬佩奥普京索契伊万谢盖米哈伊")


def corpus_words(limit_lines: int = 4000) -> tuple[list[str], list[str], list[str], list[str]]:
    """Chinese words (jieba), English capitalised words, and raw zh/en lines for texts."""
    import jieba

    jieba.setLogLevel(60)
    zh_lines, en_lines = [], []
    for path in sorted(PARALLEL.glob("newstest20*.zh")):
        zh_lines += path.read_text(encoding="utf-8").splitlines()
    for path in sorted(PARALLEL.glob("newstest20*.en")):
        en_lines += path.read_text(encoding="utf-8").splitlines()
    zh_words = set()
    for line in zh_lines[:limit_lines]:
        zh_words.update(w for w in jieba.lcut(line) if 2 <= len(w) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", w))
    en_words = set()
    for line in en_lines[:limit_lines * 2]:
        en_words.update(w for w in re.findall(r"\b[A-Z][a-z]{3,12}\b", line))
    return sorted(zh_words), sorted(en_words), zh_lines, en_lines


def synthetic_entries(count: int, zh_words, en_words, rng: random.Random) -> list[Entry]:
    entries = list(load_demo_entries())
    seen = {t.text for e in entries for t in e.terms}
    while len(entries) < count:
        kind = rng.random()
        if kind < 0.6:  # an institution: two words and a suffix, with a short form
            a, b = rng.sample(zh_words, 2)
            suffix, pattern = rng.choice(ZH_SUFFIXES)
            zh = a + b + suffix
            en = pattern.format(f"{rng.choice(en_words)} {rng.choice(en_words)}")
            terms = [Term("zh", zh), Term("zh", a + suffix, "admitted", term_type="shortForm"), Term("en", en)]
            if rng.random() < 0.2:
                acronym = "".join(w[0] for w in en.split() if w[0].isupper()) + str(rng.randrange(100))
                terms.append(Term("en", acronym, "admitted", case_sensitive=True, term_type="acronym"))
            concept = "institution"
        elif kind < 0.85:  # a person: transliterated name, surname as short form
            given = "".join(rng.choices(TRANSLIT, k=rng.randint(2, 3)))
            surname = "".join(rng.choices(TRANSLIT, k=rng.randint(2, 3)))
            first, last = rng.sample(en_words, 2)
            terms = [Term("zh", surname), Term("zh", f"{given}·{surname}", "admitted", term_type="fullForm"),
                     Term("en", f"{first} {last}"), Term("en", last, "admitted", term_type="shortForm")]
            concept = "person"
        else:  # a place, with a deprecated old spelling
            a = rng.choice(zh_words)
            name = rng.choice(en_words)
            terms = [Term("zh", a + rng.choice("省市县湾港")), Term("en", name + "ville"),
                     Term("en", name + "burgh", "deprecated")]
            concept = "place"
        # Full names are unique; short forms may be shared, as surnames and short names are.
        if terms[0].text in seen or terms[2].text in seen or len({t.text for t in terms}) < len(terms):
            continue
        seen.update((terms[0].text, terms[2].text))
        entries.append(Entry(f"syn-{len(entries)}", concept, terms))
    return entries


def text_of(lines: list[str], size: int, terms: list[str], rng: random.Random, sep: str) -> str:
    """``size`` characters of real news with ``terms`` written in at sentence ends."""
    start = rng.randrange(len(lines) - 200)
    parts, length = [], 0
    for line in lines[start:]:
        parts.append(line)
        if terms and rng.random() < 0.8:
            parts.append(rng.choice(terms))
        length += len(line)
        if length >= size:
            break
    return sep.join(parts)[:size]


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(20190514)

    t0 = time.perf_counter()
    zh_words, en_words, zh_lines, en_lines = corpus_words()
    print(f"corpus: {len(zh_words)} zh words, {len(en_words)} en words ({time.perf_counter() - t0:.1f} s)")
    entries = synthetic_entries(args.entries, zh_words, en_words, rng)
    terms = sum(len(e.terms) for e in entries)
    print(f"glossary: {len(entries)} entries, {terms} terms")

    # Wall and CPU time both: on a shared two-core machine the wall clock also counts waiting.
    t0, c0 = time.perf_counter(), time.process_time()
    recognizer = TermRecognizer(entries)
    print(f"build (validate, key, 2 automata): {(time.perf_counter() - t0) * 1000:.0f} ms wall, "
          f"{(time.process_time() - c0) * 1000:.0f} ms CPU")

    sample = rng.sample(entries, 40)
    zh_terms = [t.text for e in sample for t in e.terms if t.lang == "zh"]
    en_terms = [t.text for e in sample for t in e.terms if t.lang == "en"]
    zh_text = text_of(zh_lines, 1000, zh_terms, rng, "")
    en_text = text_of(en_lines, 1000, en_terms, rng, " ")
    day = dt.date(2019, 5, 14)
    for lang, text in (("zh", zh_text), ("en", en_text)):
        hits = recognizer.find(text, lang)
        median, p95 = timed(lambda text=text, lang=lang: recognizer.find(text, lang), args.runs)
        dated, _ = timed(lambda text=text, lang=lang: recognizer.find(text, lang, on=day), args.runs)
        print(f"find {lang}, {len(text)} chars, {len(hits)} hits: median {median:.2f} ms, p95 {p95:.2f} ms "
              f"(dated lookup {dated:.2f} ms) [target < 5 ms]")

    median, p95 = timed(lambda: check(zh_text, en_text, "zh", "en", recognizer), max(20, args.runs // 10))
    print(f"qa check zh->en (source and translation recognised): median {median:.2f} ms")

    edited = entries[len(entries) // 2]
    changed = Entry(edited.id, edited.concept_type, edited.terms + (Term("en", "Edited Variant", "admitted"),))
    t0 = time.perf_counter()
    recognizer.add(changed)
    edit_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    recognizer.remove(changed.id)
    remove_ms = (time.perf_counter() - t0) * 1000
    assert recognizer.find("Edited Variant", "en") == []
    print(f"incremental update: one edit {edit_ms:.2f} ms, one removal {remove_ms:.2f} ms [target < 1000 ms]")
    for name, dump, load in (
        ("TBX-Basic 2008", lambda: dumps_tbx(entries), lambda data: read_tbx(io.BytesIO(data))),
        ("TBX v3", lambda: dumps_tbx(entries, dialect="v3"), lambda data: read_tbx(io.BytesIO(data))),
        ("TSV", lambda: dumps_table(entries), lambda data: read_table(io.StringIO(data))),
    ):
        t0 = time.perf_counter()
        data = dump()
        t1 = time.perf_counter()
        assert load(data) == entries
        t2 = time.perf_counter()
        print(f"{name}: write {(t1 - t0) * 1000:.0f} ms, read {(t2 - t1) * 1000:.0f} ms, "
              f"{len(data) / 1e6:.1f} MB")

    t0, c0 = time.perf_counter(), time.process_time()
    recognizer.compact()
    print(f"full rebuild of the automata (compact): {(time.perf_counter() - t0) * 1000:.0f} ms wall, "
          f"{(time.process_time() - c0) * 1000:.0f} ms CPU")


if __name__ == "__main__":
    main()
