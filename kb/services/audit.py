"""The audit log: who did what, when (UTC) and from where. Never passwords, tokens or other secrets."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import has_request_context, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from kb.extensions import db
from kb.models import AuditEvent, User

# A safety net: a detail whose name looks like a secret is refused outright, so a careless caller fails
# in the tests instead of writing a password into the log.
_SECRET_NAME = re.compile(r"password|token|secret|hash", re.IGNORECASE)


def client_address() -> str:
    """The address of the current request, or "" outside a request (CLI, tests)."""
    return (request.remote_addr or "")[:64] if has_request_context() else ""


def record(
    action: str, *, user: User | None = None, actor: str = "", target: str = "", **detail: Any
) -> None:
    """Add an audit event to the session; the caller's commit writes it with the change it describes.

    :raise ValueError: a detail is named like a secret (password, token, ...).
    """
    secret_names = [name for name in detail if _SECRET_NAME.search(name)]
    if secret_names:
        raise ValueError(f"refusing to audit secret-looking detail {secret_names[0]!r}")
    db.session.add(
        AuditEvent(
            action=action,
            user_id=user.id if user is not None else None,
            actor=actor or (user.email if user is not None else ""),
            target=target[:200],
            address=client_address(),
            detail=detail,
        )
    )


def record_now(action: str, *, user: User | None = None, target: str = "", **detail: Any) -> None:
    """Record an event that goes with no database change of its own (a rebuilt index) and commit it."""
    record(action, user=user, target=target, **detail)
    db.session.commit()


# What each action means, in words an HR editor uses. Unknown actions fall back to their code.
ACTION_LABELS: dict[str, str] = {
    "article.create": "Created an article",
    "article.edit": "Edited an article",
    "article.draft": "Saved a draft",
    "article.publish": "Published an article",
    "article.unpublish": "Unpublished an article",
    "article.archive": "Archived an article",
    "article.unarchive": "Restored an article from the archive",
    "article.restore": "Restored an earlier revision",
    "article.discard": "Discarded a draft",
    "article.review": "Marked an article as reviewed",
    "article.stewardship": "Changed an article's owner or review date",
    "article.delete": "Deleted an article for good",
    "article.seed": "Loaded an article from the content files",
    "article.import": "Imported an article",
    "account.create": "Created an account",
    "account.disable": "Disabled an account",
    "account.enable": "Enabled an account",
    "account.role_change": "Changed an account's role",
    "account.password_change": "Changed their password",
    "account.password_reset": "Reset an account's password",
    "account.password_set_by_link": "Chose a password from a one-time link",
    "account.2fa_enable": "Turned on two-factor sign-in",
    "account.2fa_disable": "Turned off two-factor sign-in",
    "account.2fa_reset": "Reset an account's two-factor sign-in",
    "account.2fa_recovery_codes": "Made new recovery codes",
    "auth.sign_in": "Signed in",
    "auth.sign_out": "Signed out",
    "auth.sign_in_failure": "Failed to sign in",
    "auth.sign_in_locked": "Sign-in refused: account locked",
    "auth.lockout": "Account locked after failed sign-ins",
    "auth.second_factor": "Entered a correct two-factor code",
    "auth.second_factor_failure": "Entered a wrong two-factor code",
    "auth.second_factor_throttled": "Two-factor code refused: too many wrong codes",
    "auth.recovery_code_used": "Signed in with a recovery code",
    "index.rebuild": "Rebuilt the search index",
    "index.repair": "Repaired the search index",
}
FAMILY_LABELS = {
    "article.": "articles",
    "account.": "accounts",
    "auth.": "signing in",
    "index.": "the search index",
}


def label(action: str) -> str:
    """The plain-English name of an action (its code if it has none)."""
    return ACTION_LABELS.get(action, action)


def actions() -> list[str]:
    """Every action that appears in the log, for the viewer's filter."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def actors() -> list[str]:
    """Everyone who appears in the log, for the viewer's "person" filter."""
    return list(
        db.session.scalars(
            select(AuditEvent.actor).where(AuditEvent.actor != "").distinct().order_by(AuditEvent.actor)
        )
    )


def _filtered(action: str | None, actor: str | None, since: date | None, until: date | None):
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if since:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(since, time.min))
    if until:
        stmt = stmt.where(AuditEvent.at < datetime.combine(until + timedelta(days=1), time.min))
    return stmt


def events(
    *,
    action: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of events, newest first, optionally of one action (or a family, ``"auth."``), one
    person, and a date range (both days included, UTC)."""
    stmt = _filtered(action, actor, since, until)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def article_titles(slugs: list[str]) -> dict[str, str]:
    """The current title of each article slug that still exists (to link the log's targets)."""
    from kb.models import Article

    wanted = [s for s in set(slugs) if s]
    if not wanted:
        return {}
    return dict(db.session.execute(select(Article.slug, Article.title).where(Article.slug.in_(wanted))).all())


CSV_COLUMNS = ("time_utc", "action", "action_code", "by", "target", "address", "details")


def csv_text(
    *,
    action: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> str:
    """The filtered log as CSV (UTF-8, one row per event, newest first); cells that a spreadsheet would
    run as a formula are prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in db.session.scalars(_filtered(action, actor, since, until)):
        details = "; ".join(f"{key}: {value}" for key, value in (event.detail or {}).items())
        row = [
            event.at.strftime("%Y-%m-%d %H:%M:%S"),
            label(event.action),
            event.action,
            event.actor,
            event.target,
            event.address,
            details,
        ]
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    return "'" + value if value and value[0] in "=+-@\t\r" else value
