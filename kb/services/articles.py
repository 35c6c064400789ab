"""The article service: the one place that writes articles.

Every change writes the row and an immutable revision in one transaction, then commits. The search index
follows through session events (``kb.indexing.sync``), so nothing here talks to the index directly.

The row holds what readers see. A change to a *published* article saved as a draft is kept as a revision
that ``Article.pending_revision`` points at, so the public page and search keep showing the published text
until the draft is published. Only a published article has a pending draft: every write to the row (publish,
unpublish, archive, ...) folds the draft in or leaves it in the history, and clears the pointer.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from kb.database import DatabaseBusy, is_busy_error
from kb.extensions import db
from kb.models import (
    Area,
    Article,
    Kind,
    Revision,
    RoleType,
    Status,
    Tag,
    User,
    Visibility,
    utcnow,
)
from kb.services import audit, reviews
from kb.text import slugify


class ArticleError(ValueError):
    """The data cannot be saved as given (unknown area, parent loop, ...); the message says why."""


class StaleVersionError(Exception):
    """The article changed since the editor loaded it; saving would overwrite someone's work."""

    def __init__(self, article: Article):
        super().__init__(f"{article.slug} is now at version {article.version}")
        self.article = article


@dataclass
class ArticleData:
    """Everything an editor can set on an article, by slug and plain value: the shape of a revision."""

    title: str
    summary: str = ""
    body: str = ""
    area: str = ""
    acronym: str = ""
    kind: str = Kind.CAPABILITY.value
    parent: str | None = None
    tags: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    contact_public: str = ""
    contact_internal: str = ""
    visibility: str = Visibility.PUBLIC.value
    status: str = Status.DRAFT.value

    @classmethod
    def from_article(cls, article: Article) -> ArticleData:
        return cls(
            title=article.title,
            summary=article.summary,
            body=article.body,
            area=article.area.slug,
            acronym=article.acronym,
            kind=article.kind,
            parent=article.parent.slug if article.parent else None,
            tags=[t.slug for t in article.tags],
            roles=[r.slug for r in article.role_types],
            partners=list(article.partners or []),
            contact_public=article.contact_public,
            contact_internal=article.contact_internal,
            visibility=article.visibility,
            status=article.status,
        )

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> ArticleData:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in snapshot.items() if k in names})

    def snapshot(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def get_by_slug(slug: str) -> Article | None:
    return db.session.scalar(select(Article).where(Article.slug == slug))


def unique_slug(title: str) -> str:
    """A slug for a new article, made unique with a numeric suffix when taken."""
    base = slugify(title) or "article"
    slug, n = base, 2
    while get_by_slug(slug) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _apply(article: Article, data: ArticleData) -> None:
    """Copy ``data`` onto ``article``, resolving slugs to rows.

    :raise ArticleError: an unknown area, tag, role type or parent, or a parent that would make a loop.
    """
    with db.session.no_autoflush:
        _apply_resolved(article, data)


def _apply_resolved(article: Article, data: ArticleData) -> None:
    resolved = _resolve(article, data)
    article.title = data.title.strip()
    article.acronym = data.acronym.strip()
    article.kind = data.kind
    article.summary = data.summary.strip()
    article.body = data.body
    article.area = resolved["area"]
    article.parent = resolved["parent"]
    article.tags = resolved["tags"]
    article.role_types = resolved["role_types"]
    article.partners = [p.strip() for p in data.partners if p.strip()]
    article.contact_public = data.contact_public
    article.contact_internal = data.contact_internal
    article.visibility = data.visibility
    article.status = data.status


def _resolve(article: Article, data: ArticleData) -> dict[str, Any]:
    """Check ``data`` and look up the rows its slugs name, without changing ``article``.

    :raise ArticleError: an unknown area, tag, role type, parent, kind, visibility or status, or a loop.
    """
    if not data.title.strip():
        raise ArticleError("An article needs a title.")
    area = db.session.scalar(select(Area).where(Area.slug == data.area))
    if area is None:
        raise ArticleError(f"Unknown area '{data.area}'.")
    tags = _rows(Tag, data.tags, "tag")
    role_types = _rows(RoleType, data.roles, "role type")
    parent = None
    if data.parent:
        parent = get_by_slug(data.parent)
        if parent is None:
            raise ArticleError(f"Unknown parent article '{data.parent}'.")
        ancestor: Article | None = parent
        while ancestor is not None:
            if ancestor is article:
                raise ArticleError("An article cannot be its own parent or ancestor.")
            ancestor = ancestor.parent
    if data.kind not in {k.value for k in Kind}:
        raise ArticleError(f"Unknown kind '{data.kind}'.")
    if data.visibility not in {v.value for v in Visibility}:
        raise ArticleError(f"Unknown visibility '{data.visibility}'.")
    if data.status not in {s.value for s in Status}:
        raise ArticleError(f"Unknown status '{data.status}'.")
    return {"area": area, "tags": tags, "role_types": role_types, "parent": parent}


def _rows(model: type, slugs: list[str], label: str) -> list:
    wanted = list(dict.fromkeys(slugs))  # keep order, drop repeats
    if not wanted:
        return []
    found = {row.slug: row for row in db.session.scalars(select(model).where(model.slug.in_(wanted)))}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ArticleError(f"Unknown {label} '{missing[0]}'.")
    return [found[s] for s in wanted]


def _add_revision(
    article: Article, data: ArticleData, *, action: str, author: User | None, note: str
) -> Revision:
    number = (
        db.session.scalar(select(func.max(Revision.number)).where(Revision.article_id == article.id)) or 0
    ) + 1
    revision = Revision(
        article=article,
        number=number,
        snapshot=data.snapshot(),
        action=action,
        note=note.strip()[:300],
        author_id=author.id if author else None,
    )
    db.session.add(revision)
    return revision


def create_article(
    data: ArticleData,
    *,
    author: User | None = None,
    slug: str | None = None,
    note: str = "",
    action: str = "create",
    commit: bool = True,
) -> Article:
    """Create an article with its first revision.

    :raise ArticleError: the data names an unknown area, tag, role type or parent.
    :raise DatabaseBusy: the database was locked or unreachable; nothing was saved.
    """
    try:
        article = Article(slug=slug or unique_slug(data.title), version=1)
        _apply(article, data)
        db.session.add(article)
        article.updated_by_id = author.id if author else None
        db.session.flush()
        _add_revision(article, data, action=action, author=author, note=note)
        if article.status == Status.PUBLISHED and action == "create":
            reviews.record_review(article, author)
        elif article.status == Status.PUBLISHED:
            reviews.schedule(article)  # loaded from the content files: first review a full interval away
        audit.record(f"article.{action}", user=author, target=article.slug, version=1, status=article.status)
        if commit:
            db.session.commit()
    except DBAPIError as exc:
        if not is_busy_error(exc):
            raise
        db.session.rollback()
        raise DatabaseBusy("the database is busy; nothing was saved") from exc
    return article


def update_article(
    article: Article,
    data: ArticleData,
    *,
    expected_version: int | None,
    author: User | None = None,
    note: str = "",
    action: str = "edit",
    commit: bool = True,
) -> Article:
    """Save a new version of ``article``.

    :param expected_version: the version the editor started from; ``None`` skips the check (seeding).
    :raise StaleVersionError: someone saved a newer version in the meantime (or at the same moment).
    :raise DatabaseBusy: the database was locked or unreachable; nothing was saved.
    """
    if expected_version is not None and expected_version != article.version:
        raise StaleVersionError(article)
    with versioned_write(article):
        _apply(article, data)
        # The row is the working copy again: a pending draft was either folded into ``data`` by the
        # caller or stays in the history as a revision.
        article.pending_revision = None
        article.version += 1
        article.updated_at = utcnow()
        article.updated_by_id = author.id if author else None
        _add_revision(article, data, action=action, author=author, note=note)
        if action in {"publish", "edit"} and article.status == Status.PUBLISHED:
            # Publishing is checking: the next review is due a full interval later.
            reviews.record_review(article, author)
        audit.record(f"article.{action}", user=author, target=article.slug, version=article.version)
        if commit:
            db.session.commit()
    return article


@contextlib.contextmanager
def versioned_write(article: Article) -> Iterator[None]:
    """Turn the database's refusals during a write to ``article`` into the service's own errors.

    A concurrent save that got there first shows as an UPDATE matching no row (``WHERE version = v``)
    or as a clash on the unique revision number; a locked or unreachable database as an operational
    error. Either way the session is rolled back and nothing was saved.

    :raise StaleVersionError: someone saved a newer version first.
    :raise DatabaseBusy: the database was locked or unreachable.
    """
    article_id = article.id
    try:
        yield
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        current = db.session.get(Article, article_id) if article_id is not None else None
        raise StaleVersionError(current or article) from None
    except DBAPIError as exc:
        if not is_busy_error(exc):
            raise
        db.session.rollback()
        raise DatabaseBusy("the database is busy; nothing was saved") from exc


def working_data(article: Article) -> ArticleData:
    """What the editor works on: the pending draft if there is one, else the article as readers see it."""
    if article.pending_revision is not None:
        return ArticleData.from_snapshot(article.pending_revision.snapshot)
    return ArticleData.from_article(article)


def latest_revision(article: Article) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.article_id == article.id).order_by(Revision.number.desc()).limit(1)
    )


