"""The audit log: who did what, when (UTC) and from where. Never passwords, tokens or other secrets."""

from __future__ import annotations

import re
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


def actions() -> list[str]:
    """Every action that appears in the log, for the viewer's filter."""
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def events(*, action: str | None = None, page: int = 1, per_page: int = 50) -> Pagination:
    """One page of events, newest first, optionally of one action (or a family, ``"auth."``)."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEvent.action == action)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
