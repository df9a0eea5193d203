"""The word-translation model the aligner's lexical-translation evidence reads in the benches:
tm.core.wordalign's model, trained on ../shared/data/parallel (read in place) and cached as a
file under instance/align/ (never committed: it is a table of counts learnt from copyrighted
text). The service reads the memory's own model (the fragment model) instead.

    .venv/bin/python bench/align_lexicon.py      # train (or find current) and print its size

Held out from training, because the news benches are built from them: newstest2017 (the gaps
were tuned on it), newstest2018 (the 1,000-line article), newstest2020 and newstestB2020
zho-eng (held out). Trained on: newstest2019 (both directions), newstest2020 and newstestB2020
eng-zho (other articles: English originals), newstest2021, TICO-19 and Tatoeba.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = ROOT.parent / "shared" / "data" / "parallel"
CACHE = ROOT / "instance" / "align" / "parallel-lexicon.npz"
sys.path.insert(0, str(ROOT))

from tm.core import wordalign  # noqa: E402

WMT_TRAIN = ("newstest2019.zho-eng", "newstest2019.eng-zho", "newstest2020.eng-zho",
             "newstestB2020.eng-zho", "newstest2021.zho-eng")


def parallel_pairs() -> list[tuple[str, str]]:
    """(zh, en) pairs of the training part of ../shared/data/parallel, deduplicated."""
    pairs: list[tuple[str, str]] = []
    wmt = PARALLEL / "wmt_newstest_zh_en"
    for name in WMT_TRAIN:
        zh = (wmt / f"{name}.zh").read_text(encoding="utf-8").splitlines()
        en = (wmt / f"{name}.en").read_text(encoding="utf-8").splitlines()
        pairs += zip(zh, en, strict=True)
    tico = PARALLEL / "tico19_zh_en"
    pairs += zip((tico / "tico19-test.zh").read_text(encoding="utf-8").splitlines(),
                 (tico / "tico19-test.en").read_text(encoding="utf-8").splitlines(), strict=True)
    for line in (PARALLEL / "tatoeba_cmn" / "cmn.txt").read_text(encoding="utf-8-sig").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            pairs.append((parts[1], parts[0]))
    return list(dict.fromkeys((z.strip(), e.strip()) for z, e in pairs if z.strip() and e.strip()))


def _stamp(pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha1(str(wordalign.FORMAT_VERSION).encode())
    for z, e in pairs:
        digest.update(z.encode())
        digest.update(e.encode())
    return digest.hexdigest()


def translation_model(log=print) -> wordalign.AlignmentModel:
    """The cached model if it was trained on these pairs by this format, else train it now."""
    pairs = parallel_pairs()
    stamp = _stamp(pairs)
    if CACHE.exists():
        try:
            model = wordalign.AlignmentModel.load(CACHE)
        except ValueError:
            model = None
        if model is not None and model.meta.get("stamp") == stamp:
            return model
    start = time.perf_counter()
    model = wordalign.train(pairs, log=log)
    model.meta["stamp"] = stamp
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    model.save(CACHE)
    log(f"trained on {len(pairs)} pairs in {time.perf_counter() - start:.0f} s -> {CACHE}")
    return model


if __name__ == "__main__":
    m = translation_model()
    print(f"{m.units} units, {len(m.zh_vocab)} zh / {len(m.en_vocab)} en words, "
          f"{m.nbytes() / 2**20:.1f} MiB of tables")
