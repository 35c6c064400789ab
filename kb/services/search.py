"""The search service: the one entry point views use to search, suggest, relate and rebuild.

Every call adds the reader's visibility filter inside the query itself (anonymous readers: published
public articles; signed-in staff: published public and internal; the editor scope: everything), so
results, totals, facet counts, snippets, suggestions, "did you mean" and related articles always agree.
The index returns document numbers and counts; pages are rendered from database rows, fetched in rank
order and checked once more against the reader's visibility.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from whoosh import query as whoosh_query

from kb.access import readable_clause, readable_visibilities
from kb.extensions import db
from kb.indexing import semantic, sync
from kb.indexing.query import MAX_QUERY_LENGTH, QueryBuilder, SynonymGroup, SynonymMatcher
from kb.indexing.schema import build_schema, normalise_name, phrase_analyzer
from kb.indexing.searching import SORTS, DocSet, Fragment, Snapshot, Visibility
from kb.indexing.store import (
    IndexBusy,
    IndexNotWritable,
    IndexStore,
    IndexUnavailable,
    RebuildInProgress,
    SearchIndexError,
)
from kb.models import Article, Status, UserRole
from kb.rendering import sanitise
from kb.services import facets as facet_registry
from kb.services import glossary, ranking

__all__ = [
    "IndexBusy",
    "IndexHealth",
    "IndexNotWritable",
    "IndexUnavailable",
    "RebuildInProgress",
    "RebuildReport",
    "SearchHit",
    "SearchIndexError",
    "SearchQuery",
    "SearchResults",
    "caught_up",
    "ensure_index",
    "index_health",
    "init_app",
    "rebuild_index",
    "related",
    "repair_index",
    "search",
    "suggest",
]

log = logging.getLogger(__name__)

SCOPES = ("site", "editor")
MAX_PAGE = 10_000
MAX_VALUES_PER_FACET = 30
GLOSSARY_CACHE_SECONDS = 300
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_background_lock = threading.Lock()


# --- the request -----------------------------------------------------------------------------------------


def _slugs(values: list[str]) -> tuple[str, ...]:
    """Keep well-formed slugs only (anything else selects nothing), once each, in order."""
    kept = dict.fromkeys(
        v.strip().lower() for v in values if isinstance(v, str) and _SLUG.match(v.strip().lower())
    )
    return tuple(kept)[:MAX_VALUES_PER_FACET]


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(str(value).strip()[:12])
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


@dataclass(frozen=True)
class SearchQuery:
    """What a reader asked for: the words, facet selections, sort and page. Built from URL arguments."""

    text: str = ""
    tags: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    workforces: tuple[str, ...] = ()  # "officer", "staff"
    statuses: tuple[str, ...] = ()  # the editor scope only
    sort: str = ""  # "" means relevance when there are words, title when browsing
    page: int = 1
    per_page: int = 10
    endpoint: str = "search.results"  # where toggle and page links point
    per_page_in_url: bool = False  # the API was given per_page, so its links keep it
    correct: bool = True  # correct unknown words (``correct=0`` in the URL: search exactly as typed)

    @classmethod
    def from_args(
        cls, args: Any, *, endpoint: str = "search.results", allow_per_page: int = 0
    ) -> SearchQuery:
        """Read ``q``, the facets (``tag area role workforce status``), ``sort`` and ``page``; never fails.

        :param allow_per_page: if set, also read ``per_page``, up to this many.
        """
        text = args.get("q", "")
        sort = args.get("sort", "")
        per_page = current_app.config.get("SEARCH_PER_PAGE", 10)
        if allow_per_page:
            per_page = _int(args.get("per_page"), per_page, 1, allow_per_page)
        return cls(
            text=text if isinstance(text, str) else "",
            tags=_slugs(args.getlist("tag")),
            areas=_slugs(args.getlist("area")),
            roles=_slugs(args.getlist("role")),
            workforces=_slugs(args.getlist("workforce")),
            statuses=_slugs(args.getlist("status")),
            sort=sort if sort in SORTS else "",
            page=_int(args.get("page"), 1, 1, MAX_PAGE),
            per_page=per_page,
            endpoint=endpoint,
            per_page_in_url=bool(allow_per_page) and "per_page" in args,
            correct=str(args.get("correct", "1")).strip().lower() not in {"0", "false", "off", "no"},
        )

    def selected(self, facet: str) -> tuple[str, ...]:
        return {
            "tag": self.tags,
            "area": self.areas,
            "role": self.roles,
            "workforce": self.workforces,
            "status": self.statuses,
        }.get(facet, ())

    def args(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.text:
            pairs.append(("q", self.text))
        for name in ("tag", "area", "role", "workforce", "status"):
            pairs.extend((name, value) for value in self.selected(name))
        if self.sort:
            pairs.append(("sort", self.sort))
        if self.page > 1:
            pairs.append(("page", str(self.page)))
        if self.per_page_in_url:
            pairs.append(("per_page", str(self.per_page)))
        if not self.correct:
            pairs.append(("correct", "0"))
        return pairs

    def with_changes(self, **changes: Any) -> SearchQuery:
        return replace(self, **changes)

    def url(self, **changes: Any) -> str:
        target = self.with_changes(**changes) if changes else self
        query_string = urlencode(target.args())
        return url_for(target.endpoint) + (f"?{query_string}" if query_string else "")

    def toggle_url(self, facet: str, value: str) -> str:
        """This search with one facet value ticked or unticked, back on the first page."""
        attribute = {
            "tag": "tags",
            "area": "areas",
            "role": "roles",
            "workforce": "workforces",
            "status": "statuses",
        }[facet]
        values = self.selected(facet)
        values = tuple(v for v in values if v != value) if value in values else (*values, value)
        return self.url(**{attribute: values, "page": 1})


# --- the answer ------------------------------------------------------------------------------------------


@dataclass
class SearchHit:
    article: Article
    snippet: Markup  # sanitised HTML with <mark>; empty when browsing
    best_bet: bool = False  # put first by a glossary best bet


@dataclass
class SearchResults:
    query: SearchQuery
    text: str  # the words searched for, after cleaning and truncation
    hits: list[SearchHit]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str
    facets: dict[
        str, list[dict[str, Any]]
    ]  # facet name -> buckets {value, label, count, selected, toggle_url}
    facet_labels: dict[str, str]
    suggestion: dict[str, str] | None  # {"q", "url"}: "Did you mean"
    expanded: list[str]  # glossary forms added to the search
    truncated: bool  # the words were cut to the maximum length
    any_words: bool  # nothing matched every word, so these match some of them
    is_browse: bool
    # {"q": searched, "original": typed, "url": the typed words, uncorrected}: "Showing results for"
    corrected: dict[str, str] | None = None

    @property
    def articles(self) -> list[Article]:
        return [hit.article for hit in self.hits]

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.first + len(self.hits) - 1 if self.hits else 0

    def page_url(self, number: int) -> str:
        return self.query.url(page=number)

    @property
    def chips(self) -> list[dict[str, str]]:
        """Every ticked value as ``{label, remove_url}``, for the removable filter chips."""
        return [
            {"label": f"{self.facet_labels[name]}: {bucket['label']}", "remove_url": bucket["toggle_url"]}
            for name, buckets in self.facets.items()
            for bucket in buckets
            if bucket["selected"]
        ]


@dataclass(frozen=True)
class RebuildReport:
    documents: int
    seconds: float


@dataclass(frozen=True)
class IndexHealth:
    available: bool
    db_documents: int
    index_documents: int
    stale: list[str] = field(default_factory=list)  # indexed version differs from the database
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, no longer in the database (ids)
    last_build_at: str | None = None
    last_build_seconds: float | None = None
    building: bool = False
    writable: bool = True  # the index folder accepts writes (saves reach the index)
    behind: int = 0  # change-log ids this index has still to apply

    @property
    def healthy(self) -> bool:
        return self.available and self.writable and not (self.stale or self.missing or self.extra)


# --- set-up ----------------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Give the app its index store, follow the database through session events, build when missing."""
    app.config.setdefault("SEARCH_MAX_QUERY_LENGTH", MAX_QUERY_LENGTH)
    app.config.setdefault("SEARCH_WRITER_TIMEOUT", 10.0)
    app.config.setdefault("SEARCH_REBUILD_PROCS", 2)
    app.config.setdefault("SEARCH_PARALLEL_MIN_DOCS", 2000)
    app.config.setdefault("SEARCH_BUILD_ON_START", True)
    app.config.setdefault("SEARCH_MERGE_IN_BACKGROUND", True)
    # Seconds between checks of the change log (catch up, record this index's position, prune, and
    # rebuild an index folder that has gone); 0 turns the timer off (tests).
    app.config.setdefault("SEARCH_SYNC_INTERVAL", 0 if app.testing else 5.0)
    app.extensions[sync.EXTENSION] = IndexStore(
        app.config["INDEX_DIR"],
        writer_timeout=float(app.config["SEARCH_WRITER_TIMEOUT"]),
        rebuild_procs=int(app.config["SEARCH_REBUILD_PROCS"]),
        parallel_min_docs=int(app.config["SEARCH_PARALLEL_MIN_DOCS"]),
        background_merge=bool(app.config["SEARCH_MERGE_IN_BACKGROUND"]),
    )
    sync.listen()

    @app.before_request
    def build_index_if_missing() -> None:
        # Once per process: a missing or unreadable index is rebuilt in the background, and search
        # answers "being rebuilt" (503) until it is ready, instead of holding up the first request.
        if app.extensions.get("kb_search_checked"):
            return
        app.extensions["kb_search_checked"] = True
        if app.config["SEARCH_BUILD_ON_START"] and ensure_index():
            # A server killed between a commit and its index write converges here.
            sync.catch_up_quietly(_store())
        interval = float(app.config["SEARCH_SYNC_INTERVAL"])
        if interval > 0:
            threading.Thread(
                target=_follow_the_log, args=(app, interval), name="kb-index-follow", daemon=True
            ).start()


