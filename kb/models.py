"""The database model: the single source of truth. The search index is derived from it."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
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


class RoleType(db.Model):
    """A kind of job (analyst, financial investigator, ...), for candidates looking for a role."""

    __tablename__ = "role_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

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

    area: Mapped[Area] = relationship(lazy="joined")
    parent: Mapped[Article | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Article]] = relationship(back_populates="parent", order_by="Article.title")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.position)
    role_types: Mapped[list[RoleType]] = relationship(
        secondary=article_role_types, order_by=RoleType.position
    )
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
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


class GlossaryTerm(db.Model):
    """An acronym or plain-language term, with the other words that mean the same."""

    __tablename__ = "glossary_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(80), unique=True)
    expansion: Mapped[str] = mapped_column(String(200), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    definition: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_acronym(self) -> bool:
        return bool(self.expansion)

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
