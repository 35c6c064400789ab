"""HTTP load benchmark: the server ``make run`` starts, under a realistic mix, on loopback only.

Run it with ``make bench-http`` (or ``.venv/bin/python bench/http_bench.py --sizes 39 --duration 5``). It is
not part of ``make test``: it takes a few minutes and its figures depend on the machine.

For each corpus size (default 39, the shipped content, then 1,000 and 10,000 articles generated the way
``bench/search_bench.py`` generates them) it:

1. prepares a throw-away instance (database migrated and seeded, search index built);
2. starts each server under test as a separate process (``--servers``; by default the one ``make run``
   uses, plus waitress with 8 threads as the single-process baseline);
3. for each concurrency level (default 1, 8 and 32) runs a closed loop of keep-alive connections for a
   fixed time, each request drawn from the mix below, and records its latency per endpoint;
4. measures a static file the same way in the same run: the ceiling the machine and client allow;
5. reads each server's resident memory (the process and all its children) after the load.

The mix is what people do on the site: the search page, the JSON search, the live results fragment the
search page fetches while someone types, type-ahead suggestions, and article pages. Rate limits are turned
off (``KB_RATELIMIT_ENABLED=false``): a benchmark from one address is exactly what they exist to stop.

The client is a small asyncio HTTP/1.1 client (keep-alive, no compression asked), on the same machine as the
server, so both share its cores; the static ceiling measured with the same client says how much of a
figure is the client. It prints a table (requests/s and p50/p95/p99 per endpoint) and writes the raw figures
to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

SEARCH_WORDS = [
    "fraud",
    "cyber",
    "money laundering",
    "surveillance",
    "analyst",
    "digital forensics",
    "crypto",
    "intelligence",
    "covert",
    "financial investigator",
    "ransomware",
    "how to apply",
]
PREFIXES = ["cyb", "fra", "ana", "sur", "inv", "dig", "mon", "int"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_commands(port: int) -> dict[str, list[str]]:
    """The servers this benchmark knows, by name; ``make run`` uses the one ``KB_SERVER`` names."""
    cores = os.cpu_count() or 2
    commands = {
        "waitress-8t": [
            *(str(BIN / "waitress-serve"), "--host", "127.0.0.1", "--port", str(port)),
            *("--threads", "8", "wsgi:app"),
        ],
    }
    if (BIN / "gunicorn").exists():
        workers = str(max(2, cores))
        commands["gunicorn"] = [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", workers]
        commands["gunicorn"] += ["--worker-class", "sync", "--access-logfile", "/dev/null", "wsgi:app"]
    return commands


def prepare_instance(n: int, workdir: Path) -> list[str]:
    """Migrate, seed and index a fresh instance of ``n`` articles; return some article paths."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from kb import create_app
    from kb.extensions import db
    from kb.models import Article
    from kb.services import content, search

    app = create_app(
        {
            "INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "bench",
            "INDEX_DIR": str(workdir / "index"),
            "SEARCH_BUILD_ON_START": False,
        }
    )
    with app.app_context():
        upgrade()
        content.seed()
        if n > 39:
            import search_bench

            rng = random.Random(n)
            sentences, headings, _words = search_bench.source_material()
            invented = search_bench.made_up_words(rng, 5000)
            offset = db.session.scalar(select(db.func.max(Article.id))) or 0
            search_bench.generate(n - 39, rng, sentences, headings, invented, first_id=offset + 1)
        search.rebuild_index()
        slugs = list(
            db.session.scalars(
                select(Article.slug).where(Article.status == "published", Article.visibility == "public")
            )
        )
        db.session.remove()
        db.engine.dispose()
    random.Random(0).shuffle(slugs)
    return [f"/capabilities/{slug}" for slug in slugs[:200]]


def request_mix(articles: list[str]) -> list[tuple[str, str]]:
    """(endpoint name, path) pairs, weighted the way the site is used."""
    mix: list[tuple[str, str]] = []
    for word in SEARCH_WORDS:
        q = word.replace(" ", "+")
        mix += [("search page", f"/search?q={q}")] * 2
        mix += [("api search", f"/api/search?q={q}")]
        mix += [("live results", f"/api/search?q={q}&html=1")] * 2
    for prefix in PREFIXES:
        mix += [("type-ahead", f"/api/suggest?q={prefix}")] * 3
    for path in articles[:40]:
        mix += [("article page", path)]
    mix += [("home page", "/")] * 4
    return mix


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0


