"""The `kb` commands on an unprepared or misconfigured instance: one line of guidance, an exit code, and
never a traceback (unless asked for with --debug or FLASK_DEBUG=1).

Each command runs against an empty database, one a migration behind, an unreachable PostgreSQL URL (the
real ``flask --app wsgi`` entry point, in subprocesses), a locked SQLite file, an index folder that cannot
be written and a missing content folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade

from kb.extensions import db
from kb.services.transfer import FORMAT, FORMAT_VERSION
from tests import databases
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent


def commands(tmp_path: Path) -> dict[str, tuple[list[str], str | None]]:
    """Every kb command with arguments that would succeed on a ready instance, and its input."""
    export = tmp_path / "export.json"
    importable = tmp_path / "import.json"
    importable.write_text(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "articles": []}))
    return {
        "seed": (["kb", "seed"], None),
        "bootstrap": (["kb", "bootstrap"], None),
        "reindex": (["kb", "reindex"], None),
        "reindex --repair": (["kb", "reindex", "--repair"], None),
        "create-user": (
            ["kb", "create-user", "--email", "new@example.police.uk", "--role", "staff", "--password-stdin"],
            "a long enough password\n",
        ),
        "export": (["kb", "export", str(export)], None),
        "import": (["kb", "import", str(importable)], None),
    }


MIGRATE_THEMSELVES = {"seed", "bootstrap"}
WRITE_THE_INDEX = {"seed", "bootstrap", "reindex", "reindex --repair", "import"}
NAMES = ["seed", "bootstrap", "reindex", "reindex --repair", "create-user", "export", "import"]


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def said(output: str) -> str:
    """The command's own line about the database (Alembic also logs each migration it runs)."""
    return next((line for line in lines(output) if line.startswith("Database:")), "")


def assert_one_line_of_guidance(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    output = lines(result.output)
    assert len(output) == 1, output
    for needle in needles:
        assert needle in output[0], output[0]


@pytest.fixture
def bare_app(tmp_path):
    """An app on a fresh instance folder whose database has no tables at all."""
    app = make_app(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("name", NAMES)
def test_on_an_empty_database(bare_app, tmp_path, name):
    args, stdin = commands(tmp_path)[name]
    result = bare_app.test_cli_runner().invoke(args=args, input=stdin)
    if name in MIGRATE_THEMSELVES:
        assert result.exit_code == 0, result.output
        assert "Database: the database has no tables yet; migrated it" in said(result.output)
    else:
        assert_one_line_of_guidance(result, "no tables yet", "flask --app wsgi db upgrade", "kb bootstrap")


@pytest.mark.parametrize("name", NAMES)
def test_on_a_database_one_migration_behind(bare_app, tmp_path, name):
    upgrade()
    downgrade(revision="-1")
    args, stdin = commands(tmp_path)[name]
    result = bare_app.test_cli_runner().invoke(args=args, input=stdin)
    if name in MIGRATE_THEMSELVES:
        assert result.exit_code == 0, result.output
        assert "behind the latest" in said(result.output) and "migrated it" in said(result.output)
    else:
        assert_one_line_of_guidance(result, "behind the latest", "flask --app wsgi db upgrade")


def test_a_ready_instance_runs_every_command(empty_app, tmp_path):
    runner = empty_app.test_cli_runner()
    for name, (args, stdin) in commands(tmp_path).items():
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code == 0, (name, result.output)
        assert not result.output.startswith("Database:"), (name, result.output)


def test_an_unreachable_postgresql_database(tmp_path):
    """Through the real entry point: with or without a PostgreSQL driver installed, one line each."""
    env = {
        **os.environ,
        "KB_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x",
        "KB_INSTANCE_PATH": str(tmp_path / "instance"),
        "KB_INDEX_DIR": str(tmp_path / "index"),
        "KB_SECRET_KEY": "test",
        "FLASK_DEBUG": "0",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    running = {
        name: subprocess.Popen(
            [*flask, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, (args, _stdin) in commands(tmp_path).items()
    }
    for name, process in running.items():
        output, _ = process.communicate(commands(tmp_path)[name][1], timeout=120)
        assert process.returncode == 1, (name, output)
        assert "Traceback" not in output, (name, output)
        assert len(lines(output)) == 1, (name, output)
        assert "KB_DATABASE_URL" in output, (name, output)


@pytest.fixture
def unwritable_index(tmp_path, request):
    """An index folder no process can write: below a plain file, or (not as root) a read-only folder."""
    if request.param == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders; the other case covers it")
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder / "index"
        folder.chmod(0o755)
    else:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        yield blocker / "index"


@pytest.mark.parametrize("unwritable_index", ["below a file", "read-only folder"], indirect=True)
@pytest.mark.parametrize("name", NAMES)
def test_an_index_folder_that_cannot_be_written(seeded_instance, tmp_path, unwritable_index, name):
    import shutil

    instance = tmp_path / "instance"
    shutil.copytree(seeded_instance, instance)
    app = make_app(instance, INDEX_DIR=str(unwritable_index))
    with app.app_context():
        args, stdin = commands(tmp_path)[name]
        result = app.test_cli_runner().invoke(args=args, input=stdin)
        if name in WRITE_THE_INDEX:
            assert_one_line_of_guidance(result, "search index folder", "KB_INDEX_DIR")
        else:
            assert result.exit_code == 0, result.output
        db.engine.dispose()


@pytest.mark.skipif(databases.using_postgres(), reason="a SQLite file lock; PostgreSQL has no such file")
def test_a_locked_sqlite_database(empty_app, tmp_path):
    app = make_app(
        Path(empty_app.instance_path), SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 0.1}}
    )
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with app.app_context():
            args, stdin = commands(tmp_path)["create-user"]
            result = app.test_cli_runner().invoke(args=args, input=stdin)
            assert_one_line_of_guidance(result, "locked by another process", "KB_DATABASE_URL")
            db.engine.dispose()
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize("name", ["seed", "bootstrap"])
def test_a_missing_content_folder(empty_app, tmp_path, name):
    empty_app.config["CONTENT_DIR"] = str(tmp_path / "no-content")
    result = empty_app.test_cli_runner().invoke(args=commands(tmp_path)[name][0])
    assert_one_line_of_guidance(result, "content folder", "is missing", "KB_CONTENT_DIR")


def test_debug_shows_the_traceback(bare_app, tmp_path, monkeypatch):
    args, _ = commands(tmp_path)["export"]
    plain = bare_app.test_cli_runner().invoke(args=args)
    assert plain.exit_code == 1 and isinstance(plain.exception, SystemExit)
    flagged = bare_app.test_cli_runner().invoke(args=["kb", "--debug", *args[1:]])
    assert flagged.exit_code == 1 and "no tables yet" in str(flagged.exception)
    assert not isinstance(flagged.exception, SystemExit)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    from_env = bare_app.test_cli_runner().invoke(args=args)
    assert not isinstance(from_env.exception, SystemExit) and "no tables yet" in str(from_env.exception)


def test_help_says_what_each_command_needs_and_changes(bare_app, tmp_path):
    runner = bare_app.test_cli_runner()
    group = runner.invoke(args=["kb", "--help"])
    assert group.exit_code == 0
    assert "Exit codes: 0 done; 1 not ready or failed" in group.output
    for name in {args[1] for args, _ in commands(tmp_path).values()}:
        # Help works on a database without tables: it checks nothing.
        result = runner.invoke(args=["kb", name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Needs:" in result.output and "Changes:" in result.output, (name, result.output)
