"""The glossary: the search vocabulary editors maintain (acronyms, slang and plain-language terms, best bets).

Search uses it to expand queries, to know words the articles never use, and to put best bets first;
article pages use its acronyms to explain them. Every change is audited and is searchable at once: the
article service's session events bump the glossary version that the search service's cache follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from kb.extensions import db
from kb.models import Article, GlossaryKind, GlossaryTerm
from kb.services import audit

KINDS = tuple(kind.value for kind in GlossaryKind)
KIND_LABELS = {
    GlossaryKind.ACRONYM.value: "Acronym",
    GlossaryKind.TERM.value: "Term or slang",
    GlossaryKind.BEST_BET.value: "Best bet",
}
MAX_ALIASES = 30
MAX_TARGETS = 5


class GlossaryError(ValueError):
    """An entry cannot be saved as given; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BestBet:
    forms: tuple[str, ...]
    targets: tuple[str, ...]  # capability slugs, in order


def all_terms(kind: str | None = None, text: str = "") -> list[GlossaryTerm]:
    """Entries in alphabetical order of their term, optionally of one kind or matching ``text``."""
    stmt = select(GlossaryTerm).order_by(func.lower(GlossaryTerm.term))
    if kind in KINDS:
        stmt = stmt.where(GlossaryTerm.kind == kind)
    rows = list(db.session.scalars(stmt))
    needle = " ".join(text.lower().split())
    if needle:
        rows = [row for row in rows if needle in _haystack(row)]
    return rows


def _haystack(entry: GlossaryTerm) -> str:
    return " ".join([entry.term, entry.expansion, entry.definition, *entry.aliases, *entry.targets]).lower()


def acronyms() -> list[GlossaryTerm]:
    """Entries that are acronyms (they have an expansion)."""
    return [term for term in all_terms() if term.is_acronym]


def _forms(entry: GlossaryTerm) -> list[str]:
    forms = [entry.term, entry.expansion, *(entry.aliases or [])]
    return list(dict.fromkeys(f.strip() for f in forms if f and f.strip()))


def synonym_groups() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Acronyms and terms as (all their forms, the forms a page names when it adds them), for expansion.

    An acronym's forms are the acronym, its expansion and its aliases; the page names the acronym and
    the expansion ("Including results for Suspicious Activity Reports"), not every alias.
    """
    groups = []
    for entry in all_terms():
        if entry.is_best_bet:
            continue
        forms = _forms(entry)
        display = tuple(f for f in (entry.term, entry.expansion) if f and f.strip())
        if len(forms) > 1:
            groups.append((tuple(forms), display))
    return groups


def best_bets() -> list[BestBet]:
    """Best bets: the phrases (term and aliases) and the capabilities they put first."""
    return [
        BestBet(forms=tuple(_forms(entry)), targets=tuple(entry.targets or ()))
        for entry in all_terms(GlossaryKind.BEST_BET.value)
        if entry.targets
    ]


def words() -> dict[str, int]:
    """Every word of every entry's forms (lower case), for "is this a known word" and corrections."""
    found: dict[str, int] = {}
    for entry in all_terms():
        for form in _forms(entry):
            for word in form.lower().replace("-", " ").split():
                word = word.strip(".,;:()'\"")
                if word.isalpha():
                    found[word] = found.get(word, 0) + 1
    return found


def capital_acronyms() -> dict[str, str]:
    """Acronyms typed in capitals that are also common words ("IT"), with their expansions."""
    return {
        entry.term: entry.expansion
        for entry in acronyms()
        if entry.term.isupper() and entry.term.lower() in _common_words()
    }


def _common_words() -> frozenset[str]:
    from kb.indexing.schema import STOP_LIST

    return STOP_LIST


def version_key() -> tuple:
    """Changes whenever an entry is added, edited or removed, as every server process sees it."""
    row = db.session.execute(
        select(func.count(GlossaryTerm.id), func.max(GlossaryTerm.id), func.max(GlossaryTerm.updated_at))
    ).one()
    return (row[0] or 0, row[1] or 0, str(row[2] or ""))


# --- editing ---------------------------------------------------------------------------------------------


def _clean_list(values: Iterable[str], limit: int) -> list[str]:
    kept = dict.fromkeys(" ".join(str(v).split()) for v in values if str(v).strip())
    return list(kept)[:limit]


def _validate(entry: GlossaryTerm, *, ignore_id: int | None = None) -> None:
    from kb.indexing.query import SynonymMatcher

    if entry.kind not in KINDS:
        raise GlossaryError("kind", "Choose what kind of entry this is.")
    if not entry.term:
        raise GlossaryError("term", "Enter the term.")
    clash = db.session.scalar(select(GlossaryTerm).where(func.lower(GlossaryTerm.term) == entry.term.lower()))
    if clash is not None and clash.id != ignore_id:
        raise GlossaryError("term", f"{clash.term!r} is already in the glossary.")
    if entry.kind == GlossaryKind.ACRONYM.value:
        if not entry.expansion:
            raise GlossaryError("expansion", "Enter what the acronym stands for in this unit.")
        # "SARs" and "SAR" stem alike: two acronyms whose stems collide would expand into each other.
        stems = SynonymMatcher([]).stems(entry.term)
        for other in acronyms():
            if other.id != ignore_id and stems and SynonymMatcher([]).stems(other.term) == stems:
                raise GlossaryError("term", f"{entry.term!r} is searched the same as {other.term!r}.")
    if entry.kind == GlossaryKind.BEST_BET.value:
        if not entry.targets:
            raise GlossaryError("targets", "Choose at least one capability to put first.")
        known = set(db.session.scalars(select(Article.slug).where(Article.slug.in_(entry.targets))))
        unknown = [slug for slug in entry.targets if slug not in known]
        if unknown:
            raise GlossaryError("targets", f"There is no capability {unknown[0]!r}.")
    elif not entry.aliases and not entry.expansion:
        raise GlossaryError("aliases", "Enter at least one word or phrase that means the same.")


def save(
    entry: GlossaryTerm | None,
    *,
    user,
    term: str,
    kind: str,
    expansion: str = "",
    aliases: Iterable[str] = (),
    definition: str = "",
    targets: Iterable[str] = (),
) -> GlossaryTerm:
    """Create (``entry`` None) or update an entry, audited, and commit.

    :raise GlossaryError: the entry is not valid; nothing is saved.
    """
    creating = entry is None
    entry = entry or GlossaryTerm()
    entry.term = " ".join(term.split())[:80]
    entry.kind = kind
    entry.expansion = " ".join(expansion.split())[:200] if kind != GlossaryKind.BEST_BET.value else ""
    entry.aliases = [
        a.lower() if kind != GlossaryKind.ACRONYM.value else a for a in _clean_list(aliases, MAX_ALIASES)
    ]
    entry.definition = definition.strip()
    entry.targets = _clean_list(targets, MAX_TARGETS) if kind == GlossaryKind.BEST_BET.value else []
    try:
        with db.session.no_autoflush:
            _validate(entry, ignore_id=None if creating else entry.id)
    except GlossaryError:
        if not creating:
            db.session.rollback()
        raise
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "glossary.create" if creating else "glossary.update",
        user=user,
        target=entry.term,
        kind=entry.kind,
        aliases=list(entry.aliases),
        targets=list(entry.targets),
    )
    db.session.commit()
    return entry


def delete(entry: GlossaryTerm, *, user) -> None:
    """Remove an entry, audited, and commit."""
    audit.record("glossary.delete", user=user, target=entry.term, kind=entry.kind)
    db.session.delete(entry)
    db.session.commit()
