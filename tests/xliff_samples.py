"""zh-en XLIFF files as CAT tools write them, built from real news sentences read in place from
../shared: what the round-trip tests of pre-translation (core, API, CLI, browser) share."""
from __future__ import annotations

import functools
import re

from lxml import etree

from tests.helpers import wmt_pairs
from tm.formats.xliff import NS_12, NS_20
from tm.formats.xliff_pretranslate import NS_MTC


@functools.cache
def _pairs() -> list[tuple[str, str]]:
    """The news pairs the files are made of (read once)."""
    return wmt_pairs(120)


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _with_number(pairs):
    """Pairs whose Chinese and English share a number (an anchor for an interior code)."""
    for zh, en in pairs:
        for number in re.findall(r"\d+", zh):
            if len(number) >= 2 and zh.count(number) == 1 and len(re.findall(rf"(?<!\d){number}(?!\d)", en)) == 1 \
                    and zh.index(number) > 2 and en.index(number) > 2:
                yield zh, en, number
                break


def xliff12_file(pairs, numbered) -> tuple[str, list[str]]:
    """An XLIFF 1.2 file (zh-CN -> en-US) as a CAT tool writes it, and the ids of the units whose
    codes cannot be placed in a plain translation (a code between two Chinese words)."""
    units, unplaceable = [], []
    for n, (zh, en) in enumerate(pairs, 1):
        kind = n % 6
        if kind == 1:
            source, target = f'<g id="1" ctype="bold">{esc(zh)}</g>', f'<g id="1" ctype="bold">{esc(en)}</g>'
        elif kind == 2:
            source, target = f'{esc(zh)}<x id="2" ctype="lb"/>', f'{esc(en)}<x id="2" ctype="lb"/>'
        elif kind == 3:
            # A character reference and a CDATA section: lxml reads them as text; the bytes stay.
            source, target = f"&#x{ord(zh[0]):X};{esc(zh[1:])}", f"<![CDATA[{en}]]>"
        elif kind == 4:
            source, target = (f'<ph id="1">&lt;span class="lead"&gt;</ph>{esc(zh)}<ph id="2">&lt;/span&gt;</ph>',
                              f'<ph id="1">&lt;span class="lead"&gt;</ph>{esc(en)}<ph id="2">&lt;/span&gt;</ph>')
        elif kind == 5:
            source, target = (f'<bx id="3" ctype="italic"/>{esc(zh)}<ex id="4" rid="3"/>',
                              f'<bx id="3" ctype="italic"/>{esc(en)}<ex id="4" rid="3"/>')
        else:
            source, target = esc(zh), esc(en)
        state = "final" if n % 2 else "translated"
        units.append(f'     <trans-unit id=\'{n}\' resname="p{n}" xml:space="preserve">\n'
                     f'      <source>{source}</source>\n'
                     f'      <target state="{state}">{target}</target>\n'
                     + (f'      <note from="editor">check the name in paragraph {n}</note>\n' if n % 4 == 0 else "")
                     + (f'      <context-group purpose="location"><context context-type="linenumber">{n}'
                        f'</context></context-group>\n' if n % 5 == 0 else "")
                     + (f'      <alt-trans origin="mt-engine" match-quality="70"><source>{esc(zh)}</source>'
                        f'<target xml:lang="en-US">Machine output {n}.</target></alt-trans>\n' if n % 7 == 0 else "")
                     + (f'      <okp:ext okp:kind="check">{n}</okp:ext>\n' if n % 9 == 0 else "")
                     + '     </trans-unit>\n')
    base = len(pairs)
    for offset, (zh, en, number) in enumerate(numbered, 1):
        at_zh, at_en = zh.index(number), en.index(number)
        units.append(f'     <trans-unit id="{base + offset}">\n'
                     f'      <source>{esc(zh[:at_zh])}<ph id="1">{{{{n}}}}</ph>{esc(zh[at_zh:])}</source>\n'
                     f'      <target state="final">{esc(en[:at_en])}<ph id="1">{{{{n}}}}</ph>{esc(en[at_en:])}'
                     f'</target>\n     </trans-unit>\n')
    zh, en = _pairs()[-1]
    bad = str(base + len(numbered) + 1)
    units.append(f'     <trans-unit id="{bad}">\n      <source>{esc(zh[:2])}<g id="1">{esc(zh[2:4])}</g>'
                 f'{esc(zh[4:])}</source>\n      <target state="final">{esc(en)} <g id="1">.</g></target>\n'
                 f'     </trans-unit>\n')
    unplaceable.append(bad)
    body = "".join(units)
    half = body.index("     <trans-unit id='7'")
    text = ("<?xml version='1.0' encoding='UTF-8'?>\n<!-- exported by a CAT tool -->\n"
            f'<xliff version="1.2" xmlns="{NS_12}" xmlns:okp="okapi-framework:xliff-extensions">\n'
            ' <file original="news/article.html" source-language="ZH_cn" target-language="en-US" datatype="html">\n'
            '  <header><tool tool-id="cat" tool-name="A CAT tool"/><note>Desk: world news</note></header>\n'
            '  <body>\n   <group id="g1" resname="lead">\n'
            f'{body[:half]}   </group>\n   <group id="g2">\n{body[half:]}'
            '     <trans-unit id="t0" translate="no"><source>CNN</source></trans-unit>\n'
            '     <trans-unit id="empty"><source>会议将于明天结束。</source><target state="new"/></trans-unit>\n'
            '   </group>\n  </body>\n </file>\n</xliff>\n')
    return text, unplaceable


