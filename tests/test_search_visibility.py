"""Visibility canary: words that only internal, draft or archived articles (or internal contacts) contain
never reach an anonymous reader, through any endpoint, count, snippet, suggestion or correction."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from kb.services import articles
from kb.services.articles import ArticleData

INTERNAL = "quetzalinternal"
DRAFT = "quetzaldraft"
ARCHIVED = "quetzalarchived"
CONTACT = "quetzalcontact"
CANARIES = (INTERNAL, DRAFT, ARCHIVED, CONTACT)


@pytest.fixture
def canaries(app):
    """Articles that only staff (internal) or nobody on the site (draft, archived) may see.

    Their bodies copy a public article's, so that related articles and shared words would surface them
    if the filter were missing; the internal one also carries a public tag that facets would count.
    """
    source = articles.get_by_slug("south-east-region-prison-intelligence-team")
    made = {}
    for word, visibility, status in (
        (INTERNAL, "internal", "published"),
        (DRAFT, "public", "draft"),
        (ARCHIVED, "public", "archived"),
    ):
        made[word] = articles.create_article(
            ArticleData(
                title=f"Prison {word} team",
                summary=f"Prison intelligence and corruption {word}.",
                body=source.body + f"\n\nThe {word} prison corruption desk.",
                area="intelligence",
                tags=["prisons", "intelligence"],
                roles=["intelligence-officer"],
                partners=[f"{word} partner"],
                visibility=visibility,
                status=status,
            )
        )
    data = ArticleData.from_article(source)
    data.contact_internal = f"Call the {CONTACT} desk."
    articles.update_article(source, data, expected_version=source.version)
    return made


def assert_no_canary(payload: str, where: str) -> None:
    lowered = payload.lower()
    for word in CANARIES:
        assert word not in lowered, f"{word} leaked through {where}"


def without_echo(body: dict) -> str:
    """An API answer without the parts that repeat what was typed (the query and toggle links)."""
    facets = {
        name: [{k: v for k, v in b.items() if k != "toggle_url"} for b in buckets]
        for name, buckets in body["facets"].items()
    }
    return json.dumps({**{k: v for k, v in body.items() if k not in {"query", "facets"}}, "facets": facets})


def test_anonymous_readers_never_see_canaries(client, canaries):
    for word in CANARIES:
        for query in (word, word[:-2], word[:-1] + "x", f"prison {word}", f"{word}*"):
            html = client.get("/search", query_string={"q": query})
            assert html.status_code == 200
            page = BeautifulSoup(html.get_data(as_text=True), "html.parser")
            assert page.select(".search-result") == [] or query.startswith("prison")
            for part in page.select(".search-results, .search-layout__filters, .search-expanded"):
                assert_no_canary(str(part), f"/search?q={query}")
            assert page.select_one(".search-suggestion") is None
            api = client.get("/api/search", query_string={"q": query}).get_json()
            assert_no_canary(without_echo(api), f"/api/search?q={query}")
            assert api["suggestion"] is None
            for prefix in (word[:4], word[:8], word, f"prison {word[:6]}"):
                suggest = client.get("/api/suggest", query_string={"q": prefix})
                assert_no_canary(suggest.get_data(as_text=True), f"/api/suggest?q={prefix}")
    # Snippets for words the canary articles share with public ones.
    shared = client.get("/api/search?q=prison+corruption&per_page=50")
    assert_no_canary(shared.get_data(as_text=True), "snippets")
    assert [r["slug"] for r in shared.get_json()["results"]] == ["south-east-region-prison-intelligence-team"]


def test_facet_counts_and_totals_ignore_what_the_reader_may_not_see(client, canaries):
    body = client.get("/api/search?q=prison&per_page=50").get_json()
    prisons = next(b for b in body["facets"]["tag"] if b["value"] == "prisons")
    assert prisons["count"] == sum("prisons" in r["tags"] for r in body["results"])
    assert body["total"] == len(body["results"])
    browse = client.get("/api/search?tag=prisons&per_page=50").get_json()
    assert browse["total"] == 2  # the two public prison articles, not the canaries


def test_related_and_article_json_hide_canaries(client, canaries):
    for slug in (
        "south-east-region-prison-intelligence-team",
        "multi-agency-response-to-serious-organised-crime",
    ):
        assert_no_canary(client.get(f"/capabilities/{slug}").get_data(as_text=True), f"related on {slug}")
        assert_no_canary(client.get(f"/api/articles/{slug}").get_data(as_text=True), f"/api/articles/{slug}")
    for article in canaries.values():
        assert client.get(f"/api/articles/{article.slug}").status_code == 404
        assert client.get(f"/capabilities/{article.slug}").status_code == 404


def test_did_you_mean_proposes_no_hidden_word(client, canaries):
    """A misspelling of a hidden word gets the same answer as a misspelling of no word at all."""
    hidden = client.get("/api/search", query_string={"q": INTERNAL[:-1] + "s"}).get_json()
    nothing = client.get("/api/search", query_string={"q": "zzqqxxvvkk"}).get_json()
    assert hidden["suggestion"] is None and nothing["suggestion"] is None
    assert hidden["total"] == nothing["total"] == 0


def test_staff_see_internal_ones_and_editors_see_drafts_in_the_editor_scope(app, client, auth, canaries):
    """The positive control: the canaries are in the index, and the filter is what hides them."""
    auth.login("staff")
    body = client.get("/api/search", query_string={"q": INTERNAL}).get_json()
    assert [r["slug"] for r in body["results"]] == [canaries[INTERNAL].slug]
    assert client.get("/api/search", query_string={"q": DRAFT}).get_json()["total"] == 0
    suggest = client.get("/api/suggest", query_string={"q": "prison " + INTERNAL[:6]}).get_json()
    assert [s["url"] for s in suggest["suggestions"]] == [f"/capabilities/{canaries[INTERNAL].slug}"]
    assert CONTACT in json.dumps(
        client.get("/api/articles/south-east-region-prison-intelligence-team").get_json()
    )

    from kb.services import search
    from kb.services.search import SearchQuery

    editor = auth._make_user("editor", "editor2@example.police.uk")
    with app.test_request_context("/editor/"):
        found = search.search(
            SearchQuery(text="quetzaldraft OR quetzalarchived"), user=editor, scope="editor"
        )
    assert {h.article.slug for h in found.hits} == {canaries[DRAFT].slug, canaries[ARCHIVED].slug}


def test_internal_contacts_are_not_searchable_even_by_staff(client, auth, canaries):
    auth.login("staff")
    assert client.get("/api/search", query_string={"q": CONTACT}).get_json()["total"] == 0


def nowhere_like(word: str) -> str:
    """A word of the same length that no article holds."""
    return ("quetzalnowhere" * 2)[: len(word)]


def _answers(client, word: str, *, ordered: bool) -> list[str]:
    """Every lexicon-based answer for ``word``: exact word, prefix of it, a typo of it, in a phrase, as
    type-ahead, with what was typed written as TEXT and WORD so that answers compare byte for byte.

    :param ordered: compare the order of results too (lexical only: the embedding model reads the
        characters typed, so two unknown words may order the same results differently; the model's
        vocabulary is fixed and says nothing about the articles).
    """
    shapes = [word, word[:-3], word[:-1] + "x", word[:4] + word[5:], f"prison {word}", f"prison {word[:-2]}"]
    found = []
    for text in shapes:
        body = client.get("/api/search", query_string={"q": text}).get_json()
        if not ordered:
            body["results"] = sorted(body["results"], key=lambda r: r["slug"])
        found.append(_masked(json.dumps(body, sort_keys=True), text, word))
        suggest = client.get("/api/suggest", query_string={"q": text}).get_data(as_text=True)
        found.append(_masked(suggest, text, word))
        if ordered:
            page = client.get("/search", query_string={"q": text}).get_data(as_text=True)
            main = BeautifulSoup(page, "html.parser").select_one("#search-results")
            found.append(_masked(str(main), text, word))
    return found


def _masked(answer: str, text: str, word: str) -> str:
    from urllib.parse import quote_plus

    return answer.replace(quote_plus(text), "TEXT").replace(text, "TEXT").replace(word, "WORD")


@pytest.mark.parametrize("semantic", [False, True], ids=["lexical", "hybrid"])
@pytest.mark.parametrize("reader", ["anonymous", "staff"])
def test_a_hidden_word_answers_exactly_like_a_word_that_exists_nowhere(
    app, client, auth, canaries, reader, semantic
):
    """Prefix rule, corrections, did-you-mean and suggestions consult only what the reader may see
    (issue 8): a word only hidden articles hold is indistinguishable from no word at all."""
    app.config["SEARCH_SEMANTIC"] = semantic
    if reader == "staff":
        auth.login("staff")
    hidden = DRAFT if reader == "staff" else INTERNAL  # staff may see internal articles, not drafts
    nowhere = nowhere_like(hidden)
    assert _answers(client, hidden, ordered=not semantic) == _answers(client, nowhere, ordered=not semantic)
