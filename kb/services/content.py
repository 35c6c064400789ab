"""Loading the shipped content (``kb/content/``) into the database: ``kb seed``.

Seeding is idempotent. An article the seed created and nobody has edited since is refreshed when its file
changes; an article an editor has changed is never overwritten (it is reported as kept).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from kb.extensions import db
from kb.models import Area, GlossaryTerm, RoleType, Tag, Workforce
from kb.services import articles
from kb.services.articles import ArticleData

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"


class ContentError(ValueError):
    """A content file is malformed; the message names the file."""


@dataclass
class ContentFile:
    slug: str
    data: ArticleData
    digest: str


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # changed by an editor since seeding: left alone

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.kept)} kept (changed by an editor)"
        )


def split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body) of a Markdown file that starts with a ``---`` YAML block."""
    if not text.startswith("---"):
        raise ContentError(f"{name}: no front matter")
    try:
        _, header, body = text.split("---", 2)
        meta = yaml.safe_load(header) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise ContentError(f"{name}: unreadable front matter ({exc})") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{name}: front matter is not a mapping")
    return meta, body.lstrip("\n")


def read_article_file(path: Path) -> ContentFile:
    text = path.read_text(encoding="utf-8")
    meta, body = split_front_matter(text, path.name)
    contact = meta.get("contact") or {}
    try:
        data = ArticleData(
            title=str(meta["title"]),
            summary=str(meta.get("summary", "")).strip(),
            body=body,
            area=str(meta["area"]),
            acronym=str(meta.get("acronym") or ""),
            kind=str(meta.get("kind", "capability")),
            parent=meta.get("parent") or None,
            tags=[str(t) for t in meta.get("tags") or []],
            roles=[str(r) for r in meta.get("roles") or []],
            partners=[str(p) for p in meta.get("partners") or []],
            contact_public=str(contact.get("public") or "").strip(),
            contact_internal=str(contact.get("internal") or "").strip(),
            visibility=str(meta.get("visibility", "public")),
            status=str(meta.get("status", "published")),
        )
    except KeyError as exc:
        raise ContentError(f"{path.name}: missing {exc.args[0]}") from exc
    return ContentFile(slug=path.stem, data=data, digest=hashlib.sha256(text.encode()).hexdigest())


def read_article_files(content_dir: Path = CONTENT_DIR) -> list[ContentFile]:
    """All article files, parents before their children."""
    files = [read_article_file(p) for p in sorted((content_dir / "articles").glob("*.md"))]
    return sorted(files, key=lambda f: f.data.parent is not None)


def load_taxonomy(content_dir: Path = CONTENT_DIR) -> None:
    """Create or update areas, tags and role types from ``taxonomy.yml``."""
    taxonomy = yaml.safe_load((content_dir / "taxonomy.yml").read_text(encoding="utf-8"))
    for model, key in ((Area, "areas"), (Tag, "tags"), (RoleType, "roles")):
        for position, item in enumerate(taxonomy.get(key) or []):
            row = db.session.scalar(select(model).where(model.slug == item["slug"])) or model(
                slug=item["slug"]
            )
            row.name = item["name"]
            row.position = position
            if hasattr(row, "description"):
                row.description = item.get("description", "")
            if model is RoleType:
                workforce = item.get("workforce", Workforce.BOTH.value)
                if workforce not in {w.value for w in Workforce}:
                    raise ContentError(f"taxonomy.yml: role {item['slug']}: unknown workforce {workforce!r}")
                row.workforce = workforce
            db.session.add(row)
    db.session.flush()


def load_glossary(content_dir: Path = CONTENT_DIR) -> int:
    """Add glossary terms that are missing; terms already in the database (maybe edited) are kept."""
    path = content_dir / "glossary.yml"
    if not path.exists():
        return 0
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("terms") or []
    existing = set(db.session.scalars(select(GlossaryTerm.term)))
    added = 0
    for entry in entries:
        term = str(entry["term"]).strip()
        if term in existing:
            continue
        expansion = str(entry.get("expansion") or "").strip()
        db.session.add(
            GlossaryTerm(
                term=term,
                kind=str(entry.get("kind") or ("acronym" if expansion else "term")),
                expansion=expansion,
                aliases=[str(a).strip() for a in entry.get("aliases") or [] if str(a).strip()],
                definition=str(entry.get("definition") or "").strip(),
                targets=[str(t).strip() for t in entry.get("targets") or [] if str(t).strip()],
            )
        )
        existing.add(term)
        added += 1
    db.session.flush()
    return added


def seed(content_dir: Path = CONTENT_DIR) -> SeedReport:
    """Load the shipped vocabularies, glossary and articles; safe to run any number of times."""
    load_taxonomy(content_dir)
    load_glossary(content_dir)
    report = SeedReport()
    for item in read_article_files(content_dir):
        article = articles.get_by_slug(item.slug)
        if article is None:
            article = articles.create_article(item.data, slug=item.slug, action="seed", commit=False)
            report.created.append(item.slug)
        elif article.seed_hash == item.digest:
            report.unchanged.append(item.slug)
            continue
        elif article.seeded_version != article.version:  # an editor saved since (or created it)
            report.kept.append(item.slug)
            continue
        else:
            articles.update_article(article, item.data, expected_version=None, action="seed", commit=False)
            report.updated.append(item.slug)
        db.session.flush()
        article.seed_hash = item.digest
        article.seeded_version = article.version
    db.session.commit()
    return report
