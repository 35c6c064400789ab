"""Typo tolerance: correct a word the reader's articles and the glossary do not know into one they do.

Candidates come only from the vocabulary of the documents the reader may see (``Snapshot.vocabulary``)
and from the glossary, so a word that exists only in a draft or an internal article is never proposed to
a reader who may not see it. A word that is known is never "corrected".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kb.indexing.searching import edit_distance

MIN_CORRECTED_LENGTH = 4  # shorter words are too often acronyms or names to guess at
GLOSSARY_WEIGHT = 3  # a glossary word counts as if this many articles used it


def max_distance(word: str) -> int:
    return 1 if len(word) < 8 else 2


def is_correctable(word: str) -> bool:
    """Words worth correcting: long enough, not a number, not typed in capitals (an acronym)."""
    return len(word) >= MIN_CORRECTED_LENGTH and word.isalpha() and not word.isupper()


def best_correction(
    word: str, vocabulary: Mapping[str, int], glossary_words: Mapping[str, int] | None = None
) -> str | None:
    """The likeliest known word within edit distance 1-2 of ``word``: closest first, then most used.

    :param vocabulary: word -> how many visible documents use it.
    :param glossary_words: word -> weight, for the glossary's forms.
    """
    word = word.lower()
    limit = max_distance(word)
    best: tuple[int, float, str] | None = None
    for source, weight in ((vocabulary, 1), (glossary_words or {}, GLOSSARY_WEIGHT)):
        for candidate, count in source.items():
            if abs(len(candidate) - len(word)) > limit or candidate == word:
                continue
            # Typos rarely change both ends of a word: this skips most of the vocabulary cheaply.
            if candidate[0] != word[0] and candidate[-1] != word[-1]:
                continue
            distance = edit_distance(word, candidate)
            # Two edits only keep the first letter ("survaillance"), or "nursing" becomes "using".
            if distance > limit or (distance == 2 and candidate[0] != word[0]):
                continue
            key = (distance, -math.log1p(count * weight), candidate)
            if best is None or key < best:
                best = key
    return best[2] if best else None
