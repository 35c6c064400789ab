"""Query understanding, typo tolerance, the prefix budget and the semantic ranker (on, off, offline)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from kb.indexing import semantic
from kb.indexing.schema import text_analyzer, uk_spelling
from kb.services import ranking, search
from kb.services.search import SearchQuery
from tests.conftest import make_app


@pytest.fixture
def find(app):
    def _find(text: str = "", **fields):
        with app.test_request_context("/search"):
            return search.search(SearchQuery(text=text, **fields))

    return _find


def slugs(found, n: int = 3) -> list[str]:
    return [h.article.slug for h in found.hits[:n]]


def test_conversation_words_are_not_required(find):
    plain = find("criminal finances")
    chatty = find("I'm interested in criminal finances, what could I do")
    assert not chatty.any_words
    assert slugs(chatty, 1) == slugs(plain, 1) == ["tvp-criminal-finances-team"]


def test_it_in_capitals_is_the_acronym_and_in_lower_case_a_stop_word(find):
    found = find("IT")
    assert found.total > 0 and found.expanded  # searched as "information technology" and its forms
    assert find("it").total == 0


def test_a_possessive_matches_its_noun(find):
    assert find("cryptocurrency unit's").total == find("cryptocurrency unit").total > 0
    assert [t.text for t in text_analyzer()("unit's")] == [t.text for t in text_analyzer()("unit")]


@pytest.mark.parametrize(
    ("us", "uk"),
    [("organize", "organise"), ("defense", "defence"), ("center", "centre"), ("analyze", "analyse"),
     ("behavior", "behaviour"), ("specialized", "specialised"), ("counseling", "counselling")],
)  # fmt: skip
def test_us_spellings_fold_into_uk_ones(us, uk):
    assert uk_spelling(us) == uk
    assert [t.text for t in text_analyzer()(us)] == [t.text for t in text_analyzer()(uk)]


def test_us_spelling_finds_what_uk_spelling_finds(find):
    assert slugs(find("organized crime threat assessment"), 1) == slugs(
        find("organised crime threat assessment"), 1
    )


def test_the_implicit_prefix_needs_four_letters_and_never_a_whole_word(find):
    assert find("car").total == 0  # not "career"
    assert find("laund").total > 0  # four letters and more, not a word: a prefix
    assert "working-at-the-unit" not in slugs(find("cash"), 10) or find("cash").total < find("cash*").total


def test_a_typo_is_corrected_against_the_visible_vocabulary_and_glossary(find):
    for typo, word in (("survaillance", "surveillance"), ("crytpo", "crypto"), ("informent", "informant")):
        found = find(typo)
        assert found.corrected and found.corrected["q"] == word, typo
        assert found.total > 0
    # Acronyms typed in capitals and real words are left alone.
    assert find("QZXV").corrected is None


def test_the_prefix_budget_holds_for_the_whole_query(app):
    with app.test_request_context("/search"):
        snapshot = search._snapshot()
        visible = snapshot.visible(search._visibility(search._reader(None), "site"))
        parsed = search._builder().build("co* in* re* de* pr* st* se* ma* ca* fi*")
        expanded = ranking.expand_prefixes(parsed.query, snapshot, visible)
    terms = [
        leaf for leaf in expanded.leaves() if leaf.__class__.__name__ == "Term" and leaf.fieldname != "name"
    ]
    assert 0 < len(terms) <= ranking.PREFIX_BUDGET


def test_best_bets_come_first_and_say_so(find):
    found = find("I'm a chartered accountant")
    assert slugs(found) == [
        "financial-investigation-team",
        "financial-intelligence-unit",
        "regional-fraud-team",
    ]
    assert all(hit.best_bet for hit in found.hits[:3])
    # An article named exactly is never pushed down by a best bet.
    assert slugs(find("Intelligence Development"), 1) == ["intelligence-development"]


def test_no_good_answer_gives_the_empty_state(find):
    for text in ("helicopter pilot", "parking ticket appeal", "qzxv wplk"):
        assert find(text).total == 0, text


def test_the_model_loads_and_embeds_with_the_network_blocked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(semantic, "_model", None)
    model = semantic.model()
    vectors = model.embed(["money laundering", "laundering money", "helicopter"])
    assert vectors.shape == (3, semantic.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_search_works_with_the_network_blocked(find, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(semantic, "_model", None)
    assert find("someone who launders dirty money").total > 0


def test_semantic_ranking_can_be_turned_off(seeded_instance, tmp_path, monkeypatch):
    """KB_SEARCH_SEMANTIC=false: lexical only. The articles nearest in meaning to a query join its few
    lexical matches only with semantic ranking on."""
    import shutil

    from kb.extensions import db

    text = "stolen money hidden abroad"
    figures = {}
    for setting in ("true", "false"):
        monkeypatch.setenv("KB_SEARCH_SEMANTIC", setting)
        instance = tmp_path / setting
        shutil.copytree(seeded_instance, instance)
        app = make_app(instance)
        with app.app_context():
            assert app.config["SEARCH_SEMANTIC"] is (setting == "true")
            with app.test_request_context("/search"):
                found = search.search(SearchQuery(text=text))
                figures[setting] = (found.total, slugs(found, 3))
            db.session.remove()
            db.engine.dispose()
    assert figures["true"][0] > figures["false"][0] > 0
    assert "tvp-criminal-finances-team" in figures["true"][1]
    assert "tvp-criminal-finances-team" not in figures["false"][1]
