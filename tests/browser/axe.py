"""axe-core in the page: run the WCAG 2.2 AA rule set and describe any violation readably."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def axe_violations(page) -> list[str]:
    """Run axe (from the local package, no network) on the page as it is now; one line per failing node."""
    results = _axe.run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {node['target']}: "
        f"{node.get('failureSummary', '')}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]
