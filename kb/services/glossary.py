"""The glossary: acronyms and plain-language synonyms, kept in the database so editors can change them.

Search uses it to expand queries; article pages use it to explain acronyms.
"""

from __future__ import annotations

from sqlalchemy import func, select

from kb.extensions import db
from kb.models import GlossaryTerm


def all_terms() -> list[GlossaryTerm]:
    """Every glossary entry, in alphabetical order of its term."""
    return list(db.session.scalars(select(GlossaryTerm).order_by(func.lower(GlossaryTerm.term))))


def acronyms() -> list[GlossaryTerm]:
    """Entries that are acronyms (they have an expansion)."""
    return [term for term in all_terms() if term.is_acronym]


def synonym_groups() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every entry as (all its forms, the forms a page names when it adds them) for query expansion.

    An acronym's forms are the acronym, its expansion and its aliases; the page names the acronym and
    the expansion ("Including results for Suspicious Activity Reports"), not every alias.
    """
    groups = []
    for entry in all_terms():
        forms = [entry.term, entry.expansion, *(entry.aliases or [])]
        forms = list(dict.fromkeys(f.strip() for f in forms if f and f.strip()))
        display = tuple(f for f in (entry.term, entry.expansion) if f and f.strip())
        if len(forms) > 1:
            groups.append((tuple(forms), display))
    return groups


def version_key() -> tuple[int, int]:
    """Changes whenever an entry is added or removed (edits are signalled by the search index's events)."""
    row = db.session.execute(select(func.count(GlossaryTerm.id), func.max(GlossaryTerm.id))).one()
    return (row[0] or 0, row[1] or 0)
