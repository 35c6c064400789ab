"""The index itself: what a document holds, atomic rebuilds, one writer at a time, fresh searchers, merges."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from whoosh import query as whoosh_query
from whoosh.index import LockError

from kb.extensions import db
from kb.indexing import sync
from kb.indexing.query import MAX_PREFIX_TERMS, BoundedPrefix
from kb.indexing.schema import SCHEMA_VERSION, build_schema, document_for, plain_text
from kb.indexing.store import IndexBusy, IndexStore, IndexUnavailable, RebuildInProgress
from kb.models import Article
from kb.services import articles, search
from kb.services.articles import ArticleData


def store(app) -> IndexStore:
    return app.extensions[sync.EXTENSION]


def doc(i: int, body: str = "alpha") -> dict:
    return {
        "id": str(i),
        "slug": f"s{i}",
        "version": 1,
        "title": f"Title {i}",
        "body": body,
        "status": "published",
        "visibility": "public",
    }


@pytest.fixture
def bare_store(tmp_path) -> IndexStore:
    """A store on an empty folder, with a small index of 20 documents."""
    bare = IndexStore(tmp_path / "index", writer_timeout=0.2)
    with bare.rebuild_lock():
        bare.build((doc(i) for i in range(20)), expected=20)
    yield bare
    bare.close()


def test_plain_text_keeps_the_words_of_markdown():
    text = plain_text("## What we do\n\nWe **trace** [assets](https://x.example) and `cash`.\n\n- one\n- two")
    assert text == "What we do.\nWe trace assets and cash.\none\ntwo"


def test_document_holds_status_and_visibility_but_never_contacts(app):
    article = articles.create_article(
        ArticleData(
            title="Internal draft",
            summary="summary words",
            body="body words",
            area="intelligence",
            tags=["cyber"],
            roles=["analyst"],
            contact_public="publiccontactword",
            contact_internal="internalcontactword",
            visibility="internal",
            status="draft",
        )
    )
    document = document_for(article)
    assert document["status"] == "draft" and document["visibility"] == "internal"
    assert (
        document["tags"] == "cyber" and document["area"] == "intelligence" and document["roles"] == "analyst"
    )
    # The vector is derived from the indexed text (so it holds no contact either): 256 float16 values.
    assert isinstance(document["vector"], bytes) and len(document["vector"]) == 512
    flat = json.dumps({k: v for k, v in document.items() if k != "vector"})
    assert "internalcontactword" not in flat and "publiccontactword" not in flat
    assert set(document) <= set(build_schema().names())


def test_every_article_is_indexed_whatever_its_status(app):
    articles.create_article(ArticleData(title="A draft", summary="s", area="intelligence"))
    articles.create_article(
        ArticleData(title="An archived one", summary="s", area="intelligence", status="archived")
    )
    health = search.index_health()
    count = db.session.scalar(select(db.func.count(Article.id)))
    assert health.index_documents == health.db_documents == count
    assert health.healthy


def test_rebuild_swaps_atomically_and_keeps_the_previous_build(app):
    before = store(app).build_info()
    opened, rebuilt, counts = threading.Event(), threading.Event(), []

    def reader():  # another request thread, holding its searcher across the swap
        searcher = store(app).searcher()
        counts.append(searcher.doc_count())
        opened.set()
        rebuilt.wait(60)
        counts.append(searcher.search(whoosh_query.Every(), limit=None).scored_length())

    thread = threading.Thread(target=reader)
    thread.start()
    opened.wait(60)
    report = search.rebuild_index()
    rebuilt.set()
    thread.join(60)
    after = store(app).build_info()
    assert after.name != before.name and after.documents == report.documents == counts[0]
    assert counts[1] == counts[0]  # the old build still answered, whole, after the swap
    assert sorted(p.name for p in store(app).builds_dir.iterdir()) == sorted([before.name, after.name])
    search.rebuild_index()
    assert before.name not in {p.name for p in store(app).builds_dir.iterdir()}


def test_a_second_rebuild_gets_a_clear_answer(app):
    with store(app).rebuild_lock():
        with pytest.raises(RebuildInProgress):
            search.rebuild_index()
        errors = []

        def other_thread():
            with app.app_context():
                try:
                    search.rebuild_index()
                except Exception as exc:
                    errors.append(exc)

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
        assert len(errors) == 1 and isinstance(errors[0], RebuildInProgress)
        assert search.index_health().building
    assert not search.index_health().building


def test_a_busy_writer_times_out_with_a_clear_error_not_a_lock_error(bare_store):
    _, ix = bare_store.live_index()
    held = ix.writer()
    try:
        with pytest.raises(IndexBusy) as raised:
            bare_store.apply([doc(1, "beta")], [])
        assert not isinstance(raised.value, LockError)
    finally:
        held.cancel()
    assert bare_store.apply([doc(1, "beta")], [])


def test_a_failed_write_releases_the_lock(bare_store):
    with pytest.raises(Exception):  # noqa: B017 (Whoosh raises a bare error for an unknown field)
        bare_store.apply([{"id": "1", "no_such_field": "x"}], [])
    bare_store.writer_timeout = 0.1  # a lock left held would now raise IndexBusy
    assert bare_store.apply([doc(1, "gamma")], [])


def test_searcher_is_reused_until_the_index_changes_and_is_then_reopened(bare_store):
    first = bare_store.searcher()
    assert bare_store.searcher() is first
    bare_store.apply([doc(3, "delta")], [])
    second = bare_store.searcher()
    assert second is not first and first.is_closed


def test_each_thread_has_its_own_searcher(bare_store):
    seen = []
    thread = threading.Thread(target=lambda: seen.append(bare_store.searcher()))
    thread.start()
    thread.join()
    assert seen[0] is not bare_store.searcher()


def test_updated_documents_are_never_duplicated(bare_store):
    """Whoosh 2.7.5's Searcher.refresh() keeps stale copies of updated documents; the store reopens."""
    for version in range(4):
        bare_store.apply([doc(3, f"version{version}")], [])
        searcher = bare_store.searcher()
        found = searcher.search(whoosh_query.Term("id", "3"), limit=None)
        assert [hit["body"] for hit in found] == [f"version{version}"]


