"""Crash convergence: kill a process mid-save or mid-rebuild, start again, and count the drift.

Run it with ``.venv/bin/python bench/crash_convergence.py [--kills 10]``; it is not part of ``make test``.

In a throw-away instance (migrated, seeded, indexed) it repeats, ``--kills`` times each:

- **mid-save**: a child process saves articles in a loop through the article service; it is killed with
  SIGKILL after a random 0.2-1.5 s (so some kills land between a commit and its index write);
- **mid-rebuild**: a child process runs ``kb reindex`` in a loop; it is killed at a random moment.

After each kill the next start is what a server does on its first request (build a missing index,
catch up with the change log); then the index is compared with the database by stored fingerprint and
the differences are counted. Convergence means every count is 0.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAVER = """
import itertools, sys
from kb import create_app
from kb.services import articles
from kb.services.articles import ArticleData
app = create_app()
with app.app_context():
    slugs = [a.slug for a in articles.editor_listing().articles][:10]
    for n in itertools.count():
        article = articles.get_by_slug(slugs[n % len(slugs)])
        data = ArticleData.from_article(article)
        data.summary = f"Crash test save {n}."
        articles.update_article(article, data, expected_version=article.version)
"""


def _env(instance: Path) -> dict[str, str]:
    return dict(
        os.environ,
        KB_INSTANCE_PATH=str(instance),
        KB_INDEX_DIR=str(instance / "index"),
        KB_SECRET_KEY="crash-bench",
        KB_SEARCH_SYNC_INTERVAL="0",
    )


def _start_and_count_drift(instance: Path) -> tuple[int | None, int]:
    """Documents differing from the database as the kill left them (None: no usable index), and after
    what the next start does."""
    from kb import create_app
    from kb.extensions import db
    from kb.indexing import sync
    from kb.indexing.store import IndexUnavailable

    os.environ.update(_env(instance))
    app = create_app({"TESTING": False, "SEARCH_SYNC_INTERVAL": 0})
    with app.app_context():
        store = app.extensions[sync.EXTENSION]
        try:
            before = sum(len(v) for v in sync.compare(store).values())
        except IndexUnavailable:
            before = None
        app.test_client().get("/healthz")  # the first request: build if missing, catch up
        builder = app.extensions.get("kb_search_builder")
        if builder is not None:
            builder.join(120)
        found = sync.compare(store)
        store.close()
        db.session.remove()
        db.engine.dispose()
    return before, sum(len(v) for v in found.values())


def _kill_after(command: list[str], instance: Path, low: float, high: float) -> None:
    child = subprocess.Popen(
        command, cwd=ROOT, env=_env(instance), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(random.uniform(low, high))
    child.send_signal(signal.SIGKILL)
    child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kb-crash-"))
    instance = folder / "instance"
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "kb"]
    try:
        subprocess.run([*flask, "bootstrap"], cwd=ROOT, env=_env(instance), check=True, capture_output=True)
        results = {}
        for kind, command, window in (
            ("mid-save", [sys.executable, "-c", SAVER], (1.0, 3.0)),
            ("mid-rebuild", [sys.executable, "-c", _REBUILDER], (1.0, 3.0)),
        ):
            drifts = []
            for _ in range(args.kills):
                _kill_after(command, instance, *window)
                drifts.append(_start_and_count_drift(instance))
            results[kind] = drifts
        for kind, drifts in results.items():
            converged = sum(1 for _, after in drifts if after == 0)
            left = [before for before, _ in drifts]
            print(
                f"{kind}: {converged} of {len(drifts)} kills converged on the next start; "
                f"documents differing as each kill left them (None: no usable index): {left}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_REBUILDER = """
from kb import create_app
from kb.services import search
app = create_app()
with app.app_context():
    while True:
        search.rebuild_index()
"""


if __name__ == "__main__":
    main()
