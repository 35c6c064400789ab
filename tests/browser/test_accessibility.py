"""axe-core (WCAG 2.0, 2.1 and 2.2 A and AA rules) finds no violation in any page state.

Each state is a path, a viewport width and optional steps to reach it; add one line per new page state.
"""

from __future__ import annotations

import pytest

from kb.services import users
from tests.browser.axe import axe_violations
from tests.conftest import PASSWORD

DESKTOP, PHONE = 1280, 375


def press_tab(page, server):
    page.keyboard.press("Tab")


def sign_in_with_wrong_password(page, server):
    page.fill("input[name=email]", "nobody@example.police.uk")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")
    page.wait_for_selector(".error-summary")


def sign_in_as_editor(page, server):
    with server.app.app_context():
        users.create_user("editor@example.police.uk", "editor", PASSWORD)
    page.goto("/login")
    page.fill("input[name=email]", "editor@example.police.uk")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def editor_list(page, server):
    sign_in_as_editor(page, server)
    response = page.goto("/editor/")
    assert response is not None and response.status == 200 and page.url.endswith("/editor/")


def editor_form_with_errors(page, server):
    sign_in_as_editor(page, server)
    response = page.goto("/editor/articles/new")
    assert response is not None and response.status == 200
    page.click("button[name=action][value=draft]")
    page.wait_for_selector(".error-summary")


def staff_article(page, server):
    with server.app.app_context():
        users.create_user("staff@example.police.uk", "staff", PASSWORD)
    page.goto("/login")
    page.fill("input[name=email]", "staff@example.police.uk")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    response = page.goto("/capabilities/financial-investigation-team")
    assert response is not None and response.status == 200
    page.wait_for_selector("#request")


def staff_tasking_guide(page, server):
    staff_article(page, server)
    response = page.goto("/capabilities/requesting-support-through-the-gateway")
    assert response is not None and response.status == 200


def open_typeahead(box):
    """Type into a search box until its suggestion list is open, with the first option highlighted."""

    def steps(page, server):
        page.locator(box).click()
        page.keyboard.type("cryp")
        page.locator(f"{box}-suggestions [role=option]").first.wait_for()
        page.keyboard.press("ArrowDown")
        page.wait_for_selector(f"{box}-suggestions [aria-selected=true]")

    return steps


def live_search_with_a_filter(page, server):
    """Type a search, open the filters (folded on a phone) and tick one: the page as live search leaves it."""
    page.locator("#search-q").click()
    page.keyboard.type("intelligence")
    page.wait_for_url("**/search?q=intelligence")
    page.locator("#search-q-suggestions [role=option]").first.wait_for()
    page.keyboard.press("Escape")  # close the type-ahead list, which covers the top of the page
    summary = page.locator("summary.search-filters__summary")
    if summary.is_visible():
        summary.click()
    page.locator("label[for='filter-tag-covert']").click()
    page.wait_for_url("**/search?q=intelligence&tag=covert")
    page.wait_for_function("() => document.querySelector('#search-status').textContent !== ''")


# (name, path, width, steps to take after loading, expected HTTP status of the first load)
STATES = [
    ("home", "/", DESKTOP, None, 200),
    ("home-phone", "/", PHONE, None, 200),
    ("article", "/capabilities/asset-confiscation-team", DESKTOP, None, 200),
    ("article-phone", "/capabilities/asset-confiscation-team", PHONE, None, 200),
    ("article-with-teams", "/capabilities/south-east-regional-economic-crime-unit", DESKTOP, None, 200),
    ("directory", "/capabilities", DESKTOP, None, 200),
    ("glossary", "/glossary", DESKTOP, None, 200),
    ("tag", "/tags/economic-crime", DESKTOP, None, 200),
    ("area", "/areas/economic-crime", DESKTOP, None, 200),
    ("area-phone", "/areas/cyber-and-digital", PHONE, None, 200),
    ("not-found", "/no-such-page", DESKTOP, None, 404),
    ("skip-link-focused", "/", DESKTOP, press_tab, 200),
    ("search-results", "/search?q=cryptocurrency", DESKTOP, None, 200),
    ("search-results-phone", "/search?q=fraud", PHONE, None, 200),
    ("search-no-results", "/search?q=zzqqxxnothing", DESKTOP, None, 200),
    ("search-facets-selected", "/search?q=&tag=cyber&area=cyber-and-digital", DESKTOP, None, 200),
    ("search-facets-folded-phone", "/search?q=fraud&tag=economic-crime", PHONE, None, 200),
    ("search-live-updated", "/search", DESKTOP, live_search_with_a_filter, 200),
    ("search-live-updated-phone", "/search", PHONE, live_search_with_a_filter, 200),
    ("search-typeahead-open", "/search", DESKTOP, open_typeahead("#search-q"), 200),
    ("header-typeahead-open-phone", "/capabilities/gateway", PHONE, open_typeahead("#site-search-q"), 200),
    ("roles", "/roles", DESKTOP, None, 200),
    ("roles-phone", "/roles", PHONE, None, 200),
    ("role", "/roles/analyst", DESKTOP, None, 200),
    ("role-phone", "/roles/financial-investigator", PHONE, None, 200),
    ("map", "/map", DESKTOP, None, 200),
    ("map-phone", "/map", PHONE, None, 200),
    ("search-workforce-phone", "/search?q=&workforce=staff", PHONE, None, 200),
    ("article-as-staff", "/login", DESKTOP, staff_article, 200),
    ("article-as-staff-phone", "/login", PHONE, staff_article, 200),
    ("internal-article-as-staff", "/login", DESKTOP, staff_tasking_guide, 200),
    ("login", "/login", DESKTOP, None, 200),
    ("login-with-errors", "/login", DESKTOP, sign_in_with_wrong_password, 200),
    ("editor-list", "/login", DESKTOP, editor_list, 200),
    ("editor-form-with-errors", "/login", DESKTOP, editor_form_with_errors, 200),
]


@pytest.mark.parametrize(
    ("path", "width", "steps", "status"), [s[1:] for s in STATES], ids=[s[0] for s in STATES]
)
def test_page_state_has_no_axe_violations(page, live_server, path, width, steps, status):
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(path)
    assert response is not None and response.status == status
    if steps is not None:
        steps(page, live_server)
    assert axe_violations(page) == []


def test_axe_reports_a_violation_when_there_is_one(page):
    """Guard against a silently broken check: a deliberately unlabelled field must be reported."""
    page.goto("/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert any(line.startswith("label ") for line in axe_violations(page))