def _follow_the_log(app: Flask, interval: float) -> None:
    """The timer: catch up with saves made by other processes or nodes, prune, and recover by itself."""
    store = app.extensions[sync.EXTENSION]
    while not store._stopping.wait(interval):
        with app.app_context():
            try:
                if ensure_index() and sync.catch_up_quietly(store):
                    sync.record_position_and_prune(store)
            except Exception:
                log.exception("following the change log failed; retrying in %.0f s", interval)
            finally:
                db.session.remove()


def _store() -> IndexStore:
    return current_app.extensions[sync.EXTENSION]


def ensure_index() -> bool:
    """True when a usable index exists; otherwise start building one in the background (once)."""
    store = _store()
    if store.is_available():
        return True
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _background_lock:
        running = app.extensions.get("kb_search_builder")
        if (running is not None and running.is_alive()) or store.is_rebuilding():
            return False
        thread = threading.Thread(
            target=_build_in_background, args=(app,), name="kb-index-build", daemon=True
        )
        app.extensions["kb_search_builder"] = thread
        thread.start()
    return False


def _build_in_background(app: Flask) -> None:
    with app.app_context():
        try:
            report = rebuild_index()
            log.info("search index built: %d documents in %.1f s", report.documents, report.seconds)
        except RebuildInProgress:
            pass
        except SearchIndexError as exc:
            log.error("building the search index failed: %s; it is tried again on the next check", exc)
        except Exception:
            log.exception("building the search index failed; search answers 503 until `kb reindex` succeeds")


