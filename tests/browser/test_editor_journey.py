"""The HR editor's journey in a real browser (Chromium, CSRF on): an admin creates an editor, the editor
signs in for the first time, writes, previews and publishes an article that public search finds at once,
edits it, reads the history and a diff, restores a revision, rebuilds the index; a conflict from a second
browser is resolved without losing either text; the admin disables the editor and the open session ends.

Every staff page visited is also checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from kb.services import users
from tests.browser.axe import axe_violations
from tests.conftest import PASSWORD

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "editor-first-sign-in.png"
DESKTOP = {"width": 1280, "height": 900}


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def assert_accessible(page) -> None:
    assert axe_violations(page) == [], page.url


@pytest.fixture
def admin_page(browser, live_server):
    with live_server.app.app_context():
        users.create_user("admin@example.police.uk", "admin", PASSWORD)
    page = new_page(browser, live_server)
    sign_in(page, "admin@example.police.uk", PASSWORD)
    yield page
    page.context.close()


def create_editor(admin_page, email: str) -> str:
    """The admin creates an editor with a temporary password and reads it off the page (shown once)."""
    admin_page.goto("/admin/")
    admin_page.get_by_role("link", name="Create an account").click()
    admin_page.fill("#email", email)
    admin_page.get_by_role("radio", name="Editor").check()
    admin_page.get_by_role("radio", name="A temporary password, to be changed at first sign-in").check()
    admin_page.locator("main").get_by_role("button", name="Create account").click()
    expect(admin_page.locator("h1")).to_contain_text(f"Account created for {email}")
    assert_accessible(admin_page)
    return admin_page.input_value("#temporary-password")


def first_sign_in(page, email: str, temporary: str, password: str, screenshot: Path | None = None) -> None:
    sign_in(page, email, temporary)
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert_accessible(page)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    page.fill("#current_password", temporary)
    page.fill("#new_password", password)
    page.fill("#confirm_password", password)
    page.get_by_role("button", name="Set password and continue").click()
    expect(page).to_have_url(re.compile(r"/editor/$"))
    expect(page.locator(".notice--success")).to_contain_text("Your password has been changed")


def test_an_editor_writes_publishes_edits_restores_and_rebuilds(browser, live_server, admin_page):
    temporary = create_editor(admin_page, "hr.editor@example.police.uk")
    page = new_page(browser, live_server)
    first_sign_in(page, "hr.editor@example.police.uk", temporary, "a long new passphrase", SCREENSHOT)
    assert_accessible(page)

    # Create, preview, publish.
    page.get_by_role("link", name="New article").first.click()
    page.fill("#title", "Wombatology Desk")
    page.fill("#summary", "Studies wombat-shaped problems for the unit.")
    page.fill("#body", "The desk handles **wombatology** cases.\n\n## How it works\n\nCarefully.")
    page.select_option("#area", "intelligence")
    page.get_by_role("checkbox", name="Intelligence", exact=True).check()
    page.fill("#contact_internal", "Desk phone 0000 (staff only)")
    page.get_by_role("button", name="Preview as a candidate").click()
    preview = page.locator("#preview")
    expect(preview.locator("h2").first).to_have_text("Preview: what a candidate sees")
    expect(preview.locator(".prose strong")).to_have_text("wombatology")
    expect(preview).not_to_contain_text("Desk phone 0000")
    assert_accessible(page)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator(".notice--success")).to_contain_text("published: readers and search see it now")

    page.goto("/search?q=wombatology")
    expect(page.locator(".search-result__title a").first).to_have_text(re.compile("Wombatology Desk"))

    # Edit and publish at once, then read the history and a diff.
    page.goto("/editor/articles/wombatology-desk/edit")
    page.fill(
        "#body", "The desk handles **wombatology** and numbatology cases.\n\n## How it works\n\nCarefully."
    )
    page.fill("#note", "Added numbatology")
    page.get_by_role("button", name="Publish changes").click()
    expect(page.locator(".notice--success")).to_contain_text("saved and published")
    page.get_by_role("link", name="History").click()
    rows = page.locator("#revisions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Added numbatology")
    assert_accessible(page)
    rows.first.get_by_role("link", name=re.compile("Compare with previous")).click()
    expect(page.locator("#diff-body ~ div ins").first).to_contain_text("numbatology")
    assert_accessible(page)

    # Restore the first revision: a draft until published, then live.
    page.get_by_role("link", name=re.compile("Back to the history")).click()
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.locator(".notice--success")).to_contain_text("Revision 1 restored as a draft")
    expect(page.locator("#revisions tbody tr")).to_have_count(3)
    page.goto("/capabilities/wombatology-desk")
    expect(page.locator("main")).to_contain_text("numbatology")
    page.goto("/editor/articles/wombatology-desk/edit")
    page.get_by_role("button", name="Publish changes").click()
    page.goto("/capabilities/wombatology-desk")
    expect(page.locator("main")).not_to_contain_text("numbatology")

    # Rebuild the index and read the figures.
    page.goto("/editor/")
    page.get_by_role("link", name="Search index").click()
    assert_accessible(page)
    page.get_by_role("button", name="Rebuild the index").click()
    expect(page.locator(".notice--success")).to_contain_text(re.compile(r"Index rebuilt: \d+ documents in"))
    database_count = page.locator("#db-documents").inner_text()
    expect(page.locator("#index-documents")).to_have_text(database_count)
    expect(page.locator("#differing")).to_have_text("0")
    expect(page.locator("#last-build")).not_to_have_text("Never")

    # The admin disables the editor; the editor's open session stops working at once.
    admin_page.goto("/admin/")
    admin_page.get_by_role("link", name="hr.editor@example.police.uk").click()
    assert_accessible(admin_page)
    admin_page.get_by_role("button", name="Disable account").click()
    expect(admin_page.locator(".notice--success")).to_contain_text("Their open sessions ended at once")
    page.goto("/editor/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.context.close()


def test_a_conflict_from_a_second_browser_is_resolved_without_losing_either_text(
    browser, live_server, admin_page
):
    with live_server.app.app_context():
        users.create_user("first@example.police.uk", "editor", PASSWORD)
        users.create_user("second@example.police.uk", "editor", PASSWORD)
    first, second = new_page(browser, live_server), new_page(browser, live_server)
    sign_in(first, "first@example.police.uk", PASSWORD)
    sign_in(second, "second@example.police.uk", PASSWORD)
    for page in (first, second):
        page.goto("/editor/articles/gateway/edit")
    original = first.input_value("#body")

    first.fill("#body", "FIRST EDITOR'S OPENING.\n" + original)
    first.get_by_role("button", name="Publish changes").click()
    expect(first.locator(".notice--success")).to_be_visible()

    second.fill("#body", original + "\nSECOND EDITOR'S CLOSING.")
    with second.expect_response(re.compile(r"/editor/articles/gateway/edit$")) as answer:
        second.get_by_role("button", name="Publish changes").click()
    assert answer.value.status == 409
    expect(second.locator("#conflict-summary h1")).to_contain_text("changed while you were editing")
    expect(second.locator("#conflict-summary")).to_contain_text("first@example.police.uk")
    body_diff = second.locator("section", has=second.locator("#conflict-body"))
    expect(body_diff.locator("del, ins").first).to_be_visible()
    expect(body_diff).to_contain_text("FIRST EDITOR'S OPENING.")
    expect(body_diff).to_contain_text("SECOND EDITOR'S CLOSING.")
    merged = second.input_value("#body")
    assert "FIRST EDITOR'S OPENING." in merged and "SECOND EDITOR'S CLOSING." in merged
    assert_accessible(second)

    second.get_by_role("button", name="Publish changes").click()
    expect(second.locator(".notice--success")).to_be_visible()
    for page in (first, second):
        page.goto("/editor/articles/gateway/edit")
        body = page.input_value("#body")
        assert "FIRST EDITOR'S OPENING." in body and "SECOND EDITOR'S CLOSING." in body
    first.context.close()
    second.context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/audit",
        "/admin/accounts/1",
        "/editor/?status=published&q=fraud",
        "/editor/articles/gateway/edit",
        "/editor/articles/gateway/preview?as=staff",
        "/editor/articles/gateway/revisions/1",
        "/editor/articles/gateway/delete",
    ],
)
def test_other_staff_pages_pass_axe(admin_page, path):
    response = admin_page.goto(path)
    assert response is not None and response.status == 200
    assert_accessible(admin_page)


def test_staff_forms_with_errors_pass_axe(admin_page):
    admin_page.goto("/admin/accounts/new")
    admin_page.fill("#email", "not an address")
    admin_page.locator("main").get_by_role("button", name="Create account").click()
    expect(admin_page.locator(".error-summary")).to_be_visible()
    assert_accessible(admin_page)
    admin_page.goto("/editor/articles/gateway/delete")
    admin_page.locator("main").get_by_role("button", name="Delete for good").click()
    expect(admin_page.locator(".error-summary")).to_be_visible()
    assert_accessible(admin_page)
    admin_page.goto("/account/password")
    admin_page.get_by_role("button", name="Change password").click()
    expect(admin_page.locator(".error-summary")).to_be_visible()
    assert_accessible(admin_page)
