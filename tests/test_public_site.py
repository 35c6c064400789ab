"""The public site's pages: header and footer, home with the capability map, articles, glossary, browsing."""

from __future__ import annotations

import time

import pytest
from bs4 import BeautifulSoup
from flask import g, render_template
from flask_login.utils import _create_identifier
from sqlalchemy import select

from kb.auth_session import SEEN_AT, SIGNED_IN_AT
from kb.extensions import db
from kb.models import Area, Article, GlossaryTerm, Tag
from kb.services import articles
from kb.services.articles import ArticleData

PUBLISHED_CONTACTS = {
    "mailto:RecruitmentSE@ThamesValley.police.uk",
    "mailto:SEHR@thamesvalley.police.uk",
}
PUBLIC_PAGES = [
    "/",
    "/capabilities",
    "/capabilities/asset-confiscation-team",
    "/capabilities/how-to-apply",
    "/glossary",
    "/areas/economic-crime",
    "/tags/cyber",
    "/map",
    "/roles",
    "/roles/analyst",
]


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def sign_in(client, user) -> None:
    """Start a signed-in session for ``user`` the way the sign-in view leaves it."""
    with client:
        client.get("/robots.txt")  # keeps its request context, so the identifier is this client's
        identifier = _create_identifier()  # "strong" session protection ties the session to it
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
        session[SIGNED_IN_AT] = session[SEEN_AT] = time.time()
    # The `app` fixture keeps one app context (and so one `g`) across requests: forget the anonymous
    # user Flask-Login cached there, as a fresh request would.
    g.pop("_login_user", None)


def label_for(page: BeautifulSoup, control) -> str:
    label = page.find("label", attrs={"for": control["id"]})
    return label.get_text(strip=True) if label else ""


def capability_hrefs(directory_rows) -> set[str]:
    return {f"/capabilities/{a.slug}" for a in directory_rows}


# ---- Header, footer and frame ----


@pytest.mark.parametrize("path", PUBLIC_PAGES[1:])
def test_header_has_the_unit_name_and_a_labelled_search_form(client, path):
    page = soup(client.get(path))
    header = page.select_one("header.site-header")
    assert "SEROCU" in header.select_one(".site-name").get_text()
    form = header.find("form")
    assert form["action"] == "/search" and form.get("method", "get").lower() == "get"
    control = form.find("input", attrs={"name": "q"})
    assert label_for(page, control) == "Search capabilities"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_page_has_a_skip_link_one_h1_and_the_published_contacts_only(client, path):
    page = soup(client.get(path))
    skip = page.body.find("a")
    assert skip["href"] == "#main" and page.select_one("main#main") is not None
    assert len(page.find_all("h1")) == 1
    footer = page.select_one("footer.site-footer")
    footer_links = {a["href"] for a in footer.find_all("a")}
    assert PUBLISHED_CONTACTS | {"https://tvpcareers.co.uk", "https://rocu.police.uk"} <= footer_links
    mailtos = {a["href"] for a in page.find_all("a", href=True) if a["href"].startswith("mailto:")}
    assert mailtos <= PUBLISHED_CONTACTS
    assert page.find(string=lambda s: "tel:" in s) is None and not page.select("a[href^='tel:']")


def test_nothing_on_a_page_loads_from_another_host(client):
    for path in PUBLIC_PAGES:
        page = soup(client.get(path))
        for element, attribute in (("link", "href"), ("script", "src"), ("img", "src"), ("iframe", "src")):
            for node in page.find_all(element):
                if node.get("rel") == ["canonical"]:  # names the page's address; nothing is fetched
                    continue
                url = node.get(attribute, "")
                assert url.startswith("/") and not url.startswith("//"), (path, url)
        assert not page.find_all(style=True), "inline styles could load remote resources"
    css = client.get("/static/site.css").get_data(as_text=True)
    assert "@import" not in css and "url(" not in css


# ---- Home ----


def test_home_leads_with_the_two_routes_then_search_roles_directory_and_about(client):
    page = soup(client.get("/"))
    assert page.select_one("header form") is None, "home has its own search box"
    main = page.select_one("main")
    first_form = main.find("form")
    control = first_form.find("input", attrs={"name": "q"})
    assert first_form["action"] == "/search" and label_for(page, control) == "Search capabilities"
    headings = [h.get_text(strip=True) for h in main.find_all("h2")]
    assert headings == [
        "Looking for a job",
        "Working with the unit",
        "Browse by role",
        "Capabilities by area",
        "About the unit",
    ]
    jobs = {a.get_text(strip=True): a["href"] for a in page.select("#route-jobs-heading ~ ul a")}
    assert jobs["How to apply"] == "/capabilities/how-to-apply"
    assert jobs["Vacancies on TVP Careers"] == "https://tvpcareers.co.uk"
    assert jobs["Roles for police officers and police staff"] == "/roles"
    staff = {a["href"] for a in page.select("#route-staff-heading ~ ul a")}
    assert {"/capabilities/gateway", "/map"} <= staff
    assert "/capabilities/requesting-support-through-the-gateway" not in staff, "internal: staff only"
    # The map has its own page now: nothing on home repeats the directory as boxes.
    assert page.select_one(".capability-map") is None
    about = {a["href"] for a in page.select("#about-heading ~ ul a")}
    assert about == {
        "/capabilities/about-the-unit",
        "/capabilities/working-at-the-unit",
        "/capabilities/how-to-apply",
    }


