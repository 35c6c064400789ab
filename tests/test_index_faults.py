"""Faults with a clear word and nothing lost: a busy database, an index folder that goes away or cannot be
written, a busy index writer; and the search layer's one exception contract, case by case."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, func, select, text

from kb.extensions import db
from kb.indexing import sync
from kb.models import Article
from kb.services import articles, search
from kb.services.articles import ArticleData
from kb.services.search import SearchQuery
from tests.conftest import make_app
from tests.test_editor import form_values, post_form, with_changes


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def store_of(app):
    return app.extensions[sync.EXTENSION]


def found(app, text):
    with app.test_request_context("/search"):
        return [h.article.slug for h in search.search(SearchQuery(text=text)).hits]


@pytest.fixture
def editor(auth):
    return auth.login("editor")


def test_a_locked_database_keeps_the_editors_text_with_a_503(app, client, editor):
    app.config["DATABASE_BUSY_TIMEOUT"] = 0.2
    db.engine.dispose()
    from kb.database import configure_postgres, configure_sqlite

    configure_sqlite(db.engine, 0.2)
    configure_postgres(db.engine, 0.2)
    values = form_values(soup(client.get("/editor/articles/gateway/edit")))
    if db.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(db.engine.url.database, timeout=0.1, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        release = holder.execute
    else:  # another transaction holds the article's row
        holder = create_engine(db.engine.url).connect()
        holder.execute(text("SELECT id FROM articles WHERE slug = 'gateway' FOR UPDATE"))
        release = None
    try:
        response = post_form(
            client, "/editor/articles/gateway/edit", with_changes(values, body="Kept while locked.")
        )
    finally:
        if release is not None:
            release("ROLLBACK")
        else:
            holder.rollback()
        holder.close()
    assert response.status_code == 503
    page = soup(response)
    assert (
        "The database is busy; your text is kept, try again" in page.select_one("#database-busy").get_text()
    )
    assert page.select_one("textarea[name=body]").get_text().strip() == "Kept while locked."
    db.session.expire_all()
    assert articles.get_by_slug("gateway").body != "Kept while locked."


def test_a_save_whose_index_write_failed_says_search_will_catch_up(app, client, editor):
    store = store_of(app)
    store.writer_timeout = 0.1
    values = form_values(soup(client.get("/editor/articles/gateway/edit")))
    _, ix = store.live_index()
    held = ix.writer()
    try:
        response = post_form(
            client,
            "/editor/articles/gateway/edit",
            with_changes(values, summary="Caracal while busy."),
            action="publish",
        )
        assert response.status_code == 303
        notice = soup(client.get(response.location)).select_one(".notice--success").get_text()
    finally:
        held.cancel()
    assert "search will catch up" in notice and "search see it now" not in notice
    assert found(app, "caracal") == ["gateway"]


def test_index_builds_deleted_while_serving_are_rebuilt_by_themselves(app, client):
    assert client.get("/search?q=fraud").status_code == 200
    shutil.rmtree(store_of(app).builds_dir)
    response = client.get("/search?q=fraud")
    assert response.status_code == 503
    assert soup(response).h1.get_text(strip=True) == "Search is being rebuilt"
    app.extensions["kb_search_builder"].join(60)
    assert client.get("/search?q=fraud").status_code == 200
    assert search.index_health().healthy


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_index_folder_keeps_serving_and_recovers(app, client, editor):
    store = store_of(app)
    live = store.builds_dir / store.build_info().name
    modes = {path: path.stat().st_mode for path in (store.root, store.builds_dir, live)}
    for path in modes:
        path.chmod(0o555)
    try:
        values = form_values(soup(client.get("/editor/articles/gateway/edit")))
        saved = post_form(
            client, "/editor/articles/gateway/edit", with_changes(values, summary="Okapi."), action="publish"
        )
        assert saved.status_code == 303
        assert "search will catch up" in soup(client.get(saved.location)).get_text()
        assert client.get("/search?q=fraud").status_code == 200  # the last good build still answers
        health = soup(client.get("/editor/reindex"))
        assert health.select_one("#index-not-writable") is not None
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert found(app, "okapi") == ["gateway"]  # writable again: the next search caught up


def test_kb_reindex_prints_one_clear_line_when_the_folder_cannot_be_written(tmp_path, seeded_instance):
    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    app = make_app(instance, INDEX_DIR=str(blocker / "index"))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["kb", "reindex"])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: the search index folder {blocker / 'index'} cannot be written")
    assert "KB_INDEX_DIR" in lines[0]


def test_repair_with_a_busy_writer_from_the_editor_page(app, client, editor):
    store = store_of(app)
    store.writer_timeout = 0.1
    _, ix = store.live_index()
    held = ix.writer()
    try:
        response = client.post("/editor/reindex/repair")
    finally:
        held.cancel()
    assert response.status_code == 503
    assert "index is busy" in soup(response).select_one("#reindex-refused").get_text()


def test_repair_with_a_busy_writer_from_the_cli(app, runner):
    store = store_of(app)
    store.writer_timeout = 0.1
    _, ix = store.live_index()
    held = ix.writer()
    try:
        result = runner.invoke(args=["kb", "reindex", "--repair"])
    finally:
        held.cancel()
    assert result.exit_code == 1
    assert result.output.strip() == "Error: the search index stayed locked for 0.1 s"


def test_bootstrap_with_a_busy_writer_says_so_and_finishes(app, runner):
    store = store_of(app)
    store.writer_timeout = 0.1
    _, ix = store.live_index()
    held = ix.writer()
    try:
        result = runner.invoke(args=["kb", "bootstrap"])
    finally:
        held.cancel()
    assert result.exit_code == 0, result.output
    assert "Search index: not brought up to date: the search index stayed locked for 0.1 s." in result.output


def test_repair_without_an_index_is_refused_with_advice(app, client, editor):
    store = store_of(app)
    store.close()
    shutil.rmtree(store.root)
    app.config["SEARCH_BUILD_ON_START"] = False
    response = client.post("/editor/reindex/repair")
    assert response.status_code == 409
    assert "Rebuild it instead" in soup(response).select_one("#reindex-refused").get_text()


def test_a_busy_writer_after_the_swap_does_not_fail_a_rebuild(app, monkeypatch):
    store = store_of(app)
    store.writer_timeout = 0.1
    original = sync.iter_documents
    held = []

    def documents_then_a_save(session):
        yield from original(session)
        article = articles.get_by_slug("rocta")
        data = ArticleData.from_article(article)
        data.summary = "Serval after the swap."
        articles.update_article(article, data, expected_version=article.version)

    real_build = store.build

    def build_then_hold_the_new_writer(*args, **kwargs):
        info = real_build(*args, **kwargs)
        held.append(store.live_index()[1].writer())  # someone else is writing the new build
        return info

    monkeypatch.setattr(sync, "iter_documents", documents_then_a_save)
    monkeypatch.setattr(store, "build", build_then_hold_the_new_writer)
    try:
        report = search.rebuild_index()
    finally:
        for writer in held:
            writer.cancel()
    assert report.documents == db.session.scalar(select(func.count()).select_from(Article))
    assert found(app, "serval") == ["rocta"]


def test_the_exception_contract_is_one_hierarchy_exported_by_the_service():
    for name in ("IndexUnavailable", "RebuildInProgress", "IndexBusy", "IndexNotWritable"):
        assert issubclass(getattr(search, name), search.SearchIndexError), name
        assert name in search.__all__


def test_healthz_and_readyz(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["changes_behind"] == 0
    store = store_of(app)
    store.close()
    shutil.rmtree(store.root)
    app.config["SEARCH_BUILD_ON_START"] = False
    missing = client.get("/readyz")
    assert missing.status_code == 503 and missing.get_json()["index"] == "missing"
