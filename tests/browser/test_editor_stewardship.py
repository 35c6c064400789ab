"""An HR editor's day in a real browser (Chromium, CSRF on, JavaScript on): save a draft of a published
article without changing the public page, publish it, settle a conflict field by field ("Keep theirs" on
one, "Keep mine" on another), meet a character-count error without losing the text, mark an overdue
article reviewed from the due list, and (when the glossary editor is installed) start a best bet from a
search that found nothing. axe checks every new state; every staff page reflows at 320 px.

The journey counts what the editor does (clicks, typing, choices) for each task, so the number of
interactions is a measured figure, not a claim."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from kb.extensions import db
from kb.models import SearchEvent, utcnow
from kb.services import articles, users
from tests.browser.axe import axe_violations
from tests.conftest import PASSWORD

DESKTOP = {"width": 1280, "height": 900}


class Editor:
    """A signed-in browser page that counts the editor's interactions per task."""

    def __init__(self, browser, live_server, email: str):
        self.context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.counts: Counter[str] = Counter()
        self.task = "sign in"
        self.page.goto("/login")
        self.fill("#email", email)
        self.fill("#password", PASSWORD)
        self.click(self.page.locator("main").get_by_role("button", name="Sign in"))

    def click(self, locator) -> None:
        self.counts[self.task] += 1
        locator.click()

    def fill(self, selector: str, text: str) -> None:
        self.counts[self.task] += 1
        self.page.fill(selector, text)

    def check(self, selector: str) -> None:
        self.counts[self.task] += 1
        self.page.check(selector)

    def button(self, name: str):
        return self.page.locator("main").get_by_role("button", name=name, exact=True)

    def accessible(self) -> None:
        assert axe_violations(self.page) == [], self.page.url


@pytest.fixture
def editors(browser, live_server):
    with live_server.app.app_context():
        users.create_user("first@example.police.uk", "editor", PASSWORD)
        users.create_user("second@example.police.uk", "editor", PASSWORD)
    first = Editor(browser, live_server, "first@example.police.uk")
    second = Editor(browser, live_server, "second@example.police.uk")
    yield first, second
    first.context.close()
    second.context.close()


def test_an_editor_drafts_publishes_settles_a_conflict_and_reviews(editors, live_server, capsys):
    first, second = editors
    page = first.page

    # Save a draft of a published article: the public page does not change.
    first.task = "save a draft"
    page.goto("/editor/articles/gateway/edit")
    expect(page.locator("#save-summary")).to_contain_text("readers keep seeing the published version")
    expect(page.locator("input[name=status]")).to_have_count(0)
    first.fill("#summary", "Gateway is the unit's front door for new referrals (draft wording).")
    first.click(first.button("Save draft"))
    expect(page.locator(".notice--success")).to_contain_text("Readers still see the published version")
    first.accessible()
    public = page.context.new_page()
    public.goto(live_server.url + "/capabilities/gateway")
    expect(public.locator("main")).not_to_contain_text("draft wording")

    # Publish it: one button.
    first.task = "publish"
    first.click(first.button("Publish changes"))
    expect(page.locator(".notice--success")).to_contain_text("published")
    public.reload()
    expect(public.locator("main")).to_contain_text("draft wording")
    expect(public.locator("#last-reviewed")).to_be_visible()
    public.close()

    # A conflict: keep their title and my body.
    first.task = "settle a conflict"
    page.goto("/editor/articles/gateway/edit")
    second.page.goto("/editor/articles/gateway/edit")
    original = page.input_value("#body")
    second.fill("#title", "Gateway (their title)")
    second.fill("#body", "Their opening line.\n" + original)
    second.click(second.button("Publish changes"))
    expect(second.page.locator(".notice--success")).to_be_visible()
    first.counts["settle a conflict"] = 0
    page.fill("#title", "Gateway (my title)")
    page.fill("#body", original + "\nMy closing line.")
    with page.expect_response(re.compile(r"/editor/articles/gateway/edit$")) as answer:
        page.locator("main").get_by_role("button", name="Publish changes", exact=True).click()
    assert answer.value.status == 409
    expect(page.locator("#conflict-summary")).to_contain_text("second@example.police.uk")
    expect(page.locator("main")).not_to_contain_text("<<<<<<<")
    expect(page.locator("section.resolve")).to_have_count(2)
    expect(page.locator("#conflict-body").locator("xpath=..").locator(".diff__row--gap")).not_to_have_count(0)
    # The title clashes (no choice made yet, no box shown); the body holds both changes, to edit.
    expect(page.locator("section.resolve:has(#conflict-title) .resolve__both")).to_be_hidden()
    expect(page.locator("section.resolve:has(#conflict-body) .resolve__both")).to_be_visible()
    first.accessible()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # the conflict page reflows too
    page.set_viewport_size(DESKTOP)
    first.check("#keep-title-theirs")
    first.check("#keep-body-mine")
    expect(page.locator("section.resolve:has(#conflict-body) .resolve__both")).to_be_hidden()
    first.click(first.button("Publish changes"))
    expect(page.locator(".notice--success")).to_contain_text("published")
    with live_server.app.app_context():
        article = articles.get_by_slug("gateway")
        assert article.title == "Gateway (their title)"
        assert article.body.endswith("My closing line.") and "Their opening line." not in article.body

    # Too long: the count says so as they type, the save is refused, the text stays.
    first.task = "character count"
    page.goto("/editor/articles/gateway/edit")
    expect(page.locator("#summary-info")).to_contain_text("characters remaining")
    long_summary = "S" * 350
    first.fill("#summary", long_summary)
    expect(page.locator("#summary-info")).to_have_text("You have 50 characters too many")
    first.click(first.button("Save draft"))
    expect(page.locator(".error-summary")).to_contain_text("The summary must be 300 characters or fewer")
    assert page.input_value("#summary") == long_summary
    first.accessible()

    # Mark an overdue article reviewed, from the due list.
    with live_server.app.app_context():
        overdue = articles.get_by_slug("rocta")
        overdue.next_review_on = utcnow().date() - timedelta(days=5)
        db.session.commit()
        title = overdue.title
    first.task = "mark reviewed"
    page.goto("/editor/")
    expect(page.locator("#overdue-count")).to_have_text("1")
    first.click(page.get_by_role("link", name="See what is due for review"))
    first.accessible()
    mark = page.locator("#due-others tr", has_text=title).get_by_role(
        "button", name=re.compile("^Mark as reviewed")
    )
    first.click(mark)
    expect(page.locator(".notice--success")).to_contain_text("marked as reviewed")
    expect(page.locator("main")).not_to_contain_text("Overdue")
    first.accessible()

    # A zero-result query on the insights page, and one step to a best bet when the glossary exists.
    with live_server.app.app_context():
        for _ in range(5):
            db.session.add(
                SearchEvent(day=utcnow().date(), query="wombat squad", results=0, role_class="anonymous")
            )
        db.session.commit()
        has_glossary = "editor.glossary_new" in live_server.app.view_functions
    first.task = "best bet from a zero-result search"
    page.goto("/editor/insights")
    expect(page.locator("#zero-results")).to_contain_text("wombat squad")
    first.accessible()
    if has_glossary:
        first.click(page.get_by_role("link", name="Add a best bet for “wombat squad”"))
        expect(page).to_have_url(re.compile(r"/editor/glossary/new\?term=wombat\+squad&kind=best_bet"))
        first.accessible()

    counts = dict(first.counts)
    with capsys.disabled():
        print(f"\ninteractions per task: {counts}")
    assert counts["save a draft"] == 2 and counts["publish"] == 1
    assert counts["settle a conflict"] == 3  # two choices and one button
    assert counts["mark reviewed"] == 2  # open the due list, one click