def test_saves_do_not_rewrite_the_big_segment(tmp_path):
    """No merge storm: saves add small segments that are merged together, never into the rebuild's."""
    big_store = IndexStore(tmp_path / "index", background_merge=False)
    with big_store.rebuild_lock():
        big_store.build((doc(i) for i in range(1200)), expected=1200)
    _, ix = big_store.live_index()
    (big,) = [s.segment_id() for s in ix._segments()]
    for i in range(30):
        big_store.apply([doc(i, "epsilon")], [])  # updates: each deletes from the big segment too
    _, ix = big_store.live_index()
    segments = ix._segments()
    assert big in {s.segment_id() for s in segments}
    assert len(segments) <= 1 + 4 * 3  # at most four segments in each small tier
    assert big_store.searcher().doc_count() == 1200
    big_store.close()


def test_small_segments_are_merged_in_the_background_once_saves_pause(bare_store, monkeypatch):
    monkeypatch.setattr("kb.indexing.store.MERGE_WHEN_IDLE_SECONDS", dict.fromkeys(range(4), 0.05))
    for i in range(12):
        bare_store.apply([doc(100 + i, "eta")], [])
    bare_store.wait_for_merges()
    _, ix = bare_store.live_index()
    assert len(ix._segments()) < 12
    assert bare_store.searcher().doc_count() == 32


def test_prefix_expansion_is_bounded(tmp_path):
    bounded = IndexStore(tmp_path / "index")
    with bounded.rebuild_lock():
        bounded.build((doc(i, f"word{i:04d}") for i in range(500)), expected=500)
    reader = bounded.searcher().reader()
    assert len(list(BoundedPrefix("body", "word")._btexts(reader))) == MAX_PREFIX_TERMS
    assert list(BoundedPrefix("body", "")._btexts(reader)) == []
    assert bounded.searcher().search(BoundedPrefix("body", ""), limit=None).scored_length() == 0
    bounded.close()


def test_parallel_build_indexes_every_document(tmp_path):
    parallel = IndexStore(tmp_path / "index", rebuild_procs=2, parallel_min_docs=10)
    with parallel.rebuild_lock():
        info = parallel.build((doc(i, f"zeta{i}") for i in range(600)), expected=600)
    assert info.documents == 600 == parallel.searcher().doc_count()
    assert len(parallel.live_index()[1]._segments()) == 2  # one per process, not merged
    parallel.close()


def test_missing_unreadable_or_outdated_index_is_unavailable(app):
    index = store(app)
    assert index.is_available()
    info = index.build_info()
    current = json.loads(index.current_file.read_text())
    current["schema_version"] = SCHEMA_VERSION - 1
    index.current_file.write_text(json.dumps(current))
    with pytest.raises(IndexUnavailable):
        index.live_index()
    index.current_file.write_text("not json")
    assert not index.is_available()
    index.current_file.write_text(json.dumps({**current, "schema_version": SCHEMA_VERSION}))
    assert index.is_available()
    index.close()
    shutil.rmtree(index.builds_dir / info.name)
    fresh = IndexStore(Path(index.root))
    assert not fresh.is_available()
