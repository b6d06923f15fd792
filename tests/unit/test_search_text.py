"""Folding and query building for Latvian search."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.search.documents import facet_filter, search_fields
from registry.search.text import MAX_QUERY_WORDS, fold, match_expression, stem, words


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Dzīvesvietas deklarēšana", "dzivesvietas deklaresana"),
        ("BĒRNA PIEDZIMŠANAS PABALSTS", "berna piedzimsanas pabalsts"),
        ("āčēģīķļņšūž", "acegiklnsuz"),
        ("Ģimenes valsts pabalsts", "gimenes valsts pabalsts"),
        ("Hyvinvointialue Pöytyä", "hyvinvointialue poytya"),
        ("Straße Ørsted", "strasse orsted"),
    ],
)
def test_fold_lowercases_and_strips_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_keep_only_letters_and_digits() -> None:
    assert words('"Bērna"* NEAR(pabalsts) OR title:-2026!') == ["berna", "near", "pabalsts", "or", "title", "2026"]


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("pabalsti", "pabalst"),
        ("pabalstu", "pabalst"),
        ("pases", "pase"),
        ("deklaresana", "deklaresan"),
        ("berniem", "bern"),
        ("pase", "pase"),  # a stem shorter than four letters is never cut
        ("eid", "eid"),
    ],
)
def test_stem_drops_one_latvian_ending(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_match_expression_quotes_every_word_as_a_prefix() -> None:
    assert match_expression("Bērna pabalsts") == '"bern"* "pabalst"*'
    assert match_expression("deklaresana") == '"deklaresan"*'


def test_match_expression_is_none_without_searchable_words() -> None:
    assert match_expression('"*()-:^') is None
    assert match_expression("   ") is None


def test_match_expression_limits_words_and_repeats() -> None:
    expression = match_expression(" ".join(f"vards{i}" for i in range(100)) + " pase pase")
    assert expression is not None
    assert expression.count("*") == MAX_QUERY_WORDS
    assert match_expression("pase pase pases") == '"pase"*'


@given(st.text(max_size=300))
def test_match_expression_never_carries_fts_syntax(query: str) -> None:
    expression = match_expression(query)
    if expression is not None:
        for part in expression.split(" "):
            assert part.startswith('"') and part.endswith('"*')
            assert part[1:-2].isalnum() and part[1:-2].isascii()


def test_search_fields_hold_all_languages_as_folded_words_and_facets() -> None:
    fields = search_fields(
        {
            "title": {"lv": "Vecāku pabalsts", "en": "Parental benefit"},
            "summary": {"lv": "Naudas atbalsts.", "en": "Money!"},
            "description": {"lv": "Apraksts", "en": "E-address (description)"},
            "keywords": {"lv": ["bērns"], "en": ["child"]},
            "audiences": ["residents", "businesses"],
            "level": 4,
            "spatial": "LV",
            "competent_authority": "vsaa",
            "participating_institutions": ["riga-municipality", "vsaa"],
            "life_events": ["birth-of-child"],
        }
    )
    assert fields == {
        "title": "vecaku pabalsts parental benefit",
        "keywords": "berns child",
        "body": "naudas atbalsts money apraksts e address description",
        "facets": "a_residents a_businesses l_4 s_lv i_vsaa i_riga-municipality e_birth-of-child",
    }


def test_facet_filter_combines_every_given_filter() -> None:
    assert facet_filter() is None
    assert facet_filter(level=3) == '{facets} : ("l_3")'
    assert facet_filter(audience="residents", municipality="riga", life_event="moving-home", institution="pmlp") == (
        '{facets} : ("a_residents" AND "i_pmlp" AND "e_moving-home" AND ("s_lv" OR "s_riga"))'
    )
