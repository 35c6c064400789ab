"""Who may see and do what: one place for the role rules of routes and the visibility rules of articles.

Every view declares its access rule with ``@access(...)``; a test walks ``app.url_map`` and fails on any
route without one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, and_

from kb.extensions import login_manager
from kb.models import Article, Status, UserRole, Visibility

PUBLIC = "public"
RULES = (PUBLIC, *(r.value for r in UserRole))


def access(rule: str) -> Callable:
    """Declare who may call a view: ``"public"``, or the lowest user role allowed (staff < editor < admin).

    Anonymous users are sent to sign in; signed-in users without the role get 403.
    """
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorator(view: Callable) -> Callable:
        if rule == PUBLIC:
            view.access_rule = rule  # type: ignore[attr-defined]
            return view

        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(rule):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = rule  # type: ignore[attr-defined]
        return wrapped

    return decorator


def reader_is_staff(user: Any = None) -> bool:
    """True when the reader may see internal articles and internal fields (any signed-in role)."""
    user = current_user if user is None else user
    return bool(getattr(user, "is_authenticated", False))


def readable_visibilities(user: Any = None) -> tuple[str, ...]:
    """The article visibilities the reader may see on the public site, search and API."""
    if reader_is_staff(user):
        return (Visibility.PUBLIC.value, Visibility.INTERNAL.value)
    return (Visibility.PUBLIC.value,)


def readable_clause(user: Any = None) -> ColumnElement[bool]:
    """SQL condition for articles the reader may see: published, and public unless they are staff.

    Drafts and archived articles are seen only in the editor, never on the public site.
    """
    return and_(Article.status == Status.PUBLISHED.value, Article.visibility.in_(readable_visibilities(user)))


def can_read(article: Article, user: Any = None) -> bool:
    return article.status == Status.PUBLISHED and article.visibility in readable_visibilities(user)
