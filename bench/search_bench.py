"""Search benchmark: the project's search service against a naive Flask+Whoosh integration and SQLite FTS5.

Run it with ``make bench`` (or ``.venv/bin/python bench/search_bench.py --sizes 1000``). It is not part of
``make test``: it takes a few minutes and its figures depend on the machine.

For each corpus size (default 1,000 and 10,000 generated articles) it:

1. generates articles from the shipped content (sentences, headings, taxonomy) plus made-up operation
   names, so the vocabulary grows with the corpus; 80 % published public, 10 % internal, 10 % drafts or
   archived, so the visibility filter has work to do;
2. builds the index with the project's own code (``kb.services.search.rebuild_index``: parallel writer on
   two processes from 2,000 documents) and, for comparison, a one-process Whoosh build and an FTS5 table
   over the same documents (``kb.indexing.schema.document_for``);
3. runs 200 distinct queries (one word, two words, phrases, prefixes, a quarter with tag or area
   filters) through each system, one warm-up round and then ``--rounds`` measured rounds, the systems
   taking turns query by query, as an anonymous reader:
   - project: ``search.search()`` - query, disjunctive facet counts, snippets, rows from the database;
   - naive: a new searcher per query, Whoosh's default parser, ``groupedby=`` facets, default
     (re-tokenising) highlighting, rows from the database;
   - FTS5: ``bm25()`` ranking, ``count(*)``, ``GROUP BY`` facet counts, ``snippet()``, rows from the database;
4. measures save-to-searchable: an article saved through the article service until search finds the new
   word (project); an ``update_document`` + commit + new searcher (naive); an UPDATE + commit + MATCH (FTS5).

It prints medians and 95th percentiles as a table, with the project's ratios to both baselines, and writes
the raw figures to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import current_app  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import joinedload, selectinload  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402
from whoosh import query as wq  # noqa: E402
from whoosh.qparser import MultifieldParser  # noqa: E402
from whoosh.sorting import FieldFacet  # noqa: E402

from kb import create_app  # noqa: E402
from kb.extensions import db  # noqa: E402
from kb.indexing import sync  # noqa: E402
from kb.indexing.schema import STOP_LIST, build_schema  # noqa: E402
from kb.models import Area, Article, RoleType, Tag, article_role_types, article_tags  # noqa: E402
from kb.services import articles, content, search  # noqa: E402
from kb.services.articles import ArticleData  # noqa: E402
from kb.services.search import SearchQuery  # noqa: E402

SYLLABLES = [
    "ka",
    "ve",
    "lo",
    "mi",
    "ra",
    "sun",
    "tor",
    "bel",
    "quin",
    "dra",
    "vex",
    "ol",
    "ar",
    "en",
    "is",
    "um",
    "tha",
    "gri",
    "pol",
    "nev",
    "zor",
    "wen",
    "fal",
    "cor",
]


@dataclass(frozen=True)
class BenchQuery:
    kind: str  # word, words, phrase, prefix
    words: tuple[str, ...]
    tags: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    @property
    def text(self) -> str:  # what a reader types into the project's and the naive search box
        if self.kind == "phrase":
            return '"' + " ".join(self.words) + '"'
        if self.kind == "prefix":
            return self.words[0] + "*"
        return " ".join(self.words)

    @property
    def fts(self) -> str:  # the same in FTS5's syntax
        if self.kind == "phrase":
            return '"' + " ".join(self.words) + '"'
        if self.kind == "prefix":
            return f'"{self.words[0]}"*'
        return " ".join(f'"{w}"' for w in self.words)


# --- corpus -----------------------------------------------------------------------------------------------


def source_material():
    """Sentences and headings from the shipped articles, and their words."""
    sentences, headings = [], []
    for item in content.read_article_files():
        for line in item.data.body.splitlines():
            if line.startswith("#"):
                headings.append(line)
            elif line.strip():
                sentences += [
                    s.strip() for s in re.split(r"(?<=[.;:])\s+", line.lstrip("-* ")) if len(s) > 30
                ]
    words = sorted({w for s in sentences for w in re.findall(r"[a-z]{4,}", s.lower())} - STOP_LIST)
    return sentences, headings, words


def made_up_words(rng: random.Random, count: int) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        found.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(found)


def generate(n: int, rng: random.Random, sentences, headings, invented, first_id: int = 1):
    areas = [a.id for a in db.session.scalars(select(Area))]
    tags = [t.id for t in db.session.scalars(select(Tag))]
    roles = [r.id for r in db.session.scalars(select(RoleType))]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows, tag_rows, role_rows = [], [], []
    for i in range(first_id, first_id + n):
        name = " ".join(w.capitalize() for w in rng.sample(invented[:400], 2))
        title = f"{name} {rng.choice(['Team', 'Unit', 'Desk', 'Cell', 'Hub'])} {i}"
        paragraphs = []
        for heading in rng.sample(headings, 3):
            picked = rng.sample(sentences, rng.randint(3, 6))
            # Operation names, rarer and rarer (Zipf-like): the lexicon grows with the corpus.
            for _ in range(rng.randint(1, 3)):
                word = invented[min(int(rng.paretovariate(0.8)) - 1, len(invented) - 1)]
                picked.append(f"Operation {word.capitalize()} is one of its cases.")
            paragraphs += [heading, " ".join(picked)]
        roll = rng.random()
        visibility, status = (
            ("public", "published")
            if roll < 0.8
            else ("internal", "published")
            if roll < 0.9
            else ("public", "draft")
            if roll < 0.96
            else ("public", "archived")
        )
        rows.append(
            {
                "id": i,
                "slug": f"bench-{i}",
                "title": title,
                "acronym": "",
                "kind": "capability",
                "summary": rng.choice(sentences)[:290],
                "body": "\n\n".join(paragraphs),
                "area_id": rng.choice(areas),
                "partners": rng.sample(["NCA", "HMRC", "CPS", "Home Office", "Thames Valley Police"], 2),
                "contact_public": "",
                "contact_internal": "Internal contact.",
                "visibility": visibility,
                "status": status,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        tag_rows += [{"article_id": i, "tag_id": t} for t in rng.sample(tags, rng.randint(1, 4))]
        role_rows += [{"article_id": i, "role_type_id": r} for r in rng.sample(roles, rng.randint(1, 3))]
    # Core inserts: no ORM objects, so no index events (the benchmark builds the index itself).
    db.session.execute(insert(Article.__table__), rows)
    db.session.execute(insert(article_tags), tag_rows)
    db.session.execute(insert(article_role_types), role_rows)
    db.session.commit()


def make_queries(rng: random.Random, sentences, words, invented, count: int) -> list[BenchQuery]:
    tag_slugs = list(db.session.scalars(select(Tag.slug)))
    area_slugs = list(db.session.scalars(select(Area.slug)))
    bigrams = []
    for sentence in sentences:
        tokens = re.findall(r"[a-z]+", sentence.lower())
        bigrams += [
            (a, b)
            for a, b in itertools.pairwise(tokens)
            if a not in STOP_LIST and b not in STOP_LIST and len(a) > 3 and len(b) > 3
        ]
    long_words = [w for w in words if len(w) >= 7]
    wanted = {"word": 0.25, "words": 0.2, "phrase": 0.15, "prefix": 0.15, "filtered": 0.25}
    queries: list[BenchQuery] = []
    seen: set[BenchQuery] = set()

    def add(q: BenchQuery) -> None:
        if q not in seen:
            seen.add(q)
            queries.append(q)

    for kind, share in wanted.items():
        target = len(queries) + round(count * share)
        while len(queries) < min(target, count):
            if kind == "word":
                add(BenchQuery("word", (rng.choice(invented[:200] if rng.random() < 0.3 else words),)))
            elif kind == "words":
                add(
                    BenchQuery(
                        "words", rng.choice(bigrams) if rng.random() < 0.7 else tuple(rng.sample(words, 2))
                    )
                )
            elif kind == "phrase":
                add(BenchQuery("phrase", rng.choice(bigrams)))
            elif kind == "prefix":
                word = rng.choice(long_words)
                add(BenchQuery("prefix", (word[: rng.randint(4, 5)],)))
            else:
                base = rng.choice([(rng.choice(words),), rng.choice(bigrams)])
                if rng.random() < 0.5:
                    add(BenchQuery("words", base, tags=tuple(rng.sample(tag_slugs, rng.randint(1, 2)))))
                else:
                    add(BenchQuery("words", base, areas=(rng.choice(area_slugs),)))
    while len(queries) < count:
        add(BenchQuery("word", (rng.choice(words),)))
    return queries


# --- the systems --------------------------------------------------------------------------------------------


def rows_for(ids: list[int]) -> list[Article]:
    """What every system does last: the page's rows from the database, in rank order."""
    if not ids:
        return []
    stmt = (
        select(Article)
        .where(Article.id.in_(ids))
        .options(joinedload(Article.area), selectinload(Article.tags), selectinload(Article.role_types))
    )
    by_id = {a.id: a for a in db.session.scalars(stmt).unique()}
    return [by_id[i] for i in ids if i in by_id]


