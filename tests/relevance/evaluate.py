"""The search evaluation: hit@1, hit@3, MRR and the zero-result rate by kind, on both halves.

``make relevance`` prints the table (``--lexical``: with semantic ranking off; ``--failures tuning``:
the tuning half's misses) (from a freshly seeded copy of the shipped content);
``tests/test_relevance_eval.py`` holds floors for each half. The split into a tuning half and a held-out
half is fixed by a hash of the query's words, so that no one chooses which queries are held out.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

QUERIES_FILE = Path(__file__).with_name("queries.yml")
HALVES = ("tuning", "held-out")
NO_ANSWER = "none"


@dataclass(frozen=True)
class Case:
    kind: str
    text: str
    expected: tuple[str, ...]  # acceptable slugs; empty: the empty state is the right outcome

    @property
    def half(self) -> str:
        return split(self.text)


@dataclass(frozen=True)
class Outcome:
    case: Case
    top: tuple[str, ...]
    total: int

    @property
    def rank(self) -> int | None:
        for position, slug in enumerate(self.top, 1):
            if slug in self.case.expected:
                return position
        return None

    @property
    def passed(self) -> bool:
        """Right answer in the first three, or, for a query with no answer, the empty state."""
        if not self.case.expected:
            return self.total == 0
        return self.rank is not None and self.rank <= 3


def split(text: str) -> str:
    """The half a query belongs to, from a hash of its lower-cased words (fixed once and for all)."""
    digest = hashlib.sha256(" ".join(text.lower().split()).encode()).digest()
    return HALVES[digest[0] % 2]


def load_cases(path: Path = QUERIES_FILE) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    codes = data["capabilities"]
    cases = []
    for kind, items in data["queries"].items():
        for item in items:
            text = str(item[0])
            expected = tuple(codes[c] for c in str(item[1]).split()) if len(item) > 1 else ()
            cases.append(Case(kind=kind, text=text, expected=expected))
    return cases


def run(cases: list[Case]) -> list[Outcome]:
    """Search each case as an anonymous reader (call inside a request context)."""
    from kb.services import search
    from kb.services.search import SearchQuery

    outcomes = []
    for case in cases:
        found = search.search(SearchQuery(text=case.text), user=_anonymous())
        outcomes.append(
            Outcome(case=case, top=tuple(h.article.slug for h in found.hits[:10]), total=found.total)
        )
    return outcomes


def _anonymous():
    from flask_login import AnonymousUserMixin

    return AnonymousUserMixin()


@dataclass(frozen=True)
class Figures:
    count: int
    hit1: float
    hit3: float
    mrr: float
    zero: float  # answerable: share with no result at all; no-answer: share that got the empty state


def figures(outcomes: list[Outcome]) -> Figures:
    if not outcomes:
        return Figures(0, 0.0, 0.0, 0.0, 0.0)
    n = len(outcomes)
    if all(not o.case.expected for o in outcomes):
        empty = sum(o.total == 0 for o in outcomes) / n
        return Figures(n, empty, empty, empty, empty)
    ranks = [o.rank for o in outcomes]
    return Figures(
        count=n,
        hit1=sum(r == 1 for r in ranks) / n,
        hit3=sum(r is not None and r <= 3 for r in ranks) / n,
        mrr=sum(1 / r for r in ranks if r) / n,
        zero=sum(o.total == 0 for o in outcomes) / n,
    )


def by_kind(outcomes: list[Outcome]) -> dict[str, dict[str, Figures]]:
    """half -> kind (and "all answerable") -> figures."""
    table: dict[str, dict[str, Figures]] = {}
    for half in HALVES:
        mine = [o for o in outcomes if o.case.half == half]
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in mine:
            groups[outcome.case.kind].append(outcome)
        table[half] = {kind: figures(items) for kind, items in groups.items()}
        table[half]["answerable"] = figures([o for o in mine if o.case.expected])
    return table


def format_table(table: dict[str, dict[str, Figures]]) -> str:
    lines = []
    for half, kinds in table.items():
        lines.append(f"\n{half}")
        lines.append(f"{'kind':<12} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'zero':>6}")
        for kind, f in kinds.items():
            label = "empty state" if kind == NO_ANSWER else ""
            lines.append(
                f"{kind:<12} {f.count:>4} {f.hit1:>6.2f} {f.hit3:>6.2f} {f.mrr:>6.2f} {f.zero:>6.2f} {label}"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Seed a temporary instance, run every case, print the table (``--failures tuning`` lists misses)."""
    from flask_migrate import upgrade

    from kb import create_app
    from kb.extensions import db
    from kb.services import content, search

    show = argv[argv.index("--failures") + 1] if "--failures" in argv else None
    lexical_only = "--lexical" in argv
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(instance),
                "SECRET_KEY": "evaluation",
                "INDEX_DIR": str(instance / "index"),
                "RATELIMIT_ENABLED": False,
                "SEARCH_SEMANTIC": not lexical_only,
            }
        )
        with app.app_context():
            upgrade()
            content.seed()
            search.rebuild_index()
            with app.test_request_context("/search"):
                outcomes = run(load_cases())
            db.session.remove()
            db.engine.dispose()
    print("lexical only" if lexical_only else "hybrid (lexical + semantic)")
    print(format_table(by_kind(outcomes)))
    if show:
        print(f"\nmisses ({show}):")
        for o in outcomes:
            if o.case.half == show and not o.passed:
                want, got = o.case.expected[:3], o.top[:3]
                print(f"  [{o.case.kind}] {o.case.text!r}: want {want} got {got} ({o.total})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
