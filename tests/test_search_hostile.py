"""Hostile input: whatever is typed or put in the URL, search answers a normal page or JSON, never a 500.

Property-based (Hypothesis): thousands of generated queries mixing Whoosh syntax, any Unicode, control
characters and very long strings, through the service, the JSON API and the HTML page.
"""

from __future__ import annotations

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kb.indexing.query import clean_input
from kb.services import search
from kb.services.search import SearchQuery
from tests.conftest import examples

SYNTAX = [
    "AND",
    "OR",
    "NOT",
    "ANDNOT",
    "ANDMAYBE",
    "(",
    ")",
    '"',
    "'",
    "*",
    "**",
    "?",
    "~",
    "^",
    "^5",
    ":",
    "title:",
    "status:draft",
    "visibility:internal",
    "*:*",
    "[a TO z]",
    "{a TO z}",
    "\\",
    "/",
    "-",
    "+",
    "<",
    ">",
    "&",
    "%",
    "%00",
    "\x00",
    "\u200b",
    "\ufeff",
    "\u202e",
    "e\u0301",
    "ﬁ",
    "İ",
    "ß",
    "😀",
    "fraud",
    "money",
    "laundering",
    "cyber",
    "ACE",
    "laund",
    "a",
    "the",
    "who",
]
# Whole queries: syntax pieces and words joined by spaces or not at all, and arbitrary text.
queries = st.one_of(
    st.lists(st.sampled_from(SYNTAX), max_size=12).map(" ".join),
    st.lists(st.sampled_from(SYNTAX), max_size=12).map("".join),
    st.text(max_size=300),
)
# Long inputs (past the 200-character cap) are rarer and fewer: each costs a full parse.
long_queries = st.text(alphabet=st.characters(codec="utf-8"), min_size=150, max_size=260)
queries = st.one_of(queries, queries, queries, long_queries)
slug_lists = st.lists(
    st.one_of(st.sampled_from(["cyber", "covert", "economic-crime", ""]), st.text(max_size=20)), max_size=3
)
HOSTILE = settings(
    max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HOSTILE
@given(text=queries, tags=slug_lists, page=st.one_of(st.integers(), st.text(max_size=8)))
@example(text="*", tags=[], page=1)
@example(text="**", tags=[], page=1)
@example(text="x" * 50_000, tags=[], page=1)
@example(text='"unbalanced (quote', tags=["cyber"], page=0)
@example(text="NOT", tags=[], page=-1)
@example(text="\ud800 lone surrogate", tags=[], page=1)
def test_the_service_answers_any_query(app, text, tags, page):
    with app.test_request_context("/search"):
        query = SearchQuery.from_args(_Args(q=text, tag=tags, page=str(page)))
        found = search.search(query)
        search.suggest(text)
    assert 0 <= len(found.hits) <= found.per_page
    assert found.total >= len(found.hits) and 1 <= found.page <= found.pages
    assert len(found.text) <= 200
    assert all(hit.article.is_public for hit in found.hits)
    for hit in found.hits:
        snippet = BeautifulSoup(str(hit.snippet), "html.parser")
        assert {tag.name for tag in snippet.find_all(True)} <= {"mark"}


@HOSTILE
@given(text=queries, sort=st.one_of(st.sampled_from(["title", "updated", "relevance"]), st.text(max_size=10)))
def test_the_api_answers_any_query_with_json(client, text, sort):
    response = client.get("/api/search", query_string={"q": text, "sort": sort, "per_page": "7"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] >= len(body["results"]) and body["query"] == clean_input(text)[0]


@settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=queries)
def test_suggest_answers_any_text_with_json(client, text):
    suggest = client.get("/api/suggest", query_string={"q": text})
    assert suggest.status_code == 200 and isinstance(suggest.get_json()["suggestions"], list)


@settings(
    max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=queries, area=st.text(max_size=30))
def test_the_page_answers_any_query_with_html(client, text, area):
    response = client.get("/search", query_string={"q": text, "area": area, "page": "2"})
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.h1.get_text(strip=True) == "Search capabilities"
    assert page.select_one("#result-count") is not None


def test_raw_bytes_in_the_url_do_not_fail(client):
    for raw in (
        b"/search?q=%FF%FE",
        b"/search?q=%C0%80&tag=%00",
        b"/api/search?q=%ED%A0%80",
        b"/search?page=1e9999",
    ):
        assert client.get(raw.decode("latin-1")).status_code == 200


class _Args(dict):
    """The little of ``request.args`` that ``SearchQuery.from_args`` uses."""

    def __init__(self, **values):
        super().__init__(values)

    def getlist(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]