STAFF_PAGES = [
    "/editor/",
    "/editor/reviews",
    "/editor/insights",
    "/editor/articles/new",
    "/editor/articles/gateway/edit",
    "/editor/articles/gateway/history",
    "/editor/articles/gateway/diff",
    "/editor/articles/gateway/revisions/1",
    "/editor/articles/gateway/unpublish",
    "/editor/articles/gateway/preview?as=staff",
    "/editor/reindex",
]


def test_staff_pages_reflow_at_320_px_and_pass_axe(editors):
    first, _ = editors
    page = first.page
    too_wide = {}
    for path in STAFF_PAGES:
        page.set_viewport_size({"width": 320, "height": 800})
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[path] = width
    assert too_wide == {}
    for path in ("/editor/reviews", "/editor/insights", "/editor/articles/gateway/unpublish"):
        page.set_viewport_size(DESKTOP)
        page.goto(path)
        first.accessible()


def test_admin_pages_reflow_at_320_px_and_the_filtered_audit_log_passes_axe(browser, live_server):
    with live_server.app.app_context():
        users.create_user("admin@example.police.uk", "admin", PASSWORD)
    admin = Editor(browser, live_server, "admin@example.police.uk")
    page = admin.page
    too_wide = {}
    for path in ("/admin/", "/admin/audit", "/admin/accounts/new", "/admin/accounts/1"):
        page.set_viewport_size({"width": 320, "height": 800})
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[path] = width
    assert too_wide == {}
    page.set_viewport_size(DESKTOP)
    page.goto("/admin/audit?person=admin@example.police.uk&since=2026-01-01")
    expect(page.locator("#audit-events tbody tr").first).to_contain_text("Signed in")
    admin.accessible()
    admin.context.close()


def test_the_toolbar_inserts_plain_markdown_and_the_live_preview_follows(editors):
    first, _ = editors
    page = first.page
    page.goto("/editor/articles/gateway/edit")
    preview = page.frame_locator("#live-preview iframe")
    expect(page.locator("#live-preview")).to_be_visible()
    expect(preview.locator("h1")).to_contain_text("Gateway")
    page.fill("#body", "Start. ")
    page.locator("#body").press("End")
    toolbar = page.get_by_role("group", name="Formatting for Body")
    toolbar.get_by_role("button", name="Bold").click()
    page.keyboard.type("FIU")  # the placeholder is selected, so typing replaces it
    assert page.input_value("#body") == "Start. **FIU**"
    page.locator("#body").press("End")
    toolbar.get_by_role("button", name="Contact link").click()
    assert page.input_value("#body") == "Start. **FIU**[who to contact](mailto:)"
    expect(preview.locator(".body.prose strong")).to_have_text("FIU (Financial Intelligence Unit)")
    page.fill("#contact_internal", "Desk line 4321")
    expect(preview.locator("main")).not_to_contain_text("Desk line 4321")
    page.get_by_role("radio", name="Signed-in staff").check()
    expect(preview.locator("main")).to_contain_text("Desk line 4321")
    first.accessible()


def test_a_reader_answers_was_this_page_helpful(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto("/capabilities/gateway")
    page.locator("#feedback").get_by_role("button", name=re.compile(r"^No")).click()
    expect(page.locator("h1")).to_have_text("Sorry this page did not help")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []
    page.fill("#comment", "The phone number is out of date.")
    page.get_by_role("button", name="Send your answer").click()
    expect(page.locator(".notice--success")).to_contain_text("Thank you")
    assert axe_violations(page) == []
    context.close()
