"""The ``kb`` command group: ``flask --app wsgi kb --help``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from kb.models import UserRole
from kb.services import content, search, transfer, users

kb_cli = AppGroup("kb", help="Capability Knowledge Base commands.")


@kb_cli.command("seed")
def seed_command() -> None:
    """Load the shipped content; idempotent, never overwrites an editor's change."""
    report = content.seed()
    click.echo(f"Seeded: {report.summary()}.")
    for slug in report.kept:
        click.echo(f"  kept {slug}: changed by an editor since it was seeded")


@kb_cli.command("create-user")
@click.option("--email", required=True, help="The user's e-mail address (their sign-in name).")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in UserRole]), help="The user's role."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of standard input.")
def create_user_command(email: str, role: str, password_stdin: bool) -> None:
    """Create an account (prompts for the password twice unless --password-stdin)."""
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
def bootstrap_command() -> None:
    """Prepare a fresh or existing install: migrate, seed, first admin, index. Used by `make run`."""
    upgrade()
    report = content.seed()
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
def reindex_command(repair: bool) -> None:
    """Rebuild the search index from the database and swap it in atomically."""
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
def export_command(path: str) -> None:
    """Write every article with its full history to PATH (JSON)."""
    count = transfer.write_export(path)
    click.echo(f"Exported {count} articles to {path}.")


@kb_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_command(path: str) -> None:
    """Load articles with their history from an export at PATH; existing slugs are kept, not overwritten."""
    try:
        imported, skipped = transfer.read_import(path)
    except transfer.TransferError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Imported {len(imported)} articles; skipped {len(skipped)} that already exist.")
    for slug in skipped:
        click.echo(f"  skipped {slug}: an article with this slug exists")


def init_app(app: Flask) -> None:
    app.cli.add_command(kb_cli)