def get_revision(article: Article, number: int) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.article_id == article.id, Revision.number == number)
    )


def _check_version(article: Article, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != article.version:
        raise StaleVersionError(article)


def _save_pending(
    article: Article, data: ArticleData, *, author: User | None, note: str, action: str
) -> Article:
    """Keep ``data`` as the pending draft of a published article; readers still see the row."""
    data = dataclasses.replace(data, status=Status.DRAFT.value)
    with versioned_write(article):
        with db.session.no_autoflush:
            _resolve(article, data)
        article.version += 1
        article.pending_revision = _add_revision(article, data, action=action, author=author, note=note)
        audit.record(f"article.{action}", user=author, target=article.slug, version=article.version)
        db.session.commit()
    return article


def _action_for(article: Article, wanted: Status) -> str:
    current = Status(article.status)
    if wanted is Status.PUBLISHED and (current is not Status.PUBLISHED or article.pending_revision):
        return "publish"
    if wanted is Status.ARCHIVED and current is not Status.ARCHIVED:
        return "archive"
    if wanted is Status.DRAFT and current is Status.ARCHIVED:
        return "unarchive"
    if wanted is Status.DRAFT and current is Status.PUBLISHED:
        return "unpublish"
    return "edit"


def save_edit(
    article: Article,
    data: ArticleData,
    *,
    expected_version: int,
    author: User | None,
    note: str = "",
) -> Article:
    """Save what an editor submitted for an existing article.

    A draft of a change to a published article becomes its pending draft (readers see no change); any
    other status is written to the article itself.

    :raise StaleVersionError: someone saved a newer version since the editor loaded the form.
    :raise ArticleError: the data names an unknown area, tag, role type or parent.
    :raise DatabaseBusy: the database was locked or unreachable; nothing was saved.
    """
    _check_version(article, expected_version)
    if article.status == Status.PUBLISHED and data.status == Status.DRAFT:
        return _save_pending(article, data, author=author, note=note, action="draft")
    return update_article(
        article,
        data,
        expected_version=expected_version,
        author=author,
        note=note,
        action=_action_for(article, Status(data.status)),
    )


def _change_status(
    article: Article,
    data: ArticleData,
    status: Status,
    action: str,
    *,
    author: User | None,
    expected_version: int | None,
    note: str,
) -> Article:
    data = dataclasses.replace(data, status=status.value)
    return update_article(
        article, data, expected_version=expected_version, author=author, note=note, action=action
    )


def publish(
    article: Article, *, author: User | None, expected_version: int | None = None, note: str = ""
) -> Article:
    """Make the working copy (the pending draft, if any) what readers see."""
    return _change_status(
        article,
        working_data(article),
        Status.PUBLISHED,
        "publish",
        author=author,
        expected_version=expected_version,
        note=note,
    )


def unpublish(
    article: Article, *, author: User | None, expected_version: int | None = None, note: str = ""
) -> Article:
    """Take an article off the public site and search; a pending draft becomes the article's text."""
    return _change_status(
        article,
        working_data(article),
        Status.DRAFT,
        "unpublish",
        author=author,
        expected_version=expected_version,
        note=note,
    )


def archive(
    article: Article, *, author: User | None, expected_version: int | None = None, note: str = ""
) -> Article:
    """Retire an article: hidden from readers and search at once, kept with its history, restorable."""
    return _change_status(
        article,
        working_data(article),
        Status.ARCHIVED,
        "archive",
        author=author,
        expected_version=expected_version,
        note=note,
    )


def unarchive(
    article: Article, *, author: User | None, expected_version: int | None = None, note: str = ""
) -> Article:
    """Bring an archived article back as a draft, to be checked and published again."""
    return _change_status(
        article,
        ArticleData.from_article(article),
        Status.DRAFT,
        "unarchive",
        author=author,
        expected_version=expected_version,
        note=note,
    )


def discard_draft(article: Article, *, author: User | None, expected_version: int | None = None) -> Article:
    """Drop the pending draft of a published article; it stays in the history and can be restored.

    :raise ArticleError: there is no pending draft.
    """
    _check_version(article, expected_version)
    if article.pending_revision is None:
        raise ArticleError("This article has no unpublished draft to discard.")
    number = article.pending_revision.number
    with versioned_write(article):
        article.pending_revision = None
        article.version += 1
        _add_revision(
            article,
            ArticleData.from_article(article),
            action="discard",
            author=author,
            note=f"Discarded the draft of revision {number}",
        )
        audit.record("article.discard", user=author, target=article.slug, version=article.version)
        db.session.commit()
    return article


def restore_revision(
    article: Article, revision: Revision, *, author: User | None, expected_version: int | None = None
) -> Article:
    """Make an old revision's text current again; this adds a revision, it rewrites none.

    The article keeps its status. On a published article the restored text becomes the pending draft,
    so readers see it only once it is published.
    """
    data = ArticleData.from_snapshot(revision.snapshot)
    note = f"Restored revision {revision.number}"
    if article.status == Status.PUBLISHED:
        _check_version(article, expected_version)
        return _save_pending(article, data, author=author, note=note, action="restore")
    data = dataclasses.replace(data, status=article.status)
    return update_article(
        article, data, expected_version=expected_version, author=author, note=note, action="restore"
    )


def mark_reviewed(
    article: Article, *, author: User | None, expected_version: int | None = None, note: str = ""
) -> Article:
    """Record that the article was checked and is still right: a revision with the note, no text change,
    and the next review due a full interval from today.

    :raise ArticleError: the article is not published (only what readers see needs reviewing).
    """
    _check_version(article, expected_version)
    if article.status != Status.PUBLISHED:
        raise ArticleError("Only a published article can be marked as reviewed.")
    with versioned_write(article):
        reviews.record_review(article, author)
        article.version += 1
        _add_revision(
            article,
            ArticleData.from_article(article),
            action="review",
            author=author,
            note=note.strip() or f"Reviewed: still correct. Next review {article.next_review_on:%-d %B %Y}",
        )
        audit.record("article.review", user=author, target=article.slug, version=article.version)
        db.session.commit()
    return article


def preview_article(data: ArticleData, *, exclude: Article | None = None) -> tuple[Article, Article | None]:
    """An unsaved article built from ``data`` for the real article template, and its parent.

    It is never added to the session (its parent is returned apart, so no relationship pulls it in).

    :raise ArticleError: the data names an unknown area, tag, role type or parent.
    """
    with db.session.no_autoflush:
        resolved = _resolve(exclude or Article(), data)
    article = Article(
        slug=exclude.slug if exclude is not None else "preview",
        title=data.title.strip() or "Untitled",
        acronym=data.acronym.strip(),
        kind=data.kind,
        summary=data.summary.strip(),
        body=data.body,
        partners=[p.strip() for p in data.partners if p.strip()],
        contact_public=data.contact_public,
        contact_internal=data.contact_internal,
        visibility=data.visibility,
        status=data.status,
        version=0,
        updated_at=utcnow(),
    )
    article.area = resolved["area"]
    article.tags = resolved["tags"]
    article.role_types = resolved["role_types"]
    if exclude is not None:
        article.last_reviewed_at = exclude.last_reviewed_at
    return article, resolved["parent"]


def delete_article(article: Article, *, author: User | None) -> None:
    """Delete an article and its history for good; the audit log keeps the fact."""
    audit.record(
        "article.delete", user=author, target=article.slug, title=article.title, version=article.version
    )
    for child in list(article.children):
        child.parent = None
    # Break the article -> pending revision link first, or the two rows would wait on each other.
    with versioned_write(article):
        article.pending_revision = None
        db.session.flush()
        db.session.delete(article)
        db.session.commit()


@dataclass
class Vocabulary:
    """The choices an editor picks from, as (slug, name) pairs in display order."""

    areas: list[tuple[str, str]]
    tags: list[tuple[str, str]]
    roles: list[tuple[str, str]]
    parents: list[tuple[str, str]]

    def names(self) -> dict[str, dict[str, str]]:
        return {
            "area": dict(self.areas),
            "tags": dict(self.tags),
            "roles": dict(self.roles),
            "parent": dict(self.parents),
        }


def vocabulary(exclude: Article | None = None) -> Vocabulary:
    """Areas, tags, role types and the articles that can be a parent (not ``exclude`` itself)."""

    def pairs(model: type) -> list[tuple[str, str]]:
        return [(row.slug, row.name) for row in db.session.scalars(select(model).order_by(model.position))]

    parents = select(Article.slug, Article.title).where(Article.kind == Kind.CAPABILITY.value)
    if exclude is not None and exclude.id is not None:
        parents = parents.where(Article.id != exclude.id)
    return Vocabulary(
        areas=pairs(Area),
        tags=pairs(Tag),
        roles=pairs(RoleType),
        parents=[(slug, title) for slug, title in db.session.execute(parents.order_by(Article.title))],
    )


@dataclass
class EditorListing:
    """The editor's article list: rows in display order and the latest revision of each."""

    articles: list[Article]
    last_change: dict[int, Revision]


def editor_listing(
    *,
    statuses: list[str] | None = None,
    visibilities: list[str] | None = None,
    areas: list[str] | None = None,
    text: str = "",
    ids: list[int] | None = None,
) -> EditorListing:
    """Every article (any status) matching the filters, for the editor; ``ids`` keeps a search's order.

    Without ``ids``, ``text`` filters by a plain substring of title, acronym, summary or body.
    """
    stmt = select(Article).join(Article.area)
    if statuses:
        stmt = stmt.where(Article.status.in_(statuses))
    if visibilities:
        stmt = stmt.where(Article.visibility.in_(visibilities))
    if areas:
        stmt = stmt.where(Area.slug.in_(areas))
    if ids is not None:
        stmt = stmt.where(Article.id.in_(ids))
    elif text.strip():
        pattern = f"%{text.strip()}%"
        stmt = stmt.where(
            Article.title.ilike(pattern)
            | Article.acronym.ilike(pattern)
            | Article.summary.ilike(pattern)
            | Article.body.ilike(pattern)
        )
    rows = list(db.session.scalars(stmt.order_by(Article.title)).unique())
    if ids is not None:
        rank = {article_id: position for position, article_id in enumerate(ids)}
        rows.sort(key=lambda a: rank.get(a.id, len(rank)))
    latest = (
        select(Revision.article_id, func.max(Revision.number).label("number"))
        .group_by(Revision.article_id)
        .subquery()
    )
    revisions = db.session.scalars(
        select(Revision).join(
            latest, (Revision.article_id == latest.c.article_id) & (Revision.number == latest.c.number)
        )
    )
    return EditorListing(rows, {r.article_id: r for r in revisions})


def load_exported(record: dict[str, Any], users_by_email: dict[str, User]) -> Article:
    """Recreate an article and its revisions exactly as ``kb export`` wrote them (``kb import``).

    History is restored verbatim rather than replayed, so versions, times and authors stay as they were.
    """
    from datetime import datetime

    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    def user_id(email: str | None) -> int | None:
        user = users_by_email.get(email) if email else None
        return user.id if user else None

    article = Article(slug=record["slug"])
    _apply(article, ArticleData.from_snapshot(record["current"]))
    article.version = record["version"]
    article.created_at = when(record["created_at"])
    article.updated_at = when(record["updated_at"])
    article.updated_by_id = user_id(record.get("updated_by"))
    article.seed_hash = record.get("seed_hash")
    article.seeded_version = record.get("seeded_version")
    db.session.add(article)
    db.session.flush()
    by_number = {}
    for item in record["revisions"]:
        revision = Revision(
            article=article,
            number=item["number"],
            snapshot=item["snapshot"],
            action=item["action"],
            note=item["note"],
            created_at=when(item["created_at"]),
            author_id=user_id(item.get("author")),
        )
        db.session.add(revision)
        by_number[item["number"]] = revision
    db.session.flush()
    if record.get("pending_revision") is not None:
        article.pending_revision = by_number[record["pending_revision"]]
    audit.record("article.import", target=article.slug, version=article.version)
    return article
