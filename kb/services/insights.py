"""What readers look for, recorded privately, and what editors learn from it (``/editor/insights``).

For each search the results page answers, one ``SearchEvent`` keeps only: the normalised words, the
number of results, whether a result was opened and at which rank, the role class (``anonymous`` or
``staff``) and the day. Never an address, a user id, a session id, a time of day, filters or a referrer.
A query is shown to editors only once at least ``INSIGHTS_MIN_COUNT`` (k, default 5) searches share it,
so nobody's one-off search can be singled out. Events older than ``INSIGHTS_RETENTION_DAYS`` (90) are
folded into monthly counts (``SearchAggregate``) and deleted. ``KB_SEARCH_INSIGHTS=false`` turns all of
this off (searches, views and the helpful form's answers are then not stored).

An opened result is noticed on the article page from the search page address the browser sends as its
referrer: the search is run again to learn the article's rank, and the newest unopened event of that
query that day is marked. Without identities this is per query, not per person: it is what the counts
need and no more. Live search (JavaScript) asks the API as people type; those requests are not recorded,
so half-typed words never are: a live search is counted when a result is opened from it or the results
page is loaded.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import MultiDict

from kb.extensions import db
from kb.models import Article, ArticleView, PageFeedback, SearchAggregate, SearchEvent, utcnow

log = logging.getLogger(__name__)

WINDOWS = (7, 30, 90)
ANONYMOUS, STAFF = "anonymous", "staff"
MAX_QUERY = 200
MAX_COMMENT = 500
# Things people sometimes paste into a search box that would identify someone: kept out of the record.
_EMAIL = re.compile(r"\S+@\S+")
_LONG_NUMBER = re.compile(r"\d[\d\s-]{5,}\d")
_SPACES = re.compile(r"\s+")


def enabled() -> bool:
    return bool(current_app.config.get("SEARCH_INSIGHTS", True))


def min_count() -> int:
    return max(1, int(current_app.config.get("INSIGHTS_MIN_COUNT", 5)))


def retention_days() -> int:
    return int(current_app.config.get("INSIGHTS_RETENTION_DAYS", 90))


def normalise(text: str) -> str:
    """The words as recorded: NFKC, lower case, one space between words, no e-mail addresses or long
    numbers (phone, warrant, crime reference numbers), at most 200 characters."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = _EMAIL.sub("[e-mail]", text)
    text = _LONG_NUMBER.sub("[number]", text)
    return _SPACES.sub(" ", text).strip()[:MAX_QUERY]


def role_class(user: Any = None) -> str:
    user = user if user is not None else current_user
    return STAFF if getattr(user, "is_authenticated", False) else ANONYMOUS


def _today() -> date:
    return utcnow().date()


def _commit_quietly() -> None:
    """Insight is never worth a reader's error page: a failed write is logged and dropped."""
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("search insight not recorded", exc_info=True)


def record_search(asked: Any, results: Any) -> None:
    """Record one search the results page answered (the first page asked for, with words), if on."""
    if not enabled() or results.is_browse or asked.page != 1:
        return
    query = normalise(results.text)
    if not query:
        return
    db.session.add(SearchEvent(day=_today(), query=query, results=results.total, role_class=role_class()))
    _commit_quietly()
    prune_if_due()


def record_view(article: Article, referrer: str | None = None) -> None:
    """Count one reading of ``article`` today; if it was opened from the search page, mark the search."""
    if not enabled():
        return
    day, role = _today(), role_class()
    counted = db.session.execute(
        update(ArticleView)
        .where(ArticleView.day == day, ArticleView.article_id == article.id, ArticleView.role_class == role)
        .values(views=ArticleView.views + 1)
    )
    if not counted.rowcount:
        db.session.add(ArticleView(day=day, article_id=article.id, role_class=role, views=1))
    try:
        db.session.flush()
    except IntegrityError:  # another reader created today's row first: count on it
        db.session.rollback()
        db.session.execute(
            update(ArticleView)
            .where(
                ArticleView.day == day, ArticleView.article_id == article.id, ArticleView.role_class == role
            )
            .values(views=ArticleView.views + 1)
        )
    _mark_opened(article, referrer, day, role)
    _commit_quietly()


