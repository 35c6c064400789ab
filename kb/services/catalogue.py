"""Reading articles for the public site, always through the reader's visibility."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from sqlalchemy import select

from kb.access import readable_clause
from kb.extensions import db
from kb.models import Area, Article, Kind, RoleType, Tag


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
