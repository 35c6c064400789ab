"""The search page with JavaScript: live results as you type (through /api/search, no page load), the
address kept in step, Back and Forward, facets and chips, the type-ahead combobox by keyboard and mouse,
the phone layout, falling back to the server when the API fails, and the same page with JavaScript off."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from kb.services import articles
from kb.services.articles import ArticleData
from tests.browser.conftest import PHONE

OPEN, CLOSE, DASH, CROSS = "\u2018", "\u2019", "\u2013", "\u00d7"  # the page's quotes, dash and chip cross
SAME_PAGE = "window.kbSamePage"  # set after a load; a page load would wipe it

# A page's regions as a comparable tree: tag, sorted attributes, whitespace-collapsed text, and a checkbox's
# live state (the property, which is what the reader sees, not only the attribute).
SNAPSHOT = """() => {
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.nodeValue.replace(/\\s+/g, ' ').trim();
      return text || null;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const attributes = [...node.attributes].map(a => [a.name, a.value])
      .filter(([name]) => name !== 'tabindex');
    if (node.type === 'checkbox') attributes.push(['(checked)', String(node.checked)]);
    if (node.localName === 'select') attributes.push(['(value)', node.value]);
    attributes.sort();
    return [node.localName, attributes, [...node.childNodes].map(walk).filter(x => x !== null)];
  };
  const ids = ['search-notices', 'search-filter-count', 'search-facets', 'search-results'];
  return {title: document.title, regions: ids.map(id => walk(document.getElementById(id)))};
}"""


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def mark_page(page) -> None:
    page.evaluate(f"{SAME_PAGE} = true")


def still_same_page(page) -> bool:
    return page.evaluate(f"{SAME_PAGE} === true")


def wait_for_query(page, expected: dict[str, list[str]]) -> None:
    """Wait until the address shows this search (live search updates it once the results are shown)."""
    page.wait_for_url(lambda url: query_of(url) == expected)


def type_search(page, text: str) -> None:
    box = page.locator("#search-q")
    box.click()
    box.press("Control+a")
    page.keyboard.type(text, delay=15)


def result_count(page) -> str:
    return " ".join(page.locator("#result-count").inner_text().split())


def result_slugs(page) -> list[str]:
    return [
        href.rsplit("/", 1)[-1]
        for href in page.locator(".search-result__title a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    ]


# --- live results ----------------------------------------------------------------------------------------


def test_results_update_as_you_type_without_a_page_load(page):
    page.goto("/search")
    mark_page(page)
    api_calls = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/search" in r.url else None)
    text = "cryptocurrency"
    type_search(page, text)
    wait_for_query(page, {"q": [text]})
    assert result_count(page).endswith(f"found for {OPEN}{text}{CLOSE}.")
    assert result_slugs(page)[0] == "cryptocurrency-unit"
    assert page.title().startswith(f"Search results for {OPEN}{text}{CLOSE} {DASH} ")
    assert still_same_page(page)
    # Debounced: far fewer requests than keystrokes.
    assert 1 <= len(api_calls) < len(text) // 2, api_calls


def test_live_updates_show_exactly_what_the_server_renders(page):
    """Each state reached live is compared with the same address loaded from the server."""

    def compare_with_server():
        live = page.evaluate(SNAPSHOT)
        address = page.url
        page.goto(address)
        assert page.evaluate(SNAPSHOT) == live, address
        mark_page(page)

    page.goto("/search")
    mark_page(page)

    type_search(page, "money laundering")
    wait_for_query(page, {"q": ["money laundering"]})
    compare_with_server()

    page.locator("#filter-tag-economic-crime").check()
    wait_for_query(page, {"q": ["money laundering"], "tag": ["economic-crime"]})
    assert still_same_page(page)
    compare_with_server()

    page.select_option("#search-sort", "title")
    wait_for_query(page, {"q": ["money laundering"], "tag": ["economic-crime"], "sort": ["title"]})
    assert still_same_page(page)
    compare_with_server()

    type_search(page, "lanudering")  # corrected automatically, with a way back to the words as typed
    wait_for_query(page, {"q": ["lanudering"], "tag": ["economic-crime"], "sort": ["title"]})
    assert page.locator(".search-corrected strong").inner_text() == "laundering"
    compare_with_server()

    page.locator(".search-corrected a").click()
    wait_for_query(
        page, {"q": ["lanudering"], "tag": ["economic-crime"], "sort": ["title"], "correct": ["0"]}
    )
    assert page.locator("#search-q").input_value() == "lanudering"
    assert still_same_page(page)
    compare_with_server()

    type_search(page, "SARs")  # "Including results for"
    wait_for_query(page, {"q": ["SARs"], "tag": ["economic-crime"], "sort": ["title"]})
    assert "Suspicious Activity Reports" in page.locator(".search-expanded").inner_text()
    compare_with_server()

    type_search(page, "qzxjvwkp")  # nothing found: the helpful empty state
    wait_for_query(page, {"q": ["qzxjvwkp"], "tag": ["economic-crime"], "sort": ["title"]})
    assert page.locator(".search-empty").is_visible()
    compare_with_server()

    page.locator("#search-q").fill("fraud " * 60)  # too long: cut, with a notice
    page.wait_for_selector("#search-notices .notice--warning")
    compare_with_server()


def test_pages_and_chips_update_in_place_and_move_focus_to_the_count(page):
    page.goto("/search?tag=economic-crime")
    mark_page(page)
    first_page = result_slugs(page)
    page.locator("nav.pagination a[rel=next]").click()
    wait_for_query(page, {"tag": ["economic-crime"], "page": ["2"]})
    assert set(result_slugs(page)).isdisjoint(first_page)
    assert page.locator("ol.search-results").get_attribute("start") == "11"
    assert page.evaluate("document.activeElement.id") == "result-count"
    assert "(page 2 of" in page.title()

    page.locator("a.chip").click()  # remove the only filter
    wait_for_query(page, {})
    assert page.locator("a.chip").count() == 0
    assert result_count(page).startswith("39 capabilities")
    assert page.evaluate("document.activeElement.id") == "result-count"
    assert still_same_page(page)


def test_a_facet_click_updates_counts_chips_and_the_address(page):
    page.goto("/search?q=intelligence")
    mark_page(page)
    page.locator("label[for='filter-tag-covert']").click()
    wait_for_query(page, {"q": ["intelligence"], "tag": ["covert"]})
    expected = page.request.get("/api/search?q=intelligence&tag=covert").json()
    assert result_count(page).startswith(f"{expected['total']} ")
    for name, buckets in expected["facets"].items():
        for bucket in buckets:
            box = page.locator(f"#filter-{name}-{bucket['value']}")
            assert box.is_checked() == bucket["selected"]
            label = page.locator(f"label[for='filter-{name}-{bucket['value']}'] .search-facet__count")
            assert label.inner_text().startswith(f"({bucket['count']}")
    chips = page.locator("a.chip").all_inner_texts()
    assert [" ".join(c.replace(CROSS, "").split()) for c in chips] == ["Remove filter Topic: Covert"]
    assert page.locator("#search-filter-count").inner_text().strip() == "(1 selected)"
    # The ticked box keeps the focus, so the reader can go on ticking.
    assert page.evaluate("document.activeElement.id") == "filter-tag-covert"
    assert still_same_page(page)


def test_back_and_forward_restore_the_search(page):
    page.goto("/search?q=fraud")
    mark_page(page)
    type_search(page, "cyber")
    wait_for_query(page, {"q": ["cyber"]})
    page.keyboard.type(" crime", delay=15)  # more typing replaces the entry that typing added
    wait_for_query(page, {"q": ["cyber crime"]})
    page.locator("label[for='filter-area-cyber-and-digital']").click()  # a deliberate change adds one
    wait_for_query(page, {"q": ["cyber crime"], "area": ["cyber-and-digital"]})
    filtered = result_count(page)

    page.go_back()
    wait_for_query(page, {"q": ["cyber crime"]})
    page.wait_for_function("() => !document.querySelector('#filter-area-cyber-and-digital').checked")
    assert page.locator("#search-q").input_value() == "cyber crime"
    assert page.locator("a.chip").count() == 0

    page.go_back()
    wait_for_query(page, {"q": ["fraud"]})
    page.wait_for_function(
        "text => document.querySelector('#result-count').textContent.includes(text)",
        arg=f"{OPEN}fraud{CLOSE}",
    )
    assert page.locator("#search-q").input_value() == "fraud"

    page.go_forward()
    page.go_forward()
    wait_for_query(page, {"q": ["cyber crime"], "area": ["cyber-and-digital"]})
    page.wait_for_function("() => document.querySelector('#filter-area-cyber-and-digital').checked")
    assert result_count(page) == filtered
    assert still_same_page(page)


def test_the_count_is_announced_once_when_typing_settles(page):
    page.goto("/search")
    page.evaluate(
        """() => {
          window.announcements = [];
          const region = document.querySelector('#search-status[role=status]');
          new MutationObserver(() => window.announcements.push(region.textContent)).observe(
            region, {childList: true, characterData: true, subtree: true});
        }"""
    )
    type_search(page, "surveillance")
    wait_for_query(page, {"q": ["surveillance"]})
    page.wait_for_function("() => window.announcements.length > 0")
    count = result_count(page)
    page.locator("label[for='filter-tag-covert']").click()  # a deliberate change: announced as well
    page.wait_for_function("() => window.announcements.length > 1")
    assert page.evaluate("window.announcements") == [count, result_count(page)]


def test_text_from_the_reader_and_from_articles_stays_text(page, live_server):
    with live_server.app.app_context():
        articles.create_article(
            ArticleData(
                title='Quokka <img src=x onerror="window.pwned=1"> team',
                summary="<b>bold</b> quokka <script>window.pwned=1</script>",
                area="intelligence",
                status="published",
            )
        )
    page.goto("/search")
    type_search(page, "quokka <img src=x onerror=window.pwned=1>")
    page.wait_for_function("() => document.querySelector('#result-count').textContent.includes('<img')")
    type_search(page, "quokka")
    wait_for_query(page, {"q": ["quokka"]})
    title = page.locator(".search-result__title a").first
    assert "<img" in title.inner_text()
    assert page.locator("#search-results img, #search-results script, #search-results b").count() == 0
    # The type-ahead builds its options from text too.
    page.wait_for_selector("#search-q-suggestions [role=option]")
    assert "<img" in page.locator("#search-q-suggestions").inner_text()
    assert page.locator("#search-q-suggestions img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_when_the_api_fails_the_form_submits_as_usual(page):
    page.goto("/search")
    page.route(
        "**/api/search?*", lambda route: route.fulfill(status=503, json={"error": "search is being rebuilt"})
    )
    mark_page(page)
    type_search(page, "fraud")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_of(page.url) == {"q": ["fraud"]}
    assert not still_same_page(page)
    assert result_slugs(page)

    # A deliberate change that fails goes to the server's page for it.
    mark_page(page)
    with page.expect_navigation():
        page.locator("label[for='filter-tag-economic-crime']").click()
    assert query_of(page.url) == {"q": ["fraud"], "tag": ["economic-crime"]}
    assert page.locator("#filter-tag-economic-crime").is_checked()


# --- the type-ahead combobox -----------------------------------------------------------------------------


def open_suggestions(page, box: str, text: str):
    page.locator(box).click()
    page.keyboard.type(text, delay=15)
    listbox = page.locator(f"{box}-suggestions")
    listbox.locator("[role=option]").first.wait_for()
    return listbox


@pytest.mark.parametrize(
    ("path", "box"), [("/capabilities/gateway", "#site-search-q"), ("/search", "#search-q")]
)
def test_typeahead_by_keyboard_alone_opens_the_capability(page, path, box):
    page.goto(path)
    for _ in range(10):  # reach the search box by Tab, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    field = page.locator(box)
    assert field.evaluate("el => el === document.activeElement")
    assert field.get_attribute("role") == "combobox" and field.get_attribute("aria-expanded") == "false"
    page.keyboard.type("cryp", delay=15)
    listbox = page.locator(f"#{field.get_attribute('aria-controls')}")
    listbox.locator("[role=option]").first.wait_for()
    assert listbox.get_attribute("role") == "listbox"
    assert field.get_attribute("aria-expanded") == "true"
    options = listbox.locator("[role=option]")
    count = options.count()
    status = page.locator(f"{box}-status")
    assert status.get_attribute("role") == "status"
    assert status.text_content() == f"{count} {'suggestion' if count == 1 else 'suggestions'}"

    page.keyboard.press("ArrowDown")
    first = options.first
    assert field.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    assert "Cryptocurrency" in first.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url("**/capabilities/cryptocurrency-unit")


def test_arrows_wrap_escape_closes_and_keeps_the_text_and_tab_leaves(page):
    page.goto("/capabilities/gateway")
    listbox = open_suggestions(page, "#site-search-q", "fin")
    field = page.locator("#site-search-q")
    options = listbox.locator("[role=option]")
    count = options.count()
    assert count >= 2
    page.keyboard.press("ArrowUp")  # from the box, up goes to the last option
    assert field.get_attribute("aria-activedescendant") == options.nth(count - 1).get_attribute("id")
    page.keyboard.press("ArrowDown")  # and down from the last wraps to the first
    assert field.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    assert [options.nth(i).get_attribute("aria-selected") for i in range(count)].count("true") == 1

    page.keyboard.press("Escape")
    assert listbox.is_hidden() and field.get_attribute("aria-expanded") == "false"
    assert field.get_attribute("aria-activedescendant") is None
    assert field.input_value() == "fin" and field.evaluate("el => el === document.activeElement")
    assert page.url.endswith("/capabilities/gateway")

    page.keyboard.press("ArrowDown")  # reopens the same suggestions
    assert listbox.is_visible() and field.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert listbox.is_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Search"

    # Enter with no highlighted option searches for the words typed.
    field.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=fin")


def test_a_suggestion_can_be_chosen_with_the_mouse(page):
    page.goto("/")
    listbox = open_suggestions(page, "#home-search-q", "gate")
    listbox.locator("[role=option]", has_text="Gateway").click()
    page.wait_for_url("**/capabilities/gateway")


def test_short_or_unmatched_text_shows_no_list(page):
    page.goto("/capabilities/gateway")
    asked = []
    page.on("request", lambda r: asked.append(query_of(r.url)["q"]) if "/api/suggest" in r.url else None)
    field = page.locator("#site-search-q")
    field.click()
    page.keyboard.type("c")
    with page.expect_response("**/api/suggest?q=czzqqx"):
        page.keyboard.type("zzqqx")
    assert page.locator("#site-search-q-suggestions").is_hidden()
    assert field.get_attribute("aria-expanded") == "false"
    assert ["c"] not in asked  # one letter is too short to ask about


# --- phone layout and JavaScript off ----------------------------------------------------------------------


def test_on_a_phone_results_come_first_and_filters_fold_away(phone_page):
    page = phone_page
    page.goto("/search?q=fraud&tag=economic-crime")
    summary = page.locator("summary.search-filters__summary")
    assert " ".join(summary.inner_text().split()) == "Filter results (1 selected)"
    assert page.locator("#filter-tag-fraud").is_hidden()
    first = page.locator(".search-result__title a").first.bounding_box()
    assert first is not None and first["y"] < PHONE["height"], "the first result is on the first screen"

    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.localName") == "summary":
            break
    page.keyboard.press("Enter")  # open the filters from the keyboard
    assert page.locator("#filter-tag-fraud").is_visible()
    page.locator("#filter-tag-fraud").check()
    page.locator("button.search-layout__apply").click()
    page.wait_for_url(lambda url: query_of(url).get("tag") == ["economic-crime", "fraud"])
    page.wait_for_function(
        "() => document.querySelector('#search-filter-count').textContent.includes('2 selected')"
    )
    assert page.locator(".chips a.chip").count() == 2


def test_apply_on_a_phone_folds_the_filters_and_goes_to_the_results(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto("/search?q=fraud")
    mark_page(page)
    page.locator("summary.search-filters__summary").click()
    page.locator("label[for='filter-tag-economic-crime']").click()
    wait_for_query(page, {"q": ["fraud"], "tag": ["economic-crime"]})
    page.locator("button.search-layout__apply").click()
    page.wait_for_function("() => !document.querySelector('details.search-filters').open")
    page.wait_for_function("() => document.activeElement.id === 'result-count'")
    assert page.locator("#result-count").is_visible()
    assert still_same_page(page)
    context.close()


def test_on_a_wide_screen_the_filters_show_beside_the_results(browser, live_server):
    for javascript in (True, False):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
        )
        page = context.new_page()
        page.goto("/search?q=fraud")
        assert page.locator("#filter-tag-fraud").is_visible()
        assert page.locator("summary.search-filters__summary").is_hidden()
        assert page.locator(".search-layout__heading").is_visible()
        filters = page.locator(".search-layout__filters").bounding_box()
        results = page.locator(".search-layout__results").bounding_box()
        assert filters["x"] + filters["width"] <= results["x"]
        context.close()


def test_with_javascript_off_the_form_still_works(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/search")
    field = page.locator("#search-q")
    assert field.get_attribute("role") is None  # a plain search box: no combobox without its script
    field.fill("fraud")
    with page.expect_navigation():
        field.press("Enter")
    assert query_of(page.url)["q"] == ["fraud"]
    assert result_slugs(page)
    page.locator("#filter-tag-economic-crime").check()
    with page.expect_navigation():
        page.locator("button.search-layout__apply").click()
    assert query_of(page.url)["tag"] == ["economic-crime"]
    assert page.locator("a.chip").count() == 1
    with page.expect_navigation():
        page.locator("a.chip").click()
    assert "tag" not in query_of(page.url)
    context.close()
