"""axe-core (WCAG 2.0, 2.1 and 2.2 A and AA rules) finds no violation in any page state.

Each state is a path, a viewport width and optional steps to reach it; add one line per new page state.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_violations

DESKTOP, PHONE = 1280, 375


def _press_tab_to_first_link(page):
    page.keyboard.press("Tab")


# (name, path, width, steps to take after loading, expected HTTP status)
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
    ("skip-link-focused", "/", DESKTOP, _press_tab_to_first_link, 200),
]


@pytest.mark.parametrize(
    ("path", "width", "steps", "status"), [s[1:] for s in STATES], ids=[s[0] for s in STATES]
)
def test_page_state_has_no_axe_violations(page, path, width, steps, status):
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(path)
    assert response is not None and response.status == status
    if steps is not None:
        steps(page)
    assert axe_violations(page) == []


def test_axe_reports_a_violation_when_there_is_one(page):
    """Guard against a silently broken check: a deliberately unlabelled field must be reported."""
    page.goto("/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    assert any(line.startswith("label ") for line in axe_violations(page))