def _snapshot() -> Snapshot:
    """A searcher for one operation.

    :raise IndexUnavailable: no usable index; a background build has been started.
    """
    store = _store()
    sync.catch_up_if_behind(store)
    try:
        return Snapshot(store)
    except IndexUnavailable:
        ensure_index()
        raise


@dataclass(frozen=True)
class Vocabulary:
    """What the glossary gives search: the query builder, its words, and the best bets."""

    builder: QueryBuilder
    words: dict[str, int]  # every word of the glossary's forms
    best_bets: list[glossary.BestBet]
    best_bet_matcher: SynonymMatcher


def _vocabulary() -> Vocabulary:
    """The glossary as search uses it (rebuilt when an entry changes, or every few minutes)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    key = (glossary.version_key(), _store().glossary_generation)
    cached = app.extensions.get("kb_search_vocabulary")
    if cached is not None and cached[0] == key and time.monotonic() - cached[1] < GLOSSARY_CACHE_SECONDS:
        return cached[2]
    groups = [SynonymGroup(forms=forms, display=display) for forms, display in glossary.synonym_groups()]
    bets = glossary.best_bets()
    vocabulary = Vocabulary(
        builder=QueryBuilder(
            build_schema(),
            SynonymMatcher(groups),
            max_length=int(app.config.get("SEARCH_MAX_QUERY_LENGTH", MAX_QUERY_LENGTH)),
            capital_acronyms=glossary.capital_acronyms(),
        ),
        words=glossary.words(),
        best_bets=bets,
        best_bet_matcher=SynonymMatcher(
            [SynonymGroup(forms=b.forms, display=()) for b in bets], analyzer=phrase_analyzer()
        ),
    )
    app.extensions["kb_search_vocabulary"] = (key, time.monotonic(), vocabulary)
    return vocabulary


def _builder() -> QueryBuilder:
    """The query builder for the current glossary."""
    return _vocabulary().builder


def _real_word_test():
    """With semantic search on, the model's vocabulary tells real words from typos."""
    return semantic.model().is_whole_word if semantic_enabled() else None


