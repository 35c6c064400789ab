"""The one declaration of an article's fields: what an editor can set, in form order.

Everything that lists the fields takes them from here (diff and conflict labels, which fields are lists,
which long texts merge line by line, the form's character limits); the places that must spell them out
(the model's columns, ``ArticleData``, the form, content loading, the JSON, the index document) are
checked against this list by ``tests/test_article_fields.py``, so a new field cannot be forgotten in one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArticleField:
    name: str  # the ArticleData attribute, the snapshot key and the form field
    label: str  # how diff, conflict and history pages name it
    shape: str  # "line" (one line of text), "prose" (long Markdown), "list" or "choice"
    limit: int | None = None  # characters, for the form's count and error
    editable: bool = True  # typed or chosen in the form (status is the button pressed; kind is fixed)


ARTICLE_FIELDS: tuple[ArticleField, ...] = (
    ArticleField("title", "Title", "line", 200),
    ArticleField("acronym", "Acronym", "line", 40),
    ArticleField("summary", "Summary", "prose", 300),
    ArticleField("body", "Body", "prose", 100_000),
    ArticleField("area", "Area", "choice"),
    ArticleField("parent", "Parent capability", "choice"),
    ArticleField("tags", "Tags", "list"),
    ArticleField("roles", "Role types", "list"),
    ArticleField("partners", "Partners", "list", 2000),
    ArticleField("contact_public", "Public contact", "prose", 5000),
    ArticleField("contact_internal", "Internal contact (staff only)", "prose", 5000),
    ArticleField("visibility", "Visibility", "choice"),
    ArticleField("status", "Status", "choice", editable=False),
    ArticleField("kind", "Kind", "choice", editable=False),
)

BY_NAME = {f.name: f for f in ARTICLE_FIELDS}
FIELD_NAMES = tuple(f.name for f in ARTICLE_FIELDS)
FIELD_LABELS = {f.name: f.label for f in ARTICLE_FIELDS}
LIST_FIELDS = frozenset(f.name for f in ARTICLE_FIELDS if f.shape == "list")
PROSE_FIELDS = tuple(f.name for f in ARTICLE_FIELDS if f.shape == "prose")
EDITABLE_FIELDS = tuple(f.name for f in ARTICLE_FIELDS if f.editable)


def limit(name: str) -> int:
    """The character limit of a field (``KeyError`` if it has none: a form must not invent one)."""
    value = BY_NAME[name].limit
    if value is None:
        raise KeyError(name)
    return value
