"""Signing in and out, and passwords: ``/login``, ``/logout``, ``/account/...``."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from kb.access import PUBLIC, access
from kb.auth_session import start_session
from kb.extensions import limiter
from kb.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from kb.models import User, UserRole
from kb.security import no_referrer
from kb.services import users
from kb.services.users import AccountError, PasswordPolicyError, SignIn
from kb.views import two_factor as two_factor_views

bp = Blueprint("auth", __name__)

# One message for an unknown e-mail, a wrong password and a disabled account: it must not tell them apart.
SIGN_IN_REFUSED = "Enter a correct e-mail address and password"
LOCKED_TITLE = "Too many sign-in attempts"
TIMEOUT_MESSAGES = {
    "idle": "You were signed out because you had not used the site for {minutes} minutes. "
    "Sign in again to carry on.",
    "expired": "Your session has ended. Sign in again to carry on.",
}
SET_PASSWORD_SESSION_KEY = "kb_set_password_token"  # noqa: S105 (a session key name)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never ``//host``, ``\\\\host`` or a scheme."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/" and drop tabs and newlines, so "/\\evil" or "/\t/evil" would leave the site.
    if "\\" in target or any(ord(c) <= 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/login", "/logout")):
        return None
    return target


def landing_page(user: User) -> str:
    return url_for("editor.index") if user.has_role(UserRole.EDITOR) else url_for("public.home")


def _locked_response(retry_after: int = 60) -> Response:
    """429 with Retry-After, and a page that says how long to wait."""
    retry_after = max(int(retry_after), 1)
    response = make_response(
        render_template(
            "auth/too_many_attempts.html", title=LOCKED_TITLE, minutes=math.ceil(retry_after / 60)
        ),
        429,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_login_rate_limit, methods=["POST"], on_breach=lambda _limit: _locked_response())
def login() -> Response | str | tuple[str, int]:
    """Sign in with e-mail address and password."""
    form = LoginForm(next=request.args.get("next", ""))
    reason = request.args.get("reason", "")
    if form.validate_on_submit():
        result = users.authenticate(form.email.data or "", form.password.data or "")
        if result.outcome is SignIn.LOCKED:
            return _locked_response(result.retry_after)
        if result.outcome is SignIn.SIGNED_IN and result.user is not None:
            if result.user.has_two_factor:
                return two_factor_views.begin(result.user, safe_next(form.next.data))
            return complete_sign_in(result.user, safe_next(form.next.data))
        form.email.errors = [SIGN_IN_REFUSED]
    message = TIMEOUT_MESSAGES.get(reason, "").format(minutes=current_app.config["IDLE_TIMEOUT_MINUTES"])
    return render_template("auth/login.html", form=form, timeout_message=message)


def complete_sign_in(user: User, target: str | None) -> Response:
    """Start a signed-in session for ``user`` whose password (and second factor, if any) passed."""
    # A new session: nothing from before sign-in (an attacker's planted values included) carries over.
    session.clear()
    login_user(user)
    start_session()
    users.record_sign_in(user)
    return redirect(target or landing_page(user), 303)


@bp.post("/logout")
@access(PUBLIC)
def logout() -> Response:
    """Sign out: end every session of this user, so a copy of the old cookie no longer works."""
    if current_user.is_authenticated:
        users.sign_out(current_user._get_current_object())
        logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("public.home"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@access(UserRole.STAFF.value)
def change_password() -> Response | str:
    """Change your own password (forced on first sign-in with a temporary password)."""
    form = ChangePasswordForm()
    user: User = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            users.change_password(user, form.current_password.data or "", form.new_password.data or "")
        except PasswordPolicyError as exc:
            form.new_password.errors = [str(exc).rstrip(".")]
        except AccountError as exc:
            form.current_password.errors = [str(exc).rstrip(".")]
        else:
            # Other sessions ended with the token rotation; this one carries on under the new token.
            session.clear()
            login_user(user)
            start_session()
            flash("Your password has been changed.", "success")
            return redirect(landing_page(user), 303)
    return render_template("auth/change_password.html", form=form, forced=user.must_change_password)


@bp.get("/account/set-password/<token>")
@no_referrer
@access(PUBLIC)
def set_password_link(token: str) -> Response:
    """Open a one-time set-password link: keep the token in the session and drop it from the address."""
    session[SET_PASSWORD_SESSION_KEY] = token[:200]
    return redirect(url_for("auth.set_password"), 303)


@bp.route("/account/set-password", methods=["GET", "POST"])
@no_referrer
@access(PUBLIC)
def set_password() -> Response | str | tuple[str, int]:
    """Choose a password through a one-time link."""
    token = session.get(SET_PASSWORD_SESSION_KEY, "")
    user = users.user_for_set_password_token(token)
    if user is None:
        session.pop(SET_PASSWORD_SESSION_KEY, None)
        return render_template("auth/set_password_expired.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            users.set_password_with_token(token, form.new_password.data or "")
        except AccountError as exc:
            form.new_password.errors = [str(exc).rstrip(".")]
        else:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your password has been set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"), 303)
    return render_template("auth/set_password.html", form=form, email=user.email)
