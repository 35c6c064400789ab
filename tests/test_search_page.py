"""The /search page, read as a browser without JavaScript would read it (parsed HTML, not substrings)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from kb.services import articles
from kb.services.articles import ArticleData

# The page quotes what was typed in curly quotes, and marks a chip's cross with a multiplication sign.
OPEN, CLOSE, CROSS = "\u2018", "\u2019", "\u00d7"


def page(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ", strip=True).split()) if node else ""


def result_slugs(soup: BeautifulSoup) -> list[str]:
    return [a["href"].rsplit("/", 1)[-1] for a in soup.select(".search-result__title a")]


def form_submission(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """What submitting the search form sends, as a browser builds it from the controls' state."""
    form = soup.select_one("form.search-page")
    pairs = []
    for control in form.select("input[name], select[name]"):
        if control.name == "select":
            chosen = control.select_one("option[selected]") or control.select_one("option")
            pairs.append((control["name"], chosen["value"]))
        elif control.get("type") == "checkbox":
            if control.has_attr("checked"):
                pairs.append((control["name"], control["value"]))
        else:
            pairs.append((control["name"], control.get("value", "")))
    return pairs


def test_the_form_is_a_plain_get_form_with_labelled_controls(client):
    soup = page(client, "/search?q=fraud")
    form = soup.select_one("form.search-page")
    assert form["method"] == "get" and form["action"] == "/search"
    assert soup.select_one("[role=search] input[name=q]")["value"] == "fraud"
    for control in form.select("input:not([type=hidden]), select"):
        assert soup.select_one(f"label[for='{control['id']}']") is not None, control
    for fieldset in form.select("fieldset"):
        assert fieldset.legend and text_of(fieldset.legend)
    assert form.select_one("button[type=submit]")
    assert soup.find("script", src=True) is not None and not soup.find("script", src=False)


def test_checkboxes_show_counts_and_submitting_them_filters(client):
    soup = page(client, "/search?q=intelligence")
    box = soup.select_one("input[type=checkbox][name=tag][value=covert]")
    label = text_of(soup.select_one(f"label[for='{box['id']}']"))
    count = int(label.split("(")[1].split()[0].rstrip(")"))
    box["checked"] = ""  # tick it, as a reader would, and press "Apply filters"
    query = "&".join(f"{k}={v}" for k, v in form_submission(soup))
    filtered = page(client, f"/search?{query}")
    assert len(result_slugs(filtered)) == min(count, 10)
    assert f"{count} " in text_of(filtered.select_one("#result-count"))
    assert filtered.select_one("input[name=tag][value=covert]").has_attr("checked")


def test_selected_filters_show_as_removable_chips(client):
    soup = page(client, "/search?q=intelligence&tag=cyber&area=intelligence")
    chips = soup.select(".chips a.chip")
    assert [text_of(c).replace("Remove filter ", "").rstrip(CROSS).strip() for c in chips] == [
        "Topic: Cyber",
        "Area: Intelligence",
    ]
    removed = parse_qs(urlsplit(chips[0]["href"]).query)
    assert removed == {"q": ["intelligence"], "area": ["intelligence"]}
    clear = soup.find("a", string="Clear all filters")
    assert parse_qs(urlsplit(clear["href"]).query) == {"q": ["intelligence"]}


def test_a_sentence_says_what_is_shown(client):
    soup = page(client, "/search?q=fraud")
    sentence = text_of(soup.select_one("#result-count"))
    total = len(result_slugs(page(client, "/search?q=fraud&sort=title")))
    assert sentence.startswith(f"{total} capabilities found for {OPEN}fraud{CLOSE}")
    browse = text_of(page(client, "/search").select_one("#result-count"))
    assert browse.startswith("39 capabilities") and "showing 1 to 10" in browse


def test_including_results_for_names_the_expansion(client):
    soup = page(client, "/search?q=SARs")
    assert f"Including results for {OPEN}Suspicious Activity Reports{CLOSE}" in text_of(
        soup.select_one(".search-expanded")
    )
    assert soup.select_one(".search-expanded") is not None
    assert page(client, "/search?q=gateway").select_one(".search-expanded") is None


