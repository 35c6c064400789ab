"""The candidate's journey by keyboard alone on a phone-sized screen, with JavaScript on and off:
from the home page to the team that deals with cryptocurrency seizures and its contact, by browsing and by
searching, in three interactions at most."""

from __future__ import annotations

from tests.browser.conftest import PHONE

FOCUS_IS_VISIBLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== 'none';
  const rect = el.getBoundingClientRect();
  return ring && rect.width > 0 && rect.height > 0;
}"""


def active_text(page) -> str:
    return page.evaluate("() => (document.activeElement.textContent || '').replace(/\\s+/g, ' ').trim()")


def tab_until(page, wanted, limit: int = 200) -> int:
    """Press Tab until the focused element's text contains ``wanted``; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if wanted in active_text(page):
            assert page.evaluate(FOCUS_IS_VISIBLE), f"focus on {wanted!r} is not visible"
            return presses
    raise AssertionError(f"{wanted!r} is not reachable by keyboard within {limit} presses")


def test_keyboard_only_from_home_to_the_cryptocurrency_team_contact(phone_page):
    page = phone_page
    page.goto("/")
    # The first Tab shows the skip link; following it puts the reader at the main content.
    page.keyboard.press("Tab")
    assert active_text(page) == "Skip to main content"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")

    tab_until(page, "Cryptocurrency")
    page.keyboard.press("Enter")  # interaction 1: open the team's page
    page.wait_for_url("**/capabilities/cryptocurrency-unit")
    assert "Cryptocurrency" in page.locator("h1").inner_text()

    tab_until(page, "How to contact this team")
    page.keyboard.press("Enter")  # interaction 2: jump to the contact block
    page.wait_for_url("**#contact")
    contact = page.locator("#contact")
    assert contact.is_visible()
    box = contact.bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"], "the contact block is on screen"
    assert contact.locator("a[href^='mailto:']").count() >= 1
    # Nothing on the way scrolled sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_keyboard_only_search_to_the_team_contact_in_three_interactions(phone_page):
    page = phone_page
    page.goto("/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "q":
            break
    else:
        raise AssertionError("the search box is not among the first ten focusable elements")
    assert page.evaluate(FOCUS_IS_VISIBLE)
    page.keyboard.type("who deals with cryptocurrency seizures")
    page.keyboard.press("Enter")  # interaction 1: search
    page.wait_for_url("**/search?*")
    # Styles must have loaded before focus visibility is judged: the results page may still be loading.
    page.wait_for_load_state("load")
    first_result = page.locator("main a[href='/capabilities/cryptocurrency-unit']").first
    first_result.wait_for()
    tab_until(page, "Cryptocurrency Unit")
    page.keyboard.press("Enter")  # interaction 2: open the first result
    page.wait_for_url("**/capabilities/cryptocurrency-unit")
    tab_until(page, "How to contact this team")
    page.keyboard.press("Enter")  # interaction 3: the contact
    page.wait_for_url("**#contact")
    assert page.locator("#contact a[href^='mailto:']").first.is_visible()


def test_every_link_on_the_home_page_is_reachable_by_keyboard(phone_page):
    page = phone_page
    page.goto("/")
    visible_links = page.evaluate(
        """() => [...document.querySelectorAll('a[href]')]
              .filter(a => a.getClientRects().length > 0).map(a => a.getAttribute('href'))"""
    )
    reached = []
    for _ in range(len(visible_links) + 5):
        page.keyboard.press("Tab")
        href = page.evaluate("() => document.activeElement.getAttribute('href')")
        if href is not None:
            reached.append(href)
    assert sorted(set(visible_links)) == sorted(set(reached))
