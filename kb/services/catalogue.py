"""Reading articles for the public site, always through the reader's visibility."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from kb.access import readable_clause
from kb.extensions import db
from kb.models import Area, Article, Kind, RoleType, Tag, article_tags

# The page the unit's own box on the capability map opens.
ABOUT_UNIT_SLUG = "about-the-unit"
# Pages the home page routes candidates and staff to (each shown only if it exists and is readable).
HOW_TO_APPLY_SLUG = "how-to-apply"
WORKING_HERE_SLUG = "working-at-the-unit"
GATEWAY_SLUG = "gateway"
TASKING_GUIDE_SLUG = "requesting-support-through-the-gateway"


def anonymous_reader() -> AnonymousUserMixin:
    """A reader who is not signed in: what the sitemap and shared links may show, whoever asks."""
    return AnonymousUserMixin()


def readable_article(slug: str, user: Any = None) -> Article | None:
    """The article with this slug if the reader may see it, else None (the caller answers 404)."""
    return db.session.scalar(select(Article).where(Article.slug == slug, readable_clause(user)))


def readable_articles(user: Any = None, *conditions: Any) -> list[Article]:
    stmt = (
        select(Article)
        .join(Article.area)
        .where(readable_clause(user), *conditions)
        .order_by(Area.position, Article.title)
    )
    return list(db.session.scalars(stmt).unique())


def directory(user: Any = None) -> list[tuple[Area, list[Article]]]:
    """Readable capabilities grouped by area (in area order); sub-teams sit under their parent."""
    rows = readable_articles(user, Article.kind == Kind.CAPABILITY.value)
    return [(area, list(items)) for area, items in groupby(rows, key=lambda a: a.area)]


def readable_children(article: Article, user: Any = None) -> list[Article]:
    return readable_articles(user, Article.parent_id == article.id)


def pages(user: Any = None) -> list[Article]:
    return readable_articles(user, Article.kind == Kind.PAGE.value)


def area_by_slug(slug: str) -> Area | None:
    return db.session.scalar(select(Area).where(Area.slug == slug))


def tag_by_slug(slug: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.slug == slug))


def role_type_by_slug(slug: str) -> RoleType | None:
    return db.session.scalar(select(RoleType).where(RoleType.slug == slug))


def areas_with_articles(user: Any = None) -> list[Area]:
    """Areas holding at least one article the reader may see, in display order."""
    stmt = (
        select(Area)
        .where(Area.id.in_(select(Article.area_id).where(readable_clause(user))))
        .order_by(Area.position)
    )
    return list(db.session.scalars(stmt))


def tags_with_counts(user: Any = None) -> list[tuple[Tag, int]]:
    """Tags with the number of articles the reader may see under each; tags with none are left out."""
    count = func.count(Article.id)
    stmt = (
        select(Tag, count)
        .join(article_tags, article_tags.c.tag_id == Tag.id)
        .join(Article, Article.id == article_tags.c.article_id)
        .where(readable_clause(user))
        .group_by(Tag.id)
        .order_by(Tag.position)
    )
    return [(tag, n) for tag, n in db.session.execute(stmt)]


def articles_by_acronym(user: Any = None) -> dict[str, Article]:
    """Readable articles keyed by their acronym, so the glossary can link a team's acronym to its page."""
    return {a.acronym: a for a in readable_articles(user, Article.acronym != "")}


def role_types_with_articles(user: Any = None) -> list[tuple[RoleType, list[Article]]]:
    """Every role type, in display order, with the readable capabilities that have it (maybe none)."""
    roles = list(db.session.scalars(select(RoleType).order_by(RoleType.position)))
    return [(role, readable_articles_with_role(role, user)) for role in roles]


def readable_articles_with_role(role: RoleType, user: Any = None) -> list[Article]:
    return readable_articles(user, Article.role_types.any(id=role.id))
