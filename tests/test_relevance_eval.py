"""Floors for the search evaluation (tests/relevance/queries.yml), on each half, hybrid and lexical only.

The floors sit a little below what the search reaches (``make relevance`` prints the figures), so that a
change that makes search worse for the people who use it fails here. The held-out half was never tuned
on: its floors say what to expect of queries nobody has seen.
"""

from __future__ import annotations

import shutil

import pytest

from kb.extensions import db
from tests.conftest import make_app
from tests.relevance import evaluate

# (half, kind) -> lowest hit@3 allowed, hybrid; "answerable" is every kind but "none"; "none" is the
# share of no-answer queries that get the empty state.
HYBRID_FLOORS = {
    ("tuning", "answerable"): 0.93,
    ("tuning", "self"): 0.90,
    ("tuning", "role"): 0.85,
    ("tuning", "task"): 0.80,
    ("tuning", "acronym"): 0.85,
    ("tuning", "slang"): 0.90,
    ("tuning", "typo"): 0.90,
    ("tuning", "us"): 0.70,
    ("tuning", "question"): 0.90,
    ("tuning", "none"): 0.70,
    ("held-out", "answerable"): 0.74,
    ("held-out", "self"): 0.75,
    ("held-out", "role"): 0.85,
    ("held-out", "task"): 0.70,
    ("held-out", "acronym"): 0.50,
    ("held-out", "slang"): 0.65,
    ("held-out", "typo"): 0.90,
    ("held-out", "us"): 0.55,
    ("held-out", "question"): 0.60,
    ("held-out", "none"): 0.65,
}
LEXICAL_FLOORS = {("tuning", "answerable"): 0.88, ("held-out", "answerable"): 0.68}
# Answerable queries that may find nothing at all, at most.
ZERO_CEILINGS = {"tuning": 0.03, "held-out": 0.16}


@pytest.fixture(scope="module")
def tables(seeded_instance, tmp_path_factory):
    """The evaluation run once per mode on a copy of the seeded instance."""
    found = {}
    for mode, semantic in (("hybrid", True), ("lexical", False)):
        instance = tmp_path_factory.mktemp(f"relevance-{mode}")
        shutil.rmtree(instance)
        shutil.copytree(seeded_instance, instance)
        app = make_app(instance, SEARCH_SEMANTIC=semantic)
        with app.app_context(), app.test_request_context("/search"):
            found[mode] = evaluate.by_kind(evaluate.run(evaluate.load_cases()))
            db.session.remove()
            db.engine.dispose()
    return found


def test_the_evaluation_is_big_enough_and_split_once():
    cases = evaluate.load_cases()
    assert len(cases) >= 250
    assert len({c.text.lower() for c in cases}) == len(cases), "every query is distinct"
    kinds = {c.kind for c in cases}
    assert kinds == {"self", "role", "task", "acronym", "slang", "typo", "us", "question", "none"}
    halves = {half: [c for c in cases if c.half == half] for half in evaluate.HALVES}
    assert all(len(v) >= 100 for v in halves.values())
    assert {c.half for c in cases if c.text == "helicopter pilot"} == {evaluate.split("Helicopter  pilot")}


@pytest.mark.parametrize(("half", "kind"), list(HYBRID_FLOORS), ids=[f"{h}-{k}" for h, k in HYBRID_FLOORS])
def test_hybrid_search_holds_its_floor(tables, half, kind):
    figures = tables["hybrid"][half][kind]
    assert figures.hit3 >= HYBRID_FLOORS[(half, kind)], f"{half} {kind}: hit@3 {figures.hit3:.2f}"


@pytest.mark.parametrize(("half", "kind"), list(LEXICAL_FLOORS))
def test_lexical_search_holds_its_floor(tables, half, kind):
    figures = tables["lexical"][half][kind]
    assert figures.hit3 >= LEXICAL_FLOORS[(half, kind)], f"{half} {kind}: hit@3 {figures.hit3:.2f}"


@pytest.mark.parametrize("half", evaluate.HALVES)
def test_few_answerable_queries_find_nothing(tables, half):
    assert tables["hybrid"][half]["answerable"].zero <= ZERO_CEILINGS[half]


def test_semantic_ranking_helps_on_unseen_queries(tables):
    assert tables["hybrid"]["held-out"]["answerable"].mrr > tables["lexical"]["held-out"]["answerable"].mrr
