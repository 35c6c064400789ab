"""The index follows the database: changes recorded on flush and commit, applied after commit, dropped on
rollback; repairs and health; the index built at start and by `kb reindex`."""

from __future__ import annotations

import shutil

from bs4 import BeautifulSoup
from sqlalchemy import event, select

from kb.extensions import db
from kb.indexing import sync
from kb.models import Article, Tag
from kb.services import articles, search
from kb.services.articles import ArticleData
from kb.services.search import SearchQuery


def found_slugs(app, text: str, user=None, scope="site") -> list[str]:
    with app.test_request_context("/search"):
        return [h.article.slug for h in search.search(SearchQuery(text=text), user=user, scope=scope).hits]


def editor_slugs(app, make_user, text):
    return found_slugs(app, text, user=make_user("editor", "e@example.police.uk"), scope="editor")


def test_a_saved_article_is_searchable_at_once(app):
    article = articles.create_article(
        ArticleData(title="Wombat liaison", summary="s", area="intelligence", status="published")
    )
    assert found_slugs(app, "wombat") == [article.slug]
    data = ArticleData.from_article(article)
    data.title = "Platypus liaison"
    articles.update_article(article, data, expected_version=article.version)
    assert found_slugs(app, "wombat") == []
    assert found_slugs(app, "platypus") == [article.slug]
    articles.delete_article(article, author=None)
    assert found_slugs(app, "platypus") == []


def test_a_rolled_back_edit_never_reaches_the_index(app, make_user):
    article = articles.get_by_slug("gateway")
    article.summary = "Quokka rollback test."
    db.session.flush()  # the change is recorded here...
    db.session.rollback()  # ...and forgotten here
    db.session.commit()  # an unrelated commit must not apply it
    assert found_slugs(app, "quokka") == []
    assert editor_slugs(app, make_user, "quokka") == []
    assert search.index_health().healthy


def test_a_failed_save_leaves_the_index_as_it_was(app):
    article = articles.get_by_slug("gateway")
    data = ArticleData.from_article(article)
    data.title = "Axolotl gateway"
    data.area = "no-such-area"
    try:
        articles.update_article(article, data, expected_version=article.version)
    except articles.ArticleError:
        db.session.rollback()
    assert found_slugs(app, "axolotl") == []


def test_an_autoflushed_change_is_not_missed(app):
    article = articles.get_by_slug("gateway")
    article.summary = "Narwhal autoflush test."
    article.version += 1
    db.session.execute(select(Article.id).where(Article.slug == "rocta"))  # autoflush sends the change now
    assert article not in db.session.dirty  # so at commit time the session no longer lists it as dirty
    db.session.commit()
    assert found_slugs(app, "narwhal") == ["gateway"]


def test_renaming_a_tag_reindexes_its_articles(app):
    tag = db.session.scalar(select(Tag).where(Tag.slug == "prisons"))
    tag.name = "Gaols and custody"
    db.session.commit()
    assert "south-east-region-prison-intelligence-team" in found_slugs(app, "gaols")


def test_a_save_while_the_writer_is_locked_is_logged_and_caught_up_by_the_next_search(app):
    store = app.extensions[sync.EXTENSION]
    store.writer_timeout = 0.1
    _, ix = store.live_index()
    held = ix.writer()
    try:
        article = articles.get_by_slug("gateway")
        data = ArticleData.from_article(article)
        data.summary = "Ocelot locked writer."
        articles.update_article(article, data, expected_version=article.version)  # the save itself succeeds
        assert db.session.get(Article, article.id).summary == "Ocelot locked writer."
        health = search.index_health()
        assert health.stale == ["gateway"] and health.behind >= 1 and not search.caught_up()
    finally:
        held.cancel()
    assert found_slugs(app, "ocelot") == ["gateway"]  # the search saw the index behind and caught up
    assert search.index_health().healthy and search.caught_up()


def test_a_change_committed_without_an_index_write_converges_on_the_next_check(app):
    # What a server killed between commit and index write leaves: the row and its log entry, no document.
    store = app.extensions[sync.EXTENSION]
    article = articles.get_by_slug("rocta")
    article.summary = "Tapir after a crash."
    article.version += 1
    # The after-commit catch-up is what the crash skipped.
    event.remove(db.session, "after_commit", sync._after_commit)
    try:
        db.session.commit()
    finally:
        event.listen(db.session, "after_commit", sync._after_commit)
    assert sync.changes_behind(store) >= 1
    assert search.index_health().stale == ["rocta"]
    assert sync.catch_up(store) >= 1  # what start, a search or the timer does
    assert found_slugs(app, "tapir") == ["rocta"]
    assert search.index_health().healthy


def test_health_and_repair_find_missing_and_extra_documents(app):
    store = app.extensions[sync.EXTENSION]
    gateway = articles.get_by_slug("gateway")
    store.apply([{"id": "999999", "slug": "ghost", "version": 1, "title": "Ghost"}], [str(gateway.id)])
    health = search.index_health()
    assert health.missing == ["gateway"] and health.extra == ["999999"] and not health.healthy
    assert sorted(search.repair_index()) == ["#999999", "gateway"]
    assert search.index_health().healthy


def test_saves_made_during_a_rebuild_reach_the_new_index(app, monkeypatch):
    original = sync.iter_documents

    def documents_then_an_edit(session):
        yield from original(session)
        # The build has read every row; this save goes to the old index while the new one is written.
        article = articles.get_by_slug("rocta")
        data = ArticleData.from_article(article)
        data.summary = "Pangolin during rebuild."
        articles.update_article(article, data, expected_version=article.version)

    monkeypatch.setattr(sync, "iter_documents", documents_then_an_edit)
    search.rebuild_index()
    assert found_slugs(app, "pangolin") == ["rocta"]
    assert search.index_health().healthy


def test_a_missing_index_answers_503_then_is_built_in_the_background(app, client):
    store = app.extensions[sync.EXTENSION]
    store.close()
    shutil.rmtree(store.root)
    response = client.get("/search?q=fraud")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert page.h1.get_text(strip=True) == "Search is being rebuilt"
    assert client.get("/api/search?q=fraud").get_json() == {"error": "search is being rebuilt", "status": 503}
    assert client.get("/capabilities/gateway").status_code == 200  # article pages do not need the index
    builder = app.extensions["kb_search_builder"]
    builder.join(60)
    assert client.get("/search?q=fraud").status_code == 200
    assert search.index_health().healthy


def test_an_unreadable_index_is_rebuilt_at_start(seeded_instance, tmp_path):
    from tests.conftest import make_app

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    for path in (instance / "index" / "builds").rglob("*.toc"):
        path.write_bytes(b"garbage")
    app = make_app(instance)
    with app.app_context():
        client = app.test_client()
        client.get("/")  # the first request starts the build
        app.extensions["kb_search_builder"].join(60)
        assert client.get("/search?q=fraud").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_kb_reindex_prints_documents_and_time(runner):
    result = runner.invoke(args=["kb", "reindex"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Indexed 40 documents in ")
    repaired = runner.invoke(args=["kb", "reindex", "--repair"])
    assert repaired.output.strip() == "Re-indexed 0 documents."


def test_kb_reindex_while_another_rebuild_runs(app, runner):
    with app.extensions[sync.EXTENSION].rebuild_lock():
        result = runner.invoke(args=["kb", "reindex"])
    assert result.exit_code != 0
    assert "already running" in result.output
