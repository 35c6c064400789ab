"""Loading the signed-in user from the session, and refusing sessions that were ended."""

from __future__ import annotations

from flask import Flask

from kb.extensions import db, login_manager
from kb.models import User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the user for a session id ``"<user id>:<session token>"``, or None if the token was rotated."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