def semantic_enabled() -> bool:
    value = current_app.config.get("SEARCH_SEMANTIC", True)
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false", "no", "off", ""}
    return bool(value)


# --- who sees what ---------------------------------------------------------------------------------------


def _reader(user: Any) -> Any:
    return current_user if user is None else user


def _visibility(user: Any, scope: str) -> Visibility:
    if scope not in SCOPES:
        raise ValueError(f"unknown search scope {scope!r}")
    if scope == "editor":
        if not (getattr(user, "is_authenticated", False) and user.has_role(UserRole.EDITOR)):
            raise PermissionError("the editor scope is for editors")
        return Visibility(statuses=None, visibilities=None)
    return Visibility(statuses=(Status.PUBLISHED.value,), visibilities=readable_visibilities(user))


def _rows(ids: list[str], user: Any, scope: str) -> dict[str, Article]:
    """The articles with these ids that the reader may see, by id (the index may lag the database)."""
    if not ids:
        return {}
    stmt = (
        select(Article)
        .where(Article.id.in_([int(i) for i in ids]))
        .options(joinedload(Article.area), selectinload(Article.tags), selectinload(Article.role_types))
    )
    if scope == "site":
        stmt = stmt.where(readable_clause(user))
    return {str(article.id): article for article in db.session.scalars(stmt).unique()}


def _in_rank_order(ids: list[str], rows: Mapping[str, Article]) -> list[Article]:
    missing = [i for i in ids if i not in rows]
    if missing:
        log.warning("search index lists %d article(s) the database does not show this reader", len(missing))
    return [rows[i] for i in ids if i in rows]


# --- searching -------------------------------------------------------------------------------------------


def search(query: SearchQuery, user: Any = None, *, scope: str = "site") -> SearchResults:
    """Search the articles the reader may see; an empty query browses all of them.

    Works without a request context too (URLs then need an application context with ``SERVER_NAME``
    only for the links, which callers outside a request do not use).

    :param scope: ``"site"`` (the public site and API) or ``"editor"`` (every status, editors only).
    :raise IndexUnavailable: no usable index yet (answer 503); a build has been started.
    :raise PermissionError: the editor scope was asked for by someone who is not an editor.
    """
    user = _reader(user)
    visibility = _visibility(user, scope)
    snapshot = _snapshot()
    vocabulary = _vocabulary()
    builder = vocabulary.builder
    visible = snapshot.visible(visibility)

    correction = None
    if query.correct and query.text:
        correction = ranking.correct(
            query.text,
            snapshot,
            visible,
            vocabulary.words,
            max_length=builder.max_length,
            is_word=_real_word_test(),
        )
    parsed = builder.build(
        correction.text if correction else query.text,
        known=lambda stem: snapshot.visibly_used(stem, visible),
    )
    order, q, any_words = _match(snapshot, parsed, visible)
    if q is not None and not parsed.exact and semantic_enabled():
        order = ranking.fuse(order, ranking.neighbours(snapshot, parsed, visible))
    named = _named_articles(snapshot, parsed, visible)
    pinned = named or (
        ranking.best_bets(
            vocabulary.best_bet_matcher, [b.targets for b in vocabulary.best_bets], parsed, snapshot, visible
        )
    )
    if pinned:
        order = pinned + [d for d in order if d not in pinned]
    pinned = [] if named else pinned
    matched = DocSet.of(order) if q is not None else visible
    return _page_of(
        query, user, scope, snapshot, parsed, order, matched, q,
        any_words=any_words and not pinned,
        best_bets=set(pinned),
        correction=correction,
        suggestion=None if q is None else _did_you_mean(snapshot, vocabulary, parsed, visible, query),
    )  # fmt: skip


