"""Role pages, the officer/staff dimension, the header navigation and the staff "request" path."""

from __future__ import annotations

from bs4 import BeautifulSoup
from sqlalchemy import select

from kb.extensions import db
from kb.models import Article, RoleType
from kb.services import search
from kb.services.articles import ArticleData, create_article

GATEWAY = "/capabilities/gateway"
GUIDE = "/capabilities/requesting-support-through-the-gateway"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# ---- Role pages ----


def test_every_role_type_has_a_page_with_its_workforce_teams_and_how_to_apply(client):
    roles = db.session.scalars(select(RoleType)).all()
    assert len(roles) >= 15
    for role in roles:
        page = soup(client.get(f"/roles/{role.slug}"))
        assert page.find("h1").get_text(strip=True) == role.name
        who = page.find("dt", string="Who can apply").find_next_sibling("dd").get_text(strip=True)
        assert who == {"officer": "Police officers", "staff": "Police staff"}.get(
            role.workforce, "Police officers or police staff"
        )
        teams = {a["href"] for a in page.select("#role-teams-heading ~ ul a")}
        expected = {
            f"/capabilities/{a.slug}"
            for a in db.session.scalars(select(Article).where(Article.role_types.any(id=role.id)))
            if a.visibility == "public" and a.status == "published"
        }
        assert teams == expected and teams, role.slug
        apply_links = {a["href"] for a in page.select("#apply a")}
        assert "https://tvpcareers.co.uk" in apply_links and "/capabilities/how-to-apply" in apply_links


def test_unknown_role_is_404(client):
    assert client.get("/roles/no-such-role").status_code == 404


def test_roles_index_groups_roles_for_staff_and_for_officers(client):
    page = soup(client.get("/roles"))
    staff = {a.get_text(strip=True) for a in page.select("#roles-staff-heading ~ ul h3 a")}
    officers = {a.get_text(strip=True) for a in page.select("#roles-officer-heading ~ ul h3 a")}
    assert "Analyst or researcher" in staff and "Analyst or researcher" not in officers
    assert "Undercover officer" in officers and "Undercover officer" not in staff
    assert "Investigator" in staff and "Investigator" in officers


def test_workforce_comes_from_the_taxonomy(app):
    roles = {r.slug: r.workforce for r in db.session.scalars(select(RoleType))}
    assert roles["police-officer"] == "officer"
    assert roles["analyst"] == "staff"
    assert roles["investigator"] == "both"


def test_every_capability_lists_at_least_one_role(app):
    capabilities = db.session.scalars(select(Article).where(Article.kind == "capability")).all()
    assert [a.slug for a in capabilities if not a.role_types] == []


def test_article_roles_link_to_role_pages(client):
    page = soup(client.get("/capabilities/asset-confiscation-team"))
    links = [a["href"] for a in page.find("dt", string="Roles").find_next_sibling("dd").find_all("a")]
    assert links and all(href.startswith("/roles/") for href in links)


def test_home_browse_by_role_links_every_role(client):
    page = soup(client.get("/"))
    links = {a["href"] for a in page.select("#roles-heading ~ ul a")}
    assert links == {f"/roles/{slug}" for slug in db.session.scalars(select(RoleType.slug))}


# ---- Officer or staff as a search facet ----


def test_workforce_facet_filters_search_to_staff_roles(client):
    data = client.get("/api/search?q=&workforce=staff&per_page=50").get_json()
    buckets = {b["value"]: b for b in data["facets"]["workforce"]}
    assert set(buckets) == {"officer", "staff"}
    assert buckets["staff"]["selected"] and buckets["staff"]["count"] == data["total"]
    slugs = {r["slug"] for r in data["results"]}
    assert "covert-operations-unit" not in slugs, "undercover officers only"
    assert "research-and-analysis" in slugs
    officer_only = client.get("/api/search?q=&workforce=officer&per_page=50").get_json()
    assert "covert-operations-unit" in {r["slug"] for r in officer_only["results"]}


def test_workforce_facet_on_the_html_page(client):
    page = soup(client.get("/search?q=&workforce=staff"))
    box = page.find("input", attrs={"name": "workforce", "value": "staff"})
    assert box is not None and box.has_attr("checked")


# ---- Navigation ----


def test_header_navigation_marks_the_current_section(client, auth):
    page = soup(client.get("/roles"))
    nav = page.select_one("header nav[aria-label='Main']")
    links = {a.get_text(strip=True): a for a in nav.find_all("a")}
    assert set(links) == {"Careers", "Teams", "Glossary"}
    assert links["Careers"].get("aria-current") == "page" and not links["Teams"].get("aria-current")
    auth.login("staff")
    nav = soup(client.get("/")).select_one("header nav[aria-label='Main']")
    assert nav.find("a", string="Request a capability")["href"] == GATEWAY


def test_map_has_its_own_page_linked_from_home(client):
    home = soup(client.get("/"))
    assert home.find("a", href="/map") is not None
    page = soup(client.get("/map"))
    assert page.select(".capability-map svg")


# ---- The staff path ----


def test_candidates_see_recruitment_and_no_request_block(client):
    page = soup(client.get("/capabilities/financial-investigation-team"))
    assert page.select_one("#request") is None
    assert page.select_one("#contact-heading").get_text(strip=True) == "How to contact"
    assert page.select_one(".article__jump a")["href"] == "#contact"


def test_staff_see_request_this_capability_first_then_recruitment(client, auth):
    auth.login("staff")
    page = soup(client.get("/capabilities/financial-investigation-team"))
    side = page.select_one(".article__side")
    panels = [s.get("id") for s in side.find_all("section", recursive=False)]
    assert panels[:2] == ["request", "contact"]
    request = page.select_one("#request")
    assert request.find("h2").get_text(strip=True) == "Request this capability"
    assert {a["href"] for a in request.find_all("a")} >= {GATEWAY, GUIDE}
    assert "Contact not published yet" in request.get_text()
    assert page.select_one(".article__jump a")["href"] == "#request"


def test_staff_see_the_team_contact_an_editor_entered(client, auth):
    create_article(
        ArticleData(
            title="Test team",
            summary="s",
            area="intelligence",
            roles=["analyst"],
            contact_internal="Email [team@example.police.uk](mailto:team@example.police.uk)",
            status="published",
        ),
        slug="test-team",
    )
    auth.login("staff")
    request = soup(client.get("/capabilities/test-team")).select_one("#request")
    assert request.find("a", href="mailto:team@example.police.uk") is not None
    assert "Contact not published yet" not in request.get_text()


def test_the_internal_tasking_guide_is_for_staff_only_and_marked(client, auth):
    assert client.get(GUIDE).status_code == 404
    auth.login("staff")
    page = soup(client.get(GUIDE))
    assert "Internal" in page.select_one(".badge--internal").get_text()
    assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex, nofollow"
    home = soup(client.get("/"))
    assert home.select_one(f"#route-staff-heading ~ ul a[href='{GUIDE}']") is not None


def test_tasking_queries_lead_to_the_gateway(client, auth):
    for q in ("task", "tasking", "request support", "how do I task the unit"):
        data = client.get("/api/search", query_string={"q": q}).get_json()
        top = [r["slug"] for r in data["results"][:2]]
        assert top and top[0] in {"gateway", "rocta"}, (q, top)
        assert "gateway" in [r["slug"] for r in data["results"][:2]], q
    auth.login("staff")
    with client:
        client.get("/")
        hits = search.search(search.SearchQuery(text="how do I task the unit")).hits
    assert {"gateway", "requesting-support-through-the-gateway"} & {h.article.slug for h in hits[:2]}
