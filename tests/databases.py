"""Which database the tests run on: SQLite files by default, PostgreSQL when KB_TEST_DATABASE_URL is set.

On SQLite every instance folder holds its own database file, so copying a seeded instance copies its
database. On PostgreSQL the same holds through a marker file in the instance folder naming the instance's
own database: an app made on a folder copied from another gets a new database cloned from the original
(``CREATE DATABASE ... TEMPLATE``, a file-level copy, milliseconds), an app made again on the same folder
reuses its database (a restart), and a folder with no marker gets a new empty database. Every database
made here is dropped when the test session ends.

``KB_TEST_DATABASE_URL`` names a server and an account allowed to create databases, for example
``postgresql+psycopg://postgres@/postgres?host=/tmp/pg`` (a Unix socket, as ``.ci/run`` starts it). With
``KB_REQUIRE_POSTGRES=1`` (as in CI) a missing or unreachable server fails the run instead of falling back.
"""

from __future__ import annotations

import atexit
import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

TEST_DATABASE_URL = os.environ.get("KB_TEST_DATABASE_URL") or None
REQUIRE_POSTGRES = os.environ.get("KB_REQUIRE_POSTGRES") == "1"
MARKER = "test-database"

_created: list[str] = []
_admin_engine = None


def using_postgres() -> bool:
    return TEST_DATABASE_URL is not None


def _admin():
    """An AUTOCOMMIT engine on the server's maintenance database (CREATE/DROP DATABASE cannot run in a
    transaction)."""
    global _admin_engine
    if _admin_engine is None:
        _admin_engine = create_engine(
            make_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0
        )
    return _admin_engine


def check_server() -> str | None:
    """Return why the configured test database cannot be used, or None if it can."""
    if not using_postgres():
        return "KB_REQUIRE_POSTGRES=1 but KB_TEST_DATABASE_URL is not set" if REQUIRE_POSTGRES else None
    try:
        with _admin().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver or network error means the same here: no usable server
        return f"KB_TEST_DATABASE_URL is not usable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def url_for_database(name: str) -> str:
    url: URL = make_url(TEST_DATABASE_URL).set(database=name)
    return url.render_as_string(hide_password=False)


def _create(template: str | None) -> str:
    name = f"kb_test_{uuid.uuid4().hex[:16]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    _created.append(name)
    return name


def database_url_for(instance: Path) -> str:
    """The PostgreSQL database that belongs to ``instance`` (see the module docstring)."""
    marker = instance / MARKER
    owner, _, name = marker.read_text().partition("\n") if marker.exists() else ("", "", "")
    if owner != str(instance):
        name = _create(template=name.strip() or None)
        instance.mkdir(parents=True, exist_ok=True)
        marker.write_text(f"{instance}\n{name}")
    return url_for_database(name.strip())


@atexit.register
def drop_created() -> None:
    if _admin_engine is None:
        return
    with _admin_engine.connect() as conn:
        for name in _created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    _admin_engine.dispose()
