"""The ranking steps of one search, each on one snapshot of the index and the reader's visible documents.

1. ``correct``: words neither the reader's articles nor the glossary know are corrected (typos).
2. ``expand_prefixes``: prefix queries expand only to terms of visible documents, within one budget per
   query (a two-letter prefix cannot walk the lexicon, and a hidden article's words change nothing).
3. ``lexical``: Whoosh's ranking; when no document has every word, the documents with some are ranked by
   the information the words they match carry (idf-weighted coverage), and common words alone do not
   count as a match.
4. ``neighbours`` and ``fuse``: the semantic ranking (kb.indexing.semantic) and reciprocal-rank fusion
   with the lexical one; a similarity floor keeps stretches out, so a query with no good answer gets the
   empty state.
5. ``best_bets``: glossary phrases that put named capabilities first.

Every step is given the reader's visible set and consults nothing beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from whoosh import query

from kb.indexing import semantic
from kb.indexing.query import (
    FILLER_WORDS,
    SOFT_WORDS,
    ParsedQuery,
    SynonymMatcher,
    clean_input,
    tokenize,
)
from kb.indexing.schema import SEARCH_FIELDS, STOP_LIST
from kb.indexing.searching import DocSet, Snapshot
from kb.indexing.spelling import best_correction, is_correctable

# The terms every prefix of one query may expand to, in total (issue: a budget per query, not per prefix).
PREFIX_BUDGET = 96
# Terms looked at per prefix before giving up (hidden or budget-less terms are skipped, not counted).
PREFIX_SCAN_LIMIT = 400
# A word in more than this share of the visible documents is weak: matching only weak words is no match.
WEAK_SHARE = 0.3
# Any-words matches must cover at least this share of the typed words' information (idf).
MIN_COVERAGE = 0.34
# Semantic neighbours: how many are considered, the floor of similarity (cosine) to be shown at all, and
# how far below the best one a neighbour may be.
SEMANTIC_CANDIDATES = 40
SEMANTIC_FLOOR = 0.26
SEMANTIC_MARGIN = 0.10
SEMANTIC_KEEP = 8
# With no lexical match at all, the neighbours must be nearer than this to be shown.
SEMANTIC_ALONE_FLOOR = 0.40
# Reciprocal-rank fusion: score = weight / (RRF_K + rank), summed over the two rankings.
RRF_K = 5
LEXICAL_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.2


@dataclass(frozen=True)
class Correction:
    text: str  # what was searched for
    original: str  # what was typed
    words: tuple[tuple[str, str], ...]  # (typed, corrected)


def _known(word: str, snapshot: Snapshot, visible: DocSet, glossary_words: dict[str, int]) -> bool:
    lowered = word.lower()
    if lowered in glossary_words or lowered.replace("\u2019", "'") in FILLER_WORDS:
        return True
    stems = snapshot.stems(word)
    if not stems:  # a stop word
        return True
    return all(snapshot.visibly_used(stem, visible) for stem in stems)


def correct(
    text: str,
    snapshot: Snapshot,
    visible: DocSet,
    glossary_words: dict[str, int],
    *,
    max_length: int,
    is_word: Callable[[str], bool] | None = None,
) -> Correction | None:
    """Correct each unknown word into the likeliest known one (edit distance 1-2, frequency-weighted).

    A known word (any visible document or the glossary has it) is never changed; nor is a word typed in
    capitals (an acronym), a number, or the last word while visible words start with it (it is being
    typed, and searched as a prefix), nor a word ``is_word`` says is a real word of the language.
    """
    cleaned, _ = clean_input(text, max_length)
    tokens = [t for t in tokenize(cleaned) if t.kind == "word" and not t.prefix]
    if not tokens:
        return None
    vocabulary: dict[str, int] | None = None
    replacements: list[tuple[int, int, str, str]] = []
    ends_in_word = bool(cleaned) and not cleaned[-1].isspace()
    for token in tokens:
        word = token.text
        if not is_correctable(word) or _known(word, snapshot, visible, glossary_words):
            continue
        if is_word is not None and is_word(word):
            continue
        if vocabulary is None:
            vocabulary = snapshot.vocabulary(visible)
        lowered = word.lower()
        if ends_in_word and token.end == len(cleaned) and any(w.startswith(lowered) for w in vocabulary):
            continue
        candidate = best_correction(lowered, vocabulary, glossary_words)
        if candidate:
            replacements.append((token.start, token.end, word, candidate))
    if not replacements:
        return None
    corrected = cleaned
    for start, end, _word, candidate in sorted(replacements, reverse=True):
        corrected = corrected[:start] + candidate + corrected[end:]
    return Correction(text=corrected, original=cleaned, words=tuple((w, c) for _s, _e, w, c in replacements))


def _visible_term(snapshot: Snapshot, fieldname: str, btext: bytes, visible: DocSet) -> bool:
    reader = snapshot.reader
    if not reader.doc_frequency(fieldname, btext):
        return False
    return any(d in visible for d in snapshot.searcher.postings(fieldname, btext).all_ids())


def expand_prefixes(q: query.Query | None, snapshot: Snapshot, visible: DocSet) -> query.Query | None:
    """Replace every prefix query by the visible terms it stands for, ``PREFIX_BUDGET`` in all."""
    if q is None:
        return None
    remaining = [PREFIX_BUDGET]

    def visit(node: query.Query) -> query.Query:
        if not isinstance(node, query.Prefix):
            return node
        fieldname, terms = node.fieldname, []
        if fieldname not in snapshot.reader.indexed_field_names() or len(node.text) < 2:
            return query.NullQuery
        for scanned, btext in enumerate(snapshot.reader.expand_prefix(fieldname, node.text)):
            if remaining[0] <= 0 or scanned >= PREFIX_SCAN_LIMIT:
                break
            if _visible_term(snapshot, fieldname, btext, visible):
                remaining[0] -= 1
                text = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                terms.append(query.Term(fieldname, text, boost=node.boost))
        return query.Or(terms) if terms else query.NullQuery

    return q.accept(visit)


def _term_docs(snapshot: Snapshot, text: str, visible: DocSet) -> DocSet:
    """Visible documents with the term ``text`` in any searched field."""
    found = DocSet()
    for fieldname in SEARCH_FIELDS:
        if snapshot.reader.doc_frequency(fieldname, text):
            found = found | DocSet.of(snapshot.searcher.postings(fieldname, text).all_ids())
    return found & visible


def by_coverage(snapshot: Snapshot, parsed: ParsedQuery, ranking: list[int], visible: DocSet) -> list[int]:
    """Re-rank an any-words match by the information of what was typed that each document has, and drop
    documents that match only weak (common) words or too little of it.

    Each typed word, or glossary form with its alternatives, is one concept; a document has a concept if
    it has every stem of one of its forms; a concept's weight is its idf among the visible documents.
    """
    if not parsed.concepts:
        return ranking
    total = max(1, len(visible))
    stem_docs: dict[str, DocSet] = {}

    def docs_of(stems: tuple[str, ...]) -> DocSet:
        found = visible
        for stem in stems:
            if stem not in stem_docs:
                stem_docs[stem] = _term_docs(snapshot, stem, visible)
            found = found & stem_docs[stem]
        return found

    concept_docs = []
    for forms in parsed.concepts:
        found = DocSet()
        for stems in forms:
            if stems:
                found = found | docs_of(stems)
        concept_docs.append(found)
    idf = [math.log(1 + total / max(1, len(d))) for d in concept_docs]
    informative = [bool(d) and len(d) <= WEAK_SHARE * total for d in concept_docs]
    whole = sum(idf) or 1.0
    kept = []
    for position, docnum in enumerate(ranking):
        have = [i for i, d in enumerate(concept_docs) if docnum in d]
        coverage = sum(idf[i] for i in have) / whole
        if not any(informative[i] for i in have) or coverage < MIN_COVERAGE:
            continue
        kept.append((-coverage, position, docnum))
    kept.sort()
    return [docnum for _c, _p, docnum in kept]


def semantic_text(parsed: ParsedQuery) -> str:
    """The words the meaning of a query is taken from: what was typed, less filler and stop words, plus
    the glossary forms it was expanded with."""
    words = [
        t.text
        for t in parsed.words
        if t.text.lower() not in STOP_LIST and t.text.lower().replace("\u2019", "'") not in FILLER_WORDS
    ]
    phrases = [t for t in tokenize(parsed.text) if t.kind == "phrase"]
    parts = [" ".join(words), *(p.text for p in phrases), *parsed.expanded]
    return " ".join(p for p in parts if p).strip() or parsed.text


def neighbours(snapshot: Snapshot, parsed: ParsedQuery, visible: DocSet) -> list[tuple[int, float]]:
    """Visible documents nearest in meaning to the query, best first, with their similarity."""
    vector = semantic.model().embed_one(semantic_text(parsed))
    if not vector.any():
        return []
    return snapshot.nearest(vector, visible, limit=SEMANTIC_CANDIDATES)


def fuse(lexical_ranking: list[int], near: list[tuple[int, float]]) -> list[int]:
    """Reciprocal-rank fusion of the two rankings. Lexical matches all stay; semantic neighbours join
    only above the similarity floor and close enough to the best one."""
    scores: dict[int, float] = {}
    for rank, docnum in enumerate(lexical_ranking, 1):
        scores[docnum] = LEXICAL_WEIGHT / (RRF_K + rank)
    top = near[0][1] if near else 0.0
    floor = SEMANTIC_FLOOR if lexical_ranking else SEMANTIC_ALONE_FLOOR
    for rank, (docnum, similarity) in enumerate(near, 1):
        joins = similarity >= floor and similarity >= top - SEMANTIC_MARGIN and rank <= SEMANTIC_KEEP
        if docnum in scores or joins:
            scores[docnum] = scores.get(docnum, 0.0) + SEMANTIC_WEIGHT / (RRF_K + rank)
    lexical_position = {d: i for i, d in enumerate(lexical_ranking)}
    return sorted(scores, key=lambda d: (-scores[d], lexical_position.get(d, len(lexical_ranking))))


def best_bets(
    matcher: SynonymMatcher, targets: list[tuple[str, ...]], parsed: ParsedQuery, snapshot: Snapshot, visible
) -> list[int]:
    """Visible documents that best bets matching the query put first, in the order they name them.

    A best bet is about the whole query: it applies when its phrase covers the words typed, less
    conversation and soft words, all but at most half of them ("chartered accountant, career change"
    still is about accountancy; "cyber crime investigator" is not about investigators in general).
    """
    if not targets or parsed.query is None:
        return []
    words = [t.text for t in tokenize(parsed.text) if t.kind in {"word", "phrase"}]
    content = [i for i, w in enumerate(words) if _is_content(w)]
    if not content:
        return []
    spans = matcher.find(words)
    covered = {i for start, end, _group in spans for i in range(start, end + 1)}
    leftover = [i for i in content if i not in covered]
    if not spans or len(leftover) > len(content) // 2:
        return []
    pinned: list[int] = []
    for _start, _end, group in spans:
        for slug in targets[group]:
            docnum = snapshot.searcher.document_number(slug=slug)
            if docnum is not None and docnum in visible and docnum not in pinned:
                pinned.append(docnum)
    return pinned


def _is_content(word: str) -> bool:
    lowered = word.lower().replace("\u2019", "'")
    return lowered not in STOP_LIST and lowered not in FILLER_WORDS and lowered not in SOFT_WORDS
