"""Accounts and the audit log, for admins only, at ``/admin/...``."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from kb.access import access
from kb.forms import (
    ROLE_HINTS,
    AccountForm,
    ActionForm,
    AuditFilterForm,
    ResetPasswordForm,
    RoleForm,
    as_choices,
)
from kb.models import User, UserRole
from kb.services import audit, two_factor, users
from kb.services.users import AccountError, Credentials, PasswordMethod

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN = UserRole.ADMIN.value
AUDIT_PER_PAGE = 50
MAX_PAGE = 100_000  # beyond any real log; keeps a typed page number from overflowing the SQL offset


def _admin() -> User:
    return current_user._get_current_object()


def _user_or_404(user_id: int) -> User:
    return users.get_by_id(user_id) or abort(404)


def _show_credentials(user: User, credentials: Credentials, *, created: bool) -> Response:
    """Show a new password or set-password link once. Never flashed (the session cookie is readable)
    and never cached."""
    link = None
    if credentials.method is PasswordMethod.LINK:
        link = url_for("auth.set_password_link", token=credentials.secret, _external=True)
    response = make_response(
        render_template(
            "admin/credentials.html", account=user, credentials=credentials, link=link, created=created
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/")
@access(ADMIN)
def accounts() -> str:
    """List every account with its role and state."""
    return render_template("admin/accounts.html", accounts=users.list_users())


@bp.route("/accounts/new", methods=["GET", "POST"])
@access(ADMIN)
def new_account() -> Response | str:
    """Create an account with a temporary password or a one-time set-password link."""
    # No role is preselected (GOV.UK radios guidance): an admin must choose, so nobody gets publishing
    # rights because a default went unnoticed.
    form = AccountForm(data={"method": PasswordMethod.LINK.value})
    if form.validate_on_submit():
        try:
            user, credentials = users.create_account(
                form.email.data or "", form.role.data or "", PasswordMethod(form.method.data), by=_admin()
            )
        except AccountError as exc:
            form.email.errors = [*form.email.errors, str(exc).rstrip(".")]
        else:
            return _show_credentials(user, credentials, created=True)
    return render_template("admin/new_account.html", form=form, role_hints=ROLE_HINTS)


@bp.get("/accounts/<int(max=2147483647):user_id>")
@access(ADMIN)
def account(user_id: int) -> str:
    """Show one account: change its role, disable or enable it, reset its password."""
    user = _user_or_404(user_id)
    return render_template(
        "admin/account.html",
        account=user,
        role_form=RoleForm(data={"role": user.role}),
        reset_form=ResetPasswordForm(data={"method": PasswordMethod.LINK.value}),
        action_form=ActionForm(),
        role_hints=ROLE_HINTS,
    )


@bp.post("/accounts/<int(max=2147483647):user_id>/role")
@access(ADMIN)
def change_role(user_id: int) -> Response | str:
    """Give an account another role."""
    user = _user_or_404(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            users.change_role(user, form.role.data or "", by=_admin())
        except AccountError as exc:
            form.role.errors = [str(exc).rstrip(".")]
        else:
            flash(f"{user.email} is now {user.role}. Their open sessions have ended.", "success")
            return redirect(url_for("admin.account", user_id=user.id), 303)
    return render_template(
        "admin/account.html",
        account=user,
        role_form=form,
        reset_form=ResetPasswordForm(data={"method": PasswordMethod.LINK.value}),
        action_form=ActionForm(),
        role_hints=ROLE_HINTS,
    )


def _set_active(user_id: int, active: bool) -> Response:
    user = _user_or_404(user_id)
    try:
        users.set_active(user, active, by=_admin())
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        if active:
            flash(f"{user.email} is enabled and can sign in again.", "success")
        else:
            flash(f"{user.email} is disabled. Their open sessions ended at once.", "success")
    return redirect(url_for("admin.account", user_id=user.id), 303)


@bp.post("/accounts/<int(max=2147483647):user_id>/disable")
@access(ADMIN)
def disable(user_id: int) -> Response:
    """Disable an account; every session it has ends at once."""
    return _set_active(user_id, False)


@bp.post("/accounts/<int(max=2147483647):user_id>/enable")
@access(ADMIN)
def enable(user_id: int) -> Response:
    """Enable a disabled account."""
    return _set_active(user_id, True)


@bp.post("/accounts/<int(max=2147483647):user_id>/reset-password")
@access(ADMIN)
def reset_password(user_id: int) -> Response:
    """Replace an account's password with a temporary one or a one-time link; its sessions end."""
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        flash("Select how they get their new password.", "error")
        return redirect(url_for("admin.account", user_id=user.id), 303)
    credentials = users.reset_password(user, PasswordMethod(form.method.data), by=_admin())
    return _show_credentials(user, credentials, created=False)


@bp.post("/accounts/<int(max=2147483647):user_id>/reset-two-factor")
@access(ADMIN)
def reset_two_factor(user_id: int) -> Response:
    """Remove an account's second factor (a lost phone); its sessions end and it sets one up again."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit() and user.has_two_factor:
        two_factor.reset(user, by=_admin())
        flash(
            f"Two-factor sign-in for {user.email} is reset. They set it up again when they next sign in.",
            "success",
        )
    return redirect(url_for("admin.account", user_id=user.id), 303)


def _audit_filters() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    known = audit.actions()
    families = sorted({a.split(".")[0] + "." for a in known if "." in a})
    form.action.choices = as_choices(
        [
            ("", "All actions"),
            *[(f, f"Everything about {audit.FAMILY_LABELS.get(f, f[:-1])}") for f in families],
            *sorted(((a, audit.label(a)) for a in known), key=lambda pair: pair[1]),
        ]
    )
    form.person.choices = as_choices([("", "Everyone"), *[(p, p) for p in audit.actors()]])
    form.validate()
    return form


def _audit_query(form: AuditFilterForm) -> dict:
    return {
        "action": form.chosen("action") or None,
        "actor": form.chosen("person") or None,
        "since": form.day("since"),
        "until": form.day("until"),
    }


@bp.get("/audit")
@access(ADMIN)
def audit_log() -> str:
    """Read the audit log, newest first, filtered by action, person and date range."""
    form = _audit_filters()
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    query = _audit_query(form)
    events = audit.events(**query, page=page, per_page=AUDIT_PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "admin/audit.html",
        form=form,
        events=events,
        chosen=form.chosen("action"),
        args=args,
        labels=audit.ACTION_LABELS,
        titles=audit.article_titles([e.target for e in events.items if e.action.startswith("article.")]),
    )


@bp.get("/audit.csv")
@access(ADMIN)
def audit_csv() -> Response:
    """Download the filtered audit log as CSV (admins only)."""
    form = _audit_filters()
    response = make_response(audit.csv_text(**_audit_query(form)))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=audit-log.csv"
    response.headers["Cache-Control"] = "no-store"
    return response
