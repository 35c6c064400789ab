"""The schema: migrations produce exactly the models' schema, and the model rules hold."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from kb.extensions import db
from kb.models import Article, Revision, User, UserRole
from kb.services import articles
from kb.services.articles import ArticleData, ArticleError, StaleVersionError


def test_upgrade_on_empty_database_matches_models(empty_app):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"articles", "revisions", "tags", "areas", "role_types", "users", "audit_events"} <= tables


def test_user_roles_are_ordered():
    staff = User(role="staff")
    editor = User(role="editor")
    admin = User(role="admin")
    assert staff.has_role("staff") and not staff.has_role("editor")
    assert editor.has_role(UserRole.STAFF) and editor.has_role("editor") and not editor.has_role("admin")
    assert admin.has_role("editor") and admin.has_role("admin")


def _data(**overrides):
    base = {"title": "Test capability", "summary": "A test.", "body": "Body", "area": "intelligence"}
    base.update(overrides)
    return ArticleData(**base)


def test_every_save_writes_an_immutable_revision(app):
    article = articles.create_article(_data())
    articles.update_article(article, _data(body="Second"), expected_version=1)
    numbers = [r.number for r in article.revisions]
    assert numbers == [1, 2]
    assert article.version == 2
    assert article.revisions[0].snapshot["body"] == "Body"
    assert article.revisions[1].snapshot["body"] == "Second"


def test_stale_version_is_refused(app):
    article = articles.create_article(_data())
    articles.update_article(article, _data(body="Mine"), expected_version=1)
    with pytest.raises(StaleVersionError):
        articles.update_article(article, _data(body="Theirs"), expected_version=1)
    assert article.body == "Mine"


def test_unknown_vocabulary_is_refused(app):
    with pytest.raises(ArticleError, match="area"):
        articles.create_article(_data(area="nowhere"))
    db.session.rollback()
    with pytest.raises(ArticleError, match="tag"):
        articles.create_article(_data(tags=["no-such-tag"]))


def test_parent_loop_is_refused(app):
    parent = articles.get_by_slug("south-east-regional-economic-crime-unit")
    data = ArticleData.from_article(parent)
    data.parent = "asset-confiscation-team"
    with pytest.raises(ArticleError, match="ancestor"):
        articles.update_article(parent, data, expected_version=parent.version)


def test_restore_adds_a_revision(app):
    article = articles.create_article(_data(body="One"))
    articles.update_article(article, _data(body="Two"), expected_version=1)
    articles.restore_revision(article, article.revisions[0], author=None, expected_version=2)
    assert article.body == "One"
    assert [r.action for r in article.revisions] == ["create", "edit", "restore"]
    assert db.session.query(Revision).filter_by(article_id=article.id).count() == 3


def test_delete_keeps_the_fact_in_the_audit_log(app):
    from kb.models import AuditEvent

    article = articles.create_article(_data())
    articles.delete_article(article, author=None)
    assert db.session.get(Article, article.id) is None
    assert db.session.query(AuditEvent).filter_by(action="article.delete", target=article.slug).count() == 1
