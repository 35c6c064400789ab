"""The search service: browsing, facets whose counts add up, paging, sorting, expansion, corrections."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from kb.access import can_read
from kb.extensions import db
from kb.models import Article
from kb.services import articles, search
from kb.services.articles import ArticleData
from kb.services.facets import disjunctive_counts
from kb.services.search import SearchQuery


@pytest.fixture
def find(app):
    """Run a search as an anonymous reader (or as ``user``) inside a request."""

    def _find(text: str = "", user=None, scope: str = "site", **fields):
        with app.test_request_context("/search"):
            return search.search(SearchQuery(text=text, **fields), user=user, scope=scope)

    return _find


def readable(user=None) -> list[Article]:
    return [a for a in db.session.scalars(select(Article)) if can_read(a, user)]


def facet_values(article: Article) -> dict[str, set[str]]:
    return {
        "tag": {t.slug for t in article.tags},
        "area": {article.area.slug},
        "role": {r.slug for r in article.role_types},
    }


def test_empty_query_browses_everything_visible_in_title_order(find):
    found = find(per_page=100)
    expected = sorted(readable(), key=lambda a: a.title.lower())
    assert found.is_browse
    assert found.total == len(expected) == 39
    assert [h.article.slug for h in found.hits] == [a.slug for a in expected]
    assert all(str(h.snippet) == "" for h in found.hits)


def test_disjunctive_counts_on_sets():
    matched = {1, 2, 3, 4, 5}
    value_docs = {
        "tag": {"a": frozenset({1, 2}), "b": frozenset({2, 3, 9}), "c": frozenset({5})},
        "area": {"x": frozenset({1, 2, 3}), "y": frozenset({4, 5})},
    }
    final, counts = disjunctive_counts(matched, value_docs, {"tag": ("a", "b"), "area": ("x",)})
    assert final == {1, 2, 3}  # (a OR b) AND x
    # Tag counts ignore the tag selection and honour the area one.
    assert counts["tag"] == {"a": 2, "b": 2, "c": 0}
    # Area counts ignore the area selection and honour the tag one.
    assert counts["area"] == {"x": 3, "y": 0}
    final, counts = disjunctive_counts(matched, value_docs, {"tag": ("nonexistent",)})
    assert final == set()
    assert counts["tag"] == {"a": 2, "b": 2, "c": 1}  # the tag facet ignores its own (empty) selection
    assert counts["area"] == {"x": 0, "y": 0}  # ...which every other facet honours


@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"tags": ("cyber",)},
        {"tags": ("cyber", "covert")},
        {"tags": ("economic-crime",), "areas": ("economic-crime",)},
        {"roles": ("financial-investigator", "analyst"), "tags": ("intelligence",)},
        {"areas": ("intelligence", "cyber-and-digital"), "roles": ("investigator",)},
    ],
)
def test_facet_counts_match_the_database(find, selection):
    """Every count, recomputed from the rows: a facet ignores its own selection and honours the others."""
    found = find(per_page=100, **selection)
    chosen = {
        "tag": set(selection.get("tags", ())),
        "area": set(selection.get("areas", ())),
        "role": set(selection.get("roles", ())),
    }
    rows = readable()

    def passes(article, skip=None):
        values = facet_values(article)
        return all(not chosen[f] or values[f] & chosen[f] for f in chosen if f != skip)

    assert found.total == sum(passes(a) for a in rows)
    assert {h.article.slug for h in found.hits} == {a.slug for a in rows if passes(a)}
    for facet in ("tag", "area", "role"):
        expected = {}
        for article in rows:
            if passes(article, skip=facet):
                for value in facet_values(article)[facet]:
                    expected[value] = expected.get(value, 0) + 1
        shown = {b["value"]: b["count"] for b in found.facets[facet]}
        assert shown == {v: c for v, c in expected.items() if c or v in chosen[facet]}, facet
        for bucket in found.facets[facet]:
            assert bucket["selected"] == (bucket["value"] in chosen[facet])


def test_ticking_a_value_gives_the_count_it_showed(find):
    """With words too: each bucket's count is the total that ticking it (alone in its facet) gives."""
    found = find("intelligence")
    for facet, attribute in (("tag", "tags"), ("area", "areas"), ("role", "roles")):
        for bucket in found.facets[facet]:
            assert find("intelligence", **{attribute: (bucket["value"],)}).total == bucket["count"]


