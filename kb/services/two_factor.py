"""Second factor: time-based one-time codes (TOTP, RFC 6238, with pyotp) and one-time recovery codes.

- A code is accepted for the current 30-second step or one either side (clock drift), and only for a
  step later than the last one accepted, so a code seen over someone's shoulder cannot be used again.
- Ten recovery codes are made at enrolment and shown once; only their SHA-256 is kept (they are random
  and long, so a slow hash adds nothing), and each works once.
- Wrong codes are throttled like passwords (``kb.services.throttle``, factor ``code``).
- Required for editors and admins when ``REQUIRE_2FA`` is on (by default in production); optional for staff.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from flask import current_app
from sqlalchemy import select

from kb.extensions import db
from kb.models import RecoveryCode, User, UserRole, utcnow
from kb.services import audit, throttle, users
from kb.services.users import SignIn, SignInResult

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand
_RECOVERY_LENGTH = 10  # about 49 bits each


def now() -> float:
    """Seconds since the epoch; one seam for tests that need a later time-step."""
    return time.time()


def required_for(user: User) -> bool:
    """Whether ``user`` must have a second factor: editors and admins, when ``REQUIRE_2FA`` is on."""
    return bool(current_app.config.get("REQUIRE_2FA")) and user.has_role(UserRole.EDITOR)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"]
    )


def qr_code_svg(uri: str) -> str:
    """The enrolment QR code as an SVG element, made here (no outside service ever sees the secret)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        scale=5,
        border=4,
        svgclass="qr-code",
        lineclass=None,
        title="QR code for your authenticator app",
    )
    return out.getvalue().decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str) -> int | None:
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int(now() // totp.interval)
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _accept_code(user: User, secret: str, code: str) -> bool:
    step = _matching_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def _normalise_recovery_code(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    for old in list(user.recovery_codes):
        user.recovery_codes.remove(old)
    db.session.flush()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        user.recovery_codes.append(RecoveryCode(code_hash=_digest(raw)))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _use_recovery_code(user: User, code: str) -> bool:
    if len(code) > 64 or not _normalise_recovery_code(code):
        return False
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def unused_recovery_codes(user: User) -> int:
    return sum(1 for c in user.recovery_codes if c.used_at is None)


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn on the second factor once the user proves their app has ``secret``; return the recovery codes
    (to show once), or None if the code is wrong. Every other session of the user ends."""
    if not _accept_code(user, secret, code):
        return None
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    users.end_sessions(user)
    audit.record("account.2fa_enable", user=user, target=user.email)
    db.session.commit()
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """Replace the recovery codes (the old ones stop working); return the new ones to show once."""
    codes = _new_recovery_codes(user)
    audit.record("account.2fa_recovery_codes", user=user, target=user.email)
    db.session.commit()
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    for old in list(user.recovery_codes):
        user.recovery_codes.remove(old)
    users.end_sessions(user)


def turn_off(user: User) -> None:
    """Turn off one's own second factor. :raise AccountError: it is required for this role."""
    if required_for(user):
        raise users.AccountError("Your role needs a second factor, so it cannot be turned off.")
    _clear(user)
    audit.record("account.2fa_disable", user=user, target=user.email)
    db.session.commit()


def reset(user: User, *, by: User) -> None:
    """An admin removes a user's second factor (lost phone); they set it up again at next sign-in."""
    _clear(user)
    audit.record("account.2fa_reset", user=by, target=user.email)
    db.session.commit()


def check(user: User, code: str) -> SignInResult:
    """Check the code asked after the password: an app code or a recovery code, throttled like passwords."""
    address = audit.client_address()
    wait = throttle.wait_seconds(throttle.CODE, user.email, address)
    if wait:
        audit.record("auth.second_factor_throttled", user=user, seconds=wait)
        db.session.commit()
        return SignInResult(SignIn.LOCKED, retry_after=wait)
    code = (code or "").strip()
    digits = code.replace(" ", "")
    # Six digits are an app code; anything else (a recovery code may be all digits) is a recovery code.
    method = "app" if len(digits) == 6 and digits.isdigit() else "recovery code"
    if method == "app":
        ok = user.totp_secret is not None and _accept_code(user, user.totp_secret, code)
    else:
        ok = _use_recovery_code(user, code)
    if ok:
        throttle.record_success(throttle.CODE, user.email, address)
        audit.record("auth.second_factor", user=user, method=method)
        if method == "recovery code":
            audit.record("auth.recovery_code_used", user=user, left=unused_recovery_codes(user))
        db.session.commit()
        return SignInResult(SignIn.SIGNED_IN, user)
    wait = throttle.record_failure(throttle.CODE, user.email, address)
    audit.record("auth.second_factor_failure", user=user, method=method)
    db.session.commit()
    return SignInResult(SignIn.LOCKED if wait else SignIn.REFUSED, retry_after=wait)
