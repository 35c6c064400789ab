"""Reading the index for one operation: matching, ranking, facet postings, snippets, corrections.

A ``Snapshot`` holds one searcher for the whole of one search, so that document numbers from its steps
agree. Document sets are ``DocSet`` bitmaps (a Python int, one bit per document): visibility, each facet
value and the query each give one, and an intersection or a count is one operation in C, so disjunctive
facet counts cost microseconds even over every document.

Bitmaps that depend on the index alone (each facet value's documents, the visible documents) are cached
per segment, so a save (which adds a small segment and deletes one document from a big one) recomputes
only the small segment's: the big one's are reused with its deleted documents masked out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh import query
from whoosh.idsets import DocIdSet

from kb.indexing import semantic
from kb.indexing.schema import (
    SEARCH_FIELDS,
    SNIPPET_FIELDS,
    plain_analyzer,
    text_analyzer,
    without_possessive,
)
from kb.indexing.store import IndexStore

SORTS = {
    "relevance": None,
    "title": ("title_sort", False),
    "updated": ("updated", True),
}
# Fields indexed with ``spelling=True``: their unstemmed words are what "did you mean" proposes.
SPELLING_FIELDS = ("title", "summary")
# Stored fields whose words make up the vocabulary corrections are drawn from.
VOCABULARY_FIELDS = ("title", "acronym", "summary", "body")
SNIPPET_LENGTH = 220
MAX_CORRECTION_CANDIDATES = 40


class DocSet(DocIdSet):
    """A set of document numbers held as the bits of a Python int.

    Whoosh accepts it as a search filter (it is a ``DocIdSet`` and answers ``in``).
    """

    __slots__ = ("_bytes", "bits")

    def __init__(self, bits: int = 0):
        self.bits = bits
        self._bytes: bytes | None = None

    @classmethod
    def of(cls, docnums: Iterable[int]) -> DocSet:
        buffer = bytearray()
        for d in docnums:
            index = d >> 3
            if index >= len(buffer):
                buffer.extend(bytes(index - len(buffer) + 1 + 64))
            buffer[index] |= 1 << (d & 7)
        return cls(int.from_bytes(buffer, "little"))

    def _lookup(self) -> bytes:
        if self._bytes is None:
            self._bytes = self.bits.to_bytes((self.bits.bit_length() + 7) // 8, "little")
        return self._bytes

    def __contains__(self, docnum: object) -> bool:
        if not isinstance(docnum, int) or docnum < 0:
            return False
        lookup = self._lookup()
        index = docnum >> 3
        return index < len(lookup) and bool(lookup[index] >> (docnum & 7) & 1)

    def __len__(self) -> int:
        return self.bits.bit_count()

    def __bool__(self) -> bool:
        return self.bits != 0

    def __iter__(self):
        for index, byte in enumerate(self._lookup()):
            while byte:
                low = byte & -byte
                yield index * 8 + low.bit_length() - 1
                byte ^= low

    def __and__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits & other.bits)

    def __or__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits | other.bits)

    def __sub__(self, other: DocSet) -> DocSet:
        return DocSet(self.bits & ~other.bits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocSet) and other.bits == self.bits

    def __hash__(self) -> int:
        return hash(self.bits)

    def __repr__(self) -> str:
        return f"DocSet({len(self)} documents)"


@dataclass(frozen=True)
class Visibility:
    """Which documents a reader may find: ``None`` for a field means any value (the editor's view)."""

    statuses: tuple[str, ...] | None
    visibilities: tuple[str, ...] | None

    def as_query(self) -> query.Query:
        clauses = []
        for fieldname, values in (("status", self.statuses), ("visibility", self.visibilities)):
            if values is not None:
                clauses.append(query.Or([query.Term(fieldname, v) for v in values]))
        return query.And(clauses) if clauses else query.Every()


@dataclass(frozen=True)
class Fragment:
    """A piece of stored text with the character ranges that matched the query."""

    text: str
    marks: tuple[tuple[int, int], ...]
    clipped_start: bool
    clipped_end: bool


class Snapshot:
    """One searcher, used for every step of one operation."""

    def __init__(self, store: IndexStore):
        self.store = store
        self.searcher = store.searcher()
        self.reader = self.searcher.reader()
        self._text = text_analyzer()
        self._plain = plain_analyzer()

    # --- document sets --------------------------------------------------------------------------------

    def visible(self, visibility: Visibility) -> DocSet:
        """Every document the reader may find: the filter on ``status`` and ``visibility``."""

        def compute() -> DocSet:
            result = self.every()
            for fieldname, values in (
                ("status", visibility.statuses),
                ("visibility", visibility.visibilities),
            ):
                if values is not None:
                    docs = self.value_docs(fieldname)
                    allowed = DocSet()
                    for value in values:
                        allowed = allowed | docs.get(value, DocSet())
                    result = result & allowed
            return result

        return self.store.cached(self.searcher, ("visible", visibility), compute)

    def every(self) -> DocSet:
        """Every live document."""

        def compute() -> DocSet:
            bits = 0
            for leaf, offset in self.searcher.leaf_searchers():
                segment = leaf.reader().segment()
                bits |= (((1 << segment.doc_count_all()) - 1) & self._live(segment)) << offset
            return DocSet(bits)

        return self.store.cached(self.searcher, ("every",), compute)

    @staticmethod
    def _live(segment) -> int:
        """A mask of the segment's documents that are not deleted (all ones when none are)."""
        return ~DocSet.of(segment.deleted_docs()).bits if segment.has_deletions() else -1

    def has_match(self, q: query.Query, within: DocSet) -> bool:
        """True when some document in ``within`` matches ``q`` (unscored; stops at the first)."""
        return bool(within) and any(d in within for d in self.searcher.docs_for_query(q))

    def scored(self, q: query.Query, within: DocSet) -> list[int]:
        """Every document matching ``q`` among ``within``, best first.

        One scored pass over the postings gives both the set (for totals and facets) and the order, so
        an expensive query (a phrase of common words) is evaluated once, not once to count and again to
        rank.
        """
        if not within:
            return []  # Whoosh treats an empty filter as no filter at all
        results = self.searcher.search(q, filter=within, limit=None)
        return [docnum for _, docnum in results.top_n]

    def in_order(self, docnums: Iterable[int], sort: str) -> list[int]:
        """``docnums`` ordered by title (A to Z) or by last update (newest first)."""
        fieldname, reverse = SORTS.get(sort) or SORTS["title"]
        keys = self.column(fieldname)
        # Ties (same title or same second) fall back to document order, so pages never overlap.
        return sorted(docnums, key=lambda d: (keys[d], -d if reverse else d), reverse=reverse)

    def column(self, fieldname: str) -> list:
        """A sortable field's value for every document number (cached per index version)."""

        def compute() -> list:
            reader = self.reader.column_reader(fieldname)
            return [reader[d] for d in range(self.reader.doc_count_all())]

        return self.store.cached(self.searcher, ("column", fieldname), compute)

    def value_docs(self, fieldname: str) -> dict[str, DocSet]:
        """For a facet field: value -> the documents carrying it (cached per index version)."""

        def compute() -> dict[str, DocSet]:
            combined: dict[str, int] = {}
            for leaf, offset in self.searcher.leaf_searchers():
                reader = leaf.reader()
                segment = reader.segment()
                live = self._live(segment)
                for value, bits in self._segment_values(reader, segment, fieldname).items():
                    combined[value] = combined.get(value, 0) | ((bits & live) << offset)
            return {value: DocSet(bits) for value, bits in combined.items() if bits}

        return self.store.cached(self.searcher, ("values", fieldname), compute)

    def _segment_values(self, reader, segment, fieldname: str) -> dict[str, int]:
        # Keyed on the segment alone: documents deleted later are masked out by the caller, and a
        # segment never gains documents, so the big segments' bitmaps survive every save.
        def compute() -> dict[str, int]:
            if fieldname not in reader.indexed_field_names():
                return {}
            return {
                value: DocSet.of(
                    reader.postings(fieldname, reader.schema[fieldname].to_bytes(value)).all_ids()
                ).bits
                for value in reader.field_terms(fieldname)
            }

        return self.store.cached_for_segment((segment.segment_id(), fieldname), compute)

    # --- ranking ----------------------------------------------------------------------------------------

    def ranked(self, q: query.Query, allowed: DocSet, *, limit: int) -> list[int]:
        """Document numbers of the best ``limit`` documents in ``allowed``, best first."""
        if not allowed or limit <= 0:
            return []  # Whoosh treats an empty filter as no filter at all
        results = self.searcher.search(q, filter=allowed, limit=limit)
        return [docnum for _, docnum in results.top_n][:limit]

    def ids(self, docnums: Iterable[int]) -> list[str]:
        return [self.searcher.stored_fields(d)["id"] for d in docnums]

    def docnum(self, article_id: int | str) -> int | None:
        return self.searcher.document_number(id=str(article_id))

    # --- meaning ----------------------------------------------------------------------------------------

    def vectors(self) -> np.ndarray:
        """Every document's stored vector, by document number (cached per index version)."""

        def compute() -> np.ndarray:
            total = self.reader.doc_count_all()
            matrix = np.zeros((total, semantic.DIMENSIONS), dtype=np.float32)
            for leaf, offset in self.searcher.leaf_searchers():
                reader = leaf.reader()
                segment = reader.segment()
                block = self.store.cached_for_segment(
                    (segment.segment_id(), "vectors"), lambda r=reader: self._segment_vectors(r)
                )
                matrix[offset : offset + len(block)] = block
            return matrix

        return self.store.cached(self.searcher, ("vectors",), compute)

    @staticmethod
    def _segment_vectors(reader) -> np.ndarray:
        count = reader.doc_count_all()
        block = np.zeros((count, semantic.DIMENSIONS), dtype=np.float32)
        for docnum in range(count):
            if reader.is_deleted(docnum):
                continue
            block[docnum] = semantic.decode(reader.stored_fields(docnum).get("vector"))
        return block

    def nearest(self, vector: np.ndarray, within: DocSet, *, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` documents in ``within`` most similar to ``vector`` (cosine), best first."""
        if not within or limit <= 0:
            return []
        docnums = np.flatnonzero(np.unpackbits(np.frombuffer(within._lookup(), np.uint8), bitorder="little"))
        matrix = self.vectors()
        docnums = docnums[docnums < len(matrix)]
        scores = matrix[docnums] @ vector.astype(np.float32)
        keep = np.argpartition(-scores, limit - 1)[:limit] if len(scores) > limit else np.arange(len(scores))
        order = keep[np.argsort(-scores[keep], kind="stable")]
        return [(int(docnums[i]), float(scores[i])) for i in order]

    # --- snippets ---------------------------------------------------------------------------------------

    def fragments(self, q: query.Query, docnums: Sequence[int]) -> dict[int, Fragment]:
        """The best passage of each document's body (or summary) around the terms that matched.

        Character offsets come from the postings (stored at index time), so no text is analysed again.
        """
        wanted = sorted(set(docnums))
        if not wanted:
            return {}
        terms: dict[str, set[bytes]] = {f: set() for f in SNIPPET_FIELDS}
        # Not Query.existing_terms(): in Whoosh 2.7.5 its loop variable overwrites its ``fieldname``
        # argument, so after the first term it skips every leaf of another field.
        for leaf in q.leaves():
            if leaf.field() not in terms:
                continue
            for fieldname, text in leaf.expanded_terms(self.reader, phrases=True):
                btext = text if isinstance(text, bytes) else self.reader.schema[fieldname].to_bytes(text)
                if (fieldname, btext) in self.reader:
                    terms[fieldname].add(btext)
        found: dict[int, Fragment] = {}
        for fieldname in SNIPPET_FIELDS:
            spans: dict[int, list[tuple[int, int, bytes]]] = {}
            for btext in terms[fieldname]:
                matcher = self.searcher.postings(fieldname, btext)
                for docnum in wanted:
                    if docnum in found:
                        continue
                    if not matcher.is_active():
                        break
                    if matcher.id() < docnum:
                        matcher.skip_to(docnum)
                        if not matcher.is_active():
                            break
                    if matcher.id() == docnum:
                        for _pos, start, end in matcher.value_as("characters"):
                            spans.setdefault(docnum, []).append((start, end, btext))
            for docnum, marks in spans.items():
                text = self.searcher.stored_fields(docnum).get(fieldname) or ""
                found[docnum] = best_fragment(text, marks)
        return found

    # --- words ------------------------------------------------------------------------------------------

    def stems(self, text: str) -> list[str]:
        return [t.text for t in self._text(text, mode="query")]

    def in_lexicon(self, stem: str) -> bool:
        """True when some document (visible or not) has this exact term: used only to choose between
        exact and prefix matching, which the visibility filter then narrows."""
        return any(self.reader.doc_frequency(f, stem) for f in SEARCH_FIELDS)

    def visibly_used(self, stem: str, visible: DocSet) -> bool:
        """True when a document the reader may see contains the term."""
        for fieldname in SEARCH_FIELDS:
            if not self.reader.doc_frequency(fieldname, stem):
                continue
            if any(d in visible for d in self.searcher.postings(fieldname, stem).all_ids()):
                return True
        return False

    def vocabulary(self, visible: DocSet) -> dict[str, int]:
        """Every word (as written, lower case, no possessive) of the documents in ``visible``, with the
        number of them it appears in: the only words a correction may propose to this reader."""

        def compute() -> dict[str, int]:
            counts: dict[str, int] = {}
            for leaf, offset in self.searcher.leaf_searchers():
                reader = leaf.reader()
                words = self.store.cached_for_segment(
                    (reader.segment().segment_id(), "vocabulary"), lambda r=reader: self._segment_words(r)
                )
                for word, bits in words.items():
                    found = ((bits << offset) & visible.bits).bit_count()
                    if found:
                        counts[word] = counts.get(word, 0) + found
            return counts

        return self.store.cached(self.searcher, ("vocabulary", visible.bits), compute)

    def _segment_words(self, reader) -> dict[str, int]:
        words: dict[str, int] = {}
        for docnum in range(reader.doc_count_all()):
            if reader.is_deleted(docnum):
                continue
            fields = reader.stored_fields(docnum)
            text = " ".join(fields.get(f) or "" for f in VOCABULARY_FIELDS)
            bit = 1 << docnum
            for token in self._plain(text):
                word = without_possessive(token.text)
                if len(word) < 2 or word.isdigit():
                    continue
                words[word] = words.get(word, 0) | bit
        return words

    def corrections(self, word: str) -> list[str]:
        """Index words close to ``word`` (edit distance 1, or 2 for longer words), likeliest first."""
        plain = [t.text for t in self._plain(word)]
        if len(plain) != 1 or len(plain[0]) < 3 or plain[0].isdigit():
            return []
        word = plain[0]
        maxdist = 1 if len(word) <= 4 else 2
        candidates: set[str] = set()
        for leaf, _offset in self.reader.leaf_readers():
            for fieldname in SPELLING_FIELDS:
                try:
                    # Per segment: a segment reader walks its word graph; a multi-reader would scan.
                    for candidate in leaf.terms_within(fieldname, word, maxdist, prefix=1):
                        candidate = candidate.decode() if isinstance(candidate, bytes) else candidate
                        if candidate != word and len(candidates) < MAX_CORRECTION_CANDIDATES:
                            candidates.add(candidate)
                except (KeyError, LookupError):  # a segment without that field's words
                    continue

        def rank(candidate: str) -> tuple[int, float, str]:
            stems = self.stems(candidate)
            frequency = sum(self.reader.doc_frequency("body", s) for s in stems) if stems else 0
            return (edit_distance(word, candidate), -math.log1p(frequency), candidate)

        return sorted(candidates, key=rank)

    # --- related and type-ahead -------------------------------------------------------------------------

    def similar(self, docnum: int, allowed: DocSet, *, limit: int) -> list[int]:
        """Documents like ``docnum``: its body's key terms, plus shared tags and area."""
        fields = self.searcher.stored_fields(docnum)
        text = "\n".join(filter(None, (fields.get("title"), fields.get("summary"), fields.get("body"))))
        clauses: list[query.Query] = []
        if text:
            for term, weight in self.searcher.key_terms_from_text("body", text, numterms=12):
                clauses.append(query.Term("body", term, boost=weight))
        for tag in filter(None, (fields.get("tags") or "").split(",")):
            clauses.append(query.Term("tags", tag, boost=1.5))
        if fields.get("area"):
            clauses.append(query.Term("area", fields["area"], boost=0.5))
        others = allowed - DocSet.of([docnum])
        if not clauses or not others:
            return []
        return self.ranked(query.Or(clauses), others, limit=limit)

    def completions(self, text: str, allowed: DocSet, *, limit: int) -> list[int]:
        """Documents whose title or acronym has words starting with each word of ``text``."""
        words = [t.text[:24] for t in self._plain(text)][-6:]
        if not words or not allowed:
            return []
        q = query.And([query.Term("complete", w) for w in words])
        return self.ranked(q, allowed, limit=limit)


def best_fragment(text: str, marks: list[tuple[int, int, bytes]]) -> Fragment:
    """The window of ``text`` with the most distinct matched terms (then the most matches).

    One pass over the matches with a sliding window (linear in their number, however many there are), and
    a match longer than the window (a 10,000-letter word) is shown clipped to the window's length.
    """
    # Postings come in text order, so this sort is a linear pass (timsort keeps runs); a set would shuffle.
    marks = sorted(dict.fromkeys((s, e, t) for s, e, t in marks if 0 <= s < e <= len(text)))
    if not marks:
        return Fragment(text[:SNIPPET_LENGTH], (), False, len(text) > SNIPPET_LENGTH)
    best = (0, 0, 0)  # distinct terms, matches, index of the window's first match
    best_stop = 1
    counts: dict[bytes, int] = {}
    stop = 0  # the window of marks[i] is marks[i:stop]: it always holds marks[i] itself
    for i, (start, _end, term) in enumerate(marks):
        if stop <= i:
            counts.clear()
            stop = i
        while stop < len(marks) and (stop == i or marks[stop][1] - start <= SNIPPET_LENGTH):
            counts[marks[stop][2]] = counts.get(marks[stop][2], 0) + 1
            stop += 1
        score = (len(counts), stop - i, i)
        if score[:2] > best[:2]:
            best, best_stop = score, stop
        counts[term] -= 1
        if not counts[term]:
            del counts[term]
    first = marks[best[2]]
    last_end = max(m[1] for m in marks[best[2] : best_stop])
    if last_end - first[0] > SNIPPET_LENGTH:  # one match longer than the window: show its beginning
        start, end = first[0], first[0] + SNIPPET_LENGTH
    else:
        slack = SNIPPET_LENGTH - (last_end - first[0])
        start = max(0, first[0] - min(slack // 2, 80))
        end = min(len(text), max(last_end, start + SNIPPET_LENGTH))
        # Start and end on word boundaries rather than mid-word.
        if start > 0:
            space = text.find(" ", start, first[0])
            start = space + 1 if space != -1 else start
        if end < len(text):
            space = text.rfind(" ", last_end, end)
            end = space if space != -1 else end
    # Marks are sorted by start: those in the passage begin before its end, from shortly before the window.
    stop = bisect.bisect_left(marks, (end,))
    begin = bisect.bisect_left(marks, (start - SNIPPET_LENGTH,), hi=best[2])
    kept = tuple((max(s, start) - start, min(e, end) - start) for s, e, _ in marks[begin:stop] if e > start)
    return Fragment(text[start:end], _merge(kept), start > 0, end < len(text))


def _merge(marks: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(marks):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count as one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
