"""The JSON API: /api/search in the shape DESIGN.md fixes, /api/suggest and /api/articles/<slug>."""

from __future__ import annotations

from kb.services import articles
from kb.services.articles import ArticleData


def test_search_answers_the_contract_shape(client):
    body = client.get("/api/search?q=money+laundering").get_json()
    assert {
        "query",
        "total",
        "page",
        "per_page",
        "pages",
        "results",
        "facets",
        "suggestion",
        "expanded",
    } <= set(body)
    assert body["query"] == "money laundering"
    assert body["page"] == 1 and body["per_page"] == 10 and body["pages"] == -(-body["total"] // 10)
    assert body["suggestion"] is None and isinstance(body["expanded"], list)
    first = body["results"][0]
    assert {"slug", "title", "summary", "url", "snippet", "tags", "area", "roles"} <= set(first)
    assert first["url"] == f"/capabilities/{first['slug']}"
    assert "<mark>" in first["snippet"]
    assert all(isinstance(t, str) for t in first["tags"]) and isinstance(first["area"], str)
    assert set(body["facets"]) == {"tag", "area", "role", "workforce"}
    for buckets in body["facets"].values():
        for bucket in buckets:
            assert {"value", "label", "count", "selected"} <= set(bucket)


def test_search_parameters_match_the_page(client):
    body = client.get("/api/search?tag=cyber&tag=covert&area=cyber-and-digital&per_page=3&page=2").get_json()
    assert body["per_page"] == 3 and body["page"] == min(2, body["pages"])
    selected = {b["value"] for b in body["facets"]["tag"] if b["selected"]}
    assert selected == {"cyber", "covert"}
    for result in body["results"]:
        assert result["area"] == "cyber-and-digital" and {"cyber", "covert"} & set(result["tags"])
    everything = client.get("/api/search?per_page=50").get_json()
    assert everything["total"] == 39 and len(everything["results"]) == 39
    assert client.get("/api/search?per_page=5000").get_json()["per_page"] == 50
    assert client.get("/api/search?per_page=abc&page=-4").get_json()["page"] == 1


def test_facet_toggle_urls_stay_in_the_api(client):
    body = client.get("/api/search?q=fraud").get_json()
    toggle = body["facets"]["tag"][0]["toggle_url"]
    assert toggle.startswith("/api/search?q=fraud&tag=")
    assert client.get(toggle).get_json()["total"] == body["facets"]["tag"][0]["count"]


def test_links_keep_the_page_size_they_were_given(client):
    body = client.get("/api/search?tag=cyber&per_page=3").get_json()
    assert body["facets"]["area"][0]["toggle_url"].endswith("&per_page=3")
    assert "per_page" not in client.get("/api/search?tag=cyber").get_json()["facets"]["area"][0]["toggle_url"]


def test_suggestion_correction_and_expansion_in_json(client):
    corrected = client.get("/api/search?q=lanudering").get_json()
    assert corrected["query"] == "lanudering" and corrected["total"] > 0
    assert corrected["corrected"] == {
        "q": "laundering",
        "original": "lanudering",
        "url": "/api/search?q=lanudering&correct=0",
    }
    assert corrected["suggestion"] is None
    exact = client.get("/api/search?q=lanudering&correct=0").get_json()
    assert exact["total"] == 0 and exact["corrected"] is None
    assert exact["suggestion"] == {"q": "laundering", "url": "/api/search?q=laundering"}
    assert "Suspicious Activity Reports" in client.get("/api/search?q=SARs").get_json()["expanded"]


def test_suggest_gives_titles_and_urls(client):
    body = client.get("/api/suggest?q=cyb").get_json()
    assert body["suggestions"][0] == {
        "title": "Regional Cyber Crime Unit",
        "acronym": "",
        "url": "/capabilities/regional-cyber-crime-unit",
    }
    assert client.get("/api/suggest").get_json() == {"suggestions": []}
    assert client.get("/api/suggest?q=" + "x" * 10_000).status_code == 200


def test_article_json_and_its_visibility(client, auth):
    body = client.get("/api/articles/gateway").get_json()
    assert body["slug"] == "gateway" and body["title"] == "Gateway"
    assert body["url"] == "/capabilities/gateway"
    assert "internal" not in body["contact"]
    assert body["related"] and all(r["url"].startswith("/capabilities/") for r in body["related"])
    assert client.get("/api/articles/no-such-article").status_code == 404
    internal = articles.create_article(
        ArticleData(
            title="Staff only",
            summary="s",
            area="intelligence",
            visibility="internal",
            status="published",
            contact_internal="Ring extension 1234.",
        )
    )
    assert client.get(f"/api/articles/{internal.slug}").status_code == 404
    auth.login("staff")
    staff_view = client.get(f"/api/articles/{internal.slug}").get_json()
    assert staff_view["contact"]["internal"] == "Ring extension 1234."
    # A team whose internal contact an editor has entered: staff get it, candidates do not.
    assert "internal" in client.get("/api/articles/business-support").get_json()["contact"]
