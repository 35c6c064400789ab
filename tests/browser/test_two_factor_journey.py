"""Two-factor sign-in in a real browser (Chromium, CSRF on): a staff member sets up an authenticator app
from the key shown as text, signs out, signs in with a code, then with a recovery code; a reused code is
refused. Every new page is checked with axe (WCAG 2.2 AA), and the CSP guard sees no violation."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from kb.services import two_factor, users
from tests.browser.axe import axe_violations
from tests.conftest import PASSWORD

EMAIL = "staff@example.police.uk"


@pytest.fixture
def clock(monkeypatch):
    """The service's clock (the live server runs in this process), moved on one 30-second step at a time."""
    moved = {"offset": 0.0}
    monkeypatch.setattr(two_factor, "now", lambda: time.time() + moved["offset"])
    return moved


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(two_factor.now())


def assert_accessible(page) -> None:
    assert axe_violations(page) == [], page.url


def sign_in(page) -> None:
    page.goto("/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("^Sign out")).click()


def enter_code(page, code: str) -> None:
    expect(page).to_have_url(re.compile(r"/login/code$"))
    page.fill("#code", code)
    page.locator("main").get_by_role("button", name="Continue").click()


def test_set_up_sign_in_with_a_code_and_a_recovery_code(page, live_server, clock):
    with live_server.app.app_context():
        users.create_user(EMAIL, "staff", PASSWORD)
    sign_in(page)
    page.goto("/account/two-factor")
    assert_accessible(page)
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")
    expect(page.locator(".qr-code-box svg")).to_be_visible()
    assert_accessible(page)
    secret = re.sub(r"\s", "", page.inner_text("#two-factor-secret"))
    page.fill("#code", code_now(secret))
    page.locator("main").get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    sign_out(page)

    # Password, then a code from the app (a later time-step than the one used to set up).
    clock["offset"] += 30
    code = code_now(secret)
    sign_in(page)
    expect(page.locator("h1")).to_have_text("Enter your code")
    assert_accessible(page)
    enter_code(page, code)
    expect(page.get_by_role("button", name=re.compile("^Sign out"))).to_be_visible()
    sign_out(page)

    # The same code again is refused.
    sign_in(page)
    enter_code(page, code)
    expect(page.locator(".error-summary")).to_contain_text("Enter a correct code")
    assert_accessible(page)

    # A recovery code works instead, once.
    enter_code(page, codes[0])
    expect(page.get_by_role("button", name=re.compile("^Sign out"))).to_be_visible()
    page.goto("/account/two-factor")
    expect(page.locator("#two-factor-state")).to_contain_text("9 unused recovery codes")
    assert_accessible(page)
    sign_out(page)
    sign_in(page)
    enter_code(page, codes[0])
    expect(page.locator(".error-summary")).to_contain_text("Enter a correct code")
