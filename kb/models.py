"""The database model: the single source of truth. The search index is derived from it."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class Status(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Kind(enum.StrEnum):
    CAPABILITY = "capability"
    PAGE = "page"


class UserRole(enum.StrEnum):
    STAFF = "staff"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(UserRole).index(self)


# Enum values are stored as plain strings (no database ENUM type) so the schema is the same everywhere.
def _enum_column(enum_cls: type[enum.StrEnum], default: enum.StrEnum, **kwargs: Any) -> Any:
    return mapped_column(String(20), default=default.value, nullable=False, **kwargs)


article_tags = Table(
    "article_tags",
    db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

article_role_types = Table(
    "article_role_types",
    db.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("role_type_id", ForeignKey("role_types.id", ondelete="CASCADE"), primary_key=True),
)


class Area(db.Model):
    """A business area of the unit; every article belongs to one."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Area {self.slug}>"


class Tag(db.Model):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


class Workforce(enum.StrEnum):
    """Who can hold a role: warranted police officers, police staff, or either."""

    OFFICER = "officer"
    STAFF = "staff"
    BOTH = "both"


class RoleType(db.Model):
    """A kind of job (analyst, financial investigator, ...), for candidates looking for a role."""

    __tablename__ = "role_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    workforce: Mapped[str] = _enum_column(Workforce, Workforce.BOTH)

    @property
    def workforces(self) -> tuple[str, ...]:
        """The workforce slugs this role is open to: ``("officer",)``, ``("staff",)`` or both."""
        if self.workforce == Workforce.BOTH.value:
            return (Workforce.OFFICER.value, Workforce.STAFF.value)
        return (self.workforce,)

    def __repr__(self) -> str:
        return f"<RoleType {self.slug}>"


class Article(db.Model):
    """One capability (or an about page). The row holds what readers see; history lives in revisions."""

    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    acronym: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = _enum_column(Kind, Kind.CAPABILITY)
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_public: Mapped[str] = mapped_column(Text, default="")
    contact_internal: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = _enum_column(Visibility, Visibility.PUBLIC)
    status: Mapped[str] = _enum_column(Status, Status.DRAFT)
    # Optimistic locking: every save increments it; an edit started from an older version is refused.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A change to a published article saved as a draft waits here until it is published.
    pending_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", ondelete="SET NULL", use_alter=True)
    )
    # What `kb seed` last wrote: lets a re-seed tell an untouched article from one an editor changed.
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    seeded_version: Mapped[int | None] = mapped_column()
    # Stewardship, outside the revisioned text: who keeps the article current and when it is next due.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    next_review_on: Mapped[date | None] = mapped_column(index=True)
    last_reviewed_at: Mapped[datetime | None] = mapped_column()

    area: Mapped[Area] = relationship(lazy="joined")
    parent: Mapped[Article | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Article]] = relationship(back_populates="parent", order_by="Article.title")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.position)
    role_types: Mapped[list[RoleType]] = relationship(
        secondary=article_role_types, order_by=RoleType.position
    )
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="article",
        order_by="Revision.number",
        foreign_keys="Revision.article_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    pending_revision: Mapped[Revision | None] = relationship(
        foreign_keys=[pending_revision_id], post_update=True
    )

    __table_args__ = (Index("ix_articles_status_visibility", "status", "visibility"),)
    # The database refuses a stale write: every UPDATE says ``WHERE version = <the version loaded>``, so
    # of two saves sent at the same moment only one changes the row (the service sets the new version).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and self.status == Status.PUBLISHED

    def __repr__(self) -> str:
        return f"<Article {self.slug} v{self.version}>"


class Revision(db.Model):
    """An immutable snapshot of an article as one save left it."""

    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(20))  # create, edit, publish, restore, archive, seed, import
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    article: Mapped[Article] = relationship(back_populates="revisions", foreign_keys=[article_id])
    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_revisions_article_number"),)

    def __repr__(self) -> str:
        return f"<Revision {self.article_id}#{self.number} {self.action}>"


class GlossaryKind(enum.StrEnum):
    ACRONYM = "acronym"  # an acronym with the meaning it has in this unit ("CHIS")
    TERM = "term"  # slang or a plain-language term and the words that mean the same ("grass")
    BEST_BET = "best_bet"  # a phrase that puts named capabilities first ("accountant")


