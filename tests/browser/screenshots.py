"""Take the README's screenshots: key pages at phone and desktop widths, from a freshly seeded copy.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots] [--width 320 ...] [--page NAME ...]

Uses the same app set-up and Chromium as the browser tests; writes ``<page>-<width>.png`` full-page shots.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from kb.extensions import db
from kb.services import content, search
from tests.browser.conftest import CHROMIUM, LiveServer
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    "home": "/",
    "article": "/capabilities/asset-confiscation-team",
    "search": "/search?q=cryptocurrency",
}
README_PAGES = ("home", "article", "search")
WIDTHS = (375, 1280)


def take(out: Path, names: list[str], widths: list[int]) -> list[Path]:
    """Serve a seeded instance and save a full-page screenshot of each page at each width."""
    from playwright.sync_api import sync_playwright

    written = []
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder) / "instance", TESTING=False)
        with app.app_context():
            upgrade()
            content.seed()
            search.rebuild_index()
            db.session.remove()
        with LiveServer(app) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for width in widths:
                context = browser.new_context(base_url=server.url, viewport={"width": width, "height": 900})
                page = context.new_page()
                for name in names:
                    response = page.goto(PAGES[name])
                    if response is None or response.status >= 400:
                        print(f"skipped {name}: {PAGES[name]} answered {response and response.status}")
                        continue
                    path = out / f"{name}-{width}.png"
                    page.screenshot(path=str(path), full_page=True)
                    written.append(path)
                context.close()
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Take the screenshots named on the command line (default: the README's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, action="append", dest="widths")
    parser.add_argument("--page", action="append", dest="pages", choices=sorted(PAGES))
    args = parser.parse_args(argv)
    if CHROMIUM is None:
        print("no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for path in take(args.out, args.pages or list(README_PAGES), args.widths or list(WIDTHS)):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
