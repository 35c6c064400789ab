"""The search vocabulary's editor pages: list, search, add, edit, delete; audited; CSRF; editors only;
and a change is searchable at once."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from kb.extensions import db
from kb.models import AuditEvent, GlossaryTerm
from kb.services import glossary
from tests.conftest import make_app


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def public_slugs(client, words: str) -> list[str]:
    return [r["slug"] for r in client.get("/api/search", query_string={"q": words}).get_json()["results"]]


@pytest.fixture
def editor(auth):
    return auth.login("editor")


@pytest.fixture
def anonymous(app):
    return app.test_client()


def entry(term: str) -> GlossaryTerm:
    return db.session.scalar(db.select(GlossaryTerm).where(GlossaryTerm.term == term))


def test_the_list_shows_every_kind_and_searches(client, editor):
    page = soup(client.get("/editor/glossary"))
    rows = page.select("#glossary-entries tbody tr")
    assert len(rows) == len(glossary.all_terms())
    kinds = {row.select("td")[0].get_text(strip=True) for row in rows}
    assert kinds == {"Acronym", "Term or slang", "Best bet"}
    found = soup(client.get("/editor/glossary?q=informant"))
    terms = [row.th.get_text(strip=True) for row in found.select("#glossary-entries tbody tr")]
    assert "CHIS" in terms and "grass" in terms and "POCA" not in terms
    best = soup(client.get("/editor/glossary?kind=best_bet"))
    assert {r.select("td")[0].get_text(strip=True) for r in best.select("#glossary-entries tbody tr")} == {
        "Best bet"
    }


def test_new_takes_term_and_kind_from_the_address(client, editor):
    page = soup(client.get("/editor/glossary/new?term=drone+pilot&kind=best_bet"))
    assert page.select_one("input[name=term]")["value"] == "drone pilot"
    assert page.select_one("input[name=kind][value=best_bet]").has_attr("checked")
    junk = soup(client.get("/editor/glossary/new?kind=nonsense"))
    assert not any(box.has_attr("checked") for box in junk.select("input[name=kind]"))


def test_a_best_bet_puts_its_capabilities_first_at_once(client, editor, anonymous):
    assert "regional-cash-team" not in public_slugs(anonymous, "yacht broker")[:1]
    response = client.post(
        "/editor/glossary/new",
        data={
            "term": "yacht broker",
            "kind": "best_bet",
            "aliases": "boat sales",
            "targets": "regional-cash-team",
        },
    )
    assert response.status_code == 303
    assert public_slugs(anonymous, "yacht broker")[0] == "regional-cash-team"
    assert public_slugs(anonymous, "boat sales")[0] == "regional-cash-team"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "glossary.create"))
    assert event.target == "yacht broker" and event.detail["targets"] == ["regional-cash-team"]


def test_a_slang_term_finds_what_its_synonyms_find_and_edits_and_deletes_apply_at_once(
    client, editor, anonymous
):
    assert public_slugs(anonymous, "zorblat") == []
    client.post("/editor/glossary/new", data={"term": "zorblat", "kind": "term", "aliases": "telematics"})
    assert "digital-forensics-unit" in public_slugs(anonymous, "zorblat")[:3]
    made = entry("zorblat")
    response = client.post(
        f"/editor/glossary/{made.id}/edit", data={"term": "zorblat", "kind": "term", "aliases": "bribery"}
    )
    assert response.status_code == 303
    assert "tvp-economic-crime-teams" in public_slugs(anonymous, "zorblat")[:3]
    client.post(f"/editor/glossary/{made.id}/delete")
    assert entry("zorblat") is None
    assert public_slugs(anonymous, "zorblat") == []
    actions = list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.target == "zorblat")))
    assert actions == ["glossary.create", "glossary.update", "glossary.delete"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"term": "", "kind": "term", "aliases": "x"}, "term", "Enter the term"),
        ({"term": "QQX", "kind": "acronym"}, "expansion", "what the acronym stands for"),
        (
            {"term": "SAR", "kind": "acronym", "expansion": "search and rescue"},
            "term",
            "searched the same as",
        ),
        ({"term": "chis", "kind": "term", "aliases": "x"}, "term", "already in the glossary"),
        ({"term": "widget", "kind": "best_bet", "targets": "no-such-team"}, "targets", "no capability"),
        ({"term": "widget", "kind": "best_bet"}, "targets", "at least one capability"),
        ({"term": "widget", "kind": "term"}, "aliases", "at least one word"),
    ],
)
def test_invalid_entries_are_refused_with_a_message(client, editor, data, field, message):
    before = len(glossary.all_terms())
    response = client.post("/editor/glossary/new", data=data)
    assert response.status_code == 400
    page = soup(response)
    assert message.lower() in page.select_one(f"#{field}-error").get_text().lower()
    assert page.select_one("input[name=term]")["value"] == data["term"]
    assert len(glossary.all_terms()) == before


def test_only_editors_may_change_the_vocabulary(client, auth, anonymous):
    assert anonymous.get("/editor/glossary").status_code in {302, 303}
    auth.login("staff")
    assert client.get("/editor/glossary").status_code == 403
    assert (
        client.post("/editor/glossary/new", data={"term": "x", "kind": "term", "aliases": "y"}).status_code
        == 403
    )


def test_changes_need_a_csrf_token(tmp_path, seeded_instance, make_user):
    import shutil

    instance = tmp_path / "csrf"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/editor/glossary/new", data={"term": "x", "kind": "term", "aliases": "y"})
        assert response.status_code in {302, 303, 400}
        assert db.session.scalar(db.select(GlossaryTerm).where(GlossaryTerm.term == "x")) is None
        db.session.remove()
        db.engine.dispose()
