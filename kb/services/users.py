"""Accounts: creating users, checking and changing passwords."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from kb.extensions import db
from kb.models import User, UserRole
from kb.services import audit

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # scrypt of a megabyte-long "password" is a cheap denial of service


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_policy(password: str) -> None:
    """:raise AccountError: the password is too short or too long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(user: User | None, password: str) -> bool:
    """Check a password in about the same time whether or not the user exists (no account probing)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


_DUMMY_HASH = generate_password_hash("not-a-real-password-just-for-timing", method="scrypt")


def new_session_token() -> str:
    return secrets.token_hex(16)


def get_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    role: str,
    password: str,
    *,
    by: User | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account. :raise AccountError: bad e-mail, unknown role, weak password or e-mail taken."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError("Enter an e-mail address in the right format, like name@example.police.uk.")
    if role not in {r.value for r in UserRole}:
        raise AccountError(f"The role must be one of {', '.join(r.value for r in UserRole)}.")
    check_password_policy(password)
    if get_by_email(email) is not None:
        raise AccountError("An account with that e-mail address already exists.")
    user = User(
        email=email,
        role=role,
        password_hash=hash_password(password),
        session_token=new_session_token(),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("account.create", user=by, actor=by.email if by else "cli", target=email, role=role)
    db.session.commit()
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def generate_password() -> str:
    """A random password for first start and resets: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)
