"""Keeping the index in step with the database: session events, repairs and full rebuilds.

Article changes are recorded when the session flushes and again just before it commits, applied to the
index only after the commit, and forgotten on rollback (Flask-SQLAlchemy's ``track_modifications``
pattern). So a rolled-back edit never reaches the index, and a change that was autoflushed early (and so
is no longer in ``session.dirty`` at commit time) is not missed.

Documents are always built from rows read back in a separate session after the commit: the index holds
what the database holds, never an object's in-memory state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kb.extensions import db
from kb.indexing.schema import document_for
from kb.indexing.store import IndexBusy, IndexStore
from kb.models import Area, Article, GlossaryTerm, RoleType, Tag, article_role_types, article_tags

log = logging.getLogger(__name__)

EXTENSION = "kb_search"
_CHANGES = "kb_index_changes"


@dataclass
class PendingChanges:
    """What one transaction changed, keyed so the same object is recorded once."""

    articles: dict[Any, Any] = field(default_factory=dict)  # identity key or id(obj) -> Article
    deleted_ids: set[int] = field(default_factory=set)
    affected_ids: set[int] = field(default_factory=set)  # articles whose tag, area or role type changed
    glossary_changed: bool = False


def store_for(app: Any = None) -> IndexStore | None:
    app = app or (current_app._get_current_object() if has_app_context() else None)  # type: ignore[attr-defined]
    return None if app is None else app.extensions.get(EXTENSION)


# --- session events ------------------------------------------------------------------------------------


def _record(session: Session, *args: Any, **kwargs: Any) -> None:
    if not has_app_context() or store_for() is None:
        return
    changes: PendingChanges = session.info.setdefault(_CHANGES, PendingChanges())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Article):
            state = inspect(obj)
            changes.articles[state.identity_key if state.has_identity else id(obj)] = obj
        elif isinstance(obj, Tag | Area | RoleType) and inspect(obj).has_identity:
            changes.affected_ids |= _articles_using(session, obj)
        elif isinstance(obj, GlossaryTerm):
            changes.glossary_changed = True
    for obj in session.deleted:
        if isinstance(obj, Article):
            state = inspect(obj)
            if state.has_identity:
                changes.deleted_ids.add(state.identity[0])
            changes.articles.pop(state.identity_key if state.has_identity else id(obj), None)
        elif isinstance(obj, Tag | Area | RoleType):
            changes.affected_ids |= _articles_using(session, obj)
        elif isinstance(obj, GlossaryTerm):
            changes.glossary_changed = True


def _articles_using(session: Session, obj: Any) -> set[int]:
    """Ids of articles whose document names ``obj`` (a renamed tag changes their keywords)."""
    if isinstance(obj, Tag):
        stmt = select(article_tags.c.article_id).where(article_tags.c.tag_id == obj.id)
    elif isinstance(obj, RoleType):
        stmt = select(article_role_types.c.article_id).where(article_role_types.c.role_type_id == obj.id)
    else:
        stmt = select(Article.id).where(Article.area_id == obj.id)
    with session.no_autoflush:
        return set(session.execute(stmt).scalars())


def _after_commit(session: Session) -> None:
    changes: PendingChanges | None = session.info.pop(_CHANGES, None)
    if changes is None or not has_app_context():
        return
    store = store_for()
    if store is None:
        return
    if changes.glossary_changed:
        current_app.extensions.setdefault("kb_glossary_version", [0])[0] += 1
    upsert_ids = set(changes.affected_ids)
    for obj in changes.articles.values():
        identity = inspect(obj).identity
        if identity is not None:
            upsert_ids.add(identity[0])
    upsert_ids -= changes.deleted_ids
    if upsert_ids or changes.deleted_ids:
        apply_changes(store, upsert_ids, changes.deleted_ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGES, None)


_listening = False


def listen() -> None:
    """Attach the session events (once per process; they act only for apps with a search index)."""
    global _listening
    if _listening:
        return
    event.listen(db.session, "before_flush", _record)
    event.listen(db.session, "before_commit", _record)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    _listening = True


# --- applying changes ------------------------------------------------------------------------------------


def _load(session: Session, ids: set[int] | None = None):
    stmt = select(Article).options(
        joinedload(Article.area), selectinload(Article.tags), selectinload(Article.role_types)
    )
    if ids is not None:
        stmt = stmt.where(Article.id.in_(ids))
    return session.scalars(stmt.order_by(Article.id))


def apply_changes(store: IndexStore, upsert_ids: set[int], delete_ids: set[int]) -> None:
    """Write the committed state of these articles to the index. Never raises: the save has succeeded.

    A change that cannot be written now (the writer stayed locked) is kept and retried with the next one;
    ``repair`` also finds it, as the indexed version differs from the database.
    """
    upsert_ids = set(upsert_ids) | store.retry_ids
    if not store.is_available():
        return  # nothing to write to: the build that makes one reads the database afresh
    try:
        with Session(db.engine) as session:
            documents = documents_for(session, upsert_ids)
        found = {int(d["id"]) for d in documents}
        deletes = [str(i) for i in (set(delete_ids) | (upsert_ids - found))]
        store.apply(documents, deletes)
        store.retry_ids = set()
    except IndexBusy:
        log.warning(
            "search index busy; %d article(s) will be re-indexed with the next change", len(upsert_ids)
        )
        store.retry_ids = upsert_ids
    except Exception:
        log.exception("search index update failed; run `kb reindex` if search looks out of date")
        store.retry_ids = upsert_ids


def iter_documents(session: Session) -> Iterator[dict[str, Any]]:
    """The document of every article, in id order."""
    for article in _load(session).unique():
        yield document_for(article)


def documents_for(session: Session, ids: set[int] | list[int]) -> list[dict[str, Any]]:
    return [document_for(article) for article in _load(session, set(ids)).unique()]


def rebuild(store: IndexStore):
    """Build a complete new index from the database and swap it in; then catch up with saves made meanwhile.

    :raise RebuildInProgress: another rebuild is running.
    """
    started = time.perf_counter()
    with store.rebuild_lock():
        with Session(db.engine) as session:
            expected = session.scalar(select(db.func.count(Article.id))) or 0
            info = store.build(iter_documents(session), expected)
        # Saves committed while the build was reading went to the old index; bring them over.
        repair(store)
    return info, time.perf_counter() - started


def repair(store: IndexStore) -> list[str]:
    """Re-index the articles whose indexed version differs from the database, add missing ones and
    remove extra ones; return their slugs (extra ones as their article id)."""
    indexed = store.stored_versions()
    with Session(db.engine) as session:
        rows = session.execute(select(Article.id, Article.slug, Article.version)).all()
    in_db = {str(row.id): row for row in rows}
    stale = {int(i) for i, row in in_db.items() if indexed.get(i) != row.version}
    extra = set(indexed) - set(in_db)
    if stale or extra:
        with Session(db.engine) as session:
            documents = documents_for(session, stale)
        store.apply(documents, sorted(extra))
    return sorted(in_db[str(i)].slug for i in stale) + sorted(f"#{i}" for i in extra)