def test_a_correction_says_so_and_links_to_the_words_as_typed(client):
    soup = page(client, "/search?q=lanudering")
    notice = soup.select_one(".search-corrected")
    assert "Showing results for laundering" in text_of(notice)
    link = notice.select_one("a")
    assert text_of(link) == "lanudering"
    assert result_slugs(soup)
    exact = page(client, link["href"])
    assert not result_slugs(exact)
    suggestion = exact.select_one(".search-suggestion a")
    assert text_of(suggestion) == "laundering"
    assert result_slugs(page(client, suggestion["href"]))


def test_too_long_a_query_is_cut_with_a_notice(client):
    soup = page(client, "/search?q=" + "fraud%20" * 600)
    notice = text_of(soup.select_one(".notice--warning"))
    assert "only its first" in notice
    assert len(soup.select_one("input[name=q]")["value"]) <= 200
    assert result_slugs(soup)


def test_snippets_highlight_the_words(client):
    soup = page(client, "/search?q=money+laundering")
    snippet = soup.select_one(".search-result__snippet")
    assert {m.get_text().lower() for m in snippet.find_all("mark")} >= {"money", "laundering"}


def test_pagination_keeps_the_filters(client):
    soup = page(client, "/search?tag=economic-crime&sort=title")
    nav = soup.select_one("nav.pagination")
    next_link = nav.select_one("a[rel=next]")
    assert parse_qs(urlsplit(next_link["href"]).query) == {
        "tag": ["economic-crime"],
        "sort": ["title"],
        "page": ["2"],
    }
    second = page(client, next_link["href"])
    assert second.select_one("nav.pagination a[aria-current=page]").get_text(strip=True).endswith("2")
    assert set(result_slugs(second)).isdisjoint(result_slugs(soup))
    assert second.select_one("ol.search-results")["start"] == "11"


def test_sort_select_offers_best_match_only_with_words(client):
    with_words = page(client, "/search?q=fraud")
    options = [o["value"] for o in with_words.select("select[name=sort] option")]
    assert options == ["relevance", "title", "updated"]
    assert with_words.select_one("select[name=sort] option[selected]")["value"] == "relevance"
    browsing = page(client, "/search")
    assert [o["value"] for o in browsing.select("select[name=sort] option")] == ["title", "updated"]
    titles = [
        text_of(h) for h in page(client, "/search?q=intelligence&sort=title").select(".search-result__title")
    ]
    assert titles == sorted(titles, key=str.lower)


def test_an_empty_result_helps(client):
    soup = page(client, "/search?q=qzxjvwkp&tag=cyber")
    assert text_of(soup.select_one("#result-count")) == f"No capabilities found for {OPEN}qzxjvwkp{CLOSE}."
    empty = soup.select_one(".search-empty")
    links = {text_of(a): a["href"] for a in empty.find_all("a")}
    assert links["removing the filters"] == "/search?q=qzxjvwkp"
    assert links["browsing every capability by area"] == "/capabilities"
    assert links["fraud"] == "/search?q=fraud"
    assert links["how to apply"] == "/capabilities/how-to-apply"
    assert links["RecruitmentSE@ThamesValley.police.uk"] == "mailto:RecruitmentSE@ThamesValley.police.uk"
    assert soup.select_one("ol.search-results") is None
    # Every suggested search finds something.
    for word in ("fraud", "cyber", "intelligence analyst", "surveillance"):
        assert result_slugs(page(client, links[word])), word


def test_user_input_is_escaped_everywhere(client):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    articles.create_article(
        ArticleData(
            title="Escaping", summary="s", body="alert script img", area="intelligence", status="published"
        )
    )
    response = client.get("/search", query_string={"q": payload, "tag": payload})
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert not soup.select("main script") and not soup.select("main img")
    assert soup.select_one("input[name=q]")["value"].startswith("<script>")


def test_article_page_lists_related_capabilities(client):
    soup = page(client, "/capabilities/financial-intelligence-unit")
    related = soup.select("#related-heading ~ ul .card__title a")
    assert 1 <= len(related) <= 4
    assert all(a["href"].startswith("/capabilities/") for a in related)
    assert "/capabilities/financial-intelligence-unit" not in {a["href"] for a in related}
