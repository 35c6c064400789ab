"""What readers look for: private search events, k >= 5, windows, opens, retention, and page feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, inspect, select

from kb.extensions import db
from kb.models import ArticleView, PageFeedback, SearchAggregate, SearchEvent, utcnow
from kb.services import articles, insights


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def anonymous(app):
    return app.test_client()


def events() -> list[SearchEvent]:
    return list(db.session.scalars(select(SearchEvent).order_by(SearchEvent.id)))


def test_a_search_event_holds_exactly_the_listed_fields():
    columns = {c.key for c in inspect(SearchEvent).columns}
    assert columns == {"id", "day", "query", "results", "opened_rank", "role_class"}


def test_a_search_records_normalised_words_count_role_and_day_only(anonymous, client, auth):
    anonymous.get("/search", query_string={"q": "  Money   LAUNDERING "})
    anonymous.get("/search", query_string={"q": "email me at jo.bloggs@example.com 07700 900123"})
    anonymous.get("/search", query_string={"q": "money laundering", "page": "2"})  # paging is not a search
    anonymous.get("/search")  # browsing is not a search
    auth.login("staff")
    client.get("/search", query_string={"q": "zzqqxx"})
    recorded = [(e.query, e.role_class, e.day, e.opened_rank) for e in events()]
    today = utcnow().date()
    assert recorded == [
        ("money laundering", "anonymous", today, None),
        ("email me at [e-mail] [number]", "anonymous", today, None),
        ("zzqqxx", "staff", today, None),
    ]
    assert events()[0].results > 0 and events()[2].results == 0


def test_opening_a_result_from_the_search_page_records_its_rank(anonymous):
    page = soup(anonymous.get("/search", query_string={"q": "money laundering"}))
    links = [a["href"] for a in page.select(".search-result__title a")]
    second = links[1]
    anonymous.get(second, headers={"Referer": "http://localhost/search?q=money+laundering"})
    assert [e.opened_rank for e in events()] == [2]
    # Opened again from a live search that was never recorded: counted once it is used.
    anonymous.get(links[0], headers={"Referer": "http://localhost/search?q=Money+Laundering"})
    assert [e.opened_rank for e in events()] == [2, 1]
    # A referrer from elsewhere marks nothing but still counts the view.
    anonymous.get(links[0], headers={"Referer": "https://elsewhere.example/search?q=money+laundering"})
    assert len(events()) == 2
    assert db.session.scalar(select(func.sum(ArticleView.views))) == 3


def test_recording_can_be_turned_off(app, anonymous):
    app.config["SEARCH_INSIGHTS"] = False
    anonymous.get("/search", query_string={"q": "money laundering"})
    anonymous.get("/capabilities/gateway")
    assert events() == [] and db.session.scalar(select(func.count(ArticleView.id))) == 0
    assert soup(anonymous.get("/capabilities/gateway")).select_one("#feedback") is None


def _add(query: str, n: int, *, results: int = 0, opened: int | None = None, days_ago: int = 0) -> None:
    day = utcnow().date() - timedelta(days=days_ago)
    for _ in range(n):
        db.session.add(
            SearchEvent(day=day, query=query, results=results, opened_rank=opened, role_class="anonymous")
        )
    db.session.commit()


def test_insights_show_a_query_only_from_k_searches_and_by_window(client, auth):
    auth.login("editor")
    _add("wombat squad", 5)  # zero results, five times: shown
    _add("jane smith", 4)  # four: never shown
    _add("fraud", 6, results=3)  # found things, nobody opened them
    _add("cyber", 7, results=4, opened=1)
    _add("old query", 9, days_ago=40)
    page = soup(client.get("/editor/insights?days=30"))
    column = lambda table: [td.get_text(strip=True) for td in page.select(f"#{table} tbody td:first-child")]  # noqa: E731
    assert column("zero-results") == ["wombat squad"]
    assert column("unopened") == ["fraud"]
    assert column("top-queries") == ["cyber", "fraud", "wombat squad"]
    assert "jane smith" not in page.get_text()
    assert page.select_one("#search-total strong").get_text() == "22"
    assert "old query" in soup(client.get("/editor/insights?days=90")).get_text()
    assert "old query" not in soup(client.get("/editor/insights?days=7")).get_text()


def test_a_zero_result_query_links_to_the_glossary_only_when_it_exists(app, client, auth):
    auth.login("editor")
    _add("wombat squad", 5)
    page = soup(client.get("/editor/insights"))
    cell = page.select_one("#zero-results tbody tr td:last-child")
    if "editor.glossary_new" in app.view_functions:
        hrefs = [a["href"] for a in cell.select("a")]
        assert "/editor/glossary/new?term=wombat+squad&kind=best_bet" in hrefs
    else:
        assert cell.a["href"] == "/editor/articles/new"


def test_old_events_are_folded_into_monthly_counts_and_deleted(app):
    _add("fraud", 3, results=2, days_ago=120)
    _add("fraud", 2, results=0, days_ago=120)
    _add("fraud", 1, days_ago=10)
    assert insights.prune() == 5
    assert [e.query for e in events()] == ["fraud"]
    row = db.session.scalar(select(SearchAggregate))
    old = utcnow().date() - timedelta(days=120)
    assert (row.month, row.query, row.searches, row.zero_results) == (old.replace(day=1), "fraud", 5, 2)
    assert insights.prune() == 0


def test_was_this_page_helpful_keeps_an_answer_and_an_escaped_comment(app, anonymous, client, auth):
    response = anonymous.get("/capabilities/gateway")
    assert "Set-Cookie" not in response.headers  # reading sets no cookie; only answering does
    compressed = anonymous.get("/capabilities/gateway", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers.get("Content-Encoding") == "gzip"  # no CSRF token, so still compressed
    form = soup(response).select_one("#feedback form")
    assert form["method"] == "get"
    assert [b["value"] for b in form.select("button[name=helpful]")] == ["yes", "no"]
    ask = soup(anonymous.get(form["action"], query_string={"helpful": "no"}))
    assert ask.h1.get_text() == "Sorry this page did not help"
    sent = {i["name"]: i.get("value", "") for i in ask.select("main form input")}
    assert sent["helpful"] == "no"
    assert db.session.scalar(select(func.count(PageFeedback.id))) == 0  # asking stored nothing
    response = anonymous.post(form["action"], data={**sent, "comment": "<b>Out of date</b>"})
    assert response.status_code == 303
    answer = db.session.scalar(select(PageFeedback))
    assert (answer.helpful, answer.comment) == (False, "<b>Out of date</b>")
    assert {c.key for c in inspect(PageFeedback).columns} == {"id", "article_id", "day", "helpful", "comment"}
    bad = anonymous.post("/capabilities/gateway/feedback", data={"helpful": "maybe"})
    assert bad.status_code == 200 and "Select yes or no" in bad.get_data(as_text=True)
    assert anonymous.get("/capabilities/gateway/feedback?helpful=maybe").status_code == 303
    too_long = anonymous.post("/capabilities/gateway/feedback", data={"helpful": "yes", "comment": "x" * 600})
    assert "Your comment must be 500 characters or fewer" in too_long.get_data(as_text=True)

    auth.login("editor")
    reviews_page = client.get("/editor/reviews").get_data(as_text=True)
    assert "&lt;b&gt;Out of date&lt;/b&gt;" in reviews_page and "<b>Out of date" not in reviews_page


def test_feedback_is_rate_limited(tmp_path, seeded_instance):
    import shutil

    from tests.conftest import make_app

    instance = tmp_path / "limited"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, RATELIMIT_ENABLED=True, FEEDBACK_RATE_LIMIT="2 per hour")
    with app.app_context():
        reader = app.test_client()
        codes = [
            reader.post("/capabilities/gateway/feedback", data={"helpful": "yes"}).status_code
            for _ in range(3)
        ]
        assert codes == [303, 303, 429]
        db.session.remove()
        db.engine.dispose()


def test_an_internal_article_takes_no_feedback_from_a_candidate(app, anonymous):
    article = articles.get_by_slug("gateway")
    article.visibility = "internal"
    db.session.commit()
    assert anonymous.post("/capabilities/gateway/feedback", data={"helpful": "yes"}).status_code == 404


def test_events_of_different_days_fold_into_one_month(app):
    first = (utcnow().date() - timedelta(days=200)).replace(day=15)
    for day, results in ((first, 0), (first.replace(day=16), 3)):
        db.session.add(
            SearchEvent(day=day, query="cyber", results=results, opened_rank=None, role_class="staff")
        )
    db.session.commit()
    assert insights.prune() == 2
    rows = list(db.session.scalars(select(SearchAggregate)))
    assert [(r.month, r.searches, r.zero_results, r.role_class) for r in rows] == [
        (first.replace(day=1), 2, 1, "staff")
    ]
