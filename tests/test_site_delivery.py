"""How the site is delivered: sitemap and robots, error pages, fingerprinted and cached static files,
compression, and the weight of each page."""

from __future__ import annotations

import gzip
import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import render_template_string
from sqlalchemy import select

from kb.extensions import db
from kb.models import Area, Article
from kb.services import articles
from kb.services.articles import ArticleData

STATIC = Path(__file__).resolve().parents[1] / "kb" / "static"
PAGE_BUDGET = 150 * 1024  # bytes of HTML + CSS + JS on a first visit, before compression
WEIGHED_PAGES = [
    "/",
    "/capabilities",
    "/capabilities/south-east-regional-economic-crime-unit",
    "/capabilities/asset-confiscation-team",
    "/glossary",
    "/areas/economic-crime",
    "/tags/economic-crime",
    "/no-such-page",
    "/search?q=",
    "/search?q=fraud",
    "/login",
]


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# ---- Sitemap and robots ----


def sitemap_paths(client) -> set[str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    tree = ET.fromstring(response.data)  # noqa: S314 (our own response, not untrusted input)
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in tree.findall("s:url/s:loc", namespace)]
    assert all(loc.startswith("http://localhost/") for loc in locations)
    return {urlsplit(loc).path for loc in locations}


def test_sitemap_lists_exactly_the_public_pages(client):
    internal_draft = articles.create_article(
        ArticleData(title="Internal team", summary="s", area="intelligence", visibility="internal")
    )
    internal = articles.create_article(
        ArticleData(
            title="Internal published",
            summary="s",
            area="intelligence",
            visibility="internal",
            status="published",
        )
    )
    draft = articles.create_article(ArticleData(title="Draft team", summary="s", area="intelligence"))
    paths = sitemap_paths(client)
    public = db.session.scalars(
        select(Article).where(Article.visibility == "public", Article.status == "published")
    ).all()
    expected_articles = {f"/capabilities/{a.slug}" for a in public}
    assert {p for p in paths if p.startswith("/capabilities/")} == expected_articles
    for hidden in (internal_draft, internal, draft):
        assert f"/capabilities/{hidden.slug}" not in paths
    assert {"/", "/capabilities", "/glossary"} <= paths
    areas = {f"/areas/{a.slug}" for a in db.session.scalars(select(Area))}
    tags_in_use = {f"/tags/{t.slug}" for a in public for t in a.tags}
    assert {p for p in paths if p.startswith("/areas/")} == {f"/areas/{a.area.slug}" for a in public}
    assert {p for p in paths if p.startswith("/tags/")} == tags_in_use
    assert paths <= {"/", "/capabilities", "/glossary"} | expected_articles | areas | tags_in_use
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_sitemap_is_the_same_for_signed_in_staff(client, make_user):
    from tests.test_public_site import sign_in

    articles.create_article(
        ArticleData(
            title="Staff secret", summary="s", area="intelligence", visibility="internal", status="published"
        )
    )
    anonymous = sitemap_paths(client)
    sign_in(client, make_user("staff"))
    assert sitemap_paths(client) == anonymous
    assert "/capabilities/staff-secret" not in anonymous


def test_robots_points_at_the_sitemap_and_keeps_crawlers_out_of_private_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = [line.strip() for line in response.get_data(as_text=True).splitlines()]
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    disallowed = {line.split(":", 1)[1].strip() for line in lines if line.startswith("Disallow:")}
    assert {"/editor/", "/admin/", "/api/", "/login", "/search"} <= disallowed
    assert "Disallow: /" not in lines


# ---- Error pages ----