async def fetch(reader, writer, host: str, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.lower()
    match = re.search(rb"\r\ncontent-length: *(\d+)", headers)
    if match:
        await reader.readexactly(int(match.group(1)))
    elif b"transfer-encoding: chunked" in headers:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def client(port: int, mix, deadline: float, tally: Tally, rng: random.Random) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    host = f"127.0.0.1:{port}"
    try:
        while time.perf_counter() < deadline:
            name, path = rng.choice(mix)
            started = time.perf_counter()
            try:
                status = await fetch(reader, writer, host, path)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status >= 500 or status == 429:
                tally.errors += 1
            tally.latencies.setdefault(name, []).append(time.perf_counter() - started)
    finally:
        writer.close()


async def load(port: int, mix, concurrency: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(client(port, mix, deadline, tally, random.Random(i)) for i in range(concurrency)))
    return tally, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(tally: Tally, elapsed: float) -> dict:
    everything = [x for values in tally.latencies.values() for x in values]
    rows = {"all": everything, **tally.latencies}
    return {
        "errors": tally.errors,
        "endpoints": {
            name: {
                "requests": len(values),
                "rps": len(values) / elapsed,
                "p50_ms": 1000 * statistics.median(values),
                "p95_ms": 1000 * percentile(values, 0.95),
                "p99_ms": 1000 * percentile(values, 0.99),
            }
            for name, values in rows.items()
            if values
        },
    }


def tree_rss_mb(pid: int) -> list[float]:
    """Resident memory of ``pid`` and each of its descendants, in MB."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        rss = re.search(r"VmRSS:\s+(\d+) kB", status)
        if rss:
            found.append(int(rss.group(1)) / 1024)
        pending += [int(c) for c in children]
    return found


def wait_until_serving(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not answer /robots.txt in time")


def static_path(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        page = b""
        while chunk := s.recv(65536):
            page += chunk
    match = re.search(rb'href="(/static/[^"]+\.css[^"]*)"', page)
    if not match:
        raise RuntimeError("no stylesheet link on the home page")
    return match.group(1).decode()


def run_server(name: str, workdir: Path, articles: list[str], args) -> dict:
    port = free_port()
    env = dict(
        os.environ,
        KB_INSTANCE_PATH=str(workdir / "instance"),
        KB_INDEX_DIR=str(workdir / "index"),
        KB_SECRET_KEY="bench",
        KB_RATELIMIT_ENABLED="false",
    )
    command = server_commands(port)[name]
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    result: dict = {"server": name, "command": " ".join([Path(command[0]).name, *command[1:]])}
    try:
        wait_until_serving(port, proc)
        mix = request_mix(articles)
        static_mix = [("static file", static_path(port))]
        asyncio.run(load(port, mix, 4, 2))  # warm-up: caches, lazy imports, every worker started
        result["levels"] = {}
        for concurrency in args.concurrency:
            # The static ceiling and the mix take turns, so a busy moment slows both alike.
            tally, elapsed = asyncio.run(load(port, static_mix, concurrency, args.duration / 3))
            ceiling = summarise(tally, elapsed)
            tally, elapsed = asyncio.run(load(port, mix, concurrency, args.duration))
            level = summarise(tally, elapsed)
            level["static"] = ceiling["endpoints"]["static file"]
            result["levels"][concurrency] = level
            print(
                f"  {name} c={concurrency}: {level['endpoints']['all']['rps']:.0f} req/s, "
                f"p95 {level['endpoints']['all']['p95_ms']:.1f} ms "
                f"(static {ceiling['endpoints']['static file']['rps']:.0f} req/s), "
                f"{level['errors']} errors",
                flush=True,
            )
        result["rss_mb"] = tree_rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return result


def print_table(results: list[dict]) -> str:
    lines = [
        "| articles | server | clients | endpoint | req/s | p50 ms | p95 ms | p99 ms | static req/s | errors |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in results:
        for server in size["servers"]:
            for concurrency, level in server["levels"].items():
                for name, row in level["endpoints"].items():
                    static = f"{level['static']['rps']:.0f}" if name == "all" else ""
                    errors = str(level["errors"]) if name == "all" else ""
                    lines.append(
                        f"| {size['articles']:,} | {server['server']} | {concurrency} | {name} | "
                        f"{row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} "
                        f"| {static} | {errors} |"
                    )
    lines += ["", "| articles | server | memory per process (MB, after load) |", "|---:|---|---|"]
    for size in results:
        for server in size["servers"]:
            memory = ", ".join(f"{mb:.0f}" for mb in server["rss_mb"])
            lines.append(f"| {size['articles']:,} | {server['server']} | {memory} |")
    table = "\n".join(lines)
    print(table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[39, 1000, 10000])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per level")
    parser.add_argument("--servers", nargs="+", help="default: every server this machine has")
    parser.add_argument("--keep", action="store_true", help="keep the instance folders")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    results = []
    for n in args.sizes:
        workdir = Path(tempfile.mkdtemp(prefix=f"kb-http-{n}-"))
        try:
            print(f"[{n}] preparing the instance ...", flush=True)
            articles = prepare_instance(n, workdir)
            names = args.servers or list(server_commands(0))
            servers = [run_server(name, workdir, articles, args) for name in names]
            results.append({"articles": n, "servers": servers})
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    table = print_table(results)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"http-{stamp}.json").write_text(
        json.dumps({"cores": os.cpu_count(), "results": results}, indent=1)
    )
    (out / f"http-{stamp}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
