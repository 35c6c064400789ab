"""The public site in a real browser: nothing from other hosts, page weight, reflow, the map, print."""

from __future__ import annotations

import pytest

PAGES = [
    "/",
    "/capabilities",
    "/capabilities/asset-confiscation-team",
    "/capabilities/south-east-regional-economic-crime-unit",
    "/glossary",
    "/tags/economic-crime",
    "/areas/economic-crime",
    "/no-such-page",
    "/search?q=",
    "/search?q=fraud&tag=fraud",
    "/login",
]
BUDGET = 150 * 1024  # HTML + CSS + JS of a first visit


@pytest.mark.parametrize("path", PAGES)
def test_first_visit_stays_on_this_host_and_under_150_kb(browser, live_server, path):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(path, wait_until="networkidle")
    other_hosts = [r.url for r in responses if not r.url.startswith(live_server.url + "/")]
    assert other_hosts == []
    weighed = [r for r in responses if r.request.resource_type in ("document", "stylesheet", "script")]
    decoded = sum(len(r.body()) for r in weighed)
    transferred = sum(r.request.sizes()["responseBodySize"] for r in weighed)
    context.close()
    assert decoded <= BUDGET, f"{path}: {decoded} bytes"
    assert 0 < transferred <= decoded, "text is sent compressed"


@pytest.mark.parametrize("path", PAGES)
def test_pages_reflow_without_sideways_scrolling(page, path):
    too_wide = {}
    for width in (320, 375, 768, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[width] = scroll_width
    assert too_wide == {}


@pytest.mark.parametrize(("width", "shown", "hidden"), [(375, "narrow", "wide"), (1280, "wide", "narrow")])
def test_one_map_layout_at_a_time_with_named_links(page, width, shown, hidden):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/map")
    assert page.locator(f".capability-map__svg--{shown}").is_visible()
    assert not page.locator(f".capability-map__svg--{hidden}").is_visible()
    visible_map = page.locator(f".capability-map__svg--{shown}")
    # Wrapped labels still read as whole names: "Regional & TVP Cryptocurrency Unit", not "TVPCryptocurrency".
    link = visible_map.get_by_role("link", name="Regional & TVP Cryptocurrency Unit", exact=True)
    assert link.count() == 1
    link.click()
    page.wait_for_url("**/capabilities/cryptocurrency-unit")


def test_map_box_shows_keyboard_focus(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/map")
    link = page.locator(".capability-map__svg--wide a", has_text="Gateway")
    link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    fill = link.locator("rect").evaluate("el => getComputedStyle(el).fill")
    assert fill == "rgb(255, 221, 0)"


def test_print_shows_the_article_and_contact_without_navigation(page):
    page.goto("/capabilities/asset-confiscation-team")
    page.emulate_media(media="print")
    assert not page.locator("header .search-form").is_visible()
    assert not page.locator(".breadcrumbs").is_visible()
    assert page.locator("h1").is_visible() and page.locator("#contact").is_visible()
    # On paper a link cannot be followed, so its address is printed after it.
    careers = page.locator("#contact a[href='https://tvpcareers.co.uk']")
    after = careers.evaluate("el => getComputedStyle(el, '::after').content")
    assert "tvpcareers.co.uk" in after or "attr(href)" in after
