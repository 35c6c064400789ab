"""Accounts: creating users, signing in, passwords, roles, and ending sessions."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from kb.extensions import db
from kb.models import PasswordHistory, User, UserRole, utcnow
from kb.services import audit, passwords, throttle

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
MAX_PASSWORD_LENGTH = passwords.MAX_LENGTH


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


class PasswordPolicyError(AccountError):
    """The new password may not be used; the message says why (shown next to the new-password field)."""


def check_password_policy(password: str, *, email: str = "", user: User | None = None) -> None:
    """Apply the password policy (``kb.services.passwords``), and refuse the user's last few passwords.

    :raise PasswordPolicyError: the password may not be used, and the message says why.
    """
    unit_names = current_app.config.get("PASSWORD_UNIT_NAMES", passwords.UNIT_NAMES)
    reason = passwords.problem(password, email=email or (user.email if user else ""), unit_names=unit_names)
    if reason:
        raise PasswordPolicyError(reason)
    if user is not None and _used_before(user, password):
        raise PasswordPolicyError(
            f"You have used this password before: choose one that is not one of your last "
            f"{passwords.HISTORY}."
        )


def _used_before(user: User, password: str) -> bool:
    hashes = [h.password_hash for h in user.password_history[: passwords.HISTORY]]
    if user.password_hash and user.password_hash not in hashes:
        hashes.insert(0, user.password_hash)
    password = passwords.normalise(password)
    return any(check_password_hash(h, password) for h in hashes[: passwords.HISTORY])


def _remember_password(user: User) -> None:
    """Keep the hash of a password the user chose, and only the last few."""
    user.password_history.insert(0, PasswordHistory(password_hash=user.password_hash, created_at=utcnow()))
    del user.password_history[passwords.HISTORY :]


def hash_password(password: str) -> str:
    return generate_password_hash(passwords.normalise(password), method="scrypt")


def password_matches(user: User | None, password: str) -> bool:
    """Check a password in about the same time whether or not the user exists (no account probing)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, passwords.normalise(password))


_DUMMY_HASH = generate_password_hash("not-a-real-password-just-for-timing", method="scrypt")


def new_session_token() -> str:
    return secrets.token_hex(16)


def get_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def get_by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def _check_email(email: str) -> str:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@") or " " in email:
        raise AccountError("Enter an e-mail address in the right format, like name@example.police.uk.")
    return email


def _check_role(role: str) -> None:
    if role not in {r.value for r in UserRole}:
        raise AccountError(f"The role must be one of {', '.join(r.value for r in UserRole)}.")


