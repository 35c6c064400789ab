"""An editor adds a best bet and a slang term in a real browser (Chromium, CSRF on), and the next search
shows the effect; the glossary pages pass axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.services import users
from tests.browser.axe import axe_violations
from tests.browser.test_editor_journey import new_page, sign_in
from tests.conftest import PASSWORD


@pytest.fixture
def editor_page(browser, live_server):
    with live_server.app.app_context():
        users.create_user("glossary-editor@example.police.uk", "editor", PASSWORD)
    page = new_page(browser, live_server)
    sign_in(page, "glossary-editor@example.police.uk", PASSWORD)
    yield page
    page.context.close()


def result_titles(page, words: str) -> list[str]:
    page.goto("/search?q=" + words.replace(" ", "+"))
    return [t.strip() for t in page.locator(".search-result__title").all_inner_texts()]


def test_an_editor_adds_a_best_bet_and_a_slang_term_and_search_follows(browser, live_server, editor_page):
    reader = new_page(browser, live_server)
    assert not any(t.startswith("Regional Cash Team") for t in result_titles(reader, "yacht broker")[:1])
    assert result_titles(reader, "zorblat") == []

    page = editor_page
    page.goto("/editor/")
    page.get_by_role("link", name="Search vocabulary").click()
    expect(page.locator("h1")).to_have_text("Search vocabulary")
    assert axe_violations(page) == [], page.url
    page.get_by_role("link", name="Add an entry").click()
    page.fill("#term", "yacht broker")
    page.get_by_role("radio", name="Best bet").check()
    page.fill("#aliases", "boat sales")
    page.fill("#targets", "regional-cash-team")
    assert axe_violations(page) == [], page.url
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice--success")).to_contain_text("Added yacht broker")

    page.get_by_role("link", name="Add an entry").click()
    page.fill("#term", "zorblat")
    page.get_by_role("radio", name="Term or slang").check()
    page.fill("#aliases", "telematics")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice--success")).to_contain_text("Added zorblat")
    page.fill("#q", "zorblat")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#glossary-entries tbody tr")).to_have_count(1)

    assert result_titles(reader, "yacht broker")[0].startswith("Regional Cash Team")
    assert result_titles(reader, "boat sales")[0].startswith("Regional Cash Team")
    assert any(t.startswith("Digital Forensics Unit") for t in result_titles(reader, "zorblat")[:3])
    reader.context.close()


def test_a_refused_entry_keeps_what_was_typed_and_passes_axe(editor_page):
    page = editor_page
    page.goto("/editor/glossary/new?term=QQX&kind=acronym")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text("what the acronym stands for")
    expect(page.locator("#term")).to_have_value("QQX")
    assert axe_violations(page) == [], page.url