def xliff20_file(pairs, numbered) -> tuple[str, list[str]]:
    """An XLIFF 2.0 file (en-US -> zh-CN) with modules, and the ids of unplaceable segments."""
    units = []
    for n in range(0, len(pairs), 2):
        segments = []
        for k, (zh, en) in enumerate(pairs[n:n + 2], 1):
            kind = (n + k) % 4
            if kind == 1:
                source, target = (f'<pc id="1" dataRefStart="d1" dataRefEnd="d2">{esc(en)}</pc>',
                                  f'<pc id="1" dataRefStart="d1" dataRefEnd="d2">{esc(zh)}</pc>')
            elif kind == 2:
                source, target = f'{esc(en)}<ph id="2" dataRef="d3"/>', f'{esc(zh)}<ph id="2" dataRef="d3"/>'
            elif kind == 3:
                source, target = (f'<sc id="3" dataRef="d1"/>{esc(en)}<ec startRef="3" dataRef="d2"/>',
                                  f'<sc id="3" dataRef="d1"/>{esc(zh)}<ec startRef="3" dataRef="d2"/>')
            else:
                source, target = esc(en), esc(zh)
            state = ("final", "translated", "reviewed")[(n + k) % 3]
            segments.append(f'    <segment id="s{k}" state="{state}">\n     <source>{source}</source>\n'
                            f'     <target>{target}</target>\n    </segment>\n')
        modules = ""
        if n % 6 == 0:
            modules += ('    <mda:metadata><mda:metaGroup category="desk"><mda:meta type="editor">Li</mda:meta>'
                        '</mda:metaGroup></mda:metadata>\n')
        if n % 8 == 0:
            modules += (f'    <mtc:matches><mtc:match ref="#s1" origin="mt-engine" similarity="70" type="mt">'
                        f'<source>{esc(pairs[n][1])}</source><target>机器译文。</target></mtc:match></mtc:matches>\n')
        if n % 10 == 0:
            modules += ('    <gls:glossary><gls:glossEntry><gls:term source="desk">Beijing</gls:term>'
                        '<gls:translation>北京</gls:translation></gls:glossEntry></gls:glossary>\n')
        notes = f'    <notes><note category="context">paragraph {n}</note></notes>\n' if n % 4 == 0 else ""
        data = ('    <originalData><data id="d1">&lt;b&gt;</data><data id="d2">&lt;/b&gt;</data>'
                '<data id="d3">&lt;br/&gt;</data></originalData>\n')
        ignorable = '    <ignorable><source> </source></ignorable>\n' if len(segments) == 2 else ""
        units.append(f'   <unit id="u{n}" name="para{n}">\n{modules}{notes}{data}{segments[0]}{ignorable}'
                     f'{"".join(segments[1:])}   </unit>\n')
    for offset, (zh, en, number) in enumerate(numbered):
        at_zh, at_en = zh.index(number), en.index(number)
        units.append(f'   <unit id="n{offset}">\n    <segment id="s1" state="final">\n'
                     f'     <source>{esc(en[:at_en])}<ph id="1"/>{esc(en[at_en:])}</source>\n'
                     f'     <target>{esc(zh[:at_zh])}<ph id="1"/>{esc(zh[at_zh:])}</target>\n'
                     f'    </segment>\n   </unit>\n')
    zh, en = _pairs()[-2]
    first, rest = en.split(" ", 1)
    units.append(f'   <unit id="bad">\n    <segment id="s1" state="final">\n'
                 f'     <source>{esc(first)} <pc id="1">{esc(rest.split(" ", 1)[0])}</pc> {esc(rest.split(" ", 1)[1])}'
                 f'</source>\n     <target>{esc(zh[:3])}<pc id="1">{esc(zh[3:5])}</pc>{esc(zh[5:])}</target>\n'
                 f'    </segment>\n   </unit>\n')
    text = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<xliff xmlns="{NS_20}" xmlns:mda="urn:oasis:names:tc:xliff:metadata:2.0"\n'
            f'       xmlns:mtc="{NS_MTC}" xmlns:gls="urn:oasis:names:tc:xliff:glossary:2.0"\n'
            '       version="2.0" srcLang="en-US" trgLang="zh-Hans-CN">\n'
            ' <file id="f1" original="report.docx">\n  <notes><note>Annual report</note></notes>\n'
            f'  <group id="g1" name="chapter">\n{"".join(units)}  </group>\n'
            '  <unit id="untranslated"><segment><source>Not yet.</source></segment></unit>\n'
            ' </file>\n</xliff>\n')
    return text, ["bad"]