def _search_args(referrer: str | None) -> MultiDict | None:
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.path != request.script_root + "/search":
        return None
    return MultiDict(parse_qsl(parts.query))


def _mark_opened(article: Article, referrer: str | None, day: date, role: str) -> None:
    args = _search_args(referrer)
    query = normalise(args.get("q", "")) if args else ""
    if not query:
        return
    from kb.services.search import IndexUnavailable, SearchQuery, search

    asked = SearchQuery.from_args(args)
    try:
        found = search(asked)
    except IndexUnavailable:
        return
    ids = [hit.article.id for hit in found.hits]
    rank = (found.page - 1) * found.per_page + ids.index(article.id) + 1 if article.id in ids else 0
    event = db.session.scalar(
        select(SearchEvent)
        .where(
            SearchEvent.day == day,
            SearchEvent.query == query,
            SearchEvent.role_class == role,
            SearchEvent.opened_rank.is_(None),
        )
        .order_by(SearchEvent.id.desc())
        .limit(1)
    )
    if event is None:  # a live search (not recorded as it was typed): count it now it was used
        event = SearchEvent(day=day, query=query, results=found.total, role_class=role)
        db.session.add(event)
    event.opened_rank = rank


# --- Retention ------------------------------------------------------------------------------------

_last_pruned: dict[str, date] = {}


def prune_if_due() -> None:
    """Prune at most once a day per process, on the first recorded search of the day."""
    key = current_app.config.get("SQLALCHEMY_DATABASE_URI", "")
    if _last_pruned.get(key) != _today():
        _last_pruned[key] = _today()
        prune()


def prune(today: date | None = None) -> int:
    """Fold search events older than the retention period into monthly counts, then delete them (and
    daily view counts of the same age). Returns the number of events folded."""
    today = today or _today()
    cutoff = today - timedelta(days=retention_days())
    # Grouped by day in SQL and folded into months here: the same on SQLite and PostgreSQL.
    rows = db.session.execute(
        select(
            SearchEvent.day,
            SearchEvent.query,
            SearchEvent.role_class,
            func.count(SearchEvent.id),
            func.sum(case((SearchEvent.results == 0, 1), else_=0)),
            func.sum(case((SearchEvent.opened_rank.is_not(None), 1), else_=0)),
        )
        .where(SearchEvent.day < cutoff)
        .group_by(SearchEvent.day, SearchEvent.query, SearchEvent.role_class)
    ).all()
    months: dict[tuple[date, str, str], list[int]] = {}
    for day, query, role, searches, zero, opened in rows:
        counts = months.setdefault((day.replace(day=1), query, role), [0, 0, 0])
        counts[0] += int(searches)
        counts[1] += int(zero or 0)
        counts[2] += int(opened or 0)
    folded = 0
    for (first, query, role), (searches, zero, opened) in months.items():
        row = db.session.scalar(
            select(SearchAggregate).where(
                SearchAggregate.month == first,
                SearchAggregate.query == query,
                SearchAggregate.role_class == role,
            )
        )
        if row is None:
            row = SearchAggregate(
                month=first, query=query, role_class=role, searches=0, zero_results=0, opened=0
            )
            db.session.add(row)
        row.searches += searches
        row.zero_results += zero
        row.opened += opened
        folded += searches
    db.session.execute(delete(SearchEvent).where(SearchEvent.day < cutoff))
    db.session.execute(delete(ArticleView).where(ArticleView.day < cutoff))
    # Free-text comments are kept a year for owners to act on, then go.
    db.session.execute(delete(PageFeedback).where(PageFeedback.day < today - timedelta(days=365)))
    _commit_quietly()
    return folded


# --- What editors see -----------------------------------------------------------------------------


