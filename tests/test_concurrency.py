"""Nothing is lost under concurrency: the database itself refuses a stale save, and a deleted article
leaves nothing behind (SQLite enforces foreign keys on every connection)."""

from __future__ import annotations

import threading

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, text

from kb.extensions import db
from kb.models import Article, Revision, Tag, article_tags
from kb.services import articles
from kb.services.articles import ArticleData, StaleVersionError

PAIRS = 200


def _save_at_the_same_instant(app, slug: str, barrier: threading.Barrier, body: str, outcome: dict) -> None:
    with app.app_context():
        try:
            article = articles.get_by_slug(slug)
            data = ArticleData.from_article(article)
            data.body = body
            started_from = article.version
            barrier.wait(10)
            articles.update_article(article, data, expected_version=started_from)
            outcome[body] = "saved"
        except StaleVersionError:
            outcome[body] = "stale"
        except Exception as exc:  # anything else is a failure of the test, reported below
            outcome[body] = repr(exc)
        finally:
            db.session.remove()


def test_of_two_saves_sent_at_the_same_instant_exactly_one_wins(app):
    slug = "gateway"
    overwrites = 0
    for pair in range(PAIRS):
        before = db.session.scalar(select(Article.version).where(Article.slug == slug))
        barrier, outcome = threading.Barrier(2), {}
        bodies = (f"Pair {pair} from editor A.", f"Pair {pair} from editor B.")
        threads = [
            threading.Thread(target=_save_at_the_same_instant, args=(app, slug, barrier, body, outcome))
            for body in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcome.values()) == ["saved", "stale"], outcome
        winner = next(body for body, result in outcome.items() if result == "saved")
        db.session.expire_all()
        article = articles.get_by_slug(slug)
        if article.body != winner or article.version != before + 1:
            overwrites += 1
    assert overwrites == 0
    revisions = db.session.scalar(
        select(func.count(Revision.id))
        .join(Article, Article.id == Revision.article_id)
        .where(Article.slug == slug)
    )
    assert db.session.scalar(select(Article.version).where(Article.slug == slug)) >= PAIRS
    assert revisions >= PAIRS + 1


def test_the_loser_of_a_simultaneous_save_gets_the_conflict_page_with_its_text(app, auth):
    clients = [app.test_client(), app.test_client()]
    auth.login("editor", email="a@example.police.uk", client=clients[0])
    auth.login("editor", email="b@example.police.uk", client=clients[1])
    page = BeautifulSoup(clients[0].get("/editor/articles/gateway/edit").data, "html.parser")
    form = {
        field["name"]: field.get("value", "")
        for field in page.select("form input[name]")
        if field.get("type") not in ("checkbox", "radio", "submit")
    }
    for name in ("summary", "body"):
        form[name] = page.select_one(f"textarea[name={name}]").get_text()
    form["area"] = page.select_one("select[name=area] option[selected]")["value"]
    form["visibility"], form["status"] = "public", "published"
    barrier, answers = threading.Barrier(2), {}

    def post(index: int) -> None:
        data = dict(form, body=f"Simultaneous text from editor {index}.")
        barrier.wait(10)
        answers[index] = clients[index].post("/editor/articles/gateway/edit", data=data)

    threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.status_code for r in answers.values()) == [303, 409]
    loser = next(i for i, r in answers.items() if r.status_code == 409)
    assert f"Simultaneous text from editor {loser}." in answers[loser].get_data(as_text=True)


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's per-connection settings")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_deleting_an_article_leaves_nothing_and_a_new_one_starts_with_an_empty_history(app):
    data = ArticleData(
        title="Short-lived capability",
        area="intelligence",
        tags=["cyber"],
        contact_internal="Secret desk 0000",
        status="published",
    )
    article = articles.create_article(data)
    articles.update_article(article, ArticleData(**{**data.snapshot(), "body": "v2"}), expected_version=1)
    old_id = article.id
    articles.delete_article(article, author=None)
    assert db.session.scalar(select(func.count(Revision.id)).where(Revision.article_id == old_id)) == 0
    links = select(func.count()).select_from(article_tags).where(article_tags.c.article_id == old_id)
    assert db.session.scalar(links) == 0
    fresh = articles.create_article(ArticleData(title="Brand new capability", area="intelligence"))
    assert [r.number for r in fresh.revisions] == [1]
    assert all("Secret desk" not in str(r.snapshot) for r in fresh.revisions)
    assert db.session.scalar(select(Tag).where(Tag.slug == "cyber")) is not None


def test_the_migration_removes_revisions_left_behind_by_deleted_articles(empty_app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("only SQLite without foreign keys could leave orphaned revisions")
    from flask_migrate import downgrade, upgrade

    from kb.services import content

    content.seed()
    db.session.commit()
    article = db.session.scalar(select(Article).order_by(Article.id.desc()).limit(1))
    kept = db.session.scalar(select(func.count(Revision.id)).where(Revision.article_id == article.id))
    db.session.remove()
    downgrade(revision="10b17f3ae3f7")
    with db.engine.begin() as connection:  # what SQLite without foreign keys left behind
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.execute(
            text(
                "INSERT INTO revisions (article_id, number, snapshot, action, note, created_at)"
                " VALUES (:a, 0, '{}', 'create', '', '2000-01-01 00:00:00'),"
                " (999999, 1, '{}', 'create', '', '2000-01-01 00:00:00')"
            ),
            {"a": article.id},
        )
    upgrade()
    assert db.session.scalar(select(func.count(Revision.id)).where(Revision.article_id == article.id)) == kept
    assert db.session.scalar(select(func.count(Revision.id)).where(Revision.article_id == 999999)) == 0
