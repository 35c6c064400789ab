"""What live search receives: /api/search?html=1 adds the search page's changing blocks, rendered exactly as
the page renders them, with links to the page (not the API)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

REGIONS = {
    "notices": "search-notices",
    "filter_count": "search-filter-count",
    "facets": "search-facets",
    "results": "search-results",
}


def normalised(html: str) -> str:
    """The markup with each run of whitespace made one space, so indentation does not count."""
    return " ".join(BeautifulSoup(html, "html.parser").decode().split())


@pytest.mark.parametrize(
    "query",
    [
        "q=money+laundering",
        "q=intelligence&tag=covert&area=intelligence",
        "tag=economic-crime&sort=title&page=2",
        "q=lanudering",
        "q=SARs",
        "q=qzxjvwkp&tag=cyber",
        "q=" + "fraud+" * 60,
        "q=%3Cb%3Ebold%3C%2Fb%3E",
    ],
)
def test_the_blocks_are_the_pages_own(client, query):
    page = BeautifulSoup(client.get(f"/search?{query}").get_data(as_text=True), "html.parser")
    body = client.get(f"/api/search?{query}&html=1").get_json()
    assert set(body["html"]) == {*REGIONS, "title"}
    for name, element_id in REGIONS.items():
        assert normalised(body["html"][name]) == normalised(page.find(id=element_id).decode_contents()), name
    title = BeautifulSoup(body["html"]["title"], "html.parser").get_text()
    assert page.title.get_text().startswith(f"{title} \u2013 ")


def test_links_in_the_blocks_lead_to_the_page(client):
    body = client.get("/api/search?q=intelligence&tag=covert&html=1").get_json()
    links = [a["href"] for html in body["html"].values() for a in BeautifulSoup(html, "html.parser")("a")]
    search_links = [href for href in links if "?" in href]
    assert search_links and all(urlsplit(href).path == "/search" for href in search_links)
    assert all(bucket["toggle_url"].startswith("/search?") for bucket in body["facets"]["tag"])


def test_html_is_only_sent_when_asked_for_and_keeps_the_pages_size(client):
    assert "html" not in client.get("/api/search?q=fraud").get_json()
    assert client.get("/api/search?per_page=3").get_json()["per_page"] == 3
    assert client.get("/api/search?per_page=3&html=1").get_json()["per_page"] == 10


def test_the_blocks_escape_what_the_reader_typed(client):
    body = client.get("/api/search?q=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&html=1").get_json()
    for html in body["html"].values():
        assert BeautifulSoup(html, "html.parser").find("img") is None
    assert "&lt;img" in body["html"]["results"]
