"""Language codes as real TM files spell them."""

from __future__ import annotations

import pytest

from common.languages import UnsupportedLanguage, canonical_tag, is_supported, normalize_lang, script_of

CHINESE = [
    "zh", "zh-CN", "zh-Hans", "ZH-CN", "zh_CN", "zh-cn", "zh-SG", "zh-Hans-CN", "zh-TW",
    "zh-HK", "zh-Hant", "zh-Hant-TW", "zh-MO", "cmn", "cmn-Hans-CN", "chi", "zho", "ZHO",
    "zh_CN.UTF-8", " zh-CN ",
]
ENGLISH = ["en", "en-US", "EN-GB", "en_GB", "en-us", "eng", "ENG", "en-AU", "en-Latn-US", "en_US.utf8"]


@pytest.mark.parametrize("code", CHINESE)
def test_chinese_spellings(code):
    assert normalize_lang(code) == "zh"


@pytest.mark.parametrize("code", ENGLISH)
def test_english_spellings(code):
    assert normalize_lang(code) == "en"


@pytest.mark.parametrize("code", ["fr", "de-DE", "ja", "yue", "zhx", "english", "", "*all*", "zh CN", "x"])
def test_unknown_codes_are_refused_listing_the_supported_ones(code):
    with pytest.raises(UnsupportedLanguage) as info:
        normalize_lang(code)
    message = str(info.value)
    assert "zh-CN" in message and "en-US" in message and "cmn" in message
    assert info.value.code == code
    assert "zh" in info.value.supported
    assert not is_supported(code)


@pytest.mark.parametrize(
    "code, tag",
    [("zh_cn", "zh-CN"), ("ZH-HANT-tw", "zh-Hant-TW"), ("en_gb", "en-GB"), ("cmn", "cmn"),
     ("en-us", "en-US"), ("zh-419", "zh-419")],
)
def test_canonical_tag(code, tag):
    assert canonical_tag(code) == tag


@pytest.mark.parametrize(
    "code, script",
    [("zh-TW", "Hant"), ("zh-HK", "Hant"), ("zh-Hant", "Hant"), ("zh_CN", "Hans"),
     ("zh-SG", "Hans"), ("zh-Hans-CN", "Hans"), ("zh", None), ("cmn", None), ("en-US", None)],
)
def test_script_of(code, script):
    assert script_of(code) == script


def test_the_language_of_a_text_and_the_other_one():
    from common.languages import UNDETECTED, language_of, other_language, source_and_target

    assert language_of("习近平在G20峰会上发表讲话") == "zh" and language_of("The G20 summit opened.") == "en"
    # No letters of either script: one default for every caller, Chinese.
    assert UNDETECTED == "zh"
    assert [language_of(text) for text in ("2024", "……", "…", "3.5%", "", " ")] == ["zh"] * 6
    assert (other_language("zh"), other_language("en")) == ("en", "zh")
    with pytest.raises(ValueError):
        other_language("fr")
    assert source_and_target(None, None, "2024") == ("zh", "en")
    assert source_and_target("", "", "Putin met Pompeo.") == ("en", "zh")
    assert source_and_target("en-GB", None, "2024") == ("en", "zh")
    assert source_and_target(None, "zh-Hans", "2024") == ("zh", "zh")  # the caller refuses equal ones
