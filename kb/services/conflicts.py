"""Settling an edit conflict field by field: "Keep mine", "Keep theirs" or "Edit both".

When an editor saves over a newer version, the conflict page lists each field where their text and the
current text differ. The page carries the editor's text (``mine``, as JSON in a hidden field) and the
revision they started from, so the same comparison can be rebuilt on every later submission, through
validation errors, until the editor saves. Nothing they typed is ever dropped: their original text stays
on the page, and the "Edit both" box of a field starts with both versions combined (no marker lines).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kb import article_fields
from kb.models import Article, Revision
from kb.services import articles, diffs
from kb.services.diffs import EDIT_BOTH, KEEP_MINE, KEEP_THEIRS, FieldChoice

# The fields an editor settles on the page. Status is the button they press; kind is never edited.
CHOICE_FIELDS = article_fields.EDITABLE_FIELDS
PICKS = (KEEP_MINE, KEEP_THEIRS, EDIT_BOTH)


@dataclass
class Conflict:
    """An editor's save (``mine``) against the current version (``theirs``), from a common base."""

    article: Article
    mine: dict[str, Any]
    theirs: dict[str, Any]
    base_number: int | None
    choices: list[FieldChoice]
    latest: Revision | None

    @property
    def clashes(self) -> list[FieldChoice]:
        return [c for c in self.choices if c.clash]

    @property
    def theirs_only(self) -> list[FieldChoice]:
        return [c for c in self.choices if c.suggested == KEEP_THEIRS]

    def by_name(self) -> dict[str, FieldChoice]:
        return {c.name: c for c in self.choices}

    def encoded_mine(self) -> str:
        return json.dumps(self.mine, ensure_ascii=False)

    def picks(self, form: Mapping[str, str] | None) -> dict[str, str]:
        """The choice made for each field: what the page sent, else the suggestion (only one side changed)."""
        sent = form or {}
        result = {}
        for choice in self.choices:
            pick = sent.get(f"keep-{choice.name}")
            result[choice.name] = pick if pick in PICKS else (choice.suggested or "")
        return result

    def unresolved(self, picks: dict[str, str]) -> list[FieldChoice]:
        """The fields both sides changed that have no choice yet."""
        return [c for c in self.choices if not picks.get(c.name)]

    def chosen_values(self, picks: dict[str, str]) -> dict[str, Any]:
        """The value of every field settled by "Keep mine" or "Keep theirs"; "Edit both" keeps the box."""
        values: dict[str, Any] = {}
        for choice in self.choices:
            if picks.get(choice.name) == KEEP_MINE:
                values[choice.name] = choice.mine
            elif picks.get(choice.name) == KEEP_THEIRS:
                values[choice.name] = choice.theirs
        return values


def open_conflict(article: Article, mine: dict[str, Any], base_number: int | None) -> Conflict:
    """Compare the editor's snapshot with the article's working copy, from revision ``base_number``."""
    theirs = articles.working_data(article).snapshot()
    base = articles.get_revision(article, base_number) if base_number else None
    choices = diffs.conflict_choices(base.snapshot if base else None, mine, theirs, fields=CHOICE_FIELDS)
    return Conflict(
        article, mine, theirs, base.number if base else None, choices, articles.latest_revision(article)
    )


def differing_fields(article: Article, mine: dict[str, Any]) -> list[str]:
    """The editable fields where ``mine`` differs from the article's working copy, in form order."""
    theirs = articles.working_data(article).snapshot()
    return [name for name in CHOICE_FIELDS if (mine.get(name) or None) != (theirs.get(name) or None)]


def decode_mine(text: str | None) -> dict[str, Any] | None:
    """The editor's snapshot carried by the conflict page, or None if there is none (a normal save)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    known = articles.ArticleData.from_snapshot({"title": "", **value}).snapshot()
    return {name: known[name] for name in known}
