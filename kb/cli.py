"""The ``kb`` command group: ``flask --app wsgi kb --help``.

Commands never answer with a traceback. Every command registered on ``kb_cli`` (now and later) gets, from
``KbGroup``, the checks it declares with ``@requires(...)`` (by default: a database at the latest
migration) before it runs, and every failure turned into one line that names the setting to check, with
exit code 1 (``--debug`` or ``FLASK_DEBUG=1`` shows the traceback instead). The checks and the wording
live in ``kb.instance_checks``, which ``wsgi.py`` also uses for failures while the app is created.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from kb import instance_checks
from kb.instance_checks import InstanceProblem
from kb.models import UserRole
from kb.services import content, reviews, search, transfer, users

GROUP_HELP = """Capability Knowledge Base commands.

\b
Before it runs, every command checks what it needs:
  - the database (KB_DATABASE_URL): reachable, at the latest migration. If it has no
    tables or is behind, the command stops and says what to run; seed and bootstrap
    migrate it themselves and say so;
  - the index folder (KB_INDEX_DIR) is writable, for commands that change the index;
  - the content folder (KB_CONTENT_DIR) exists, for seed and bootstrap.

\b
A problem is reported in one line that names the setting to check; --debug (or
FLASK_DEBUG=1) shows the full traceback instead.

\b
Exit codes: 0 done; 1 not ready or failed (the line says why); 2 wrong usage.
"""

REQUIREMENTS = "kb_requirements"


def requires(*, database: str = "current", index: bool = False, content_folder: bool = False) -> Callable:
    """Declare what a ``kb`` command needs; ``KbGroup`` checks it before the command runs.

    Put it below ``@kb_cli.command(...)``. Commands without it need a database at the latest migration.

    :param database: ``"current"`` (stop unless at the latest migration), ``"migrate"`` (migrate it first
        and say so: for commands that are safe to run on a fresh instance) or ``"none"`` (no check, for a
        command that prepares the database itself).
    :param index: the command writes the search index, so its folder must be writable.
    :param content_folder: the command reads the shipped content folder.
    """
    if database not in {"current", "migrate", "none"}:
        raise ValueError(f"unknown database requirement {database!r}")

    def mark(callback: Callable) -> Callable:
        setattr(callback, REQUIREMENTS, {"database": database, "index": index, "content": content_folder})
        return callback

    return mark


class KbGroup(AppGroup):
    """Runs each command's checks first and turns every failure into one line and exit code 1."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if cmd.callback is not None and not getattr(cmd.callback, "kb_checked", False):
            cmd.callback = _checked(cmd.callback)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if _debugging(ctx):
                raise
            problem = exc if isinstance(exc, InstanceProblem) else instance_checks.explain(exc)
            if problem is None:
                problem = InstanceProblem(
                    f"{type(exc).__name__}: {exc}".splitlines()[0]
                    + " (run again with --debug for the details)"
                )
            raise click.ClickException(str(problem)) from None


def _debugging(ctx: click.Context) -> bool:
    root = ctx.find_root()
    group_ctx = next((c for c in _contexts(ctx) if c.info_name == "kb"), None)
    flag = bool(group_ctx and group_ctx.params.get("debug"))
    return flag or instance_checks.debugging() or bool(root.params.get("debug"))


def _contexts(ctx: click.Context):
    while ctx is not None:
        yield ctx
        ctx = ctx.parent


def _checked(callback: Callable) -> Callable:
    """Wrap a command's callback: check what it declared it needs, in the app context, then run it."""
    wanted = getattr(callback, REQUIREMENTS, {"database": "current", "index": False, "content": False})

    @with_appcontext
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        if wanted["content"]:
            instance_checks.check_content_folder(Path(current_app.config["CONTENT_DIR"]))
        if wanted["database"] == "migrate":
            migrated = instance_checks.migrate_if_needed()
            if migrated:
                click.echo(f"Database: {migrated}.")
        elif wanted["database"] == "current":
            instance_checks.check_database()
        if wanted["index"]:
            instance_checks.check_index_folder(Path(current_app.config["INDEX_DIR"]))
        return callback(*args, **kwargs)

    run.kb_checked = True  # type: ignore[attr-defined]
    return run


@click.group("kb", cls=KbGroup, help=GROUP_HELP)
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def kb_cli(debug: bool) -> None:
    pass


@kb_cli.command("seed")
@requires(database="migrate", index=True, content_folder=True)
def seed_command() -> None:
    """Load the shipped content into the database and the index.

    \b
    Needs: the database (migrated first if it is behind, and said so), the content
    folder (KB_CONTENT_DIR), a writable index folder (KB_INDEX_DIR).
    Changes: adds the areas, tags, role types, glossary entries and articles that are
    missing, and updates those not changed since they were seeded. Never overwrites an
    article an editor has changed; running it again changes nothing.
    """
    report = content.seed(Path(current_app.config["CONTENT_DIR"]))
    click.echo(f"Seeded: {report.summary()}.")
    for slug in report.kept:
        click.echo(f"  kept {slug}: changed by an editor since it was seeded")


