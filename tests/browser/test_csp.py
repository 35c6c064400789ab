"""The Content-Security-Policy in a real browser: the site's own pages run under it without a violation,
and what it forbids (inline script and style without the nonce, style attributes) is refused and
reported, so the CSP guard in conftest.py would fail any browser test that caused it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CSP_GUARD

PAGES = [
    "/",
    "/capabilities",
    "/capabilities/gateway",
    "/search?q=money+laundering",
    "/search?q=cyber&tag=cyber",
    "/glossary",
    "/roles",
    "/login",
    "/no-such-page",
]

INJECTED = (
    b'<style>body{outline:1px solid red}</style><p style="color:red">styled</p>'
    b"<script>window.inlineRan = true</script></body>"
)


@pytest.fixture
def context_for(browser, live_server):
    contexts = []

    def _make(javascript: bool):
        context = browser.new_context(base_url=live_server.url, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield _make
    for context in contexts:
        context.close()


def test_the_site_runs_under_its_csp_without_a_violation(context_for):
    page = context_for(True)
    for path in PAGES:
        response = page.goto(path)
        assert "nonce-" in response.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
    # Type-ahead and live results both ran (they fetch and rewrite the page under the CSP).
    page.goto("/search?q=fraud")
    page.locator("#site-search-q, input[name=q]").first.fill("gatew")
    page.wait_for_selector("[role=option]")
    assert CSP_GUARD.take() == []


def _inject(route):
    response = route.fetch()
    route.fulfill(response=response, body=response.body().replace(b"</body>", INJECTED))


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript-on", "javascript-off"])
def test_inline_code_without_the_nonce_is_refused_and_reported(context_for, javascript):
    page = context_for(javascript)
    page.route("**/glossary", _inject)
    page.goto("/glossary")
    page.wait_for_load_state("networkidle")
    # The page's real CSP header came with it; Chromium refused all three.
    assert (
        page.locator("p", has_text="styled").evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    )
    if javascript:
        assert page.evaluate("window.inlineRan") is None
    reported = "\n".join(CSP_GUARD.take())  # taken, so the guard does not fail this test on them
    assert "style-src" in reported, reported
    if javascript:
        assert "script-src" in reported, reported
