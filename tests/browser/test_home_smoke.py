"""The home page in a real browser: it loads with no console errors and links every capability."""


def test_home_lists_capabilities_without_console_errors(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    assert page.locator("h1").first.inner_text()
    links = page.locator("a[href^='/capabilities/']")
    assert links.count() >= 36
    links.filter(has_text="Gateway").first.click()
    assert page.url.endswith("/capabilities/gateway")
    assert errors == []
