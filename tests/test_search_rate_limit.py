"""Anonymous searches have a generous per-address budget: past it, 429 with Retry-After (a friendly page for
HTML, JSON for the API); signed-in staff are not limited."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup

from kb.extensions import db, limiter
from kb.services import users
from tests.conftest import PASSWORD, make_app

ONE = {"REMOTE_ADDR": "192.0.2.20"}
OTHER = {"REMOTE_ADDR": "192.0.2.21"}


@pytest.fixture
def limited_app(seeded_instance, tmp_path):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(
        instance, RATELIMIT_ENABLED=True, SEARCH_RATE_LIMIT="3 per minute", SUGGEST_RATE_LIMIT="2 per minute"
    )
    with app.app_context():
        limiter.reset()
        yield app
        limiter.reset()
        db.session.remove()
        db.engine.dispose()


def test_search_and_api_search_share_one_budget_per_address(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.get("/search?q=cyber", environ_base=ONE).status_code,
        client.get("/api/search?q=cyber", environ_base=ONE).status_code,
        client.get("/search?q=fraud", environ_base=ONE).status_code,
    ]
    assert statuses == [200, 200, 200]
    page = client.get("/search?q=drugs", environ_base=ONE)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    html = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert html.h1.get_text(strip=True) == "Too many requests"
    assert html.select_one("a[href='/']")  # a way on
    api = client.get("/api/search?q=drugs", environ_base=ONE)
    assert api.status_code == 429 and api.is_json and "Retry-After" in api.headers
    assert client.get("/search?q=drugs", environ_base=OTHER).status_code == 200


def test_suggestions_have_their_own_budget(limited_app):
    client = limited_app.test_client()
    assert [client.get("/api/suggest?q=cy", environ_base=ONE).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get("/search?q=cyber", environ_base=ONE).status_code == 200


def test_signed_in_users_are_not_limited(limited_app):
    users.create_user("reader@example.police.uk", "staff", PASSWORD)
    client = limited_app.test_client()
    client.post("/login", data={"email": "reader@example.police.uk", "password": PASSWORD}, environ_base=ONE)
    assert {client.get("/search?q=cyber", environ_base=ONE).status_code for _ in range(5)} == {200}
