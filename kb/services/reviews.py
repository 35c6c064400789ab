"""Owners and review dates: who keeps each article current, and what is due for a check.

Every published article has a "next review" date, by default 12 months after it was last published or
marked as reviewed, and an owner (the editor who published it, unless someone is chosen). These live on
the article row but outside its revisioned text: changing the owner is not an edit of the article.
Writes that change the text or record a review go through the article service (the one writer); this
module computes dates and answers "what is due".
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import or_, select

from kb.extensions import db
from kb.models import Article, Status, User, UserRole, utcnow
from kb.services import audit

DUE_SOON_DAYS = 30


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 29 Feb -> 28 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_interval_months() -> int:
    return int(current_app.config.get("REVIEW_INTERVAL_MONTHS", 12))


def record_review(article: Article, author: User | None) -> None:
    """Note on the row that the article was checked now: next review in the configured interval.

    Called by the article service when it publishes or marks an article reviewed; an article without
    an owner gets the person who did it.
    """
    now = utcnow()
    article.last_reviewed_at = now
    article.next_review_on = add_months(now.date(), review_interval_months())
    if article.owner_id is None and author is not None and author.role in {UserRole.EDITOR, UserRole.ADMIN}:
        article.owner_id = author.id


def schedule(article: Article) -> None:
    """Give an article loaded from files (seed, import) a first review date, without claiming a review."""
    if article.next_review_on is None:
        article.next_review_on = add_months(utcnow().date(), review_interval_months())


def owners() -> list[User]:
    """The people who can own an article: active editors and admins, by e-mail address."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([UserRole.EDITOR.value, UserRole.ADMIN.value]), User.active.is_(True))
            .order_by(User.email)
        )
    )


def set_stewardship(article: Article, *, owner: User | None, next_review_on: date | None, by: User) -> None:
    """Change who owns the article and when it is next due; audited, not a revision of its text."""
    article.owner_id = owner.id if owner else None
    article.next_review_on = next_review_on
    audit.record(
        "article.stewardship",
        user=by,
        target=article.slug,
        owner=owner.email if owner else None,
        next_review_on=next_review_on.isoformat() if next_review_on else None,
    )
    db.session.commit()


@dataclass
class ReviewCounts:
    overdue: int
    due_soon: int
    unscheduled: int


@dataclass
class DueList:
    """Articles due for review, the viewer's own first, each group by date (overdue first)."""

    mine: list[Article]
    others: list[Article]
    today: date

    @property
    def articles(self) -> list[Article]:
        return [*self.mine, *self.others]

    def is_overdue(self, article: Article) -> bool:
        return article.next_review_on is None or article.next_review_on < self.today


def _due_statement(today: date, within_days: int):
    horizon = today + timedelta(days=within_days)
    return select(Article).where(
        Article.status == Status.PUBLISHED.value,
        or_(Article.next_review_on.is_(None), Article.next_review_on <= horizon),
    )


def due_for_review(
    viewer: User | None = None, *, today: date | None = None, within_days: int = DUE_SOON_DAYS
):
    """Published articles overdue or due within ``within_days``; ``viewer``'s own are listed first."""
    today = today or utcnow().date()
    rows = list(db.session.scalars(_due_statement(today, within_days)))
    rows.sort(key=lambda a: (a.next_review_on or date.min, a.title))
    mine = [a for a in rows if viewer is not None and a.owner_id == viewer.id]
    return DueList(mine, [a for a in rows if a not in mine], today)


def counts(today: date | None = None) -> ReviewCounts:
    """How many published articles are overdue, due in the next 30 days, or have no review date."""
    due = due_for_review(today=today)
    overdue = sum(1 for a in due.articles if a.next_review_on is not None and a.next_review_on < due.today)
    unscheduled = sum(1 for a in due.articles if a.next_review_on is None)
    return ReviewCounts(overdue, len(due.articles) - overdue - unscheduled, unscheduled)


def overdue(today: date | None = None) -> list[Article]:
    """Published articles whose review date has passed (or that have none), oldest first: the report."""
    return [a for a in due_for_review(today=today, within_days=-1).articles]