def test_capability_map_links_every_area_and_capability_with_a_text_alternative(client):
    page = soup(client.get("/map"))
    capabilities = db.session.scalars(select(Article).where(Article.kind == "capability")).all()
    areas = {f"/areas/{a.area.slug}" for a in capabilities}
    svgs = page.select(".capability-map svg")
    assert len(svgs) == 2  # narrow and wide layouts
    for svg in svgs:
        title = svg.find("title")
        assert svg["aria-labelledby"] == title["id"] and "Every box is a link" in title.get_text()
        links = [a["href"] for a in svg.find_all("a")]
        assert len(links) == len(set(links)), "each box once"
        assert set(links) == capability_hrefs(capabilities) | areas | {"/capabilities/about-the-unit"}
        for link in svg.find_all("a"):
            assert link.find("rect") is not None and link.get_text(strip=True), "every box a named link"
    # The text alternative: the directory below lists the same capabilities.
    directory = {a["href"] for a in page.select("#directory-heading ~ div a[href^='/capabilities/']")}
    assert directory == capability_hrefs(capabilities)
    assert page.select_one("#map-hint a")["href"] == "#directory-heading"


def test_capability_map_draws_the_economic_crime_unit_with_its_twelve_teams(client):
    page = soup(client.get("/map"))
    recu = db.session.scalar(select(Article).where(Article.slug == "south-east-regional-economic-crime-unit"))
    teams = {f"/capabilities/{child.slug}" for child in recu.children}
    assert len(teams) == 12
    for svg in page.select(".capability-map svg"):
        team_links = {a["href"] for a in svg.select("a.map-link--team")}
        assert team_links == teams


def test_capability_map_escapes_titles_and_follows_visibility(client):
    articles.create_article(
        ArticleData(title='<script>"Q&A"</script>', summary="s", area="intelligence", status="published")
    )
    articles.create_article(
        ArticleData(
            title="Hidden team", summary="s", area="intelligence", visibility="internal", status="published"
        )
    )
    page = soup(client.get("/map"))
    svg = page.select_one(".capability-map svg")
    assert svg.find("script") is None
    assert '<script>"Q&A"</script>' in svg.get_text()
    assert "Hidden team" not in page.get_text()


def test_directory_nests_the_economic_crime_teams_under_their_parent(client):
    page = soup(client.get("/capabilities"))
    recu = page.find("a", href="/capabilities/south-east-regional-economic-crime-unit")
    teams = recu.find_parent("li").select("ul.directory--teams a")
    assert len(teams) == 12


# ---- Article ----


def test_article_shows_everything_a_candidate_needs(client):
    page = soup(client.get("/capabilities/asset-confiscation-team"))
    article = db.session.scalar(select(Article).where(Article.slug == "asset-confiscation-team"))
    assert page.h1.get_text(" ", strip=True) == "Asset Confiscation Team (ACE)"
    assert page.select_one(".article__header .lead").get_text(strip=True) == article.summary
    facts = {dt.get_text(strip=True): dt.find_next_sibling("dd") for dt in page.select(".summary-list dt")}
    assert facts["Area"].a["href"] == "/areas/economic-crime"
    assert facts["Part of"].a["href"] == "/capabilities/south-east-regional-economic-crime-unit"
    assert {a["href"] for a in facts["Tags"].find_all("a")} == {f"/tags/{t.slug}" for t in article.tags}
    role_links = [a["href"] for a in facts["Roles"].find_all("a")]
    assert role_links == [f"/roles/{r.slug}" for r in article.role_types]
    assert [li.get_text(" ", strip=True).split(" (")[0] for li in facts["Works with"].find_all("li")] == list(
        article.partners
    )
    updated = facts["Last updated"].time
    assert updated["datetime"] == article.updated_at.strftime("%Y-%m-%d")
    # "How to contact" is one jump away from the top of the page.
    jump = page.select_one(".article__jump a")
    assert page.select_one(jump["href"]).find(id="contact-heading") is not None
    contact = page.select_one("#contact")
    assert contact.find("a", href="mailto:RecruitmentSE@ThamesValley.police.uk")


