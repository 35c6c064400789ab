"""Configuration defaults and the rules that turn the environment into a working configuration.

Order of precedence (lowest first): these defaults, ``instance/config.py``, ``KB_*`` environment
variables (``app.config.from_prefixed_env("KB")``), then the mapping a test passes to ``create_app``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from kb import hosts

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says why in one line."""


class Defaults:
    ENV = "development"
    INDEX_DIR = str(PROJECT_ROOT / "index")
    CONTENT_DIR = str(Path(__file__).resolve().parent / "content")  # what `kb seed` loads
    DATABASE_URL: str | None = None  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Seconds a SQLite connection waits for another writer's lock before the save is refused as busy.
    DATABASE_BUSY_TIMEOUT = 5.0
    # /readyz answers 503 while this node's search index is more change-log ids behind than this.
    READY_MAX_CHANGES_BEHIND = 50
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Editors and admins are signed out after this many minutes without a request.
    IDLE_TIMEOUT_MINUTES = 30
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session: a long edit must not fail to save
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    SEARCH_PER_PAGE = 10
    # Semantic ranking beside lexical (KB_SEARCH_SEMANTIC=false: lexical only).
    SEARCH_SEMANTIC = True
    # Rate limits (Flask-Limiter); in-memory storage is right for one process, set a shared one for several.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "20 per minute"
    # Articles are due for review this many months after they are published or marked as reviewed.
    REVIEW_INTERVAL_MONTHS = 12
    # What readers look for (kb/services/insights.py): recording on or off, how long raw search events
    # are kept before they are folded into monthly counts, and k, the searches a query needs to be shown.
    SEARCH_INSIGHTS = True
    INSIGHTS_RETENTION_DAYS = 90
    INSIGHTS_MIN_COUNT = 5
    FEEDBACK_RATE_LIMIT = "10 per hour"
    # Sign-in throttling (kb/services/throttle.py), counted in the database: per (account, address) pair
    # the first few failures are free, then each costs a doubling wait; per account a high ceiling.
    LOGIN_PAIR_FREE_ATTEMPTS = 5
    LOGIN_PAIR_BACKOFF_SECONDS = 30
    LOGIN_PAIR_BACKOFF_MAX_SECONDS = 900
    LOGIN_ACCOUNT_MAX_FAILURES = 100
    LOGIN_ACCOUNT_WINDOW_MINUTES = 60
    # Anonymous searches per address (Flask-Limiter syntax); signed-in users are not limited.
    SEARCH_RATE_LIMIT = "120 per minute"
    SUGGEST_RATE_LIMIT = "600 per minute"
    # Words no password may contain: the unit's names (checked with look-alike characters too).
    PASSWORD_UNIT_NAMES = ("SEROCU", "ROCU", "Regional Organised Crime Unit", "Organised Crime")
    # A second factor for editors and admins: None means "on in production, off elsewhere".
    REQUIRE_2FA: bool | None = None
    TWO_FACTOR_ISSUER = "SEROCU Knowledge Base"
    TWO_FACTOR_PENDING_MINUTES = 5  # time allowed between the password and the code
    SET_PASSWORD_LINK_HOURS = 72
    # Absolute URLs and trusted hosts (kb/hosts.py). PREFERRED_URL_SCHEME None: https in production.
    SERVER_NAME: str | None = None
    PREFERRED_URL_SCHEME: str | None = None
    TRUSTED_HOSTS: list[str] | str | None = None
    PROXY_FIX: int | str | None = None
    # Browser security headers (kb/security.py). HSTS is sent in production only; "" turns it off.
    HSTS = "max-age=31536000"


def instance_path_from_env() -> str:
    """Return the absolute instance folder: ``KB_INSTANCE_PATH`` or ``./instance`` in the project."""
    return str(Path(os.environ.get("KB_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve())


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the secret key kept in the instance folder, creating it (mode 0600) on first use."""
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        key = secrets.token_hex(32)
        handle.write(key)
    return key


def finalise(config: dict, instance_path: str) -> None:
    """Fill in derived settings and refuse configurations that are unsafe to run.

    :raise ConfigurationError: production without an explicit secret key or server name; a malformed
        ``KB_PROXY_FIX`` or ``KB_TRUSTED_HOSTS``.
    """
    production = config.get("ENV") == "production"
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigurationError(
                "KB_ENV=production needs an explicit KB_SECRET_KEY; refusing to start without one."
            )
        config["SECRET_KEY"] = load_or_create_secret_key(instance_path)
    if config.get("REQUIRE_2FA") is None:
        config["REQUIRE_2FA"] = production
    elif isinstance(config["REQUIRE_2FA"], str):
        config["REQUIRE_2FA"] = config["REQUIRE_2FA"].strip().lower() in ("1", "true", "yes", "on")
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    if not config.get("PREFERRED_URL_SCHEME"):
        config["PREFERRED_URL_SCHEME"] = "https" if production else "http"
    try:
        config["TRUSTED_HOSTS"] = hosts.trusted_hosts(config, production=production)
        config["PROXY_FIX_COUNTS"] = hosts.proxy_fix_counts(config.get("PROXY_FIX"))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    database_url = config.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'kb.sqlite3'}"
    config.setdefault("SQLALCHEMY_DATABASE_URI", database_url)
    config["INDEX_DIR"] = str(Path(config["INDEX_DIR"]).resolve())