def create_user(
    email: str,
    role: str,
    password: str | None,
    *,
    by: User | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account. :raise AccountError: bad e-mail, unknown role, weak password or e-mail taken.

    ``password=None`` gives the account a random password nobody knows (the admin's pages then hand out
    a temporary password or a set-password link); a password given here must pass the policy.
    """
    email = _check_email(email)
    _check_role(role)
    chosen = password is not None
    if chosen:
        check_password_policy(password, email=email)
    else:
        password = generate_password()
    if get_by_email(email) is not None:
        raise AccountError("An account with that e-mail address already exists.")
    user = User(
        email=email,
        role=role,
        password_hash=hash_password(password),
        session_token=new_session_token(),
        must_change_password=must_change_password,
    )
    if chosen and not must_change_password:
        _remember_password(user)
    db.session.add(user)
    db.session.flush()
    audit.record("account.create", user=by, actor=by.email if by else "cli", target=email, role=role)
    db.session.commit()
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def generate_password() -> str:
    """A random password for first start and resets: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


# --- Signing in -----------------------------------------------------------------------------------


class SignIn(enum.Enum):
    SIGNED_IN = "signed-in"
    REFUSED = "refused"  # unknown e-mail, wrong password and disabled account look exactly alike
    LOCKED = "locked"  # too many failures in the window: wait, whatever the password


@dataclass
class SignInResult:
    outcome: SignIn
    user: User | None = None
    retry_after: int = 0  # seconds, when LOCKED


def authenticate(email: str, password: str) -> SignInResult:
    """Check a sign-in attempt, throttle failures per (account, address) and per account, and audit it.

    A paused attempt is answered without looking at the password, in about the same time as any other.
    """
    address = audit.client_address()
    email = normalise_email(email)[:254]
    wait = throttle.wait_seconds(throttle.PASSWORD, email, address)
    user = get_by_email(email)
    if wait:
        password_matches(None, password)  # same work as any other attempt
        audit.record("auth.sign_in_throttled", user=user, seconds=wait)
        db.session.commit()
        return SignInResult(SignIn.LOCKED, retry_after=wait)
    if password_matches(user, password) and user is not None and user.active:
        throttle.record_success(throttle.PASSWORD, email, address)
        db.session.commit()
        return SignInResult(SignIn.SIGNED_IN, user)
    wait = throttle.record_failure(throttle.PASSWORD, email, address)
    if user is None:
        # What was typed is not recorded: people sometimes type their password into the e-mail field.
        audit.record("auth.sign_in_failure", reason="no such account")
    else:
        audit.record(
            "auth.sign_in_failure",
            user=user,
            reason="account disabled" if not user.active else "wrong password",
        )
    if wait:
        audit.record("auth.lockout", user=user, seconds=wait)
    db.session.commit()
    return SignInResult(SignIn.LOCKED if wait else SignIn.REFUSED, retry_after=wait)


def record_sign_in(user: User) -> None:
    """Audit a completed sign-in (after the second factor, where there is one)."""
    user.last_login_at = utcnow()
    audit.record("auth.sign_in", user=user)
    db.session.commit()


def end_sessions(user: User) -> None:
    """Rotate the session token so every session of this user (any browser, any cookie copy) ends."""
    user.session_token = new_session_token()


def sign_out(user: User) -> None:
    """End the user's sessions and audit the sign-out."""
    end_sessions(user)
    audit.record("auth.sign_out", user=user)
    db.session.commit()


# --- Passwords ------------------------------------------------------------------------------------


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a user's own password. :raise AccountError: wrong current password or weak new one."""
    if not password_matches(user, current_password):
        raise AccountError("The current password is not right.")
    if new_password == current_password:
        raise PasswordPolicyError("Choose a new password that is different from the current one.")
    _set_password(user, new_password, chosen=True)
    audit.record("account.password_change", user=user, target=user.email)
    db.session.commit()


def _set_password(user: User, password: str, *, chosen: bool) -> None:
    """Set a password: ``chosen`` ones (by the user) pass the policy and join the history; random ones
    made here for temporary passwords and links need neither."""
    if chosen:
        check_password_policy(password, user=user)
    user.password_hash = hash_password(password)
    if chosen:
        _remember_password(user)
    user.must_change_password = False
    user.password_token_hash = None
    user.password_token_expires_at = None
    end_sessions(user)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link_lifetime() -> timedelta:
    hours = current_app.config["SET_PASSWORD_LINK_HOURS"]
    return timedelta(hours=int(hours))


def issue_set_password_token(user: User) -> tuple[str, datetime]:
    """Make a one-time set-password token; only its hash is kept. Returns (token, expiry in UTC)."""
    token = secrets.token_urlsafe(32)
    user.password_token_hash = _token_digest(token)
    user.password_token_expires_at = utcnow() + _link_lifetime()
    return token, user.password_token_expires_at


def user_for_set_password_token(token: str) -> User | None:
    """The active user a set-password token belongs to, or None if it is unknown, used or expired."""
    if not token or len(token) > 200:
        return None
    user = db.session.scalar(select(User).where(User.password_token_hash == _token_digest(token)))
    if user is None or not user.active or user.password_token_expires_at is None:
        return None
    if user.password_token_expires_at < utcnow():
        return None
    return user


def set_password_with_token(token: str, password: str) -> User:
    """Set a password through a one-time link, which then stops working.

    :raise AccountError: the link is unknown, used or expired, or the password is weak.
    """
    user = user_for_set_password_token(token)
    if user is None:
        raise AccountError(
            "This link has expired or has already been used. Ask an administrator for a new one."
        )
    _set_password(user, password, chosen=True)
    audit.record("account.password_set_by_link", user=user, target=user.email)
    db.session.commit()
    return user


# --- Administration -------------------------------------------------------------------------------


class PasswordMethod(enum.StrEnum):
    TEMPORARY = "temporary"  # a random password shown once; the user must change it on first sign-in
    LINK = "link"  # a one-time link to choose a password


@dataclass
class Credentials:
    """What an admin must pass on to the user, shown once and never stored in clear."""

    method: PasswordMethod
    secret: str  # the temporary password, or the set-password token
    expires_at: datetime | None = None


def _give_credentials(user: User, method: PasswordMethod) -> Credentials:
    if method is PasswordMethod.TEMPORARY:
        password = generate_password()
        _set_password(user, password, chosen=False)
        user.must_change_password = True
        return Credentials(method, password)
    # An unguessable password nobody knows until the link is used.
    _set_password(user, secrets.token_urlsafe(32), chosen=False)
    token, expires_at = issue_set_password_token(user)
    return Credentials(method, token, expires_at)


def create_account(email: str, role: str, method: PasswordMethod, *, by: User) -> tuple[User, Credentials]:
    """Create an account for someone else, with a temporary password or a one-time set-password link."""
    method = PasswordMethod(method)
    user = create_user(email, role, None, by=by)
    credentials = _give_credentials(user, method)
    db.session.commit()
    return user, credentials


def reset_password(user: User, method: PasswordMethod, *, by: User) -> Credentials:
    """Replace a user's password with new credentials; their sessions end at once."""
    method = PasswordMethod(method)
    credentials = _give_credentials(user, method)
    audit.record("account.password_reset", user=by, target=user.email, method=method.value)
    db.session.commit()
    return credentials


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(User.role == UserRole.ADMIN.value, User.active.is_(True))
        )
        or 0
    )


def _keep_an_admin(user: User) -> None:
    if user.role == UserRole.ADMIN and user.active and _active_admins() <= 1:
        raise AccountError("This is the only active admin account; make another admin first.")


def change_role(user: User, role: str, *, by: User) -> None:
    """Give a user another role. :raise AccountError: unknown role, or it would leave no active admin."""
    _check_role(role)
    if role == user.role:
        return
    if user.id == by.id:
        raise AccountError("You cannot change your own role; ask another admin.")
    if role != UserRole.ADMIN:
        _keep_an_admin(user)
    old = user.role
    user.role = role
    # A role change takes effect on the next request anyway; ending sessions makes it plain to the user.
    end_sessions(user)
    audit.record("account.role_change", user=by, target=user.email, old=old, new=role)
    db.session.commit()


def set_active(user: User, active: bool, *, by: User) -> None:
    """Disable an account (its sessions end at once) or enable it again."""
    if active == user.active:
        return
    if user.id == by.id:
        raise AccountError("You cannot disable your own account; ask another admin.")
    if not active:
        _keep_an_admin(user)
        end_sessions(user)
    user.active = active
    audit.record("account.enable" if active else "account.disable", user=by, target=user.email)
    db.session.commit()
