"""Is this instance ready, and if not, what should the operator do? One line each, naming the setting.

Used by the ``kb`` commands (``kb.cli``) before they run and when they fail, and by ``wsgi.py`` when the
app cannot even be created. ``explain`` turns the exceptions that an unprepared or misconfigured instance
raises (no tables, an unreachable or locked database, a folder that cannot be written) into an
``InstanceProblem`` whose message is one line; anything it does not recognise is left alone.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

UPGRADE = "flask --app wsgi db upgrade"
BOOTSTRAP = "flask --app wsgi kb bootstrap"


class InstanceProblem(Exception):
    """The instance is not ready for a command; the message is one line saying what to do."""


def debugging() -> bool:
    """True when the operator asked for tracebacks (``FLASK_DEBUG=1``, which ``flask --debug`` sets)."""
    return os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true", "yes", "on"}


# --- Checks -----------------------------------------------------------------------------------------


def _alembic_config():
    return current_app.extensions["migrate"].migrate.get_config()


def database_revisions() -> tuple[set[str], set[str], bool]:
    """The database's migration revisions, the latest ones this version has, and whether it has tables.

    :raise InstanceProblem: the database cannot be reached.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from kb.extensions import db

    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
            has_tables = bool(inspect(connection).get_table_names())
    except Exception as exc:
        problem = explain(exc)
        if problem is None:
            raise
        raise problem from exc
    return current, heads, has_tables


