"""The public pages: the directory lists every capability and every article page renders safely."""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from kb.extensions import db
from kb.models import Article
from kb.services import articles
from kb.services.articles import ArticleData


def soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_home_lists_every_capability_with_working_links(client):
    page = soup(client.get("/"))
    links = {a["href"] for a in page.select("a[href^='/capabilities/']")}
    capability_slugs = {
        a.slug for a in db.session.scalars(select(Article).where(Article.kind == "capability"))
    }
    assert {f"/capabilities/{slug}" for slug in capability_slugs} <= links
    assert len(capability_slugs) == 36
    for href in links:
        assert client.get(href).status_code == 200, href


def test_every_article_page_renders(client, auth):
    every = db.session.scalars(select(Article)).all()
    assert any(a.visibility == "internal" for a in every), "the shipped content has an internal article"
    for article in every:
        response = client.get(f"/capabilities/{article.slug}")
        if article.visibility == "internal":
            assert response.status_code == 404, article.slug
            continue
        assert response.status_code == 200, article.slug
        page = soup(response)
        assert page.h1.get_text(" ", strip=True).startswith(article.title)
        assert page.select_one("#contact-heading") is not None
    auth.login("staff")
    for article in every:
        response = client.get(f"/capabilities/{article.slug}")
        assert response.status_code == 200, article.slug
        page = soup(response)
        assert page.h1.get_text(" ", strip=True).startswith(article.title)
        assert page.select_one("#request-heading") is not None and page.select_one("#contact-heading")


def test_child_links_to_parent_and_parent_lists_children(client):
    child = soup(client.get("/capabilities/asset-confiscation-team"))
    assert child.select_one("a[href='/capabilities/south-east-regional-economic-crime-unit']")
    parent = soup(client.get("/capabilities/south-east-regional-economic-crime-unit"))
    assert len(parent.select("#teams-heading ~ ul li")) == 12


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        "<a href='https://example.org' onclick='x()'>a</a>",
    ],
)
def test_markdown_is_sanitised(client, payload):
    article = articles.create_article(
        ArticleData(title="Sanitise me", summary="s", body=payload, area="intelligence", status="published")
    )
    html = client.get(f"/capabilities/{article.slug}").get_data(as_text=True)
    body = soup(client.get(f"/capabilities/{article.slug}")).select_one(".body")
    assert body.find("script") is None and body.find("img") is None
    assert all("javascript:" not in a.get("href", "") for a in body.find_all("a"))
    assert "onerror" not in str(body) or "&lt;img" in html
    for tag in body.find_all(True):
        assert not any(attr.startswith("on") for attr in tag.attrs)


def test_unknown_article_is_404(client):
    assert client.get("/capabilities/no-such-thing").status_code == 404


def test_internal_article_and_contact_are_hidden_from_anonymous(client, app, make_user):
    article = articles.create_article(
        ArticleData(
            title="Internal only",
            summary="s",
            body="b",
            area="intelligence",
            visibility="internal",
            status="published",
        )
    )
    assert client.get(f"/capabilities/{article.slug}").status_code == 404
    assert "Internal only" not in client.get("/").get_data(as_text=True)
    gateway = soup(client.get("/capabilities/gateway"))
    assert gateway.select_one(".contact-internal") is None


def test_drafts_are_not_public(client):
    article = articles.create_article(ArticleData(title="Draft thing", summary="s", area="intelligence"))
    assert client.get(f"/capabilities/{article.slug}").status_code == 404


def test_browse_by_area_and_tag(client):
    page = soup(client.get("/areas/economic-crime"))
    assert len(page.select("a[href^='/capabilities/']")) == 13
    assert client.get("/tags/cyber").status_code == 200
    assert client.get("/tags/nope").status_code == 404
