"""The audit log: who did what, when and from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from kb.extensions import db
from kb.models import AuditEvent, User


def client_address() -> str:
    """The address of the current request, or "" outside a request (CLI, tests)."""
    return (request.remote_addr or "") if has_request_context() else ""


def record(
    action: str, *, user: User | None = None, actor: str = "", target: str = "", **detail: Any
) -> None:
    """Add an audit event to the session; the caller's commit writes it with the change it describes."""
    db.session.add(
        AuditEvent(
            action=action,
            user_id=user.id if user is not None else None,
            actor=actor or (user.email if user is not None else ""),
            target=target,
            address=client_address(),
            detail=detail,
        )
    )
