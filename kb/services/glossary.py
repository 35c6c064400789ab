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