def project_search(q: BenchQuery) -> int:
    """The project's search as configured (hybrid: lexical + semantic)."""
    found = search.search(SearchQuery(text=q.text, tags=q.tags, areas=q.areas))
    return found.total


def project_lexical(q: BenchQuery) -> int:
    """The project's search with semantic ranking off (KB_SEARCH_SEMANTIC=false), for the side-by-side."""
    config = current_app.config
    config["SEARCH_SEMANTIC"] = False
    try:
        return project_search(q)
    finally:
        config["SEARCH_SEMANTIC"] = True


class NaiveWhoosh:
    """How a Flask app usually wires Whoosh in: a new searcher per request, the default parser and
    highlighter, ``groupedby=`` facets, the visibility filter as a Whoosh query."""

    FIELDS = ["title", "acronym", "summary", "body", "keywords", "partners"]

    def __init__(self, path: Path):
        self.ix = whoosh_index.open_dir(str(path))
        self.parser = MultifieldParser(self.FIELDS, self.ix.schema)
        self.visible = wq.And([wq.Term("status", "published"), wq.Term("visibility", "public")])
        self.facets = {
            "tag": FieldFacet("tags", allow_overlap=True),
            "area": FieldFacet("area"),
            "role": FieldFacet("roles", allow_overlap=True),
        }

    def __call__(self, q: BenchQuery) -> int:
        with self.ix.searcher() as searcher:
            parsed = self.parser.parse(q.text)
            if q.tags:
                parsed = wq.And([parsed, wq.Or([wq.Term("tags", t) for t in q.tags])])
            if q.areas:
                parsed = wq.And([parsed, wq.Or([wq.Term("area", a) for a in q.areas])])
            results = searcher.search(parsed, filter=self.visible, limit=10, groupedby=self.facets)
            facet_counts = {
                name: {k: len(v) for k, v in results.groups(name).items()} for name in self.facets
            }
            page = [(int(hit["id"]), hit.highlights("body")) for hit in results[:10]]
            rows_for([i for i, _ in page])
            return len(results) + 0 * len(facet_counts)

    def save(self, document: dict) -> None:
        writer = self.ix.writer()
        writer.update_document(**document)
        writer.commit()