def _named_articles(snapshot: Snapshot, parsed, visible: DocSet) -> list[int]:
    """Visible articles whose title or acronym is exactly what was typed: they come first, always."""
    name = normalise_name(parsed.text)
    if not name or parsed.query is None:
        return []
    return [d for d in snapshot.searcher.docs_for_query(whoosh_query.Term("name", name)) if d in visible]


def _match(snapshot: Snapshot, parsed, visible: DocSet) -> tuple[list[int], Any, bool]:
    """The lexical match: every word (best first), or else some words ranked by the information they
    carry; returns (ranking, the query that matched, whether it was some words only)."""
    q = ranking.expand_prefixes(parsed.query, snapshot, visible)
    if q is None:
        return [], None, False
    order = snapshot.scored(q, visible)
    if order or parsed.term_count <= 1:
        return order, q, False
    some_words = ranking.expand_prefixes(parsed.any_words_query, snapshot, visible)
    if some_words is None:
        return [], q, False
    order = ranking.by_coverage(snapshot, parsed, snapshot.scored(some_words, visible), visible)
    return order, (some_words if order else q), bool(order)


def _page_of(
    query: SearchQuery,
    user: Any,
    scope: str,
    snapshot: Snapshot,
    parsed,
    order: list[int],
    matched: DocSet,
    q,
    *,
    any_words: bool,
    best_bets: set[int],
    correction,
    suggestion,
) -> SearchResults:
    """Facet counts, one page of hits (rows from the database, snippets from the index) and the notices."""
    facets = facet_registry.facets_for(scope)
    value_docs = {f.name: snapshot.value_docs(f.field) for f in facets}
    selected = {f.name: query.selected(f.name) for f in facets}
    final, counts = facet_registry.disjunctive_counts(matched, value_docs, selected)

    per_page = max(1, query.per_page)
    total = len(final)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, query.page), pages)
    sort = query.sort if query.sort != "relevance" or q is not None else ""
    sort = sort or ("relevance" if q is not None else "title")
    start, stop = (page - 1) * per_page, page * per_page
    if sort == "relevance":
        docnums = list(itertools.islice((d for d in order if d in final), start, stop))
    else:
        docnums = snapshot.in_order(final, sort)[start:stop]
    ids = snapshot.ids(docnums)
    fragments = snapshot.fragments(q, docnums) if q is not None else {}
    rows = _rows(ids, user, scope)
    hits = [
        SearchHit(
            article=rows[doc_id],
            snippet=snippet_html(fragments.get(docnum)),
            best_bet=docnum in best_bets,
        )
        for docnum, doc_id in zip(docnums, ids, strict=True)
        if doc_id in rows
    ]
    if len(hits) < len(ids):
        _in_rank_order(ids, rows)  # logs the lag

    page_query = query.with_changes(page=page)
    return SearchResults(
        query=page_query,
        text=correction.original if correction else parsed.text,
        hits=hits,
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        sort=sort,
        facets={
            f.name: facet_registry.buckets(f, counts[f.name], selected[f.name], page_query.toggle_url)
            for f in facets
        },
        facet_labels={f.name: f.label for f in facets},
        suggestion=suggestion,
        expanded=parsed.expanded,
        truncated=parsed.truncated,
        any_words=any_words,
        is_browse=parsed.query is None,
        corrected=None
        if correction is None
        else {
            "q": correction.text,
            "original": correction.original,
            "url": page_query.url(text=correction.original, correct=False, page=1),
        },
    )


def snippet_html(fragment: Fragment | None) -> Markup:
    """Escape the passage and wrap the matched words in ``<mark>``; the result is sanitised again."""
    if fragment is None:
        return Markup("")
    text = fragment.text.replace("\n", " ")
    parts: list[str] = ["… "] if fragment.clipped_start else []
    position = 0
    for start, end in fragment.marks:
        parts.append(str(escape(text[position:start])))
        parts.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    parts.append(str(escape(text[position:])))
    if fragment.clipped_end:
        parts.append(" …")
    return sanitise("".join(parts))