_TARGET = re.compile(r"\s*<target[^>]*?/>|\s*<target[^>]*>.*?</target>", re.S)


def strip_targets(text: str) -> str:
    """The file as a CAT tool hands it out: no targets (and, in 2.x, no segment states)."""
    text = _TARGET.sub("", text)
    return re.sub(r'(<segment[^>]*?) state="[^"]*"', r"\1", text)


def strip_ours(text: str) -> str:
    """What a run added, taken away again: targets, their marks, Duizhao's candidates."""
    text = strip_targets(text)
    text = re.sub(r' subState="duizhao:[a-z]+"', "", text)
    text = re.sub(r'\s*<alt-trans match-quality="[^"]*" origin="duizhao">.*?</alt-trans>', "", text, flags=re.S)
    text = re.sub(r'<mtc:match ref="[^"]*" similarity="[^"]*" origin="duizhao" type="tm">.*?</mtc:match>', "",
                  text, flags=re.S)
    return re.sub(rf'\s*<mtc:matches xmlns:mtc="{NS_MTC}"></mtc:matches>|\s*<mtc:matches></mtc:matches>', "", text)


def targets(data: bytes) -> dict[str, str]:
    """Each translated segment's target content (text and markup), by unit (and segment) id."""
    root = etree.fromstring(data)
    out = {}
    for elem in root.iter(f"{{{NS_12}}}target", f"{{{NS_20}}}target"):
        parent = elem.getparent()
        if etree.QName(parent.tag).localname not in ("trans-unit", "segment"):
            continue
        key = parent.get("id") if etree.QName(parent.tag).localname == "trans-unit" else \
            f"{parent.getparent().get('id')}/{parent.get('id')}"
        content = (elem.text or "") + "".join(etree.tostring(c, encoding="unicode", with_tail=True) for c in elem)
        if content.strip():
            out[key] = re.sub(r' xmlns(:\w+)?="[^"]*"', "", content)
    return out


def files():
    """{"xliff12": (text, unplaceable ids), "xliff20": (...)}: the two sample files."""
    plain = _pairs()[:60]
    numbered = list(_with_number(_pairs()[60:118]))[:4]
    assert len(numbered) >= 2, "the shared data should have sentences with numbers"
    one, bad_one = xliff12_file(plain[:40], numbered)
    two, bad_two = xliff20_file(plain[40:], numbered)
    return {"xliff12": (one, bad_one), "xliff20": (two, bad_two)}


