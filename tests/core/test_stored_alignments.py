"""The alignments stored with a model at training (wordalign.UnitLinks): read back, they are
what ``align`` computes for the same pair; a unit is found by its id and the digest of its
texts, so an edited or unknown unit gets none."""
from __future__ import annotations

import pytest

from tests.helpers import fragment_memory
from tm.core import wordalign
from tm.core.renderings import StoredUnit, translate_fragment
from tm.core.wordalign import AlignmentModel, align, tokens, train


@pytest.fixture(scope="module")
def keyed():
    """(unit id, zh, en) triples with ids that are not row numbers, and a model trained on them."""
    units = [(7 + 3 * k, zh, en) for k, (zh, en) in enumerate(fragment_memory())]
    return units, train(units, priors=[("中国社会科学院", "Chinese Academy of Social Sciences")])


@pytest.fixture(scope="module")
def saved(keyed, tmp_path_factory):
    units, model = keyed
    path = tmp_path_factory.mktemp("stored") / "model.npz"
    model.save(path)
    return units, AlignmentModel.load(path), path


def teaches(zh: str, en: str) -> bool:
    zt, et = tokens(zh, "zh").words, tokens(en, "en").words
    return bool(zt and et and len(zt) <= wordalign.MAX_TRAIN_TOKENS and len(et) <= wordalign.MAX_TRAIN_TOKENS)


def test_alignments_read_back_equal_what_align_gives(saved):
    units, model, _ = saved
    assert model.links is not None and len(model.links) == len(units)
    compared = 0
    for unit_id, zh, en in units:
        stored = model.links.alignment(model, unit_id, zh, en)
        assert stored is not None
        if teaches(zh, en):
            assert stored == align(model, zh, en), unit_id  # tokens, spans, links and posteriors
            assert stored.links
            compared += 1
        else:  # a pair too long to train on is stored as aligning nothing
            assert not stored.links
    assert compared >= len(units) - 10


def test_a_unit_edited_since_or_unknown_has_none(saved):
    units, model, _ = saved
    unit_id, zh, en = units[0]
    assert model.links.alignment(model, unit_id, zh, en) is not None
    assert model.links.alignment(model, unit_id, zh, en + " (revised)") is None
    assert model.links.alignment(model, unit_id, zh.replace("。", "！"), en) is None
    assert model.links.alignment(model, unit_id + 1, zh, en) is None  # ids are not rows
    assert model.links.alignment(model, "7", zh, en) is None
    # Looked up together: below and above every stored id, not an int, edited, stored.
    asked = [(0, zh, en), ("7", zh, en), (10**12, zh, en), (unit_id, zh, en + " (revised)"), (unit_id, zh, en)]
    rows = model.links.rows_of(asked)
    assert rows[:4] == [None] * 4 and rows[4] is not None
    assert [model.links.row(*pair) for pair in asked] == rows


def test_translating_a_fragment_never_aligns_a_stored_unit(saved, monkeypatch):
    from tests.helpers import INSTITUTE_EN, INSTITUTE_ZH

    units, model, _ = saved
    calls = []
    monkeypatch.setattr(wordalign, "_viterbi", lambda *a: calls.append(a) or pytest.fail("aligned a stored unit"))
    stored = [StoredUnit(unit_id, zh, en) for unit_id, zh, en in units if INSTITUTE_ZH in zh]

    def read_back(units: list[StoredUnit]):
        return model.links.alignments(model, [(unit.unit_id, unit.source, unit.target) for unit in units])

    (best, *_) = translate_fragment(model, INSTITUTE_ZH, "zh", stored, align_units=read_back)
    assert INSTITUTE_EN in best.text and best.units >= 3
    assert calls == []


def test_saving_again_replaces_the_links_of_the_model_before(keyed, tmp_path):
    _, model = keyed
    path = tmp_path / "model.npz"
    model.save(path)
    first = AlignmentModel.load(path)  # memory-maps the first links
    model.save(path)
    (links_dir,) = tmp_path.glob("model.npz.links-*")
    assert (tmp_path / "model.npz").is_file()
    # The model loaded before still reads its (unlinked) files.
    unit_id, zh, en = keyed[0][1]
    assert first.links.alignment(first, unit_id, zh, en) == AlignmentModel.load(path).links.alignment(
        first, unit_id, zh, en)
    assert links_dir.name in {p.name for p in tmp_path.iterdir()}