@dataclass
class QueryRow:
    query: str
    searches: int
    zero_results: int
    opened: int

    @property
    def opened_share(self) -> int:
        return round(100 * self.opened / self.searches) if self.searches else 0


@dataclass
class Insights:
    days: int
    k: int
    searches: int  # every recorded search in the window, shown or not
    top: list[QueryRow]
    zero_results: list[QueryRow]
    unopened: list[QueryRow]
    most_viewed: list[tuple[Article, int]]
    recording: bool


def insights(days: int = 30, *, today: date | None = None, limit: int = 20) -> Insights:
    """Top queries, zero-result queries, queries whose results nobody opened, and the most viewed
    articles over the last ``days`` days; a query appears only if at least k searches share it."""
    days = days if days in WINDOWS else 30
    today = today or _today()
    since = today - timedelta(days=days - 1)
    k = min_count()
    searches = func.count(SearchEvent.id)
    zero = func.sum(case((SearchEvent.results == 0, 1), else_=0))
    opened = func.sum(case((SearchEvent.opened_rank.is_not(None), 1), else_=0))
    grouped = (
        select(SearchEvent.query, searches, zero, opened)
        .where(SearchEvent.day >= since)
        .group_by(SearchEvent.query)
        .having(searches >= k)
    )
    rows = [QueryRow(q, n, int(z or 0), int(o or 0)) for q, n, z, o in db.session.execute(grouped)]
    by_count = sorted(rows, key=lambda r: (-r.searches, r.query))
    total = db.session.scalar(select(func.count(SearchEvent.id)).where(SearchEvent.day >= since)) or 0
    views = db.session.execute(
        select(ArticleView.article_id, func.sum(ArticleView.views).label("views"))
        .where(ArticleView.day >= since)
        .group_by(ArticleView.article_id)
        .order_by(func.sum(ArticleView.views).desc())
        .limit(10)
    ).all()
    found = {
        a.id: a for a in db.session.scalars(select(Article).where(Article.id.in_([v[0] for v in views])))
    }
    return Insights(
        days=days,
        k=k,
        searches=total,
        top=by_count[:limit],
        zero_results=[r for r in by_count if r.zero_results >= k][:limit],
        unopened=[r for r in by_count if r.zero_results < r.searches and r.opened == 0][:limit],
        most_viewed=[(found[i], int(n)) for i, n in views if i in found],
        recording=enabled(),
    )


# --- "Was this page helpful?" ---------------------------------------------------------------------


def record_feedback(article: Article, *, helpful: bool, comment: str = "") -> None:
    """Keep one answer: yes or no, the day and an optional comment (trimmed, never the reader)."""
    db.session.add(
        PageFeedback(article_id=article.id, day=_today(), helpful=helpful, comment=(comment or "").strip())
    )
    db.session.commit()


@dataclass
class FeedbackSummary:
    article: Article
    yes: int
    no: int
    comments: list[PageFeedback]


def feedback_for_owners(
    *, days: int = 90, today: date | None = None, viewer: Any = None
) -> list[FeedbackSummary]:
    """Articles readers found unhelpful in the last ``days`` (any "No" or comment), the viewer's own
    first, with the counts and the newest comments."""
    since = (today or _today()) - timedelta(days=days - 1)
    answers = list(
        db.session.scalars(
            select(PageFeedback).where(PageFeedback.day >= since).order_by(PageFeedback.id.desc())
        )
    )
    by_article: dict[int, list[PageFeedback]] = {}
    for answer in answers:
        by_article.setdefault(answer.article_id, []).append(answer)
    rows = []
    for article in db.session.scalars(select(Article).where(Article.id.in_(list(by_article)))):
        items = by_article[article.id]
        no = sum(1 for a in items if not a.helpful)
        comments = [a for a in items if a.comment][:5]
        if no or comments:
            rows.append(FeedbackSummary(article, len(items) - no, no, comments))
    own = getattr(viewer, "id", None)
    rows.sort(key=lambda r: (r.article.owner_id != own if own else True, -r.no, r.article.title))
    return rows