class GlossaryTerm(db.Model):
    """An entry of the search vocabulary: an acronym, a term with its synonyms, or a best bet."""

    __tablename__ = "glossary_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = _enum_column(GlossaryKind, GlossaryKind.TERM)
    expansion: Mapped[str] = mapped_column(String(200), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    definition: Mapped[str] = mapped_column(Text, default="")
    # Best bets: the slugs of the capabilities to put first, in order.
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Every process's search compares this (with the count) to know the glossary changed.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_acronym(self) -> bool:
        return self.kind == GlossaryKind.ACRONYM.value and bool(self.expansion)

    @property
    def is_best_bet(self) -> bool:
        return self.kind == GlossaryKind.BEST_BET.value

    def __repr__(self) -> str:
        return f"<GlossaryTerm {self.term}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = _enum_column(UserRole, UserRole.STAFF)
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on sign-out, password change and disable: a session carrying an old token stops working.
    session_token: Mapped[str] = mapped_column(String(64))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # A one-time set-password link: only the token's SHA-256 is stored, and it expires.
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_token_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Second factor (TOTP, RFC 6238). The secret must be readable to check codes; recovery codes are hashed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    # The time-step of the last code accepted: a code of that step or an earlier one is never taken again.
    totp_last_step: Mapped[int | None] = mapped_column()

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    password_history: Mapped[list[PasswordHistory]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PasswordHistory.id.desc()",
    )

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # Flask-Login keeps this in the session; the token part makes old sessions invalid once rotated.
        return f"{self.id}:{self.session_token}"

    def has_role(self, role: UserRole | str) -> bool:
        """True if the user's role is ``role`` or above (staff < editor < admin)."""
        return UserRole(self.role).rank >= UserRole(role).rank

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class PasswordHistory(db.Model):
    """The hashes of a user's last passwords, so an old one cannot be chosen again."""

    __tablename__ = "password_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="password_history")


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class SignInThrottle(db.Model):
    """Failed attempts counted under one key, for every server process to see.

    Keys are ``"<factor>:pair:<hash of account and address>"`` and ``"<factor>:account:<hash of account>"``
    (factor ``password`` or ``code``); e-mail addresses and client addresses are stored only hashed.
    """

    __tablename__ = "sign_in_throttles"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    blocked_until: Mapped[datetime | None] = mapped_column()


class AuditEvent(db.Model):
    """Who did what, when and from where. Never holds passwords or secrets."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")  # e-mail kept even if the user is deleted
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target}>"


# --- What readers look for (private: never an address, a user id or a session id) -------------------


class SearchEvent(db.Model):
    """One search, as little as insight needs: the normalised words, how many results, whether (and at
    which rank) a result was opened, anonymous or staff, and the day. Deleted after the retention period,
    once folded into ``SearchAggregate``."""

    __tablename__ = "search_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    query: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(default=0)
    opened_rank: Mapped[int | None] = mapped_column()
    role_class: Mapped[str] = mapped_column(String(10))  # "anonymous" or "staff"

    __table_args__ = (Index("ix_search_events_query_day", "query", "day"),)


class SearchAggregate(db.Model):
    """Searches older than the retention period, counted per month, query and role class."""

    __tablename__ = "search_aggregates"
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column()  # the first day of the month
    query: Mapped[str] = mapped_column(String(200))
    role_class: Mapped[str] = mapped_column(String(10))
    searches: Mapped[int] = mapped_column(default=0)
    zero_results: Mapped[int] = mapped_column(default=0)
    opened: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("month", "query", "role_class"),)


class ArticleView(db.Model):
    """How many times an article was read on one day, by role class: a counter, nothing about readers."""

    __tablename__ = "article_views"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column()
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    role_class: Mapped[str] = mapped_column(String(10))
    views: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("day", "article_id", "role_class"),)


class PageFeedback(db.Model):
    """An answer to "Was this page helpful?": yes or no, an optional comment and the day, nobody's name."""

    __tablename__ = "page_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column()
    helpful: Mapped[bool] = mapped_column()
    comment: Mapped[str] = mapped_column(String(1000), default="")


class IndexChange(db.Model):
    """One article or glossary change, written in the same transaction as the change itself.

    Every process applies these, in id order, to its own search index and remembers the last id it
    applied, so a crash between commit and index write, a killed rebuild or another node's save is
    always caught up. Rows every known index has passed are pruned.
    """

    __tablename__ = "index_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # "article" or "glossary"
    entity_id: Mapped[int] = mapped_column()
    version: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<IndexChange {self.id} {self.entity} {self.entity_id}>"


class IndexPosition(db.Model):
    """How far one search index (a node's index folder) has applied the change log, for pruning."""

    __tablename__ = "index_positions"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    change_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