def test_values_of_one_facet_or_together_and_facets_and_together(find):
    cyber = find(tags=("cyber",)).total
    covert = find(tags=("covert",)).total
    both = find(tags=("cyber", "covert")).total
    overlap = find(tags=("cyber",), per_page=100)
    overlap_slugs = {h.article.slug for h in overlap.hits if "covert" in {t.slug for t in h.article.tags}}
    assert both == cyber + covert - len(overlap_slugs)
    anded = find(tags=("cyber",), areas=("covert-and-specialist",), per_page=100)
    assert all(h.article.area.slug == "covert-and-specialist" for h in anded.hits)
    assert all("cyber" in {t.slug for t in h.article.tags} for h in anded.hits)


def test_unknown_facet_values_select_nothing_and_do_not_fail(find):
    found = find(tags=("no-such-tag", "cyber"))
    assert found.total == find(tags=("cyber",)).total > 0
    assert "no-such-tag" not in {b["value"] for b in found.facets["tag"]}
    assert find(tags=("no-such-tag",)).total == 0


def test_pages_cover_every_result_once(find):
    first = find(per_page=7)
    assert first.pages == -(-first.total // 7)
    seen = []
    for page in range(1, first.pages + 1):
        seen += [h.article.slug for h in find(per_page=7, page=page).hits]
    assert len(seen) == first.total == len(set(seen))
    beyond = find(per_page=7, page=999)
    assert beyond.page == first.pages and beyond.hits


def test_sort_by_title_and_by_last_update(find):
    article = articles.get_by_slug("gateway")
    data = ArticleData.from_article(article)
    data.summary += " Updated."
    articles.update_article(article, data, expected_version=article.version)
    by_title = find("intelligence", sort="title", per_page=100)
    titles = [h.article.title.lower() for h in by_title.hits]
    assert titles == sorted(titles)
    by_update = find(sort="updated", per_page=100)
    stamps = [h.article.updated_at for h in by_update.hits]
    assert stamps == sorted(stamps, reverse=True)
    assert by_update.hits[0].article.slug == "gateway"
    assert find("intelligence").sort == "relevance"


def test_glossary_expansion_is_reported(find):
    assert "cryptocurrency" in find("bitcoin").expanded
    assert "Suspicious Activity Reports" in find("SARs").expanded
    assert "darknet" in find("dark web").expanded
    assert "covert" in find("undercover").expanded
    assert find("gateway").expanded == []


def test_expansion_finds_articles_that_use_only_the_other_form(find):
    article = articles.create_article(
        ArticleData(
            title="Quiet team",
            summary="s",
            body="We trace cryptocurrency wallets.",
            area="intelligence",
            status="published",
        )
    )
    assert article.slug in {h.article.slug for h in find("bitcoin", per_page=50).hits}


def test_an_unknown_word_is_corrected_and_says_so(find):
    found = find("lanudering")
    assert found.total > 0
    assert found.corrected == {
        "q": "laundering",
        "original": "lanudering",
        "url": "/search?q=lanudering&correct=0",
    }
    assert found.suggestion is None
    assert find("laundering").corrected is None
    two_words = find("money lanudering", tags=("economic-crime",))
    assert two_words.corrected["q"] == "money laundering"
    assert "tag=economic-crime" in two_words.corrected["url"]


def test_did_you_mean_when_correction_is_turned_off(find):
    found = find("lanudering", correct=False)
    assert found.total == 0
    assert found.corrected is None
    assert found.suggestion["q"] == "laundering"
    assert found.suggestion["url"] == "/search?q=laundering"
    assert find("laundering", correct=False).suggestion is None


def test_a_known_word_is_never_corrected(find):
    # Words of the articles and of the glossary stay as typed, however close to a commoner word.
    for text in ("gateway", "opsy", "setsu", "humint", "gain"):
        found = find(text)
        assert found.corrected is None, text
        assert found.total > 0, text


def test_no_suggestion_for_nonsense(find):
    assert find("qzxjvwk").suggestion is None


def test_long_input_is_truncated_with_a_flag(find):
    found = find("fraud " * 1000)
    assert found.truncated
    assert len(found.text) <= 200
    assert found.total > 0
    assert not find("fraud").truncated


def test_last_word_matches_as_a_prefix_when_it_is_not_a_word(find):
    assert find("laund").total > 0
    assert "tvp-criminal-finances-team" in [h.article.slug for h in find("money laund").hits[:3]]
    # A whole word is searched as itself: "ace" does not also find "access", "acerbic"...
    assert find("ACE").total < find("ac*").total or find("ac*").total == 0


def test_prefix_syntax_and_lone_wildcards(find):
    assert {h.article.slug for h in find("cyber*").hits} >= {"regional-cyber-crime-unit"}
    for text in ("*", "**", "* *", "?*"):
        found = find(text)
        assert found.total >= 0  # never fails; a lone wildcard is no word at all


def test_phrases_are_exact(find):
    loose = find("laundering money", per_page=50)
    phrase = find('"laundering money"', per_page=50)
    assert phrase.total < loose.total


def test_operators(find):
    fraud = {h.article.slug for h in find("fraud", per_page=50).hits}
    cyber = {h.article.slug for h in find("cyber", per_page=50).hits}
    not_cyber = {h.article.slug for h in find("fraud NOT cyber", per_page=50).hits}
    assert not_cyber and not_cyber <= fraud and not (not_cyber & cyber)
    either = {h.article.slug for h in find("bribery OR ransomware", per_page=50).hits}
    assert {"tvp-economic-crime-teams", "regional-cyber-crime-unit"} <= either


def test_field_syntax_is_just_words(find):
    assert find("title:gateway").hits[0].article.slug == "gateway"
    assert find("status:draft").total == find("status draft").total


def test_a_parser_failure_falls_back_to_plain_words(app, find, monkeypatch):
    from kb.services.search import _builder

    with app.test_request_context("/search"):
        builder = _builder()

    def broken(text):
        raise RuntimeError("parser failure")

    monkeypatch.setattr(builder._and_parser, "parse", broken)
    monkeypatch.setattr(builder._or_parser, "parse", broken)
    found = find('money "laundering" (thames')
    assert found.total > 0
    assert "tvp-criminal-finances-team" in [h.article.slug for h in found.hits[:3]]


def test_some_words_when_none_match_all(find):
    found = find("gatwick qzxjvwk")
    assert found.any_words
    assert found.hits[0].article.slug == "regional-cash-team"
    assert not find("cash gatwick").any_words


def test_snippets_mark_the_words_and_are_sanitised(find):
    article = articles.create_article(
        ArticleData(
            title="Snippet test",
            summary="s",
            body="Text before. <script>alert('x')</script> the zebrafinch word & more <b>bold</b>.",
            area="intelligence",
            status="published",
        )
    )
    hit = next(h for h in find("zebrafinch").hits if h.article.id == article.id)
    html = str(hit.snippet)
    assert "<mark>zebrafinch</mark>" in html
    assert "<script" not in html and "<b>" not in html
    assert "&amp;" in html


def test_editor_scope_is_for_editors_and_includes_drafts(app, find, make_user):
    draft = articles.create_article(ArticleData(title="Draft gryphon", summary="s", area="intelligence"))
    assert find("gryphon").total == 0
    with pytest.raises(PermissionError):
        find("gryphon", user=make_user("staff"), scope="editor")
    editor = make_user("editor")
    found = find("gryphon", user=editor, scope="editor")
    assert [h.article.slug for h in found.hits] == [draft.slug]
    assert {b["value"] for b in found.facets["status"]} == {"draft"}
    assert "status" not in find("gryphon", user=editor).facets


def test_related_are_visible_others_sharing_terms_or_tags(app):
    article = articles.get_by_slug("financial-intelligence-unit")
    with app.test_request_context("/"):
        related = search.related(article, limit=4)
    assert 0 < len(related) <= 4
    assert article not in related
    assert all(a.is_public for a in related)
    tags = {t.slug for t in article.tags}
    assert any(tags & {t.slug for t in other.tags} for other in related)


def test_suggest_completes_titles_and_acronyms(app):
    with app.test_request_context("/"):
        assert search.suggest("cyb")[0]["title"] == "Regional Cyber Crime Unit"
        assert search.suggest("fin int")[0]["url"] == "/capabilities/financial-intelligence-unit"
        assert search.suggest("HUM")[0]["title"] == "HUMINT"
        assert search.suggest("") == []
        assert search.suggest("   ") == []
        assert len(search.suggest("r", limit=3)) <= 3


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(["money", "laundering", "gateway"], 2)))
def test_word_order_does_not_change_the_results(find, a, b):
    assert {h.article.slug for h in find(f"{a} {b}", per_page=50).hits} == {
        h.article.slug for h in find(f"{b} {a}", per_page=50).hits
    }
