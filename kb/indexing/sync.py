"""Keeping the index in step with the database: the durable change log, session events, catch-up,
repairs and full rebuilds.

Every article or glossary change writes a row to ``index_changes`` in the same transaction as the change
(recorded when the session flushes and just before it commits, Flask-SQLAlchemy's ``track_modifications``
pattern, and logged after each flush, when new rows have their ids). A rolled-back change takes its log
rows with it; a committed one is never lost, even if the process dies before the index is written.

Each process (each node, with its own index folder) applies the log to its index in id order and records
in the build the last id applied (``IndexStore.position``). It catches up after its own commits, at start,
on a search that finds it behind (one indexed ``max(id)``), on a timer, and during a rebuild (before the
swap and once more after). Applying a change re-reads the row, so applying one twice is harmless.

Documents are always built from rows read back in a separate session: the index holds what the database
holds, never an object's in-memory state.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kb.extensions import db
from kb.indexing.schema import document_for
from kb.indexing.store import IndexStore, SearchIndexError
from kb.models import (
    Area,
    Article,
    GlossaryTerm,
    IndexChange,
    IndexPosition,
    RoleType,
    Tag,
    article_role_types,
    article_tags,
    utcnow,
)

log = logging.getLogger(__name__)

EXTENSION = "kb_search"
_CHANGES = "kb_index_changes"
ARTICLE, GLOSSARY = "article", "glossary"
BATCH = 2000  # log rows applied per index commit


@dataclass
class PendingChanges:
    """What one transaction changed, keyed so the same object is recorded once."""

    articles: dict[Any, Any] = field(default_factory=dict)  # identity key or id(obj) -> Article
    deleted_ids: set[int] = field(default_factory=set)
    affected_ids: set[int] = field(default_factory=set)  # articles whose tag, area or role type changed
    glossary: dict[Any, Any] = field(default_factory=dict)  # id(obj) -> GlossaryTerm
    glossary_ids: set[int] = field(default_factory=set)  # deleted entries
    logged: set[tuple[str, int]] = field(default_factory=set)  # already in index_changes
    locked: bool = False  # PostgreSQL: the log's table lock is held by this transaction


def store_for() -> IndexStore | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


# --- session events ------------------------------------------------------------------------------------


def _record(session: Session, *args: Any, **kwargs: Any) -> None:
    if store_for() is None:
        return
    changes: PendingChanges = session.info.setdefault(_CHANGES, PendingChanges())
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Article):
            state = inspect(obj)
            changes.articles[state.identity_key if state.has_identity else id(obj)] = obj
        elif isinstance(obj, Tag | Area | RoleType) and inspect(obj).has_identity:
            changes.affected_ids |= _articles_using(session, obj)
        elif isinstance(obj, GlossaryTerm):
            changes.glossary[id(obj)] = obj
    for obj in session.deleted:
        if isinstance(obj, Article):
            state = inspect(obj)
            if state.has_identity:
                changes.deleted_ids.add(state.identity[0])
            changes.articles.pop(state.identity_key if state.has_identity else id(obj), None)
        elif isinstance(obj, Tag | Area | RoleType):
            changes.affected_ids |= _articles_using(session, obj)
        elif isinstance(obj, GlossaryTerm):
            if inspect(obj).has_identity:
                changes.glossary_ids.add(inspect(obj).identity[0])
            changes.glossary.pop(id(obj), None)


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


def _log_flushed(session: Session, flush_context: Any) -> None:
    """Write the log rows for what this flush sent (new rows have their ids now), once per entity."""
    changes: PendingChanges | None = session.info.get(_CHANGES)
    if changes is None:
        return
    wanted: dict[tuple[str, int], int | None] = {}
    for obj in changes.articles.values():
        identity = inspect(obj).identity
        if identity is not None:
            wanted[(ARTICLE, identity[0])] = obj.version
    for article_id in changes.affected_ids | changes.deleted_ids:
        wanted.setdefault((ARTICLE, article_id), None)
    for obj in changes.glossary.values():
        identity = inspect(obj).identity
        if identity is not None:
            wanted[(GLOSSARY, identity[0])] = None
    for term_id in changes.glossary_ids:
        wanted.setdefault((GLOSSARY, term_id), None)
    rows = [
        {"entity": entity, "entity_id": entity_id, "version": version, "created_at": utcnow()}
        for (entity, entity_id), version in wanted.items()
        if (entity, entity_id) not in changes.logged
    ]
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not changes.locked:
        # Ids must become visible in id order, or a reader could pass an id whose transaction has not
        # committed yet and never apply it. The lock (held to commit) serialises the log's writers;
        # readers are not blocked. SQLite has one writer at a time anyway.
        connection.exec_driver_sql("LOCK TABLE index_changes IN SHARE ROW EXCLUSIVE MODE")
        changes.locked = True
    connection.execute(insert(IndexChange.__table__), rows)
    changes.logged |= {(row["entity"], row["entity_id"]) for row in rows}


def _after_commit(session: Session) -> None:
    changes: PendingChanges | None = session.info.pop(_CHANGES, None)
    if changes is None or not changes.logged:
        return
    store = store_for()
    if store is not None:
        catch_up_quietly(store)


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
    event.listen(db.session, "after_flush", _log_flushed)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    _listening = True


# --- following the log -----------------------------------------------------------------------------------


def latest_change_id(session: Any = None) -> int:
    """The newest id in the change log (0 when it is empty): one indexed lookup."""
    return (session or db.session).scalar(select(func.max(IndexChange.id))) or 0


def changes_behind(store: IndexStore) -> int | None:
    """How many change-log ids the live index has still to apply; None when there is no live index."""
    position = store.position()
    if position is None:
        return None
    return max(0, latest_change_id() - position)


def catch_up(store: IndexStore, *, build: str | None = None, timeout: float | None = None) -> int:
    """Apply the change log to the index (the live one, or ``build`` before its swap); return the number
    of log rows applied.

    :raise IndexBusy: the index writer stayed locked.
    :raise IndexNotWritable: the index folder cannot be written.
    """
    applied = 0
    done: dict[str, int] = {}

    def prepare(position: int) -> tuple[list[dict[str, Any]], list[str], int] | None:
        with Session(db.engine) as session:
            rows = session.execute(
                select(IndexChange.id, IndexChange.entity, IndexChange.entity_id)
                .where(IndexChange.id > position)
                .order_by(IndexChange.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return None
            if rows[0].id > position + 1 and _was_pruned(session, position):
                # Rows this index needed were pruned (an index restored from an old copy): compare all.
                upserts, deletes = _differences(session, store, build)
            else:
                ids = {r.entity_id for r in rows if r.entity == ARTICLE}
                upserts = documents_for(session, ids)
                deletes = sorted(str(i) for i in ids - {int(d["id"]) for d in upserts})
        if any(r.entity == GLOSSARY for r in rows):
            store.glossary_generation += 1
        done["rows"] = len(rows)
        return upserts, deletes, rows[-1].id

    while True:
        done.clear()
        if not store.catch_up(prepare, build=build, timeout=timeout) or not done:
            return applied
        applied += done["rows"]
        if done["rows"] < BATCH:
            return applied


def _was_pruned(session: Session, position: int) -> bool:
    """True when log rows after ``position`` may have been pruned (an index older than every known one)."""
    lowest = session.scalar(select(func.min(IndexPosition.change_id)))
    return lowest is None or lowest > position


def catch_up_quietly(store: IndexStore, timeout: float | None = None) -> bool:
    """Catch up, logging rather than raising (after a save, on a search, on the timer); True if it did."""
    try:
        catch_up(store, timeout=timeout)
    except SearchIndexError as exc:
        log.warning("search index not caught up with the database: %s; it will be retried", exc)
        return False
    except Exception:
        log.exception("search index catch-up failed; it will be retried")
        return False
    return True


def catch_up_if_behind(store: IndexStore) -> None:
    """The check made on every search: one indexed ``max(id)``, and a catch-up when this index is behind."""
    try:
        behind = changes_behind(store)
    except Exception:
        return  # the database is the search's problem, not this check's
    if behind:
        # No waiting: a writer holding the lock is catching up already, or the timer will.
        catch_up_quietly(store, timeout=0)


def position_name(store: IndexStore) -> str:
    """How this index is known in ``index_positions``: the host and the index folder."""
    return f"{socket.gethostname()}:{store.root}"[:300]


def record_position_and_prune(store: IndexStore) -> int:
    """Tell the database how far this index has got, and prune the log rows every known index has
    passed (the newest row always stays, so ids keep rising). Returns the rows pruned."""
    position = store.position()
    if position is None:
        return 0
    with Session(db.engine) as session:
        name = position_name(store)
        row = session.get(IndexPosition, name)
        if row is None:
            session.add(IndexPosition(name=name, change_id=position))
        else:
            row.change_id, row.updated_at = position, utcnow()
        session.flush()
        lowest = session.scalar(select(func.min(IndexPosition.change_id))) or 0
        newest = latest_change_id(session)
        result = session.execute(delete(IndexChange).where(IndexChange.id <= lowest, IndexChange.id < newest))
        session.commit()
        return result.rowcount or 0


# --- documents -------------------------------------------------------------------------------------------


def _load(session: Session, ids: set[int] | None = None):
    stmt = select(Article).options(
        joinedload(Article.area), selectinload(Article.tags), selectinload(Article.role_types)
    )
    if ids is not None:
        stmt = stmt.where(Article.id.in_(ids))
    return session.scalars(stmt.order_by(Article.id))


def iter_documents(session: Session) -> Iterator[dict[str, Any]]:
    """The document of every article, in id order."""
    for article in _load(session).unique():
        yield document_for(article)


def documents_for(session: Session, ids: set[int] | list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return [document_for(article) for article in _load(session, set(ids)).unique()]


# --- rebuilds and repairs --------------------------------------------------------------------------------


def rebuild(store: IndexStore):
    """Build a complete new index from the database and swap it in, caught up with the change log
    before the swap and once more after it.

    :raise RebuildInProgress: another rebuild is running.
    :raise IndexNotWritable: the index folder cannot be written.
    :raise IndexBusy: the new build's writer stayed locked while catching up before the swap.
    """
    started = time.perf_counter()
    with store.rebuild_lock(), Session(db.engine) as session:
        # Read first: every change up to here is in the rows read below; later ones are applied after.
        position = latest_change_id(session)
        expected = session.scalar(select(func.count(Article.id))) or 0
        info = store.build(
            iter_documents(session),
            expected,
            position=position,
            before_swap=lambda name: catch_up(store, build=name),
        )
    # Saves committed between the catch-up and the swap went to the old build. If the writer is busy
    # now, the rebuild has still succeeded: the next save, search or timer tick applies them.
    catch_up_quietly(store)
    return info, time.perf_counter() - started


def _fingerprints_in_db(session: Session) -> dict[str, tuple[str, str]]:
    """Article id -> (slug, fingerprint of the document the database gives now)."""
    return {doc["id"]: (doc["slug"], doc["fingerprint"]) for doc in iter_documents(session)}


def _differences(session: Session, store: IndexStore, build: str | None) -> tuple[list[dict], list[str]]:
    if build is not None:  # a build not yet live has just been written from the database
        return [], []
    indexed = store.stored_fingerprints()
    expected = _fingerprints_in_db(session)
    stale = {int(i) for i, (_, fp) in expected.items() if indexed.get(i) != fp}
    extra = sorted(set(indexed) - set(expected))
    return documents_for(session, stale), extra


def compare(store: IndexStore) -> dict[str, list[str]]:
    """The differences between the live index and the database, by stored fingerprint:
    ``stale`` and ``missing`` slugs, ``extra`` article ids.

    :raise IndexUnavailable: there is no live index.
    """
    indexed = store.stored_fingerprints()
    with Session(db.engine) as session:
        expected = _fingerprints_in_db(session)
    return {
        "stale": sorted(slug for i, (slug, fp) in expected.items() if i in indexed and indexed[i] != fp),
        "missing": sorted(slug for i, (slug, _) in expected.items() if i not in indexed),
        "extra": sorted(i for i in indexed if i not in expected),
    }


def repair(store: IndexStore) -> list[str]:
    """Re-index the articles whose indexed document differs from the database (by fingerprint), add
    missing ones and remove extra ones; return their slugs (extra ones as ``#<article id>``).

    :raise IndexUnavailable: there is no index to repair (rebuild instead).
    :raise IndexBusy: the index writer stayed locked.
    :raise IndexNotWritable: the index folder cannot be written.
    """
    found = compare(store)
    repaired = sorted(found["stale"] + found["missing"]) + [f"#{i}" for i in found["extra"]]

    def prepare(position: int) -> tuple[list[dict[str, Any]], list[str], int]:
        with Session(db.engine) as session:
            newest = latest_change_id(session)
            upserts, deletes = _differences(session, store, None)
        return upserts, deletes, max(position, newest)

    store.catch_up(prepare)
    return repaired
