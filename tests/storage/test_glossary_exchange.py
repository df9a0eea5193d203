"""Glossary import and export through the CLI: both TBX dialects and CSV, all or nothing."""
from __future__ import annotations

import io

import pytest

from glossary.formats.table import read_table
from glossary.formats.tbx import read_tbx
from tests.helpers import ROOT

DEMO = ROOT / "glossary" / "demo" / "termbase.tsv"


@pytest.mark.parametrize("file_format", ["tbx", "tbx3", "csv"])
def test_demo_termbase_round_trips(runner, tmp_path, file_format):
    result = runner.invoke(args=["glossary", "import", str(DEMO)])
    assert result.exit_code == 0, result.output
    out = tmp_path / f"out.{file_format}"
    result = runner.invoke(args=["glossary", "export", "--format", file_format, "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = read_tbx(str(out)) if file_format.startswith("tbx") else read_table(str(out))
    original = read_table(str(DEMO))
    assert len(original) > 80
    assert exported == original  # ids, terms, statuses, flags, dates, notes: all of it


def test_reimport_updates_instead_of_doubling(runner, tmp_path):
    assert runner.invoke(args=["glossary", "import", str(DEMO)]).exit_code == 0
    again = runner.invoke(args=["glossary", "import", str(DEMO)])
    count = len(read_table(str(DEMO)))
    assert f"0 entries added, {count} updated" in again.output


def test_broken_file_imports_nothing(runner, client, tmp_path):
    lines = DEMO.read_text(encoding="utf-8").splitlines()
    broken = lines[:40] + ["made-up\t\ten\tSome Institute\tapproved" + "\t" * 11] + lines[40:]
    path = tmp_path / "broken.tsv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = runner.invoke(args=["glossary", "import", str(path)])
    assert result.exit_code != 0
    assert "line 41" in result.output and "status" in result.output
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0


def test_tbx_upload_with_an_entity_is_refused(client, token_for):
    token = token_for("editor")
    tbx = (b'<?xml version="1.0"?><!DOCTYPE martif [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<martif type="TBX-Basic"><text><body><termEntry id="a"><langSet xml:lang="en"><tig><term>&x;</term>'
           b'</tig></langSet></termEntry></body></text></martif>')
    response = client.post("/api/v1/glossary/import", headers={"Authorization": f"Bearer {token}"},
                           data={"file": (io.BytesIO(tbx), "evil.tbx")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0


def _tbx(entries: dict[str, tuple[str, str]]) -> str:
    body = "".join(
        f'<termEntry id="{entry_id}"><langSet xml:lang="zh"><tig><term>{zh}</term></tig></langSet>'
        f'<langSet xml:lang="en"><tig><term>{en}</term></tig></langSet></termEntry>'
        for entry_id, (zh, en) in entries.items())
    return f'<?xml version="1.0"?><martif type="TBX-Basic"><text><body>{body}</body></text></martif>'


ASTRONOMY = {"c1": ("水星", "Mercury"), "c2": ("金星", "Venus")}
VENDOR = {"c1": ("国务院", "State Council"), "c2": ("外交部", "Ministry of Foreign Affairs")}


def _import(runner, path, content: str) -> str:
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["glossary", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def _all_terms(client) -> list[tuple[str, ...]]:
    entries = client.get("/api/v1/glossary/entries").get_json()["entries"]
    return sorted(tuple(t["text"] for t in e["terms"]) for e in entries)


def test_another_file_with_the_same_ids_does_not_overwrite_entries(runner, client, tmp_path):
    _import(runner, tmp_path / "astronomy.tbx", _tbx(ASTRONOMY))
    assert "2 entries added, 0 updated" in _import(runner, tmp_path / "vendor.tbx", _tbx(VENDOR))
    assert _all_terms(client) == sorted([*ASTRONOMY.values(), *VENDOR.values()])

    # Re-importing a file still updates the entries it brought, matched by file and id.
    changed = {**ASTRONOMY, "c1": ("水星", "Mercury (planet)")}
    assert "0 entries added, 2 updated" in _import(runner, tmp_path / "astronomy.tbx", _tbx(changed))
    assert _all_terms(client) == sorted([*changed.values(), *VENDOR.values()])


def test_the_same_entries_under_another_file_name_are_matched_by_their_terms(runner, client, tmp_path):
    _import(runner, tmp_path / "astronomy.tbx", _tbx(ASTRONOMY))
    assert "0 entries added, 2 updated" in _import(runner, tmp_path / "astronomy-copy.tbx", _tbx(ASTRONOMY))
    assert len(_all_terms(client)) == 2


def test_an_export_of_two_files_with_the_same_ids_imports_again_without_twins(runner, client, tmp_path):
    _import(runner, tmp_path / "astronomy.tbx", _tbx(ASTRONOMY))
    _import(runner, tmp_path / "vendor.tbx", _tbx(VENDOR))
    out = tmp_path / "glossary.tbx"
    assert runner.invoke(args=["glossary", "export", "--format", "tbx", "-o", str(out)]).exit_code == 0
    exported = read_tbx(str(out))
    assert len({e.id for e in exported}) == 4  # ids unique in the file, as TBX wants
    result = runner.invoke(args=["glossary", "import", str(out)])
    assert "0 entries added, 4 updated" in result.output, result.output
    assert len(_all_terms(client)) == 4