def test_article_meta_description_and_open_graph(client):
    page = soup(client.get("/capabilities/regional-cyber-crime-unit"))
    article = db.session.scalar(select(Article).where(Article.slug == "regional-cyber-crime-unit"))

    def meta(**attrs):
        return page.find("meta", attrs=attrs)["content"]

    assert meta(name="description") == article.summary
    assert meta(property="og:title") == article.title
    assert meta(property="og:description") == article.summary
    assert meta(property="og:type") == "article"
    assert meta(property="og:url") == "http://localhost/capabilities/regional-cyber-crime-unit"
    assert page.find("link", rel="canonical")["href"] == meta(property="og:url")
    assert page.find("meta", attrs={"name": "robots"}) is None


def test_internal_contact_and_internal_articles_are_for_staff_only(client, make_user):
    internal = articles.create_article(
        ArticleData(
            title="Staff only team",
            summary="Internal summary",
            area="intelligence",
            visibility="internal",
            status="published",
            contact_internal="Ring the internal desk",
        )
    )
    gateway = "/capabilities/gateway"
    assert soup(client.get(gateway)).select_one(".contact-internal") is None
    assert client.get(f"/capabilities/{internal.slug}").status_code == 404
    sign_in(client, make_user("staff"))
    staff_view = soup(client.get(gateway))
    assert staff_view.select_one(".contact-internal") is not None
    internal_page = soup(client.get(f"/capabilities/{internal.slug}"))
    assert "Ring the internal desk" in internal_page.select_one(".contact-internal").get_text()
    assert internal_page.find("meta", attrs={"name": "robots"})["content"].startswith("noindex")
    assert internal_page.find("meta", attrs={"property": "og:title"}) is None


def test_article_without_a_public_contact_points_to_the_published_recruitment_team(client):
    article = articles.create_article(
        ArticleData(title="No contact team", summary="s", area="intelligence", status="published")
    )
    contact = soup(client.get(f"/capabilities/{article.slug}")).select_one("#contact")
    assert {a["href"] for a in contact.find_all("a")} == {"mailto:RecruitmentSE@ThamesValley.police.uk"}


def test_related_capabilities_are_listed_when_given(app):
    article = db.session.scalar(select(Article).where(Article.slug == "regional-cash-team"))
    related = db.session.scalars(
        select(Article).where(Article.slug.in_(["regional-asset-recovery-team", "cryptocurrency-unit"]))
    ).all()
    with app.test_request_context("/capabilities/regional-cash-team"):
        without = BeautifulSoup(
            render_template("public/article.html", article=article, parent=None, children=[]), "html.parser"
        )
        shown = BeautifulSoup(
            render_template(
                "public/article.html", article=article, parent=None, children=[], related=related
            ),
            "html.parser",
        )
    assert without.find(id="related-heading") is None
    links = {a["href"] for a in shown.select("#related-heading ~ ul a")}
    assert links == {f"/capabilities/{a.slug}" for a in related}


# ---- Glossary, tags, areas ----


def test_glossary_lists_every_term_and_links_teams_to_their_pages(client):
    page = soup(client.get("/glossary"))
    terms = db.session.scalars(select(GlossaryTerm)).all()
    listed = {dt.contents[0].strip() for dt in page.select("dl.glossary dt")}
    assert listed == {t.term for t in terms}
    ace = page.select_one("#term-ace")
    assert "Asset Confiscation Team" in ace.dt.get_text()
    assert ace.find("a", href="/capabilities/asset-confiscation-team")
    afo = page.select_one("#term-afo .glossary__aliases").get_text()
    assert afo == "Also called: account freezing"  # not "afos" or "account freezing orders" again
    letters = [a["href"] for a in page.select("nav.az a")]
    assert all(page.select_one(href) is not None for href in letters)


def test_tag_page_lists_its_capabilities_and_other_tags(client):
    page = soup(client.get("/tags/cryptocurrency"))
    tag = db.session.scalar(select(Tag).where(Tag.slug == "cryptocurrency"))
    expected = db.session.scalars(select(Article).where(Article.tags.any(id=tag.id))).all()
    assert {a["href"] for a in page.select("ul.cards h2 a")} == capability_hrefs(expected)
    assert page.select_one(".result-count").get_text(strip=True).startswith(f"{len(expected)} ")
    others = {a["href"] for a in page.select("#other-tags-heading ~ ul a")}
    assert "/tags/cryptocurrency" not in others and "/tags/cyber" in others


def test_area_page_nests_teams_and_links_other_areas(client):
    page = soup(client.get("/areas/economic-crime"))
    area = db.session.scalar(select(Area).where(Area.slug == "economic-crime"))
    assert page.h1.get_text(strip=True) == area.name
    assert page.select_one(".lead").get_text(strip=True) == area.description
    assert len(page.select("ul.cards--nested a")) == 12
    others = {a["href"] for a in page.select("#other-areas-heading ~ ul a")}
    assert "/areas/intelligence" in others and "/areas/economic-crime" not in others


@pytest.mark.parametrize("path", ["/tags/no-such-tag", "/areas/no-such-area", "/capabilities/nope"])
def test_unknown_browse_pages_are_404(client, path):
    assert client.get(path).status_code == 404
