"""Sessions: loading the signed-in user, refusing ended sessions, idle and absolute time-outs, and the
forced password change.

A session names its user as ``"<user id>:<session token>"`` (``User.get_id``). Rotating the token (sign-out,
password change, disable, role change) ends every session that carries the old one, including copies of
the cookie kept elsewhere.
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from kb.extensions import db, login_manager
from kb.models import User, UserRole

SEEN_AT = "kb_seen_at"  # epoch seconds of the last request, for the idle time-out
SIGNED_IN_AT = "kb_signed_in_at"  # epoch seconds of sign-in, for the absolute limit
# Endpoints a user who must change their password may still reach.
ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset({"auth.change_password", "auth.logout", "static"})
# Endpoints an editor or admin who must set up a second factor may still reach.
ALLOWED_BEFORE_TWO_FACTOR = frozenset({"two_factor.set_up", "auth.logout", "static"})
# Form fields never shown back on the "signed out, nothing saved" page.
_NOT_ECHOED = re.compile(r"password|csrf|token|version|base_revision|next", re.IGNORECASE)


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


def now() -> float:
    """Seconds since the epoch; one seam, so tests can move the clock for time-outs."""
    return time.time()


def start_session() -> None:
    """Mark the moment of sign-in; call right after ``login_user`` in a freshly cleared session."""
    moment = now()
    session[SIGNED_IN_AT] = moment
    session[SEEN_AT] = moment


def has_idle_timeout(user: User) -> bool:
    """Editors and admins are signed out after a while without a request; staff are not."""
    return user.has_role(UserRole.EDITOR)


def _idle_limit_seconds() -> float:
    return float(current_app.config["IDLE_TIMEOUT_MINUTES"]) * 60


def _absolute_limit_seconds() -> float:
    return current_app.permanent_session_lifetime.total_seconds()


def forget_previous_user() -> None:
    """Load the user afresh for every request.

    Flask-Login caches the user on ``g``, which lives in the application context; when one application
    context serves several requests (a test client inside ``app.app_context()``, a CLI command calling
    views), one request's user would otherwise carry over to the next, whoever sent it.
    """
    g.pop("_login_user", None)


def enforce_session_rules():
    """End idle or too-old sessions, and send a user who must change their password to that page."""
    # Signing out always works, and rotates the token, however long the session has been idle.
    if request.endpoint in ("static", "auth.logout") or not current_user.is_authenticated:
        return None
    moment = now()
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(signed_in_at, int | float) or moment - signed_in_at > _absolute_limit_seconds():
        return _end_session(reason="expired")
    if has_idle_timeout(current_user) and (
        not isinstance(seen_at, int | float) or moment - seen_at > _idle_limit_seconds()
    ):
        return _end_session(reason="idle")
    session[SEEN_AT] = moment
    if current_user.must_change_password and request.endpoint not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        return redirect(url_for("auth.change_password"))
    from kb.services import two_factor

    if (
        not current_user.must_change_password
        and two_factor.required_for(current_user)
        and not current_user.has_two_factor
        and request.endpoint not in ALLOWED_BEFORE_TWO_FACTOR
    ):
        return redirect(url_for("two_factor.set_up"))
    return None


def _end_session(reason: str):
    """Sign out this browser's session. A form sent after the time-out is shown back, never just dropped."""
    logout_user()
    session.clear()
    if request.method == "POST":
        unsaved = [
            (name, value)
            for name, value in request.form.items(multi=True)
            if value.strip() and not _NOT_ECHOED.search(name)
        ]
        return (
            render_template(
                "auth/signed_out.html",
                reason=reason,
                unsaved=unsaved,
                login_url=url_for("auth.login", next=request.path, reason=reason),
            ),
            401,
        )
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?"), reason=reason))


class RedactSetPasswordLinks(logging.Filter):
    """Keep one-time set-password tokens out of log lines (the development server logs every path)."""

    PATTERN = re.compile(r"(/account/set-password/)[^\s/?\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.PATTERN.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(forget_previous_user)
    app.before_request(enforce_session_rules)
    for name in ("werkzeug", "waitress", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSetPasswordLinks) for f in logger.filters):
            logger.addFilter(RedactSetPasswordLinks())