def test_alignments_stored_from_a_spilled_link_cache_are_what_align_gives(keyed, monkeypatch):
    """The Viterbi pass reads the links' table positions back from EM's cache instead of
    searching the table: from memory or from the file (many batches), the same alignments,
    and those ``align`` computes with the saved table."""
    units = keyed[0][:150]
    priors = [("中国社会科学院", "Chinese Academy of Social Sciences")]
    monkeypatch.setattr(wordalign, "BATCH_LINKS", 5_000)
    in_memory = train(units, priors=priors)
    monkeypatch.setattr(wordalign, "LINK_CACHE_BYTES", 0)
    spilled = train(units, priors=priors)
    assert spilled.links is not None and in_memory.links is not None
    for name in wordalign.UnitLinks.ARRAYS:
        assert (getattr(spilled.links, name) == getattr(in_memory.links, name)).all(), name
    for unit_id, zh, en in units:
        if teaches(zh, en):
            assert spilled.links.alignment(spilled, unit_id, zh, en) == align(spilled, zh, en), unit_id


def test_a_model_of_pairs_without_ids_stores_none(tmp_path):
    model = train(fragment_memory()[:40])
    assert model.links is None
    model.save(tmp_path / "model.npz")
    assert AlignmentModel.load(tmp_path / "model.npz").links is None
    assert not list(tmp_path.glob("*.links-*"))


@pytest.mark.parametrize(("fragment", "lang"), [
    ("中国社会科学院俄罗斯东欧中亚研究所", "zh"), ("中國社會科學院", "zh"), ("社会科学院", "zh"),
    ("Chinese Academy of Social Sciences", "en"), ("east european and central", "en"),
])
def test_locating_on_the_stored_tokens_covers_the_tokens_locate_does(saved, fragment, lang):
    from tm.core.renderings import locate, locate_tokens
    from tm.core.wordalign import _covered

    units, model, _ = saved
    found = 0
    for unit_id, zh, en in units:
        stored = model.links.alignment(model, unit_id, zh, en)
        source, toks = (zh, stored.zh) if lang == "zh" else (en, stored.en)
        if not toks.words:
            continue
        expected = locate(fragment, source, lang)
        got = locate_tokens(fragment, lang, toks)
        assert (got is None) == (expected is None), (unit_id, source)
        if got is not None:
            assert _covered(toks.spans, *got) == _covered(toks.spans, *expected)
            found += 1
    assert found >= 3


def _mapped(array) -> bool:
    import mmap

    while array is not None and not isinstance(array, mmap.mmap):
        array = getattr(array, "base", None)
    return array is not None


