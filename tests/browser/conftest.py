"""Real-browser fixtures: the app served on a local port, and Debian's Chromium driven by Playwright.

Without a browser these tests skip, unless KB_REQUIRE_BROWSER=1 (as in CI), where that is a failure.

Every browser context made from the ``browser`` fixture is watched for Content-Security-Policy violations
(the page's ``securitypolicyviolation`` events with JavaScript on, and Chromium's own console report of a
refused resource either way); a browser test that caused one fails, whatever it asserted itself.
Give ``wait_for_function`` a function (``"() => ..."``): a bare expression is run with ``eval`` in the
page, which the CSP refuses.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import make_app

CHROMIUM = os.environ.get("KB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_BROWSER = os.environ.get("KB_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Runs before any page script: report each violation to the test through an exposed function.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__kbCspViolation([event.effectiveDirective, event.blockedURI || "(inline)",
    `${event.sourceFile || location.href}:${event.lineNumber}`, event.sample].join(" "));
}, true);
"""


class CSPGuard:
    """Collects the CSP violations of every context it watches."""

    def __init__(self):
        self.violations: list[str] = []
        self.contexts: list = []

    def watch(self, context) -> None:
        context.expose_function("__kbCspViolation", lambda report: self.violations.append(report))
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._console)
        self.contexts.append(context)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"console: {message.text}")

    def settle(self) -> None:
        """Let reports still on their way from open pages arrive."""
        for context in self.contexts:
            for open_page in context.pages:
                if open_page.is_closed():
                    continue
                try:
                    open_page.wait_for_timeout(50)
                except Exception:  # noqa: S112 (a page that went away has nothing left to report)
                    continue

    def take(self) -> list[str]:
        """The violations reported since the last call (after letting late reports arrive)."""
        self.settle()
        violations, self.violations = self.violations, []
        return violations

    def reset(self) -> None:
        self.violations.clear()
        self.contexts = [c for c in self.contexts if c.pages]


CSP_GUARD = CSPGuard()


class GuardedBrowser:
    """The Playwright browser, but each new context is watched for CSP violations."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        CSP_GUARD.watch(context)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    CSP_GUARD.reset()
    result = yield
    violations = CSP_GUARD.take()
    assert not violations, "the browser reported CSP violations:\n" + "\n".join(violations)
    return result


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail("KB_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH; set KB_REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield GuardedBrowser(browser)
        browser.close()


class LiveServer:
    """The application on a free local port, served from a thread."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(seeded_instance, tmp_path):
    """A fresh copy of the seeded instance (database and index), served over HTTP, CSRF on."""
    instance = Path(tmp_path) / "live-instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, TESTING=False, WTF_CSRF_ENABLED=True)
    with LiveServer(app) as server:
        yield server


PHONE = {"width": 375, "height": 740}


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def phone_page(request, browser, live_server):
    """A phone-sized page, once with JavaScript on and once with it off."""
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, java_script_enabled=request.param
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
