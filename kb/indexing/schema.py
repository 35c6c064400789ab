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
    Filter,
    LowercaseFilter,
    NgramFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from kb.indexing import semantic
from kb.rendering import plain_text  # the index holds the words the page shows

# Bump when the schema or the analysis changes: an index built by older code is then rebuilt at start.
SCHEMA_VERSION = 5

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


# US spellings folded into the UK ones the articles use, at index and query time alike (so folding a word
# that needs none does no harm: both sides fold the same way). Whole words first, then endings.
US_TO_UK = {
    "defense": "defence",
    "offense": "offence",
    "offenses": "offences",
    "license": "licence",
    "licenses": "licences",
    "center": "centre",
    "centers": "centres",
    "fiber": "fibre",
    "theater": "theatre",
    "meter": "metre",
    "catalog": "catalogue",
    "dialog": "dialogue",
    "program": "programme",
    "programs": "programmes",
    "jewelry": "jewellery",
    "gray": "grey",
    "mold": "mould",
    "pajamas": "pyjamas",
    "cozy": "cosy",
}
_US_OUR = re.compile(
    r"^(behavio|colo|favo|hono|labo|neighbo|humo|rumo|harbo|endeavo|vapo|armo|flavo|odo|vigo|savio)r"
)
_US_IZE = re.compile(r"^(\w{4,}?)(iz|yz)(e|es|ed|ing|ation|ations|er|ers)$")
_US_DOUBLE_L = re.compile(r"^(counse|trave|mode|labe|cance|fue|signa|channe|tunne)l(ing|ed|er|ers|or|ors)$")


def uk_spelling(word: str) -> str:
    """``word`` (lower case) in UK spelling: organize -> organise, behavior -> behaviour, center -> centre."""
    if word in US_TO_UK:
        return US_TO_UK[word]
    word = _US_OUR.sub(r"\1ur", word)
    word = _US_IZE.sub(lambda m: m.group(1) + ("ys" if m.group(2) == "yz" else "is") + m.group(3), word)
    return _US_DOUBLE_L.sub(r"\1ll\2", word)


def without_possessive(word: str) -> str:
    """``unit's`` -> ``unit`` (a possessive matches its noun)."""
    for ending in ("'s", "\u2019s"):
        if word.endswith(ending) and len(word) > len(ending):
            return word[: -len(ending)]
    return word


class PossessiveFilter(Filter):
    """Drop possessive endings ("what's" is "what", a stop word; "SEROCU's" is "serocu")."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = without_possessive(token.text)
            yield token


class SpellingFilter(Filter):
    """Drop possessive endings and fold US spellings into UK ones."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = uk_spelling(without_possessive(token.text))
            yield token


def text_analyzer():
    """Words, lower-cased, accents folded, possessives dropped, US spellings folded to UK, stop words
    dropped, English stemming."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | SpellingFilter()
        | StopFilter(stoplist=STOP_LIST, minsize=1)
        | StemFilter(cachesize=100_000)
    )


def plain_analyzer():
    """Words, lower-cased, accents folded; nothing removed or stemmed (type-ahead, corrections)."""
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


class PluralFilter(Filter):
    """A light plural fold (accountants -> accountant), short of stemming (development is not developer)."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if len(text) > 3 and text.endswith("s") and not text.endswith("ss"):
                token.text = text[:-3] + "y" if text.endswith("ies") else text[:-1]
            yield token


def phrase_analyzer():
    """Whole words, lower case, no possessive or plural, no stop words: for matching best bets."""
    return plain_analyzer() | PossessiveFilter() | StopFilter(stoplist=STOP_LIST, minsize=1) | PluralFilter()


def acronym_analyzer():
    """As ``plain_analyzer``, without stop words: every searched field must drop the same words, or
    "cash at Gatwick" would require "at" to be an acronym."""
    return plain_analyzer() | PossessiveFilter() | StopFilter(stoplist=STOP_LIST, minsize=1)


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
        # The article's embedding (kb.indexing.semantic), float16 bytes: derived like everything here.
        vector=STORED(),
    )


def normalise_name(text: str) -> str:
    """Lower-case, accent-free words joined by single spaces: how names are compared."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9&]+", folded))


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
    # After the fingerprint: the vector is derived from the fields above, so it adds nothing to it.
    document["vector"] = semantic.vector_for(document)
    return document


def fingerprint(document: dict[str, Any]) -> str:
    """A digest of everything indexed: a stored document whose digest differs from the database is stale."""
    payload = {k: v for k, v in document.items() if k not in {"fingerprint", "vector"}}
    payload["schema"] = SCHEMA_VERSION
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