def _did_you_mean(snapshot: Snapshot, vocabulary: Vocabulary, parsed, visible, query: SearchQuery):
    """A corrected search, when correction was turned off and a word is unknown to the reader's articles
    and the glossary: the same vocabulary, and the same rule, as the automatic correction."""
    if query.correct:
        return None  # corrections were applied already (and the page says so)
    correction = ranking.correct(
        parsed.text,
        snapshot,
        visible,
        vocabulary.words,
        max_length=vocabulary.builder.max_length,
        is_word=_real_word_test(),
    )
    if correction is None:
        return None
    check = vocabulary.builder.build(correction.text, known=lambda stem: snapshot.visibly_used(stem, visible))
    if check.query is None or not snapshot.has_match(
        ranking.expand_prefixes(check.query, snapshot, visible), visible
    ):
        return None
    return {"q": check.text, "url": query.url(text=check.text, page=1, correct=True)}


def related(article: Article, user: Any = None, limit: int = 4) -> list[Article]:
    """Capabilities like this one (shared key terms and tags) that the reader may see.

    Returns nothing, rather than failing the article page, while the index is unavailable.
    """
    user = _reader(user)
    try:
        snapshot = _snapshot()
    except IndexUnavailable:
        return []
    docnum = snapshot.docnum(article.id)
    if docnum is None:
        return []
    visible = snapshot.visible(_visibility(user, "site"))
    docnums = snapshot.similar(docnum, visible, limit=limit)
    ids = snapshot.ids(docnums)
    return _in_rank_order(ids, _rows(ids, user, "site"))


def suggest(prefix: str, user: Any = None, limit: int = 8) -> list[dict[str, str]]:
    """Type-ahead: readable articles whose title or acronym words start with the words typed.

    :raise IndexUnavailable: no usable index yet.
    """
    user = _reader(user)
    text = " ".join(str(prefix or "").split())[:100]
    if not text:
        return []
    snapshot = _snapshot()
    visible = snapshot.visible(_visibility(user, "site"))
    docnums = snapshot.completions(text, visible, limit=max(1, min(limit, 20)))
    ids = snapshot.ids(docnums)
    return [
        {
            "title": article.title,
            "acronym": article.acronym,
            "url": url_for("public.article", slug=article.slug),
        }
        for article in _in_rank_order(ids, _rows(ids, user, "site"))
    ]


# --- the index's life ------------------------------------------------------------------------------------


def rebuild_index() -> RebuildReport:
    """Build a fresh index from the database beside the live one and swap it in.

    :raise RebuildInProgress: a rebuild is already running (here or in another process).
    :raise IndexNotWritable: the index folder cannot be written.
    :raise IndexBusy: the new build's writer stayed locked while it caught up before the swap.
    """
    info, seconds = sync.rebuild(_store())
    return RebuildReport(documents=info.documents, seconds=round(seconds, 2))


def repair_index() -> list[str]:
    """Re-index only the articles whose indexed document differs (by fingerprint), and add or drop
    missing or extra ones.

    :raise IndexUnavailable: there is no index to repair (rebuild instead).
    :raise IndexBusy: the index writer stayed locked for longer than ``SEARCH_WRITER_TIMEOUT``.
    :raise IndexNotWritable: the index folder cannot be written.
    """
    return sync.repair(_store())


def caught_up() -> bool:
    """True when this process's index has applied every change in the log (a save is searchable)."""
    try:
        return sync.changes_behind(_store()) == 0
    except Exception:
        return False


def index_health() -> IndexHealth:
    """Documents in the database against documents in the index (by stored fingerprint), whether the
    index folder can be written, how far behind the change log it is, and the last build."""
    store = _store()
    rows = db.session.execute(select(Article.id, Article.slug)).all()
    info = store.build_info()
    running = current_app.extensions.get("kb_search_builder")
    building = store.is_rebuilding() or bool(running is not None and running.is_alive())
    common = {
        "db_documents": len(rows),
        "last_build_at": info.built_at if info else None,
        "last_build_seconds": info.seconds if info else None,
        "building": building,
        "writable": store.is_writable(),
    }
    try:
        found = sync.compare(store)
        index_documents = len(store.stored_fingerprints())
    except IndexUnavailable:
        return IndexHealth(
            available=False, index_documents=0, missing=sorted(row.slug for row in rows), **common
        )
    return IndexHealth(
        available=True,
        index_documents=index_documents,
        stale=found["stale"],
        missing=found["missing"],
        extra=found["extra"],
        behind=sync.changes_behind(store) or 0,
        **common,
    )
