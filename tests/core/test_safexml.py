"""common.safexml: the one set of parser options every reader of outside XML uses."""
from __future__ import annotations

import io

import pytest
from lxml import etree

from common import safexml

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE r [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
]>
<r>&b;</r>"""


def test_a_caller_cannot_weaken_the_options():
    for weaker in ({"resolve_entities": True}, {"no_network": False}, {"load_dtd": True}, {"huge_tree": True}):
        with pytest.raises(ValueError, match="does not allow"):
            safexml.parser(**weaker)
        with pytest.raises(ValueError, match="does not allow"):
            safexml.iterparse(io.BytesIO(b"<r/>"), **weaker)
    # Restating a safe option, or adding an unrelated one, is fine.
    assert safexml.parser(resolve_entities=False, remove_blank_text=True) is not None


def test_entities_are_never_expanded_and_are_found():
    tree = etree.parse(io.BytesIO(BOMB), safexml.parser())
    assert "aaaa" not in etree.tostring(tree, encoding="unicode").split("]>")[-1]
    assert safexml.first_entity(tree).name == "a"
    assert safexml.entity_line(BOMB) == 3
    assert "entity-expansion bomb" in str(safexml.entity_refused(safexml.first_entity(tree), "TMX"))
    plain = etree.parse(io.BytesIO(b'<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd"><martif/>'), safexml.parser())
    assert safexml.first_entity(plain) is None


def test_the_peeked_stream_gives_back_every_byte():
    data = bytes(range(256)) * 1000
    head, stream = safexml.peek_prolog(io.BytesIO(data), "reader")
    assert head == data[:safexml.PROLOG_PEEK]
    assert stream.read(10) + stream.read() == data
    with pytest.raises(TypeError, match="reader needs a binary stream"):
        safexml.peek_prolog(io.StringIO("<r/>"), "reader")


def test_a_syntax_error_names_its_line():
    with pytest.raises(etree.XMLSyntaxError) as caught:
        for _ in safexml.iterparse(io.BytesIO(b"<r>\n<a>\n</r>")):
            pass
    reason, line = safexml.syntax_problem(caught.value)
    assert line == 3 and str(reason).startswith("malformed XML (")
