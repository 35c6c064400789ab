"""Hostile Markdown benchmark: how long one save and one preview of a 10 KB and a 100 KB body take.

Run it with ``.venv/bin/python bench/markdown_bench.py`` (not part of ``make test``; the figures depend on
the machine). Each body shape (unclosed brackets, autolinks, emphasis runs, HTML, nesting, ...; the same
list as ``tests/test_hostile_markdown.py``) is saved through the real editor form (database row, revision,
index update) and previewed through the form's "preview as candidate" button, at both sizes. It prints
seconds and the 100 KB / 10 KB ratio (10 is linear, 100 quadratic) and writes them to ``bench/results/``.

``--shapes '[' '*a'`` runs only those shapes; ``--size`` changes the large size (characters).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bs4 import BeautifulSoup  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from kb import create_app  # noqa: E402
from kb.services import content, search, users  # noqa: E402
from tests.hostile_markdown import SHAPES, body_of  # noqa: E402

PASSWORD = "correct horse battery staple"


def form_fields(html: str) -> dict[str, object]:
    """Every field of the article form as the browser would post it."""
    form = BeautifulSoup(html, "html.parser").find("form", class_="article-form")
    data: dict[str, object] = {}
    for element in form.find_all(["input", "textarea", "select"]):
        name = element.get("name")
        if not name:
            continue
        if element.name == "textarea":
            data[name] = element.text
        elif element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            data[name] = chosen.get("value", "") if chosen else ""
        elif element.get("type") in {"checkbox", "radio"}:
            if element.has_attr("checked"):
                if element.get("type") == "checkbox":
                    data.setdefault(name, []).append(element.get("value"))  # type: ignore[union-attr]
                else:
                    data[name] = element.get("value")
        elif element.get("type") != "submit":
            data[name] = element.get("value", "")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", help="only these shapes (their names)")
    parser.add_argument("--size", type=int, default=100_000, help="large body size in characters")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    shapes = {k: v for k, v in SHAPES.items() if not args.shapes or k in args.shapes}
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        app = create_app(
            {
                "INSTANCE_PATH": str(instance),
                "SECRET_KEY": "bench",
                "INDEX_DIR": str(instance / "index"),
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "SEARCH_BUILD_ON_START": False,
            }
        )
        with app.app_context():
            upgrade()
            content.seed()
            search.rebuild_index()
            users.create_user("bench@example.police.uk", "editor", PASSWORD)
            client = app.test_client()
            client.post("/login", data={"email": "bench@example.police.uk", "password": PASSWORD})
            slug = "regional-cyber-crime-unit"
            rows = []
            for name, unit in shapes.items():
                row = {"shape": name}
                for size in (10_000, args.size):
                    body = body_of(unit, size)
                    page = client.get(f"/editor/articles/{slug}/edit")
                    fields = form_fields(page.get_data(as_text=True))
                    fields["body"] = body
                    started = time.perf_counter()
                    saved = client.post(f"/editor/articles/{slug}/edit", data=fields)
                    row[f"save_{size}"] = time.perf_counter() - started
                    assert saved.status_code in {303, 200}, (name, saved.status_code)
                    page = client.get(f"/editor/articles/{slug}/edit")
                    fields = form_fields(page.get_data(as_text=True))
                    fields["body"] = body
                    fields["action"] = "preview-candidate"
                    started = time.perf_counter()
                    previewed = client.post(f"/editor/articles/{slug}/edit", data=fields)
                    row[f"preview_{size}"] = time.perf_counter() - started
                    assert previewed.status_code == 200, (name, previewed.status_code)
                row["save_ratio"] = row[f"save_{args.size}"] / row["save_10000"]
                row["preview_ratio"] = row[f"preview_{args.size}"] / row["preview_10000"]
                rows.append(row)
                print(
                    f"{name!r:>14}  save {row['save_10000']:7.3f} s -> {row[f'save_{args.size}']:8.3f} s"
                    f" (x{row['save_ratio']:6.1f})   preview {row['preview_10000']:7.3f} s ->"
                    f" {row[f'preview_{args.size}']:8.3f} s (x{row['preview_ratio']:6.1f})",
                    flush=True,
                )
    slowest = max(rows, key=lambda r: r[f"save_{args.size}"] + r[f"preview_{args.size}"])
    print(f"slowest: {slowest['shape']!r}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"markdown-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(rows, indent=2))
    print(f"raw figures: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