def database_state() -> tuple[str, str]:
    """``("current" | "empty" | "behind" | "unknown", one line describing it)``."""
    current, heads, has_tables = database_revisions()
    if current == heads:
        return "current", "at the latest migration"
    if not current:
        if has_tables:
            return "behind", "the database has tables but no migration record"
        return "empty", "the database has no tables yet"
    from alembic.script import ScriptDirectory

    known = {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
    if not current <= known:
        return "unknown", (
            f"the database is at migration {', '.join(sorted(current))}, which this version of the "
            "application does not know (it is newer, or KB_DATABASE_URL names another application's database)"
        )
    return "behind", (
        f"the database is at migration {', '.join(sorted(current))}, behind the latest "
        f"({', '.join(sorted(heads))})"
    )


def check_database() -> None:
    """Stop unless the database is reachable and at the latest migration.

    :raise InstanceProblem: with the command to run.
    """
    state, description = database_state()
    if state == "current":
        return
    if state == "unknown":
        raise InstanceProblem(f"{description}; check KB_DATABASE_URL.")
    raise InstanceProblem(
        f"{description} ({_where()}): run `{UPGRADE}` (or `{BOOTSTRAP}`, which also loads the content)."
    )


def migrate_if_needed() -> str | None:
    """Bring the database to the latest migration; a sentence saying what was done, or None.

    :raise InstanceProblem: the database is unreachable or at a migration this version does not know.
    """
    state, description = database_state()
    if state == "current":
        return None
    if state == "unknown":
        raise InstanceProblem(f"{description}; check KB_DATABASE_URL.")
    from flask_migrate import upgrade

    upgrade()
    return f"{description}; migrated it to the latest ({_where()})"


def check_index_folder(index_dir: Path) -> None:
    """Stop unless files can be created in the index folder (made if missing).

    A real write, not ``os.access``: that answers yes to root on a read-only file system.

    :raise InstanceProblem: naming KB_INDEX_DIR.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=index_dir, prefix=".kb-write-check-"):
            pass
    except OSError as exc:
        raise InstanceProblem(
            f"the search index folder {index_dir} cannot be written ({_reason(exc)}): "
            "check KB_INDEX_DIR and the folder's permissions."
        ) from exc


def check_content_folder(content_dir: Path) -> None:
    """Stop unless the content folder holds the taxonomy and the articles.

    :raise InstanceProblem: naming KB_CONTENT_DIR.
    """
    missing = [name for name in ("taxonomy.yml", "articles") if not (content_dir / name).exists()]
    if missing:
        what = "is missing" if not content_dir.is_dir() else f"has no {' or '.join(missing)}"
        raise InstanceProblem(
            f"the content folder {content_dir} {what}: check KB_CONTENT_DIR "
            "(the shipped content is kb/content/)."
        )


# --- Explaining failures ----------------------------------------------------------------------------


def _where() -> str:
    """The database, as an operator would recognise it, without a password."""
    try:
        url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    except Exception:  # an unparseable URL has already been explained
        return "KB_DATABASE_URL"
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database or 'in memory'}"
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0]


def _inside(path: str | os.PathLike | None, folder: str | None) -> bool:
    if not path or not folder:
        return False
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError):
        return False


def explain(exc: BaseException) -> InstanceProblem | None:
    """One line for a failure an unprepared or misconfigured instance causes; None if not one of those."""
    if isinstance(exc, InstanceProblem):
        return exc
    config = _config()
    if isinstance(exc, sa_exc.OperationalError):
        reason = _reason(exc)
        lowered = reason.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            return InstanceProblem(
                f"the database has no tables yet ({_where()}): run `{UPGRADE}` (or `{BOOTSTRAP}`)."
            )
        if "locked" in lowered or "busy" in lowered:
            return InstanceProblem(
                f"the database is locked by another process ({_where()}): wait for it to finish and try "
                "again, or check KB_DATABASE_URL."
            )
        if "unable to open database file" in lowered:
            return InstanceProblem(
                f"cannot open the database ({_where()}): check KB_DATABASE_URL, or that KB_INSTANCE_PATH "
                "exists and can be written."
            )
        return InstanceProblem(
            f"cannot reach the database {_where()} ({reason}): check KB_DATABASE_URL and that the "
            "database server is running."
        )
    if isinstance(exc, (sa_exc.ProgrammingError, sa_exc.InternalError)) and "does not exist" in _reason(exc):
        return InstanceProblem(
            f"the database has no tables yet ({_where()}): run `{UPGRADE}` (or `{BOOTSTRAP}`)."
        )
    if isinstance(exc, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return InstanceProblem(f"KB_DATABASE_URL is not a database URL this application can use ({exc}).")
    if isinstance(exc, ModuleNotFoundError) and exc.name and _is_database_driver(exc.name):
        return InstanceProblem(
            f"KB_DATABASE_URL needs the database driver {exc.name!r}, which is not installed: install it "
            f"in the application's environment (e.g. `.venv/bin/pip install {_driver_package(exc.name)}`)."
        )
    if isinstance(exc, OSError):
        filename = exc.filename
        if _inside(filename, config.get("INDEX_DIR")) or _inside(config.get("INDEX_DIR"), filename):
            return InstanceProblem(
                f"the search index folder {config.get('INDEX_DIR')} cannot be written ({_reason(exc)}): "
                "check KB_INDEX_DIR and the folder's permissions."
            )
        if _inside(filename, config.get("CONTENT_DIR")):
            return InstanceProblem(
                f"cannot read the content folder {config.get('CONTENT_DIR')} ({_reason(exc)}: {filename}): "
                "check KB_CONTENT_DIR."
            )
        if _inside(filename, config.get("INSTANCE_PATH")) or _inside(config.get("INSTANCE_PATH"), filename):
            return InstanceProblem(
                f"the instance folder {config.get('INSTANCE_PATH')} cannot be used ({_reason(exc)}): "
                "check KB_INSTANCE_PATH and the folder's permissions."
            )
        if exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.ENOENT, errno.ENOTDIR}:
            return InstanceProblem(f"{_reason(exc)}: {filename or exc}.")
    return None


def _config() -> dict:
    try:
        return {**current_app.config, "INSTANCE_PATH": current_app.instance_path}
    except RuntimeError:  # outside an app (wsgi.py, while the app is being created)
        return {
            "INDEX_DIR": os.environ.get("KB_INDEX_DIR"),
            "INSTANCE_PATH": os.environ.get("KB_INSTANCE_PATH"),
            "CONTENT_DIR": os.environ.get("KB_CONTENT_DIR"),
        }


_DRIVERS = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "pg8000": "pg8000",
    "pymysql": "pymysql",
}


def _is_database_driver(module: str) -> bool:
    return module.split(".")[0] in _DRIVERS or module.split(".")[0] in {"MySQLdb", "asyncpg", "oracledb"}


def _driver_package(module: str) -> str:
    return _DRIVERS.get(module.split(".")[0], module.split(".")[0])
