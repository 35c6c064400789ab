"""What the search index holds: the Whoosh schema and the one function that maps an article to its document.

The index holds every article, drafts, archived and internal ones included, with ``status`` and
``visibility`` fields, so that the search service can put the reader's visibility filter inside each query.
Only text a reader of the article may see is indexed: internal contacts (and public contacts, which are
the same recruitment boilerplate on most pages) are never indexed at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC
from typing import Any

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    LowercaseFilter,
    NgramFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

# Bump when the schema or the analysis changes: an index built by older code is then rebuilt at start.
SCHEMA_VERSION = 4

# Words that carry no meaning in the questions people type ("who does phone downloads"), on top of
# Whoosh's English stop words. Removed at index and query time alike, so phrases still line up.
QUESTION_WORDS = frozenset(
    [
        "who",
        "whom",
        "whose",
        "what",
        "which",
        "where",
        "when",
        "why",
        "how",
        "does",
        "do",
        "did",
        "doing",
        "done",
        "i",
        "im",
        "me",
        "my",
        "mine",
        "our",
        "ours",
        "they",
        "them",
        "their",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "there",
        "please",
    ]
)
STOP_LIST = frozenset(STOP_WORDS) | QUESTION_WORDS

# Fields searched for each reader, with their weights: an exact title or acronym outranks a body mention.
FIELD_BOOSTS = {
    "acronym": 8.0,
    "title": 5.0,
    "summary": 2.0,
    "keywords": 1.5,
    "body": 1.0,
    "partners": 0.5,
}
SEARCH_FIELDS = tuple(FIELD_BOOSTS)
# Fields whose stored text provides snippets (character offsets are stored for pinpoint highlighting).
SNIPPET_FIELDS = ("body", "summary")

WORD_PATTERN = r"\w+(?:[.&'\u2019]?\w+)*"  # keeps R&A, O'Brien and 2.5 whole


def text_analyzer():
    """Words, lower-cased, accents folded, stop words dropped, English stemming."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_LIST, minsize=1)
        | StemFilter(cachesize=100_000)
    )


def plain_analyzer():
    """Words, lower-cased, accents folded; nothing removed or stemmed (type-ahead, corrections)."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


def acronym_analyzer():
    """As ``plain_analyzer``, without stop words: every searched field must drop the same words, or
    "cash at Gatwick" would require "at" to be an acronym."""
    return plain_analyzer() | StopFilter(stoplist=STOP_LIST, minsize=1)


def prefix_analyzer():
    """Edge n-grams of each word of a title or acronym, for type-ahead ("cyb" -> "cyber")."""
    return plain_analyzer() | NgramFilter(1, 24, at="start")


def build_schema() -> Schema:
    text = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        slug=ID(stored=True),
        version=STORED(),
        fingerprint=STORED(),
        kind=ID(stored=True),
        status=ID(stored=True),
        visibility=ID(stored=True),
        title=TEXT(analyzer=text, stored=True, spelling=True),
        acronym=TEXT(analyzer=acronym_analyzer(), stored=True),
        # The whole title and acronym, normalised, so that typing exactly a name ranks that article first.
        name=KEYWORD(commas=True, lowercase=True),
        summary=TEXT(analyzer=text, stored=True, chars=True, spelling=True),
        # No spelling words for the body: they would double the postings a rebuild writes; the words of
        # titles and summaries are enough for "did you mean".
        body=TEXT(analyzer=text, stored=True, chars=True),
        keywords=TEXT(analyzer=text),
        partners=TEXT(analyzer=text),
        complete=TEXT(analyzer=prefix_analyzer(), phrase=False),
        tags=KEYWORD(commas=True, stored=True),
        area=ID(stored=True, sortable=True),
        roles=KEYWORD(commas=True, stored=True),
        # "officer" and/or "staff": who can hold at least one of the article's roles (a search facet).
        workforce=KEYWORD(commas=True, stored=True),
        title_sort=ID(sortable=True),
        updated=NUMERIC(bits=64, signed=False, stored=True, sortable=True),
    )


def normalise_name(text: str) -> str:
    """Lower-case, accent-free words joined by single spaces: how names are compared."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9&]+", folded))


# Markdown is reduced to its words with a few regular expressions: fast enough to index thousands of
# articles, and snippets show prose rather than link targets or emphasis marks.
_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>]*)>")
_MD_HTML = re.compile(r"<[^>]{0,200}>")
_MD_LINE_MARKERS = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,3}[.)][ \t]+)", re.M)
_MD_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|?)+[ \t]*$", re.M)
_MD_INLINE_MARKS = re.compile(r"(\*\*|__|\*|`+|~~|(?<!\w)_|_(?!\w))")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{2,}")


_MD_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)


def plain_text(markdown: str) -> str:
    """The readable words of a Markdown text, paragraphs kept on their own lines.

    Headings get a full stop, so that a snippet running across one still reads as sentences.
    """
    text = (markdown or "").replace("\r\n", "\n")
    text = _MD_HEADING.sub(lambda m: m.group(1) + ("" if m.group(1)[-1:] in ".?!:" else "."), text)
    text = _MD_IMAGE_OR_LINK.sub(r"\1", text)
    text = _MD_AUTOLINK.sub(r"\1", text)
    text = _MD_HTML.sub(" ", text)
    text = _MD_TABLE_RULE.sub("", text)
    text = _MD_LINE_MARKERS.sub("", text)
    text = _MD_INLINE_MARKS.sub("", text)
    text = text.replace("|", " ")
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def document_for(article: Any) -> dict[str, Any]:
    """Map an article row to its index document (every article has one, whatever its status)."""
    tags = list(article.tags)
    roles = list(article.role_types)
    area = article.area
    title = article.title or ""
    acronym = article.acronym or ""
    names = [normalise_name(title)]
    if acronym:
        names.append(normalise_name(acronym))
    keywords = [t.name for t in tags] + ([area.name] if area is not None else []) + [r.name for r in roles]
    updated = article.updated_at or article.created_at
    document = {
        "id": str(article.id),
        "slug": article.slug,
        "version": int(article.version or 1),
        "kind": article.kind,
        "status": article.status,
        "visibility": article.visibility,
        "title": title,
        "acronym": acronym,
        "name": ",".join(n for n in names if n),
        "summary": article.summary or "",
        "body": plain_text(article.body or ""),
        "keywords": "\n".join(keywords),
        "partners": "\n".join(article.partners or []),
        "complete": f"{title} {acronym}".strip(),
        "tags": ",".join(t.slug for t in tags),
        "area": area.slug if area is not None else "",
        "roles": ",".join(r.slug for r in roles),
        "workforce": ",".join(sorted({w for r in roles for w in r.workforces})),
        "title_sort": normalise_name(title) or article.slug,
        # Microseconds since 1970 (the database keeps naive UTC), so "last updated" orders like the rows.
        "updated": int(updated.replace(tzinfo=UTC).timestamp() * 1_000_000) if updated else 0,
    }
    document["fingerprint"] = fingerprint(document)
    return document


def fingerprint(document: dict[str, Any]) -> str:
    """A digest of everything indexed: a stored document whose digest differs from the database is stale."""
    payload = {k: v for k, v in document.items() if k != "fingerprint"}
    payload["schema"] = SCHEMA_VERSION
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