class Fts5:
    """SQLite FTS5 over the same documents: bm25 ranking, GROUP BY facet counts, snippet()."""

    def __init__(self, path: Path, documents: list[dict]):
        self.db = sqlite3.connect(path)
        started = time.perf_counter()
        self.db.executescript(
            """
            CREATE VIRTUAL TABLE docs USING fts5(title, acronym, summary, body, keywords,
                tokenize = 'porter unicode61 remove_diacritics 2');
            CREATE TABLE meta (id INTEGER PRIMARY KEY, area TEXT, status TEXT, visibility TEXT);
            CREATE TABLE doc_tags (id INTEGER, tag TEXT);
            CREATE TABLE doc_roles (id INTEGER, role TEXT);
            CREATE INDEX doc_tags_id ON doc_tags (id, tag);
            CREATE INDEX doc_roles_id ON doc_roles (id, role);
            CREATE INDEX meta_filter ON meta (status, visibility, area);
            """
        )
        for d in documents:
            self._insert(d)
        self.db.commit()
        self.build_seconds = time.perf_counter() - started

    def _insert(self, d: dict) -> None:
        i = int(d["id"])
        self.db.execute(
            "INSERT INTO docs (rowid, title, acronym, summary, body, keywords) VALUES (?, ?, ?, ?, ?, ?)",
            (i, d["title"], d["acronym"], d["summary"], d["body"], d["keywords"]),
        )
        self.db.execute("INSERT INTO meta VALUES (?, ?, ?, ?)", (i, d["area"], d["status"], d["visibility"]))
        self.db.executemany("INSERT INTO doc_tags VALUES (?, ?)", [(i, t) for t in d["tags"].split(",") if t])
        self.db.executemany(
            "INSERT INTO doc_roles VALUES (?, ?)", [(i, r) for r in d["roles"].split(",") if r]
        )

    def _filters(self, q: BenchQuery) -> tuple[str, list]:
        sql = "m.status = 'published' AND m.visibility = 'public'"
        params: list = []
        if q.tags:
            sql += f" AND h.id IN (SELECT id FROM doc_tags WHERE tag IN ({','.join('?' * len(q.tags))}))"
            params += list(q.tags)
        if q.areas:
            sql += f" AND m.area IN ({','.join('?' * len(q.areas))})"
            params += list(q.areas)
        return sql, params

    def __call__(self, q: BenchQuery) -> int:
        # The visible matches once, into a temporary table; then the count, the facet GROUP BYs and the
        # ranked page over it; snippet() for the ten rows shown.
        where, params = self._filters(q)
        self.db.execute("DROP TABLE IF EXISTS temp.h")
        self.db.execute(
            "CREATE TEMP TABLE h AS SELECT docs.rowid AS id, bm25(docs, 5.0, 8.0, 2.0, 1.0, 1.5) AS score "
            "FROM docs WHERE docs MATCH ?",
            [q.fts],
        )
        base = f"FROM h CROSS JOIN meta m ON m.id = h.id WHERE {where}"  # h drives: it has no index
        total = self.db.execute(f"SELECT count(*) {base}", params).fetchone()[0]
        for table, column in (("doc_tags", "tag"), ("doc_roles", "role")):
            self.db.execute(
                f"SELECT f.{column}, count(*) FROM h CROSS JOIN meta m ON m.id = h.id "
                f"CROSS JOIN {table} f ON f.id = h.id WHERE {where} GROUP BY f.{column}",
                params,
            ).fetchall()
        self.db.execute(f"SELECT m.area, count(*) {base} GROUP BY m.area", params).fetchall()
        page = [r[0] for r in self.db.execute(f"SELECT h.id {base} ORDER BY h.score LIMIT 10", params)]
        if page:
            marks = ",".join("?" * len(page))
            self.db.execute(
                f"SELECT rowid, snippet(docs, 3, '<mark>', '</mark>', '…', 24) FROM docs "
                f"WHERE docs MATCH ? AND rowid IN ({marks})",
                [q.fts, *page],
            ).fetchall()
        rows_for(page)
        return total

    def save(self, article_id: int, body: str) -> None:
        self.db.execute("UPDATE docs SET body = ? WHERE rowid = ?", (body, article_id))
        self.db.commit()

    def finds(self, word: str) -> bool:
        return self.db.execute("SELECT 1 FROM docs WHERE docs MATCH ?", (f'"{word}"',)).fetchone() is not None


