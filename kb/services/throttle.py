"""Sign-in throttling that cannot be turned against the people it protects.

Failures are counted twice, in the database so every server process (and node) sees the same counts:

- per (account, address) pair: the first ``LOGIN_PAIR_FREE_ATTEMPTS`` failures cost nothing; each one after
  that makes the pair wait, doubling from ``LOGIN_PAIR_BACKOFF_SECONDS`` up to
  ``LOGIN_PAIR_BACKOFF_MAX_SECONDS``. Someone guessing from one address slows only themselves: the owner,
  signing in from anywhere else, is not held up.
- per account, whatever the address: ``LOGIN_ACCOUNT_MAX_FAILURES`` failures within
  ``LOGIN_ACCOUNT_WINDOW_MINUTES`` pause the account until that window ends. The ceiling is far above what
  one address can reach inside a window under its own back-off, so only a wide, many-address attack
  reaches it, and then pausing the account is the right answer.

The same counters guard passwords (factor ``password``) and second-factor codes (factor ``code``). An
e-mail with no account is counted exactly like one with an account, so the throttle tells nobody which
addresses have accounts. Keys are HMACs (keyed with the secret key) of the e-mail and client address, so
the table holds neither.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from kb.extensions import db
from kb.models import SignInThrottle, utcnow

PASSWORD = "password"  # noqa: S105 (a factor's name)
CODE = "code"


def _setting(name: str) -> int:
    return int(current_app.config[name])


def _digest(*parts: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()[:64]


def _keys(factor: str, account: str, address: str) -> tuple[str, str]:
    account = account.strip().lower()
    return f"{factor}:pair:{_digest(account, address)}", f"{factor}:account:{_digest(account)}"


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    if moment is None or moment <= now:
        return 0
    return max(1, math.ceil((moment - now).total_seconds()))


def wait_seconds(factor: str, account: str, address: str) -> int:
    """How long this account must wait before trying again from this address (0: it may try now)."""
    now = utcnow()
    pair_key, account_key = _keys(factor, account, address)
    waits = [0]
    for key in (pair_key, account_key):
        row = db.session.get(SignInThrottle, key, populate_existing=True)
        if row is not None:
            waits.append(_seconds_until(row.blocked_until, now))
    return max(waits)


def _row(key: str, now: datetime) -> SignInThrottle:
    """The counter for ``key``, created if missing (by this process or, in a race, another)."""
    row = db.session.get(SignInThrottle, key, populate_existing=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    SignInThrottle(key=key, failures=0, window_started_at=now, last_failure_at=now)
                )
        except IntegrityError:
            pass
        row = db.session.get(SignInThrottle, key, populate_existing=True)
    return row


def _count(key: str, now: datetime, *, forget_before: datetime, restart: bool) -> SignInThrottle:
    """Add one failure to ``key`` in the database (an UPDATE, so concurrent processes never lose one).

    Counts whose last failure is before ``forget_before`` (pairs) or whose window began before it
    (accounts, ``restart``) start again from zero.
    """
    _row(key, now)
    column = SignInThrottle.window_started_at if restart else SignInThrottle.last_failure_at
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key, column < forget_before)
        .values(failures=0, window_started_at=now, blocked_until=None)
    )
    db.session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key)
        .values(failures=SignInThrottle.failures + 1, last_failure_at=now)
    )
    return db.session.get(SignInThrottle, key, populate_existing=True)


def pair_backoff_seconds(failures: int) -> int:
    """The wait after the pair's ``failures``-th failure in a row: none at first, then doubling."""
    free = _setting("LOGIN_PAIR_FREE_ATTEMPTS")
    if failures < free:
        return 0
    base = _setting("LOGIN_PAIR_BACKOFF_SECONDS")
    return min(base * 2 ** min(failures - free, 30), _setting("LOGIN_PAIR_BACKOFF_MAX_SECONDS"))


def record_failure(factor: str, account: str, address: str) -> int:
    """Count a failed attempt; return how long the pair must now wait (0: it may try again at once).

    The caller commits, with the audit event that goes with the failure.
    """
    now = utcnow()
    pair_key, account_key = _keys(factor, account, address)
    window = timedelta(minutes=_setting("LOGIN_ACCOUNT_WINDOW_MINUTES"))
    pair = _count(pair_key, now, forget_before=now - window, restart=False)
    backoff = pair_backoff_seconds(pair.failures)
    if backoff:
        pair.blocked_until = now + timedelta(seconds=backoff)
    whole = _count(account_key, now, forget_before=now - window, restart=True)
    if whole.failures >= _setting("LOGIN_ACCOUNT_MAX_FAILURES"):
        whole.blocked_until = whole.window_started_at + window
    db.session.flush()
    return max(_seconds_until(pair.blocked_until, now), _seconds_until(whole.blocked_until, now))


def record_success(factor: str, account: str, address: str) -> None:
    """Forget the pair's failures after a correct attempt; the account's count is left alone."""
    pair_key, _ = _keys(factor, account, address)
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.key == pair_key))


def forget_old(now: datetime | None = None) -> int:
    """Delete counters nobody has failed on for a day; return how many went."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=_setting("LOGIN_ACCOUNT_WINDOW_MINUTES")) - timedelta(days=1)
    result = db.session.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at < cutoff))
    return result.rowcount or 0
