"""The shipped content and `kb seed`: every capability, idempotent, editors' changes survive."""

from pathlib import Path

from sqlalchemy import func, select

from kb.extensions import db
from kb.models import Area, Article, Kind, RoleType, Tag
from kb.services import articles, content
from kb.services.articles import ArticleData

CAPABILITY_COUNT = 36
RECU = "south-east-regional-economic-crime-unit"


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_all_capabilities_and_pages_are_loaded(app):
    assert count(Article, Article.kind == Kind.CAPABILITY.value) == CAPABILITY_COUNT
    assert {"about-the-unit", "working-at-the-unit", "how-to-apply"} <= {
        a.slug for a in db.session.scalars(select(Article).where(Article.kind == Kind.PAGE.value))
    }


def test_economic_crime_unit_has_twelve_teams(app):
    recu = articles.get_by_slug(RECU)
    assert recu.acronym == "RECU"
    assert len(recu.children) == 12
    assert "asset-confiscation-team" in {c.slug for c in recu.children}


def test_core_tags_are_used(app):
    for slug in ("cyber", "economic-crime", "intelligence", "covert"):
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        assert count(Article, Article.tags.any(id=tag.id)) >= 2, slug


def test_content_files_are_well_formed():
    files = content.read_article_files()
    slugs = [f.slug for f in files]
    assert len(slugs) == len(set(slugs))
    for item in files:
        assert item.data.summary and len(item.data.summary) < 200, item.slug
        assert item.data.area and item.data.contact_public, item.slug
        assert len(item.data.body.split()) >= 80, f"{item.slug} body is too short"
        assert not item.data.body.lstrip().startswith("# "), f"{item.slug} repeats the title as a heading"


def test_every_article_has_roles_or_is_a_page(app):
    for article in db.session.scalars(select(Article).where(Article.kind == Kind.CAPABILITY.value)):
        assert article.role_types, article.slug


def test_seed_is_idempotent(app):
    before = (count(Article), count(Area), count(Tag), count(RoleType))
    report = content.seed()
    assert report.created == [] and report.updated == [] and report.kept == []
    assert len(report.unchanged) == before[0]
    assert (count(Article), count(Area), count(Tag), count(RoleType)) == before


def test_editor_changes_survive_a_reseed(app, tmp_path):
    article = articles.get_by_slug("gateway")
    data = ArticleData.from_article(article)
    data.summary = "Edited by HR."
    articles.update_article(article, data, expected_version=article.version)

    changed_dir = _copy_content(tmp_path)
    path = changed_dir / "articles" / "gateway.md"
    path.write_text(path.read_text().replace("title: Gateway", "title: Gateway (changed file)"))
    report = content.seed(changed_dir)
    assert report.kept == ["gateway"]
    assert articles.get_by_slug("gateway").summary == "Edited by HR."


def test_untouched_articles_follow_their_file(app, tmp_path):
    changed_dir = _copy_content(tmp_path)
    path = changed_dir / "articles" / "humint.md"
    path.write_text(path.read_text() + "\nA new closing paragraph.\n")
    report = content.seed(changed_dir)
    assert report.updated == ["humint"]
    humint = articles.get_by_slug("humint")
    assert humint.body.rstrip().endswith("A new closing paragraph.")
    assert content.seed(changed_dir).unchanged.count("humint") == 1


def _copy_content(tmp_path) -> Path:
    import shutil

    target = tmp_path / "content"
    shutil.copytree(content.CONTENT_DIR, target)
    return target