# --- measuring -----------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(systems: dict, queries: list[BenchQuery], rounds: int) -> dict:
    """Latencies per system. The systems take turns query by query, so that a busy moment on a shared
    machine slows all of them alike rather than whichever happened to be running."""
    for q in queries:  # warm-up round: caches, lazily opened files
        for run in systems.values():
            run(q)
    samples: dict[str, list[float]] = {name: [] for name in systems}
    for _ in range(rounds):
        for q in queries:
            for name, run in systems.items():
                started = time.perf_counter()
                run(q)
                samples[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {"p50_ms": statistics.median(v), "p95_ms": percentile(v, 0.95), "samples": len(v)}
        for name, v in samples.items()
    }


def save_latencies(app, count: int, rng: random.Random, naive: NaiveWhoosh, fts: Fts5) -> dict:
    """Milliseconds from starting a save to the saved word being found, for each system."""
    ids = list(
        db.session.scalars(
            select(Article.id).where(Article.status == "published", Article.visibility == "public")
        )
    )
    project, naive_ms, fts_ms = [], [], []
    for n in range(count):
        article = db.session.get(Article, rng.choice(ids))
        word = f"savedword{n}x{rng.randrange(10**6)}"
        data = ArticleData.from_article(article)
        data.body += f"\n\nNew note {word}."
        started = time.perf_counter()
        articles.update_article(article, data, expected_version=article.version)
        deadline = started + 5
        while search.search(SearchQuery(text=word)).total == 0:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{word} was not searchable after 5 s")
            time.sleep(0.001)
        project.append((time.perf_counter() - started) * 1000)

        (document,) = sync.documents_for(db.session, [article.id])
        started = time.perf_counter()
        naive.save(document)
        with naive.ix.searcher() as searcher:
            assert searcher.search(wq.Term("body", word), limit=1).scored_length() == 1
        naive_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        fts.save(article.id, document["body"])
        assert fts.finds(word)
        fts_ms.append((time.perf_counter() - started) * 1000)
    return {
        name: {"p50_ms": statistics.median(v), "p95_ms": percentile(v, 0.95), "samples": len(v), "all_ms": v}
        for name, v in (("project", project), ("naive", naive_ms), ("fts5", fts_ms))
    }


