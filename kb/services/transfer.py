"""``kb export`` / ``kb import``: every article with its full history, as one JSON document.

The round trip is lossless for content: export, import into an empty database, export again and the two
documents are equal (but for ``exported_at``). Revision authors travel as e-mail addresses and are linked
to the accounts of the importing database when they exist there.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kb.extensions import db
from kb.models import Area, Article, GlossaryTerm, RoleType, Tag, User, utcnow
from kb.services import articles
from kb.services.articles import ArticleData

FORMAT = "serocu-kb-export"
FORMAT_VERSION = 1


class TransferError(ValueError):
    """The file cannot be imported; the message says why."""


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _vocabulary(model: type) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(model).order_by(model.position, model.slug))
    return [
        {
            "slug": r.slug,
            "name": r.name,
            **({"description": r.description} if hasattr(r, "description") else {}),
            **({"workforce": r.workforce} if hasattr(r, "workforce") else {}),
        }
        for r in rows
    ]


def export_all() -> dict[str, Any]:
    """Everything needed to rebuild the content: vocabularies, glossary, articles and their revisions."""
    emails = {u.id: u.email for u in db.session.scalars(select(User))}
    exported = []
    for article in db.session.scalars(select(Article).order_by(Article.id)):
        exported.append(
            {
                "slug": article.slug,
                "current": ArticleData.from_article(article).snapshot(),
                "version": article.version,
                "created_at": _time(article.created_at),
                "updated_at": _time(article.updated_at),
                "updated_by": emails.get(article.updated_by_id),
                "seed_hash": article.seed_hash,
                "seeded_version": article.seeded_version,
                "pending_revision": article.pending_revision.number if article.pending_revision else None,
                "revisions": [
                    {
                        "number": r.number,
                        "action": r.action,
                        "note": r.note,
                        "created_at": _time(r.created_at),
                        "author": emails.get(r.author_id),
                        "snapshot": r.snapshot,
                    }
                    for r in article.revisions
                ],
            }
        )
    glossary = db.session.scalars(select(GlossaryTerm).order_by(GlossaryTerm.term))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _time(utcnow()),
        "areas": _vocabulary(Area),
        "tags": _vocabulary(Tag),
        "roles": _vocabulary(RoleType),
        "glossary": [
            {
                "term": g.term,
                "kind": g.kind,
                "expansion": g.expansion,
                "aliases": g.aliases,
                "definition": g.definition,
                "targets": g.targets,
            }
            for g in glossary
        ],
        "articles": exported,
    }


def write_export(path: Path) -> int:
    """Write the export to ``path``; return the number of articles."""
    document = export_all()
    Path(path).write_text(
        json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    return len(document["articles"])


def _upsert_vocabulary(model: type, items: list[dict[str, Any]]) -> None:
    for position, item in enumerate(items):
        row = db.session.scalar(select(model).where(model.slug == item["slug"])) or model(slug=item["slug"])
        row.name = item["name"]
        row.position = position
        if "description" in item:
            row.description = item["description"]
        if "workforce" in item and hasattr(row, "workforce"):
            row.workforce = item["workforce"]
        db.session.add(row)


def import_all(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Load an export. Articles whose slug already exists are skipped, never overwritten.

    :return: (imported slugs, skipped slugs)
    :raise TransferError: not an export of this format.
    """
    if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
        raise TransferError(f"Not a {FORMAT} file of version {FORMAT_VERSION}.")
    _upsert_vocabulary(Area, document.get("areas", []))
    _upsert_vocabulary(Tag, document.get("tags", []))
    _upsert_vocabulary(RoleType, document.get("roles", []))
    known_terms = set(db.session.scalars(select(GlossaryTerm.term)))
    for entry in document.get("glossary", []):
        if entry["term"] not in known_terms:
            entry = {"kind": "acronym" if entry.get("expansion") else "term", **entry}
            db.session.add(GlossaryTerm(**entry))
    db.session.flush()

    users_by_email = {u.email: u for u in db.session.scalars(select(User))}
    records = document.get("articles", [])
    imported, skipped = [], []
    # Parents first, so each child's parent slug resolves.
    pending = [r for r in records if articles.get_by_slug(r["slug"]) is None]
    skipped = [r["slug"] for r in records if r not in pending]
    while pending:
        ready = [
            r
            for r in pending
            if not r["current"].get("parent") or articles.get_by_slug(r["current"]["parent"])
        ]
        if not ready:
            raise TransferError(f"Parent article missing for {pending[0]['slug']}.")
        for record in ready:
            try:
                articles.load_exported(record, users_by_email)
            except articles.ArticleError as exc:
                raise TransferError(f"{record['slug']}: {exc}") from exc
            imported.append(record["slug"])
            pending.remove(record)
    db.session.commit()
    return imported, skipped


def read_import(path: Path) -> tuple[list[str], list[str]]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TransferError(f"Cannot read {path}: {exc}") from exc
    return import_all(document)