def test_not_found_is_friendly_with_a_search_box(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Page not found"
    assert page.select_one("header form") is None, "the page's own search box replaces the header's"
    form = page.select_one("main form")
    assert form["action"] == "/search" and form.find("input", attrs={"name": "q"})
    links = {a["href"] for a in page.select("main a")}
    assert {"/", "/capabilities", "/glossary"} <= links
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"


def test_unexpected_error_is_a_friendly_500_without_details(app):
    @app.get("/test-boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/test-boom")
    assert response.status_code == 500
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Sorry, there is a problem with the service"
    assert "secret detail" not in response.get_data(as_text=True)
    assert page.select_one("header form") is not None


def test_500_still_answers_when_the_error_page_itself_fails(app, monkeypatch):
    from kb.views import errors

    @app.get("/test-boom")
    def boom():
        raise RuntimeError("first failure")

    def failing_render(*args, **kwargs):
        raise RuntimeError("the template needs the database, which is down")

    monkeypatch.setattr(errors, "render_template", failing_render)
    response = app.test_client().get("/test-boom")
    assert response.status_code == 500
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Sorry, there is a problem with the service"
    assert page.find("link", rel="stylesheet")["href"].startswith("/static/site.css?v=")


def test_api_errors_stay_json(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["status"] == 404


# ---- Static files: fingerprints and caching ----


def test_static_urls_carry_the_file_hash_and_are_cached_for_a_year(client):
    page = soup(client.get("/"))
    href = page.find("link", rel="stylesheet")["href"]
    fingerprint = hashlib.sha256((STATIC / "site.css").read_bytes()).hexdigest()[:12]
    assert href == f"/static/site.css?v={fingerprint}"
    response = client.get(href)
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 60 * 60
    assert response.cache_control.public and response.cache_control.immutable


@pytest.mark.parametrize("query", ["", "?v=0123456789ab"])
def test_static_without_the_current_hash_is_revalidated(client, query):
    response = client.get(f"/static/site.css{query}")
    assert response.status_code == 200
    assert response.cache_control.no_cache and not response.cache_control.immutable


def test_fingerprint_follows_the_file_content(app, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "x.css").write_text("a{}")
    with app.test_request_context():
        from flask import url_for

        first = url_for("static", filename="x.css")
        (tmp_path / "x.css").write_text("a{color:red}")
        second = url_for("static", filename="x.css")
        missing = url_for("static", filename="missing.css")
    assert first != second and re.fullmatch(r"/static/x\.css\?v=[0-9a-f]{12}", second)
    assert missing == "/static/missing.css"


# ---- Compression ----


def _without_nonces(body: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', body)


@pytest.mark.parametrize(
    "path", ["/", "/capabilities/asset-confiscation-team", "/static/site.css", "/sitemap.xml"]
)
def test_text_responses_are_compressed_for_clients_that_ask(client, path):
    plain = client.get(path)
    compressed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    # Each response has its own CSP nonce; the rest of the body is the same.
    assert _without_nonces(gzip.decompress(compressed.data)) == _without_nonces(plain.data)
    assert len(compressed.data) < len(plain.data) / 2
    assert "Content-Encoding" not in plain.headers


def test_pages_with_a_csrf_token_are_not_compressed(app):
    # Compressing a secret beside text an attacker can reflect is the BREACH attack.
    @app.get("/test-form")
    def form():
        return render_template_string("<form><input name=csrf_token value='{{ csrf_token() }}'></form>" * 100)

    response = app.test_client().get("/test-form", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]


# ---- Page weight ----


def first_visit_bytes(client, path: str, encoding: str | None = None) -> tuple[int, dict[str, int]]:
    """Bytes a first visit to ``path`` downloads: the HTML, its stylesheets and its scripts."""
    headers = {"Accept-Encoding": encoding} if encoding else {}
    response = client.get(path, headers=headers)
    sizes = {path: len(response.data)}
    compressed = response.headers.get("Content-Encoding") == "gzip"
    page = BeautifulSoup(gzip.decompress(response.data) if compressed else response.data, "html.parser")
    assets = [link["href"] for link in page.find_all("link", rel="stylesheet")]
    assets += [script["src"] for script in page.find_all("script", src=True)]
    for url in assets:
        asset = client.get(url, headers=headers)
        assert asset.status_code == 200, url
        sizes[url] = len(asset.data)
    return sum(sizes.values()), sizes


@pytest.mark.parametrize("path", WEIGHED_PAGES)
def test_no_page_weighs_more_than_150_kb_on_first_visit(client, path):
    total, sizes = first_visit_bytes(client, path)
    assert total <= PAGE_BUDGET, f"{path}: {total} bytes uncompressed {sizes}"
    compressed, _ = first_visit_bytes(client, path, encoding="gzip")
    assert compressed < total