def naive_build(path: Path, documents: list[dict]) -> float:
    """Seconds for a plain one-process Whoosh build of the same documents with the same schema."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    started = time.perf_counter()
    ix = whoosh_index.create_in(str(path), build_schema())
    writer = ix.writer()
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    return time.perf_counter() - started


def run_size(n: int, args, material) -> dict:
    sentences, headings, words = material
    rng = random.Random(args.seed + n)
    invented = made_up_words(rng, 5000)
    workdir = Path(tempfile.mkdtemp(prefix=f"kb-bench-{n}-"))
    app = create_app(
        {
            "INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "bench",
            "INDEX_DIR": str(workdir / "index"),
            "SEARCH_BUILD_ON_START": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    result: dict = {"articles": n}
    try:
        with app.app_context():
            upgrade()
            content.load_taxonomy()
            content.load_glossary()
            db.session.commit()
            generate(n, rng, sentences, headings, invented)
            print(
                f"[{n}] corpus generated; building the index {args.rebuilds} times each way ...", flush=True
            )
            documents = list(sync.iter_documents(db.session))
            naive_dir = workdir / "naive-index"
            builds, naive_builds = [], []
            for _ in range(args.rebuilds):  # in turn, so that a busy moment slows both alike
                builds.append(search.rebuild_index().seconds)
                naive_builds.append(naive_build(naive_dir, documents))
            result["rebuild"] = {
                "median_s": statistics.median(builds),
                "runs_s": builds,
                "procs": app.config["SEARCH_REBUILD_PROCS"]
                if n >= app.config["SEARCH_PARALLEL_MIN_DOCS"]
                else 1,
            }
            result["naive_build_s"] = statistics.median(naive_builds)
            result["naive_build_runs_s"] = naive_builds
            fts = Fts5(workdir / "fts.sqlite3", documents)
            result["fts5_build_s"] = fts.build_seconds
            naive = NaiveWhoosh(naive_dir)
            queries = make_queries(rng, sentences, words, invented, args.queries)
            result["queries"] = {
                kind: sum(q.kind == kind for q in queries) for kind in ("word", "words", "phrase", "prefix")
            }
            result["queries"]["filtered"] = sum(bool(q.tags or q.areas) for q in queries)
            with app.test_request_context("/search"):
                print(
                    f"[{n}] {len(queries)} queries x {args.rounds} rounds, the three systems in turn ...",
                    flush=True,
                )
                result.update(
                    timed(
                        {"project": project_search, "lexical": project_lexical, "naive": naive, "fts5": fts},
                        queries,
                        args.rounds,
                    )
                )
                print(f"[{n}] save-to-searchable x {args.saves} ...", flush=True)
                result["save"] = save_latencies(app, args.saves, rng, naive, fts)
            store = app.extensions[sync.EXTENSION]
            result["segments_after_saves"] = len(store.live_index()[1]._segments())
            store.close()
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"[{n}] kept {workdir}")
    return result


def print_table(results: list[dict]) -> str:
    lines = [
        "| articles | measure | project | naive Flask+Whoosh | SQLite FTS5 | project / naive | project / FTS5 |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]

    def row(n, label, p, nv, f, unit):
        fmt = (lambda v: f"{v:.1f} {unit}") if unit == "ms" else (lambda v: f"{v:.2f} {unit}")
        lines.append(f"| {n:,} | {label} | {fmt(p)} | {fmt(nv)} | {fmt(f)} | {p / nv:.2f} | {p / f:.2f} |")

    for r in results:
        n = r["articles"]
        row(
            n,
            f"full rebuild (median of {len(r['rebuild']['runs_s'])}; {r['rebuild']['procs']} process(es) vs 1)",
            r["rebuild"]["median_s"],
            r["naive_build_s"],
            r["fts5_build_s"],
            "s",
        )
        row(
            n,
            "search p50 (query + facets + snippets + rows)",
            r["project"]["p50_ms"],
            r["naive"]["p50_ms"],
            r["fts5"]["p50_ms"],
            "ms",
        )
        row(n, "search p95", r["project"]["p95_ms"], r["naive"]["p95_ms"], r["fts5"]["p95_ms"], "ms")
        row(
            n,
            "save-to-searchable p50",
            r["save"]["project"]["p50_ms"],
            r["save"]["naive"]["p50_ms"],
            r["save"]["fts5"]["p50_ms"],
            "ms",
        )
        row(
            n,
            "save-to-searchable p95",
            r["save"]["project"]["p95_ms"],
            r["save"]["naive"]["p95_ms"],
            r["save"]["fts5"]["p95_ms"],
            "ms",
        )
    lines += [
        "",
        "| articles | measure | lexical only | hybrid (lexical + semantic) | hybrid / lexical |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for key, label in (("p50_ms", "search p50"), ("p95_ms", "search p95")):
            lexical, hybrid = r["lexical"][key], r["project"][key]
            lines.append(
                f"| {r['articles']:,} | {label} | {lexical:.1f} ms | {hybrid:.1f} ms | {hybrid / lexical:.2f} |"
            )
    table = "\n".join(lines)
    print(table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma separated")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds over the queries")
    parser.add_argument("--rebuilds", type=int, default=3)
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # Alembic's chatter
    material = source_material()
    results = [run_size(int(size), args, material) for size in args.sizes.split(",")]
    print()
    table = print_table(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    cpu = os.cpu_count()
    (out / f"search-{stamp}.json").write_text(json.dumps({"cpus": cpu, "results": results}, indent=2))
    (out / f"search-{stamp}.md").write_text(table + "\n")
    print(f"\n{cpu} CPUs; raw figures in bench/results/search-{stamp}.json")


if __name__ == "__main__":
    main()
