"""The search facets as data: which there are, how their counts are made and how each bucket looks.

Counts are disjunctive: a facet's counts ignore that facet's own selection and honour every other one,
so ticking "Cyber" does not hide "Covert" or change its count, and every count says how many results
ticking that box would add (or, for a ticked box, show). Several values of one facet OR together;
different facets AND together. Each bucket is a plain dict, as the template and the JSON API want it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import select

from kb.extensions import db
from kb.models import Area, RoleType, Status, Tag


@dataclass(frozen=True)
class Facet:
    name: str  # URL parameter and JSON key
    field: str  # index field holding the slugs
    label: str  # heading on the page
    model: Any  # the table that names the values, or None for fixed values
    editor_only: bool = False
    fixed: tuple[tuple[str, str], ...] = ()  # (value, label) in display order when there is no table


WORKFORCES = (("officer", "Police officer"), ("staff", "Police staff"))


FACETS: tuple[Facet, ...] = (
    Facet("tag", "tags", "Topic", Tag),
    Facet("area", "area", "Area", Area),
    Facet("role", "roles", "Role type", RoleType),
    Facet("workforce", "workforce", "Police officer or police staff", None, fixed=WORKFORCES),
    Facet("status", "status", "Status", None, editor_only=True),
)
BY_NAME = {facet.name: facet for facet in FACETS}


def facets_for(scope: str) -> list[Facet]:
    return [f for f in FACETS if scope == "editor" or not f.editor_only]


def names(facet: Facet) -> dict[str, tuple[str, int]]:
    """Value slug -> (label, display position)."""
    if facet.fixed:
        return {value: (label, i) for i, (value, label) in enumerate(facet.fixed)}
    if facet.model is None:
        return {status.value: (status.value.capitalize(), i) for i, status in enumerate(Status)}
    rows = db.session.execute(select(facet.model.slug, facet.model.name, facet.model.position))
    return {slug: (name, position) for slug, name, position in rows}


def disjunctive_counts(
    matched: Any, value_docs: Mapping[str, Mapping[str, Any]], selected: Mapping[str, tuple[str, ...]]
):
    """Apply the selections to the documents ``matched`` by the query, and count each facet's values.

    Works on any set type with ``&``, ``|`` and ``len`` (the search uses bitmaps; tests may use sets).

    :param value_docs: facet name -> value -> the documents with that value.
    :param selected: facet name -> the values ticked (unknown values select nothing).
    :return: the documents that pass every selection, and facet name -> value -> count.
    """
    empty = type(matched)()
    allowed = {
        name: reduce(operator.or_, (value_docs[name].get(v, empty) for v in values), empty)
        for name, values in selected.items()
        if values and name in value_docs
    }
    final = reduce(operator.and_, allowed.values(), matched)
    counts: dict[str, dict[str, int]] = {}
    for name, docs_by_value in value_docs.items():
        base = reduce(operator.and_, (docs for other, docs in allowed.items() if other != name), matched)
        counts[name] = {value: len(docs & base) for value, docs in docs_by_value.items()}
    return final, counts


def buckets(
    facet: Facet,
    counts: Mapping[str, int],
    selected: tuple[str, ...],
    toggle_url: Any,
) -> list[dict[str, Any]]:
    """The facet's values as ``{value, label, count, selected, toggle_url}``, in display order.

    Values with no results are left out unless ticked (a ticked box must stay visible to be unticked).
    """
    labels = names(facet)
    out = []
    for value, (label, position) in sorted(labels.items(), key=lambda item: item[1][1]):
        count = counts.get(value, 0)
        is_selected = value in selected
        if count or is_selected:
            out.append(
                {
                    "value": value,
                    "label": label,
                    "count": count,
                    "selected": is_selected,
                    "toggle_url": toggle_url(facet.name, value),
                    "position": position,
                }
            )
    return [{k: v for k, v in b.items() if k != "position"} for b in out]