@kb_cli.command("create-user")
@click.option("--email", required=True, help="The user's e-mail address (their sign-in name).")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in UserRole]), help="The user's role."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
@requires(database="current")
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create an account (asks for the password twice, or --password-stdin).

    \b
    Needs: the database at the latest migration.
    Changes: adds one user (and an audit event); nothing else.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(email, role, password)
    except users.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role} {user.email}.")


@kb_cli.command("bootstrap")
@requires(database="migrate", index=True, content_folder=True)
def bootstrap_command() -> None:
    """Prepare an install for serving: what `make run` does first.

    \b
    Needs: the database (created or migrated as needed, and said so), the content
    folder (KB_CONTENT_DIR), a writable index folder (KB_INDEX_DIR).
    Changes: migrates, seeds the content (as kb seed), builds or repairs the search
    index and, outside production, creates the first admin account if there is no
    account at all (its password is printed once).
    """
    report = content.seed(Path(current_app.config["CONTENT_DIR"]))
    click.echo(f"Content: {report.summary()}.")
    _bring_index_up_to_date()
    if current_app.config["ENV"] != "production" and users.count_users() == 0:
        password = users.generate_password()
        user = users.create_user(
            "admin@serocu.local", UserRole.ADMIN.value, password, must_change_password=True
        )
        click.echo("")
        click.echo("  First start: an admin account was created. This password is shown only once.")
        click.echo(f"    e-mail:   {user.email}")
        click.echo(f"    password: {password}")
        click.echo("")


def _bring_index_up_to_date() -> None:
    """Build the search index if it is missing or unreadable; otherwise re-index what is out of date."""
    try:
        if search.index_health().available:
            repaired = search.repair_index()
            click.echo(f"Search index: up to date{f' (re-indexed {len(repaired)})' if repaired else ''}.")
            return
        built = search.rebuild_index()
    except search.RebuildInProgress:
        click.echo("Search index: a rebuild is already running.")
        return
    except search.SearchIndexError as exc:
        # The database is ready; the server catches the index up (or builds it) once the cause has gone.
        click.echo(f"Search index: not brought up to date: {exc}.")
        return
    click.echo(f"Search index: built {built.documents} documents in {built.seconds:.1f} s.")


@kb_cli.command("reindex")
@click.option(
    "--repair", is_flag=True, help="Re-index only the articles that are out of date, missing or extra."
)
@requires(database="current", index=True)
def reindex_command(repair: bool) -> None:
    """Rebuild the search index and swap it in atomically.

    \b
    Needs: the database at the latest migration, a writable index folder (KB_INDEX_DIR).
    Changes: the index only (a new build beside the live one, then the swap; with
    --repair, only out-of-date documents). The database is read, never changed.
    """
    try:
        if repair:
            fixed = search.repair_index()
            click.echo(f"Re-indexed {len(fixed)} documents{': ' + ', '.join(fixed) if fixed else ''}.")
            return
        report = search.rebuild_index()
    except search.SearchIndexError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Indexed {report.documents} documents in {report.seconds:.2f} s.")


@kb_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@requires(database="current")
def export_command(path: str) -> None:
    """Write every article with its full history to PATH (JSON).

    \b
    Needs: the database at the latest migration.
    Changes: writes PATH (replacing it); the database and index are only read.
    """
    count = transfer.write_export(path)
    click.echo(f"Exported {count} articles to {path}.")


@kb_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@requires(database="current", index=True)
def import_command(path: str) -> None:
    """Load articles with their history from an export at PATH.

    \b
    Needs: the database at the latest migration, a writable index folder (KB_INDEX_DIR).
    Changes: adds the articles whose slugs are new (with their revisions) and indexes
    them; an article whose slug exists is kept and reported, never overwritten.
    """
    try:
        imported, skipped = transfer.read_import(path)
    except transfer.TransferError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {len(imported)} articles; skipped {len(skipped)} that already exist.")
    for slug in skipped:
        click.echo(f"  skipped {slug}: an article with this slug exists")


def init_app(app: Flask) -> None:
    app.cli.add_command(kb_cli)


@kb_cli.command("review-report")
@click.option("--base-url", default="", help="Start of the links printed, e.g. https://kb.example.police.uk")
def review_report_command(base_url: str) -> None:
    """List published articles overdue for review, oldest first (for a cron e-mail)."""
    late = reviews.overdue()
    if not late:
        click.echo("Nothing is overdue for review.")
        return
    click.echo(f"{len(late)} article{'s' if len(late) != 1 else ''} overdue for review:")
    for article in late:
        due = article.next_review_on.isoformat() if article.next_review_on else "no date"
        owner = article.owner.email if article.owner else "no owner"
        link = f"{base_url.rstrip('/')}/editor/articles/{article.slug}/edit"
        click.echo(f"  {due}  {article.title}  ({owner})  {link}")


@kb_cli.command("prune-insights")
def prune_insights_command() -> None:
    """Fold search events older than the retention period into monthly counts and delete them."""
    from kb.services import insights

    folded = insights.prune()
    click.echo(
        f"Folded {folded} search events older than {insights.retention_days()} days into monthly counts."
    )
