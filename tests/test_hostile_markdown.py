"""No article body can stall the server: save, preview, page view and rebuild are linear in its length.

Each shape of ``tests/hostile_markdown.py`` (unclosed brackets, autolinks, emphasis runs, backticks, raw
HTML, nesting, long words, ...) is sent at 10 KB and at 100 KB through the real editor form (save and
preview), the public page and a full index rebuild. Ten times the text may take at most ``MAX_RATIO``
times as long (10 is linear; the regular expressions this replaced took 50 to 90 times as long). Only
ratios measured within one test are compared, never seconds, so a slow or busy machine does not matter.

Then properties (Hypothesis) on random mixtures of the same pieces: the index text holds exactly the
characters the page shows, and snippets are whole for words of any length.
"""

from __future__ import annotations

import gc
import time

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.indexing.searching import SNIPPET_LENGTH, best_fragment
from kb.rendering import plain_text, render_markdown
from kb.services import articles, search
from kb.services.diffs import compare_text, merge_text
from tests.conftest import examples
from tests.hostile_markdown import SHAPES, body_of
from tests.test_editor import form_values, post_form, soup, with_changes

SMALL, LARGE = 10_000, 100_000
MAX_RATIO = 25
SLUG = "gateway"


def _timed(action) -> float:
    """Seconds ``action`` takes, the garbage collector paused: a full collection walks the whole heap of
    the test process, whose size has nothing to do with the text, so it would blur the ratios."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started
    finally:
        gc.enable()


def _operations(client, body: str) -> dict[str, float]:
    """Seconds for each path a body takes: save (row, revision, index), preview, public page, rebuild."""
    values = with_changes(
        form_values(soup(client.get(f"/editor/articles/{SLUG}/edit"))), body=body, status="published"
    )
    seconds: dict[str, float] = {}
    responses = {}

    def save():
        responses["save"] = post_form(client, f"/editor/articles/{SLUG}/edit", values)

    def preview():
        responses["preview"] = post_form(client, f"/editor/articles/{SLUG}/edit", values, "preview-candidate")

    def render():
        responses["render"] = client.get(f"/capabilities/{SLUG}")

    seconds["save"] = _timed(save)
    seconds["preview"] = _timed(preview)
    seconds["render"] = _timed(render)
    seconds["reindex"] = _timed(search.rebuild_index)
    assert responses["save"].status_code == 303, responses["save"].status_code
    assert responses["preview"].status_code == 200 and 'id="preview"' in responses["preview"].text
    assert responses["render"].status_code == 200
    assert articles.get_by_slug(SLUG).body == body
    return seconds


@pytest.fixture
def editor_client(client, auth):
    auth.login("editor")
    return client


@pytest.mark.parametrize("unit", list(SHAPES.values()), ids=list(SHAPES))
def test_every_path_is_linear_in_the_body_length(editor_client, unit):
    small = _operations(editor_client, body_of(unit, SMALL))
    large = _operations(editor_client, body_of(unit, LARGE))
    slow = {op for op in large if large[op] > MAX_RATIO * small[op]}
    if slow:  # a busy machine can stretch one run: measure once more before calling it super-linear
        small = {op: min(small[op], t) for op, t in _operations(editor_client, body_of(unit, SMALL)).items()}
        again = _operations(editor_client, body_of(unit, LARGE))
        large = {op: min(large[op], again[op]) for op in large}
    ratios = {op: round(large[op] / small[op], 1) for op in large}
    assert all(ratio < MAX_RATIO for ratio in ratios.values()), ratios


def test_a_preview_is_bounded_like_a_save(editor_client):
    values = form_values(soup(editor_client.get(f"/editor/articles/{SLUG}/edit")))
    too_long = with_changes(values, body="[" * 100_001)
    page = soup(post_form(editor_client, f"/editor/articles/{SLUG}/edit", too_long, "preview-candidate"))
    assert page.select_one("#preview") is None
    errors = [a.get_text(strip=True) for a in page.select(".error-summary__list a")]
    assert errors == ["The body must be 100,000 characters or fewer"]
    # An unfinished article (no summary yet) can still be previewed.
    unfinished = with_changes(values, summary="", body="Half *written*")
    page = soup(post_form(editor_client, f"/editor/articles/{SLUG}/edit", unfinished, "preview-candidate"))
    assert page.select_one("#preview .prose").get_text(" ", strip=True) == "Half written"


# --- Properties on random mixtures --------------------------------------------------------------------

PIECES = [*SHAPES.values(), "a", "b c", "\n\n", "](x)", "]", ")", "*", "_", "CPS", "&amp;", "<b>", "\t"]
markdown_texts = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def _page_characters(html: str) -> str:
    text = BeautifulSoup(html, "html.parser").get_text()
    return "".join(text.split()).replace(".", "")


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdown_texts)
def test_the_index_holds_the_characters_the_page_shows(source):
    # Heading full stops are the index's own; whitespace differs by layout only.
    indexed = "".join(plain_text(source).split()).replace(".", "")
    assert indexed == _page_characters(render_markdown(source))


@settings(max_examples=examples(100), deadline=None)
@given(
    st.integers(min_value=1, max_value=20_000),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=400),
)
def test_a_snippet_shows_a_match_of_any_length(length, before, after):
    text = "x " * before + "a" * length + " y" * after
    start = 2 * before
    fragment = best_fragment(text, [(start, start + length, b"a")])
    assert fragment.marks and len(fragment.text) <= SNIPPET_LENGTH
    mark_start, mark_end = fragment.marks[0]
    assert set(fragment.text[mark_start:mark_end]) == {"a"}
    assert mark_end - mark_start == min(length, len(fragment.text) - mark_start)


def _assert_linear(work, small: int, large: int) -> None:
    """``work(large)`` takes less than ``MAX_RATIO`` times ``work(small)`` (best of a few runs each)."""
    fast = min(work(small) for _ in range(3))
    slow = min(work(large) for _ in range(2))
    if slow >= MAX_RATIO * fast:  # a busy machine: once more before calling it super-linear
        fast, slow = min(fast, *(work(small) for _ in range(3))), min(slow, work(large))
    assert slow < MAX_RATIO * fast, round(slow / fast, 1)


def test_choosing_a_snippet_is_linear_in_the_number_of_matches():
    def choose(count: int) -> float:
        text = "fraud " * count
        marks = [(6 * i, 6 * i + 5, b"fraud") for i in range(count)]
        return _timed(lambda: best_fragment(text, marks))

    _assert_linear(choose, 10_000, 100_000)


# --- Words longer than the snippet window, through the real search ----------------------------------


def _publish(body: str) -> None:
    articles.create_article(
        articles.ArticleData(
            title="Long word test",
            summary="An article whose body holds one very long word.",
            body=body,
            area="intelligence",
            visibility="public",
            status="published",
        )
    )


@pytest.mark.parametrize(
    ("body", "query", "letter"),
    [
        ("Before the word " + "q" * 300 + " after the word.", "qqqq", "q"),
        ("Before the word " + "z" * 10_000 + " after the word.", "zzzz", "z"),
        ("*k" * 5_000, "kkkk", "k"),  # Markdown emphasis that reads as one 5,000-letter word
    ],
    ids=["300 letters", "10,000 letters", "*k*k*k"],
)
def test_a_word_longer_than_the_snippet_is_found_and_highlighted(client, body, query, letter):
    _publish(body)
    data = client.get("/api/search", query_string={"q": query}).get_json()
    assert [r["slug"] for r in data["results"]] == ["long-word-test"]
    marked = BeautifulSoup(data["results"][0]["snippet"], "html.parser").mark.get_text()
    assert set(marked) == {letter} and len(marked) <= SNIPPET_LENGTH

    page = client.get("/search", query_string={"q": query})
    assert page.status_code == 200
    result = soup(page).select_one(".search-result")
    assert result.select_one(".search-result__title a")["href"] == "/capabilities/long-word-test"
    assert set(result.select_one("mark").get_text()) == {letter}


@pytest.mark.parametrize("unit", ["\n", "a\n", "a a "], ids=["blank lines", "one line", "words"])
def test_diffs_and_merges_are_linear_in_the_text_length(unit):
    def work(size: int) -> float:
        base = body_of(unit, size)
        mine, theirs = "changed\n" + base, base + "\nalso changed"
        return _timed(
            lambda: (compare_text(base, mine), compare_text(mine, theirs), merge_text(base, mine, theirs))
        )

    _assert_linear(work, SMALL, LARGE)
