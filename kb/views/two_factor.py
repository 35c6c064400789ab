"""Second factor: the code asked after the password (``/login/code``) and one's own set-up
(``/account/two-factor...``)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, session, url_for
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from kb.access import PUBLIC, access
from kb.auth_session import now, start_session
from kb.forms import ActionForm, TwoFactorCodeForm
from kb.models import User, UserRole
from kb.services import two_factor
from kb.services.users import AccountError, SignIn

bp = Blueprint("two_factor", __name__)

PENDING = "kb_2fa_pending"  # {"id": "<user id>:<session token>", "at": epoch seconds, "next": path}
NEW_SECRET = "kb_2fa_new_secret"  # noqa: S105 (a session key name)
CODE_REFUSED = "Enter a correct code from your authenticator app, or an unused recovery code"


def begin(user: User, target: str | None) -> Response:
    """The password passed: remember who, not signed in yet, and ask for the code."""
    session.clear()
    session[PENDING] = {"id": user.get_id(), "at": now(), "next": target or ""}
    return redirect(url_for("two_factor.code"), 303)


def _pending_user() -> tuple[User | None, str]:
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None, ""
    limit = float(current_app.config["TWO_FACTOR_PENDING_MINUTES"]) * 60
    at = pending.get("at")
    if not isinstance(at, int | float) or now() - at > limit:
        return None, ""
    from kb.auth_session import load_user

    return load_user(str(pending.get("id", ""))), str(pending.get("next") or "")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login/code", methods=["GET", "POST"])
@access(PUBLIC)
def code() -> Response | str:
    """Ask for the second factor after the password; the session is signed in only once it passes."""
    from kb.views.auth import _locked_response, complete_sign_in

    user, target = _pending_user()
    if user is None or not user.has_two_factor:
        session.pop(PENDING, None)
        flash("Sign in again to carry on.", "info")
        return redirect(url_for("auth.login"), 303)
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        result = two_factor.check(user, form.code.data or "")
        if result.outcome is SignIn.LOCKED:
            return _locked_response(result.retry_after)
        if result.outcome is SignIn.SIGNED_IN:
            return complete_sign_in(user, target)
        form.code.errors = [CODE_REFUSED]
    return _no_store(make_response(render_template("auth/two_factor_code.html", form=form)))


def _me() -> User:
    return current_user._get_current_object()


def _show_recovery_codes(codes: list[str]) -> Response:
    response = make_response(render_template("auth/recovery_codes.html", codes=codes))
    response.headers["Referrer-Policy"] = "no-referrer"
    return _no_store(response)


@bp.get("/account/two-factor")
@access(UserRole.STAFF.value)
def manage() -> str:
    """Show one's second factor: set it up, make new recovery codes, or turn it off."""
    user = _me()
    return render_template(
        "auth/two_factor.html",
        action_form=ActionForm(),
        required=two_factor.required_for(user),
        unused=two_factor.unused_recovery_codes(user),
    )


@bp.route("/account/two-factor/set-up", methods=["GET", "POST"])
@access(UserRole.STAFF.value)
def set_up() -> Response | str:
    """Set up an authenticator app: a QR code and the secret as text, then one code to confirm."""
    user = _me()
    if user.has_two_factor:
        return redirect(url_for("two_factor.manage"), 303)
    secret = session.get(NEW_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = two_factor.new_secret()
        session[NEW_SECRET] = secret
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        codes = two_factor.enable(user, secret, form.code.data or "")
        if codes is not None:
            # Other sessions ended with the token rotation; this one carries on under the new token.
            session.clear()
            login_user(user)
            start_session()
            return _show_recovery_codes(codes)
        form.code.errors = ["Enter the 6-digit code your authenticator app shows now"]
    uri = two_factor.provisioning_uri(user, secret)
    page = render_template(
        "auth/two_factor_set_up.html",
        form=form,
        qr_code=two_factor.qr_code_svg(uri),
        secret=two_factor.grouped(secret),
        required=two_factor.required_for(user),
    )
    return _no_store(make_response(page))


@bp.post("/account/two-factor/recovery-codes")
@access(UserRole.STAFF.value)
def new_recovery_codes() -> Response:
    """Replace one's recovery codes; the old ones stop working."""
    user = _me()
    if not ActionForm().validate_on_submit() or not user.has_two_factor:
        return redirect(url_for("two_factor.manage"), 303)
    return _show_recovery_codes(two_factor.regenerate_recovery_codes(user))


@bp.post("/account/two-factor/turn-off")
@access(UserRole.STAFF.value)
def turn_off() -> Response:
    """Turn off one's second factor, where the role allows it."""
    user = _me()
    if ActionForm().validate_on_submit() and user.has_two_factor:
        try:
            two_factor.turn_off(user)
        except AccountError as exc:
            flash(str(exc), "error")
        else:
            session.clear()
            login_user(user)
            start_session()
            flash("Two-factor sign-in is off.", "success")
    return redirect(url_for("two_factor.manage"), 303)


def must_set_up(user: User) -> bool:
    """Editors and admins without a second factor, where one is required, may only set it up."""
    return two_factor.required_for(user) and not user.has_two_factor