def test_the_tables_are_mapped_from_the_model_file_and_outlive_its_replacement(keyed, tmp_path):
    """Every process loading the model shares its tables through the page cache (gunicorn
    workers each load a newer one): they are mapped from the .npz as saved, equal to the
    trained ones, and a model still in use keeps its tables when a newer file replaces it."""
    import numpy as np

    units, model = keyed
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = AlignmentModel.load(path)
    for trained, read in ((model.zh_to_en, loaded.zh_to_en), (model.en_to_zh, loaded.en_to_zh)):
        assert _mapped(read.keys) and _mapped(read.probs) and not read.keys.flags.writeable
        # Aligned, or numpy would copy a table whole at every lookup in it.
        assert read.keys.ctypes.data % wordalign.NPZ_ALIGNMENT == 0 and read.probs.flags.aligned
        assert np.array_equal(read.keys, trained.keys) and np.array_equal(read.probs, trained.probs)
    before = [a.copy() for a in (loaded.zh_to_en.keys, loaded.zh_to_en.probs)]
    train(units[: len(units) // 2]).save(path)  # a newer model, renamed over the file
    assert np.array_equal(loaded.zh_to_en.keys, before[0]) and np.array_equal(loaded.zh_to_en.probs, before[1])
    assert AlignmentModel.load(path).zh_to_en.keys.size != before[0].size
    _, zh, en = units[0]
    assert align(loaded, zh, en).links == align(model, zh, en).links


def test_a_model_file_written_by_np_savez_still_loads(keyed, tmp_path):
    """Files saved before the arrays were aligned (np.savez) load as before: an array whose
    place in the file is not aligned for its type is read, not mapped."""
    import numpy as np

    _, model = keyed
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path) as data:
        members = {name: data[name] for name in data.files}
    with open(path, "wb") as out:
        np.savez(out, **members)
    loaded = AlignmentModel.load(path)
    for trained, read in ((model.zh_to_en, loaded.zh_to_en), (model.en_to_zh, loaded.en_to_zh)):
        assert read.keys.flags.aligned and read.probs.flags.aligned
        assert np.array_equal(read.keys, trained.keys) and np.array_equal(read.probs, trained.probs)


def test_reading_back_does_not_symmetrise_again(saved, monkeypatch):
    """The grow-diag-final-and links are stored with the directional ones (UnitLinks.e2z_kept,
    z2e_kept): a read takes them as they are."""
    units, model, _ = saved
    expected = {unit_id: align(model, zh, en) for unit_id, zh, en in units[:60] if teaches(zh, en)}
    monkeypatch.setattr(wordalign, "_grow_diag_final_and", lambda *a: pytest.fail("symmetrised at a read"))
    for unit_id, zh, en in units[:60]:
        if unit_id in expected:
            assert model.links.alignment(model, unit_id, zh, en) == expected[unit_id], unit_id


def test_links_stored_before_the_kept_flags_still_read_back(saved, tmp_path):
    """Links saved without e2z_kept / z2e_kept (a model trained before them) are symmetrised
    at each read, as they were: the same alignments."""
    units, model, _ = saved
    older = tmp_path / "links"
    model.links.save(older)
    for name in wordalign.UnitLinks.OPTIONAL:
        (older / f"{name}.npy").unlink()
    links = wordalign.UnitLinks.load(older)
    assert links.e2z_kept is None and links.z2e_kept is None
    for unit_id, zh, en in units:
        assert links.alignment(model, unit_id, zh, en) == model.links.alignment(model, unit_id, zh, en), unit_id


def test_the_kept_flags_do_not_depend_on_how_many_units_are_symmetrised_at_once(saved, monkeypatch):
    _, model, _ = saved
    links = model.links
    monkeypatch.setattr(wordalign, "KEPT_LINKS_ROWS", 7)
    e2z_kept, z2e_kept = wordalign.kept_links(links.zh_off, links.en_off, links.e2z, links.z2e)
    assert (e2z_kept == links.e2z_kept).all() and (z2e_kept == links.z2e_kept).all()
    assert 0 < e2z_kept.sum() < len(e2z_kept)


def test_a_units_projection_kept_for_the_lookup_is_not_made_again(saved, monkeypatch):
    """translate_fragment's ``projections``: a part translated on its pilot, then on all its
    units, projects each unit once, and gives what it gives without them."""
    from tests.helpers import INSTITUTE_ZH
    from tm.core import renderings

    units, model, _ = saved
    stored = [StoredUnit(unit_id, zh, en) for unit_id, zh, en in units if INSTITUTE_ZH in zh]

    def read_back(units: list[StoredUnit]):
        return model.links.alignments(model, [(unit.unit_id, unit.source, unit.target) for unit in units])

    alone = translate_fragment(model, INSTITUTE_ZH, "zh", stored, align_units=read_back)
    calls = []
    projecting = renderings.project_scored
    monkeypatch.setattr(renderings, "project_scored", lambda *a, **k: calls.append(a) or projecting(*a, **k))
    kept: dict = {}
    pilot = renderings.pilot_units(stored, 2)
    translate_fragment(model, INSTITUTE_ZH, "zh", pilot, align_units=read_back, projections=kept, min_confidence=0.0)
    assert len(calls) == len(pilot) == 2
    again = translate_fragment(model, INSTITUTE_ZH, "zh", stored, align_units=read_back, projections=kept)
    assert len(calls) == len(stored) and again == alone
    assert [r.features for r in again] == [r.features for r in alone]


def test_alignments_read_together_are_those_read_one_by_one(saved):
    """UnitLinks.alignments gathers many units' arrays at once: the same alignments as
    ``alignment`` unit by unit (None for an unknown or edited unit), with the same ids and word kinds."""
    units, model, _ = saved
    asked = [(unit_id, zh, en) for unit_id, zh, en in units[:80]]
    asked[3] = (asked[3][0], asked[3][1], asked[3][2] + " (revised)")
    asked.insert(10, (10**9, "没有", "none"))
    together = model.links.alignments(model, asked)
    one_by_one = [model.links.alignment(model, *pair) for pair in asked]
    assert together == one_by_one
    assert together[3] is None and together[10] is None and sum(a is not None for a in together) == 79
    for read, alone in zip(together, one_by_one, strict=True):
        if read is not None and read.links:
            assert (read.zh_ids == alone.zh_ids).all() and (read.en_ids == alone.en_ids).all()
            for lang, text in (("zh", read.zh), ("en", read.en)):
                assert read._word_kinds(lang) == alone._word_kinds(lang), text
            assert read.posterior == alone.posterior


def _fragments_of(units, lang: str, every: int = 4) -> list[str]:
    """Runs of two to four tokens of every ``every``-th unit's ``lang`` side, as a query would
    hold them: the fragments whose projections the arrays must reproduce."""
    out = {}
    for unit_id, zh, en in units[::every]:
        source = zh if lang == "zh" else en
        toks = tokens(source, lang)
        for n in (2, 3, 4):
            for first in range(0, max(len(toks.words) - n, 0), 5):
                run = source[toks.spans[first][0] : toks.spans[first + n - 1][1]]
                out[run] = unit_id
    return list(out)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_projecting_the_stored_arrays_gives_what_the_alignments_give(saved, lang):
    """gather_stored + project_stored (what a lookup uses) against UnitLinks.alignments +
    project_scored, unit by unit: the same span, score, context and witness for every unit
    of hundreds of fragments (those found and not, projected and not), so the same renderings."""
    from tm.core.wordalign import StoredAlignment, gather_stored

    units, model, _ = saved

    def read_back(asked: list[StoredUnit]):
        return model.links.alignments(model, [(u.unit_id, *_sides(u, lang)) for u in asked])

    def gathered(asked: list[StoredUnit]):
        stored, index = gather_stored(model, [(u.unit_id, *_sides(u, lang)) for u in asked])
        return [None if unit is None else StoredAlignment(stored, unit) for unit in index]

    fragments = _fragments_of(units, lang)
    compared = projected = failed = 0
    for fragment in fragments:
        needle = fragment if lang == "zh" else fragment.lower()
        holding = [StoredUnit(unit_id, zh if lang == "zh" else en, en if lang == "zh" else zh)
                   for unit_id, zh, en in units if needle in (zh if lang == "zh" else en.lower())]
        by_alignments: dict = {}
        by_arrays: dict = {}
        expected = translate_fragment(model, fragment, lang, holding, align_units=read_back,
                                      projections=by_alignments, min_confidence=0.0)
        got = translate_fragment(model, fragment, lang, holding, align_units=gathered, projections=by_arrays,
                                 min_confidence=0.0)
        assert by_arrays == by_alignments, fragment
        assert got == expected and [r.features for r in got] == [r.features for r in expected], fragment
        compared += len(by_arrays)
        projected += sum(found is not None for (found,) in by_arrays.values())
        failed += sum(found is None for (found,) in by_arrays.values())
    assert len(fragments) > 150 and compared > 300 and projected > 100 and failed > 30
    # A stop word written in capitals ("US") is a content word on the arrays too.
    stored, _ = gather_stored(model, [(unit_id, zh, en) for unit_id, zh, en in units])
    capitals = stored.en.plain & ~stored.en.surface
    assert capitals.sum() >= 5
    assert {stored.en.vocab[int(i)] for i in stored.en.ids[capitals]} == {"us"}


def _sides(unit: StoredUnit, lang: str) -> tuple[str, str]:
    return (unit.source, unit.target) if lang == "zh" else (unit.target, unit.source)


def test_stored_arrays_leave_out_an_edited_or_unknown_unit_and_older_links(saved, tmp_path):
    """gather_stored: None for a unit not stored with these texts, as UnitLinks.alignment; no
    arrays at all from links stored before their kept flags (the aligner reads Alignments)."""
    from tm.core.wordalign import gather_stored

    units, model, _ = saved
    asked = [(unit_id, zh, en) for unit_id, zh, en in units[:12]]
    asked[3] = (asked[3][0], asked[3][1], asked[3][2] + " (revised)")
    asked.insert(5, (10**9, "没有", "none"))
    stored, index = gather_stored(model, asked)
    assert [unit is None for unit in index] == [read is None for read in model.links.alignments(model, asked)]
    assert index[3] is None and index[5] is None and len(stored) == 11
    nothing, none = gather_stored(model, [(10**9, "没有", "none"), asked[3]])
    assert len(nothing) == 0 and none == [None, None] and not len(nothing.link_unit)
    older = tmp_path / "links"
    model.links.save(older)
    for name in wordalign.UnitLinks.OPTIONAL:
        (older / f"{name}.npy").unlink()
    old_model = AlignmentModel(model.zh_vocab, model.en_vocab, model.zh_to_en, model.en_to_zh,
                               links=wordalign.UnitLinks.load(older))
    assert gather_stored(old_model, asked) is None
