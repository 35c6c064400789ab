"""Owners and review dates: set on publish, "Mark as reviewed", the due list and counts, the report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup

from kb.extensions import db
from kb.models import Revision, utcnow
from kb.services import articles, reviews
from tests.test_editor import form_values, post_form


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def editor(auth):
    return auth.login("editor")


@pytest.fixture
def anonymous(app):
    return app.test_client()


def _make_due(slug: str, days_from_today: int | None, owner=None) -> None:
    article = articles.get_by_slug(slug)
    article.next_review_on = None if days_from_today is None else utcnow().date() + timedelta(days_from_today)
    article.owner_id = owner.id if owner else None
    db.session.commit()


def test_add_months_keeps_the_day_or_takes_the_last_of_a_short_month():
    assert reviews.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert reviews.add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert reviews.add_months(date(2026, 12, 2), 12) == date(2027, 12, 2)


def test_seeded_articles_get_a_first_review_date_but_no_review(app):
    article = articles.get_by_slug("gateway")
    assert article.next_review_on == reviews.add_months(article.created_at.date(), 12)
    assert article.last_reviewed_at is None


def test_publishing_sets_the_owner_and_the_next_review_a_year_on(client, editor, anonymous):
    values = form_values(soup(client.get("/editor/articles/gateway/edit")))
    assert post_form(client, "/editor/articles/gateway/edit", values, "publish").status_code == 303
    article = articles.get_by_slug("gateway")
    today = utcnow().date()
    assert (article.owner_id, article.next_review_on) == (editor.id, reviews.add_months(today, 12))
    page = soup(anonymous.get("/capabilities/gateway"))
    assert page.select_one("#last-reviewed").get_text() == f"{today:%-d %B %Y}"


def test_a_draft_save_does_not_count_as_a_review(client, editor):
    values = form_values(soup(client.get("/editor/articles/gateway/edit")))
    post_form(client, "/editor/articles/gateway/edit", values, "draft")
    assert articles.get_by_slug("gateway").last_reviewed_at is None


def test_the_list_counts_what_is_due_and_the_due_page_puts_mine_first(client, editor, make_user):
    other = make_user("editor", "other@example.police.uk")
    _make_due("gateway", -3, other)
    _make_due("rocta", 10, editor)
    _make_due("humint", None)
    page = soup(client.get("/editor/"))
    counts = [page.select_one(f"#{name}").get_text() for name in ("overdue-count", "due-soon-count")]
    assert counts == ["1", "1"] and page.select_one("#unscheduled-count").get_text() == "1"

    due = soup(client.get("/editor/reviews"))
    mine = [a.get_text() for a in due.select("#due-mine tbody td:first-child a")]
    others = [a.get_text() for a in due.select("#due-others tbody td:first-child a")]
    assert mine == [articles.get_by_slug("rocta").title]
    assert others == [articles.get_by_slug("humint").title, articles.get_by_slug("gateway").title]
    assert "Overdue" in due.select("#due-others tbody tr")[1].get_text()


def test_mark_as_reviewed_is_one_click_and_records_a_revision_note(client, editor, anonymous):
    _make_due("gateway", -3)
    due = soup(client.get("/editor/reviews"))
    form = due.select_one("form[action='/editor/articles/gateway/review']")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    response = client.post(form["action"], data=data)
    assert response.status_code == 303 and response.location.endswith("/editor/reviews")
    article = articles.get_by_slug("gateway")
    assert article.next_review_on == reviews.add_months(utcnow().date(), 12)
    latest = db.session.scalars(
        db.select(Revision).where(Revision.article_id == article.id).order_by(Revision.number.desc())
    ).first()
    assert latest.action == "review" and latest.note.startswith("Reviewed: still correct")
    # Off the due list (the header's "Request a capability" link to the Gateway stays, so look at forms).
    assert (
        soup(client.get("/editor/reviews")).select_one("form[action='/editor/articles/gateway/review']")
        is None
    )
    assert "Marked as reviewed" in client.get("/editor/articles/gateway/history").get_data(as_text=True)
    assert soup(anonymous.get("/capabilities/gateway")).select_one("#last-reviewed") is not None


def test_a_review_from_a_stale_page_does_nothing(client, editor):
    before = articles.get_by_slug("gateway").version
    response = client.post("/editor/articles/gateway/review", data={"version": str(before - 1)})
    assert response.status_code == 409
    assert articles.get_by_slug("gateway").version == before


def test_the_owner_and_date_are_changed_on_the_edit_page(client, editor, make_user):
    make_user("editor", "owner@example.police.uk")
    page = soup(client.get("/editor/articles/gateway/edit"))
    assert "owner@example.police.uk" in [o["value"] for o in page.select("#owner option")]
    response = client.post(
        "/editor/articles/gateway/stewardship",
        data={"owner": "owner@example.police.uk", "next_review_on": "2027-03-31"},
    )
    assert response.status_code == 303
    article = articles.get_by_slug("gateway")
    assert (article.owner.email, article.next_review_on) == ("owner@example.police.uk", date(2027, 3, 31))
    bad = soup(client.post("/editor/articles/gateway/stewardship", data={"owner": "nobody@example.com"}))
    assert "Select an owner from the list" in bad.select_one(".error-summary").get_text()


def test_review_report_lists_what_is_overdue(app, runner):
    assert "Nothing is overdue" in runner.invoke(args=["kb", "review-report"]).output
    _make_due("gateway", -40)
    result = runner.invoke(args=["kb", "review-report", "--base-url", "https://kb.example/"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "1 article overdue for review:"
    assert "Gateway" in lines[1] and "https://kb.example/editor/articles/gateway/edit" in lines[1]


def test_a_review_while_someone_edits_is_not_a_conflict(client, editor):
    edit_page = soup(client.get("/editor/articles/gateway/edit"))
    article = articles.get_by_slug("gateway")
    articles.mark_reviewed(article, author=editor, expected_version=article.version)
    # The form's text equals the current text: saving loses nothing, so it saves.
    assert (
        post_form(client, "/editor/articles/gateway/edit", form_values(edit_page), "publish").status_code
        == 303
    )
    # But a real difference from a colleague is still a conflict.
    values = form_values(soup(client.get("/editor/articles/gateway/edit")))
    article = articles.get_by_slug("gateway")
    from kb.services.articles import ArticleData

    changed = ArticleData.from_article(article)
    changed.summary = "A colleague's summary."
    articles.save_edit(article, changed, expected_version=article.version, author=None)
    assert post_form(client, "/editor/articles/gateway/edit", values, "publish").status_code == 409
