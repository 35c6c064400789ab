"""How the application talks to its database: per-connection settings and the faults it can report.

SQLite is the embedded default. Every connection switches foreign keys on (so ``ON DELETE CASCADE`` and
``SET NULL`` hold, as they do on PostgreSQL), uses write-ahead logging (readers never wait for a writer)
and waits ``DATABASE_BUSY_TIMEOUT`` seconds for a lock before giving up. On PostgreSQL the same setting is
the ``lock_timeout`` of every connection.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from kb.extensions import db


class DatabaseBusy(RuntimeError):
    """The database is locked or cannot be reached just now; what the user sent was not saved."""


def is_busy_error(exc: BaseException) -> bool:
    """True for a database that is locked, unreachable or dropped the connection (worth retrying later)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def configure_postgres(engine: Engine, busy_timeout: float) -> None:
    """Make every PostgreSQL connection give up waiting for a lock after ``busy_timeout`` seconds.

    Without it a save behind another transaction's row lock would wait forever; with it the wait ends
    in an OperationalError, which the article service reports as ``DatabaseBusy`` (503, text kept).
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET lock_timeout = {int(busy_timeout * 1000)}")
        finally:
            cursor.close()
        dbapi_connection.commit()


def configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """Switch foreign keys and WAL on for every new connection of a SQLite ``engine``."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()


def init_app(app: Flask) -> None:
    app.config.setdefault("DATABASE_BUSY_TIMEOUT", 5.0)
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite(engine, float(app.config["DATABASE_BUSY_TIMEOUT"]))
            configure_postgres(engine, float(app.config["DATABASE_BUSY_TIMEOUT"]))
