"""The Whoosh index on disk: opening it, reading it with reused searchers, writing it, rebuilding it.

Layout of ``INDEX_DIR``::

    CURRENT          JSON naming the live build (replaced atomically: this is the swap)
    builds/<name>/   one complete Whoosh index per build; the live one and the one before it are kept
    rebuild.lock     held (flock) while a rebuild runs, in any process

A rebuild writes a fresh index into a new build folder and then replaces ``CURRENT``, so readers see the
old index or the new one, never half of one. Everything here is about files and Whoosh; what goes into a
document is ``kb.indexing.schema``, and when to write is ``kb.indexing.sync``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher

from kb.indexing.schema import SCHEMA_VERSION, build_schema

log = logging.getLogger(__name__)

# Each save commits one small segment, without merging: the saved article is searchable at once.
# Small segments are then merged in tiers: five segments of 1-4 documents become one of 5-24, five of
# those one of 25-124, and so on; a segment of 625 or more (the rebuild's) is never rewritten. The
# merging work grows with the logarithm of the number of saves (no merge storm), and searches never face
# more than a few small segments (each costs a searcher about half a millisecond per query).
# Merges run in a background thread once saves pause for a moment (bigger tiers only once they pause for
# longer), so that a burst of saves does not queue behind them; past MAX_SMALL_SEGMENTS the smallest
# tier is merged at once.
MERGE_FACTOR = 5
BIG_SEGMENT_DOCS = 625
MERGE_WHEN_IDLE_SECONDS = {0: 2.0, 1: 2.0, 2: 30.0, 3: 30.0}  # by tier: 1-4, 5-24, 25-124, 125-624 docs
MAX_SMALL_SEGMENTS = 24


class SearchIndexError(RuntimeError):
    """Something about the search index stops this operation; the message says what in one line.

    The database is never affected: every subclass means the index is behind or missing, and the change
    log (``kb.indexing.sync``) brings it up to date once the cause has gone.
    """


class IndexUnavailable(SearchIndexError):
    """There is no usable index (missing, unreadable or built by older code); it is being rebuilt."""


class RebuildInProgress(SearchIndexError):
    """Another rebuild is running (in this process or another); only one may write a new index at once."""


class IndexBusy(SearchIndexError):
    """The index writer stayed locked for longer than the configured timeout."""


class IndexNotWritable(SearchIndexError):
    """The index folder cannot be written (permissions, a read-only or full disk)."""


def _not_writable(root: Path, exc: OSError) -> IndexNotWritable:
    reason = exc.strerror or exc.__class__.__name__
    return IndexNotWritable(f"the search index folder {root} cannot be written ({reason})")


POSITION_FILE = "APPLIED"  # in each build folder: the last change-log id applied to that build


@dataclass(frozen=True)
class BuildInfo:
    """What ``CURRENT`` says about the live build."""

    name: str
    built_at: str
    seconds: float
    documents: int
    schema_version: int


def _tier(segment: Any) -> int | None:
    """0 for 1-4 documents, 1 for 5-24, 2 for 25-124, 3 for 125-624; None for a big segment."""
    count = segment.doc_count_all()
    if count >= BIG_SEGMENT_DOCS:
        return None
    tier = 0
    while count >= MERGE_FACTOR:
        count //= MERGE_FACTOR
        tier += 1
    return tier


def segments_to_merge(segments: list, idle: float | None = None) -> list:
    """The smallest tier with ``MERGE_FACTOR`` segments or more (or nothing).

    :param idle: seconds since the last save, to merge only the tiers that have waited long enough;
        None merges any full tier.
    """
    tiers: dict[int, list] = {}
    for segment in segments:
        tier = _tier(segment)
        if tier is not None:
            tiers.setdefault(tier, []).append(segment)
    crowded = sum(len(group) for group in tiers.values()) >= MAX_SMALL_SEGMENTS
    for tier in sorted(tiers):
        if len(tiers[tier]) < MERGE_FACTOR:
            continue
        if idle is None or idle >= MERGE_WHEN_IDLE_SECONDS[tier] or (crowded and tier == 0):
            return tiers[tier]
    return []


def merge_small_segments(writer: Any, segments: list) -> list:
    """Whoosh merge policy: merge one full tier of small segments (see ``MERGE_FACTOR``)."""
    return merge_segments(writer, segments, segments_to_merge(segments))


def merge_segments(writer: Any, segments: list, merged: list) -> list:
    for segment in merged:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return [s for s in segments if s not in merged]


class IndexStore:
    """One application's index folder. Thread-safe; each thread keeps and reuses its own searcher."""

    def __init__(
        self,
        root: str | Path,
        *,
        writer_timeout: float = 10.0,
        rebuild_procs: int = 2,
        parallel_min_docs: int = 2000,
        background_merge: bool = True,
    ):
        self.root = Path(root)
        self.writer_timeout = writer_timeout
        self.rebuild_procs = max(1, rebuild_procs)
        self.parallel_min_docs = parallel_min_docs
        self._lock = threading.RLock()
        self._local = threading.local()
        self._indexes: dict[str, Any] = {}
        self._current_stat: tuple | None = None
        self._current: BuildInfo | None = None
        self._cache: dict[tuple, Any] = {}
        self._segment_cache: dict[Any, Any] = {}
        self._searchers: list[Searcher] = []
        self.glossary_generation = 0  # bumped when the change log names a glossary entry
        self.background_merge = background_merge
        self._merger: threading.Thread | None = None
        self._last_write = 0.0
        self._stopping = threading.Event()

    # --- layout -----------------------------------------------------------------------------------

    @property
    def current_file(self) -> Path:
        return self.root / "CURRENT"

    @property
    def builds_dir(self) -> Path:
        return self.root / "builds"

    @property
    def lock_file(self) -> Path:
        return self.root / "rebuild.lock"

    def build_info(self) -> BuildInfo | None:
        """The live build as ``CURRENT`` describes it, or None when there is none (or it is unreadable)."""
        try:
            stat = self.current_file.stat()
        except FileNotFoundError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key == self._current_stat:
                return self._current
            try:
                data = json.loads(self.current_file.read_text(encoding="utf-8"))
                info = BuildInfo(**{k: data[k] for k in BuildInfo.__dataclass_fields__})
            except (OSError, ValueError, KeyError, TypeError):
                info = None
            self._current_stat, self._current = key, info
            return info

    def live_index(self) -> tuple[BuildInfo, Any]:
        """The live build and its opened Whoosh index.

        :raise IndexUnavailable: no build, a build from older code, or files Whoosh cannot open.
        """
        info = self.build_info()
        if info is None:
            raise IndexUnavailable("no search index has been built yet")
        if info.schema_version != SCHEMA_VERSION:
            raise IndexUnavailable("the search index was built by an older version")
        if not (self.builds_dir / info.name / POSITION_FILE).parent.is_dir():
            # Deleted while serving: forget the opened index, so that a rebuild is started and used.
            with self._lock:
                self._indexes = {}
            raise IndexUnavailable("the search index folder has gone")
        with self._lock:
            ix = self._indexes.get(info.name)
            if ix is None:
                try:
                    ix = whoosh_index.open_dir(str(self.builds_dir / info.name))
                    ix.doc_count_all()  # reads the table of contents: fails now rather than mid-search
                except Exception as exc:  # any damage to the files means the same thing: rebuild
                    raise IndexUnavailable(
                        f"the search index cannot be read ({exc.__class__.__name__})"
                    ) from exc
                self._indexes = {info.name: ix}  # an older build's index object is no longer needed
            return info, ix

    def is_available(self) -> bool:
        try:
            self.live_index()
        except IndexUnavailable:
            return False
        return True

    # --- reading ------------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """This thread's searcher on the live index, reopened when the index has changed.

        Whoosh 2.7.5's ``Searcher.refresh()`` returns stale copies of updated documents: it reuses the
        reader of a segment whose deletions have changed, and even keeps segments that were merged
        away. So a changed index gets a new searcher, which reuses only readers of segments that are
        exactly as they were (same segment, same deletions): after a save, only the new small segment
        and the segment that lost the old version are opened again.
        Use the returned searcher for one whole operation: the next call may close it.

        :raise IndexUnavailable: see ``live_index``.
        """
        info, ix = self.live_index()
        local = self._local
        current = getattr(local, "searcher", None)
        same_build = current is not None and local.build == info.name and not current.is_closed
        if same_build and current.up_to_date():
            return current
        try:
            fresh = self._open_searcher(ix, current if same_build else None)
        except Exception as exc:
            raise IndexUnavailable(f"the search index cannot be read ({exc.__class__.__name__})") from exc
        if current is not None:
            self._close_searcher(current, keep=self._readers_of(fresh))
        fresh.kb_build = info.name  # which build the cached values below belong to
        local.searcher, local.build = fresh, info.name
        with self._lock:
            self._searchers.append(fresh)
        return fresh

    @staticmethod
    def _readers_of(searcher: Searcher) -> list:
        return [reader for reader, _ in searcher.reader().leaf_readers()]

    def _open_searcher(self, ix: Any, previous: Searcher | None) -> Searcher:
        toc = ix._read_toc()
        reusable = {}
        if previous is not None:
            for reader in self._readers_of(previous):
                segment = reader.segment()
                if segment is not None:
                    reusable[(segment.segment_id(), segment.deleted_count())] = reader
        readers = [
            reusable.get((segment.segment_id(), segment.deleted_count()))
            or SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
            for segment in toc.segments
        ]
        if len(readers) != 1:
            return (
                ix.searcher()
                if not readers
                else Searcher(MultiReader(readers, generation=toc.generation), fromindex=ix)
            )
        if readers[0] in reusable.values():  # a lone reader reports its generation: it must be the new one
            readers[0] = SegmentReader(ix.storage, toc.schema, toc.segments[0], generation=toc.generation)
        return Searcher(readers[0], fromindex=ix)

    def _close_searcher(self, searcher: Searcher, keep: list | None = None) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._searchers.remove(searcher)
        kept = {id(reader) for reader in keep or []}
        for reader in self._readers_of(searcher):
            if id(reader) not in kept:
                with contextlib.suppress(Exception):
                    reader.close()
        searcher.is_closed = True

    def cached(self, searcher: Searcher, key: Any, compute: Callable[[], Any]) -> Any:
        """A value derived from one version of the index (facet postings, the visible set), shared by threads.

        Document numbers are fixed for a given build and generation, so the cache is keyed on both and
        everything older is dropped when a newer version is first seen.
        """
        version = (getattr(searcher, "kb_build", ""), searcher.reader().generation())
        full_key = (version, key)
        with self._lock:
            if full_key in self._cache:
                return self._cache[full_key]
        value = compute()
        with self._lock:
            if any(k[0] != version for k in self._cache):
                self._cache = {k: v for k, v in self._cache.items() if k[0] == version}
            self._cache[full_key] = value
        return value

    def cached_for_segment(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A value derived from one segment, which never changes once written (deletions aside)."""
        with self._lock:
            if key in self._segment_cache:
                return self._segment_cache[key]
        value = compute()
        with self._lock:
            if len(self._segment_cache) > 2000:  # segments merged away long ago
                self._segment_cache.clear()
            self._segment_cache[key] = value
        return value

    def close(self) -> None:
        """Stop merging and close every searcher this store opened (tests and shutdown)."""
        self._stopping.set()
        self.wait_for_merges()
        with self._lock:
            searchers, self._searchers = self._searchers, []
            self._indexes = {}
            self._cache = {}
            self._segment_cache = {}
        for searcher in searchers:
            with contextlib.suppress(Exception):
                searcher.close()

    # --- writing ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self, ix: Any, timeout: float | None = None) -> Iterator[Any]:
        """A writer that waits for the lock (up to the timeout) and always releases it."""
        timeout = self.writer_timeout if timeout is None else timeout
        try:
            writer = ix.writer(timeout=timeout, delay=0.02)
        except LockError:
            raise IndexBusy(f"the search index stayed locked for {timeout:g} s") from None
        except OSError as exc:
            raise _not_writable(self.root, exc) from exc
        try:
            yield writer
        except BaseException as exc:
            # A failed commit keeps the lock unless the writer is cancelled.
            with contextlib.suppress(Exception):
                writer.cancel()
            if isinstance(exc, OSError):
                raise _not_writable(self.root, exc) from exc
            raise

    def apply(self, upserts: Sequence[dict[str, Any]], deletes: Sequence[str]) -> bool:
        """Write changed documents and remove deleted ones in one commit.

        Returns False when there is no live index to write to (the next build will include the changes).

        :raise IndexBusy: the writer lock was not released in time.
        :raise IndexNotWritable: the index folder cannot be written.
        """
        if not upserts and not deletes:
            return True
        return self.catch_up(lambda position: (list(upserts), list(deletes), position))

    def position(self, build: str | None = None) -> int | None:
        """The last change-log id applied to ``build`` (the live one by default); None if unknown."""
        if build is None:
            info = self.build_info()
            if info is None:
                return None
            build = info.name
        try:
            return int((self.builds_dir / build / POSITION_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def _record_position(self, build: str, position: int) -> None:
        path = self.builds_dir / build / POSITION_FILE
        temporary = path.with_name(f"{POSITION_FILE}.{secrets.token_hex(3)}.tmp")
        try:
            temporary.write_text(str(position), encoding="ascii")
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise _not_writable(self.root, exc) from exc

    def catch_up(
        self,
        prepare: Callable[[int], tuple[list[dict[str, Any]], list[str], int] | None],
        *,
        build: str | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Apply what ``prepare`` returns to a build, holding its writer lock throughout.

        ``prepare(position)`` is called with the lock held and the build's recorded position (0 if none)
        and returns ``(documents, deleted ids, new position)``, or None when there is nothing to do. As
        every writer of this folder holds the lock while it reads the database and writes, a later
        writer never replaces a newer document with an older one.

        :param build: a build folder that is not live yet (a rebuild catching up before its swap).
        :param timeout: seconds to wait for the writer lock (default ``writer_timeout``).
        :return: False when there is no live index to write to.
        :raise IndexBusy: the writer lock was not released in time.
        :raise IndexNotWritable: the index folder cannot be written.
        """
        if build is None:
            try:
                info, ix = self.live_index()
            except IndexUnavailable:
                return False
            build = info.name
        else:
            ix = whoosh_index.open_dir(str(self.builds_dir / build))
        with self._writer(ix, timeout) as writer:
            work = prepare(self.position(build) or 0)
            if work is None:
                writer.cancel()
                return True
            upserts, deletes, position = work
            if upserts or deletes:
                find = self._document_finder(writer)
                for doc_id in [*deletes, *(d["id"] for d in upserts)]:
                    docnum = find(doc_id)
                    if docnum is not None:
                        writer.delete_document(docnum)
                for document in upserts:
                    writer.add_document(**document)
                writer.commit(merge=False)
            else:
                writer.cancel()
            # Recorded after the commit: a crash in between re-applies these changes (harmless).
            self._record_position(build, position)
        if upserts or deletes:
            if self.background_merge:
                self._start_merging()
            else:
                self.merge()
        return True

    def _document_finder(self, writer: Any) -> Callable[[str], int | None]:
        """How to find a document's number: this thread's searcher when it shows exactly the version the
        writer is changing (no cost), else the writer's own (which opens every segment: ~10 ms)."""
        searcher = getattr(self._local, "searcher", None)
        info = self.build_info()
        if (
            searcher is not None
            and info is not None
            and not searcher.is_closed
            and getattr(searcher, "kb_build", None) == info.name
            and writer.storage.folder == str(self.builds_dir / info.name)
            and searcher.reader().generation() == writer.generation - 1
        ):
            return lambda doc_id: searcher.document_number(id=doc_id)
        writer_searcher = writer.searcher()
        return lambda doc_id: writer_searcher.document_number(id=doc_id)

    def merge(self) -> None:
        """Merge small segments, one tier at a time, until no tier is full."""
        while True:
            _, ix = self.live_index()
            if not segments_to_merge(ix._segments()):
                return
            with self._writer(ix) as writer:
                writer.commit(mergetype=merge_small_segments)

    def _start_merging(self) -> None:
        with self._lock:
            self._last_write = time.monotonic()
            if self._merger is not None and self._merger.is_alive():
                return  # it looks for work again before it stops
            self._merger = threading.Thread(
                target=self._merge_in_background, name="kb-index-merge", daemon=True
            )
            self._merger.start()

    def _merge_in_background(self) -> None:
        try:
            while True:
                _, ix = self.live_index()
                segments = ix._segments()
                if not segments_to_merge(segments):
                    return  # nothing will need merging until the next save (which starts this again)
                if not segments_to_merge(segments, idle=time.monotonic() - self._last_write):
                    if self._stopping.wait(0.1):
                        return
                    continue
                with self._writer(ix) as writer:
                    writer.commit(mergetype=self._merge_policy)
        except IndexUnavailable:
            pass  # the index went away (a rebuild's clean-up): nothing to merge
        except Exception:
            log.exception("merging small index segments failed; searches are a little slower until it works")

    def _merge_policy(self, writer: Any, segments: list) -> list:
        merged = segments_to_merge(segments, idle=time.monotonic() - self._last_write) or []
        return merge_segments(writer, segments, merged)

    def wait_for_merges(self, timeout: float = 60) -> None:
        merger = self._merger
        if merger is not None:
            merger.join(timeout)

    # --- rebuilding ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def rebuild_lock(self) -> Iterator[None]:
        """Hold the single-rebuild lock for the duration, across processes.

        :raise RebuildInProgress: another rebuild holds it.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.lock_file, "a+")  # noqa: SIM115 (kept open while locked)
        except OSError as exc:
            raise _not_writable(self.root, exc) from exc
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildInProgress("a rebuild of the search index is already running") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()

    def is_rebuilding(self) -> bool:
        """True while any process holds the rebuild lock."""
        try:
            with self.rebuild_lock():
                return False
        except RebuildInProgress:
            return True
        except IndexNotWritable:
            return False  # nothing can rebuild in a folder nobody may write

    def build(
        self,
        documents: Iterable[dict[str, Any]],
        expected: int,
        *,
        position: int = 0,
        before_swap: Callable[[str], Any] | None = None,
    ) -> BuildInfo:
        """Write ``documents`` into a new build and make it live. Call while holding ``rebuild_lock``.

        Big corpora are analysed by several processes (Whoosh's multiprocessing writer, one segment per
        process, not merged afterwards: merging would cost as much again).

        :param expected: how many documents ``documents`` yields (to choose parallel or serial writing).
        :param position: the last change-log id the documents are known to include.
        :param before_swap: called with the new build's name once it is complete and before it goes live
            (to apply changes committed while it was written).
        :raise IndexNotWritable: the index folder cannot be written.
        """
        started = time.perf_counter()
        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        path = self.builds_dir / name
        try:
            self.builds_dir.mkdir(parents=True, exist_ok=True)
            path.mkdir()
        except OSError as exc:
            raise _not_writable(self.root, exc) from exc
        try:
            ix = whoosh_index.create_in(str(path), build_schema())
            procs = self.rebuild_procs if expected >= self.parallel_min_docs else 1
            count = self._write_all(ix, documents, procs)
            if ix.doc_count() != count:  # never make a short index live
                raise RuntimeError(f"the new index holds {ix.doc_count()} documents, expected {count}")
            ix.close()
            self._record_position(name, position)
            if before_swap is not None:
                before_swap(name)
            count = whoosh_index.open_dir(str(path)).doc_count()
        except OSError as exc:
            shutil.rmtree(path, ignore_errors=True)
            raise _not_writable(self.root, exc) from exc
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        info = BuildInfo(
            name=name,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            seconds=round(time.perf_counter() - started, 3),
            documents=count,
            schema_version=SCHEMA_VERSION,
        )
        previous = self.build_info()
        temporary = self.root / f"CURRENT.{name}.tmp"
        try:
            temporary.write_text(json.dumps(asdict(info)), encoding="utf-8")
            os.replace(temporary, self.current_file)  # the atomic swap
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            shutil.rmtree(path, ignore_errors=True)
            raise _not_writable(self.root, exc) from exc
        self._remove_old_builds(keep={name, previous.name if previous else ""})
        return info

    def _write_all(self, ix: Any, documents: Iterable[dict[str, Any]], procs: int) -> int:
        count = 0
        if procs > 1:
            writer = ix.writer(procs=procs, multisegment=True, batchsize=250, limitmb=128)
        else:
            writer = ix.writer(limitmb=256)
        try:
            for document in documents:
                writer.add_document(**document)
                count += 1
            writer.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                writer.cancel()
            raise
        return count

    def _remove_old_builds(self, keep: set[str]) -> None:
        # The build before the live one stays: a thread may still be reading it for a moment.
        for child in self.builds_dir.iterdir():
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)
        for leftover in self.root.glob("CURRENT.*.tmp"):
            leftover.unlink(missing_ok=True)

    # --- inspection ---------------------------------------------------------------------------------

    def stored_fingerprints(self) -> dict[str, str]:
        """Article id -> the fingerprint of the indexed document, for every document in the live index.

        :raise IndexUnavailable: see ``live_index``.
        """
        searcher = self.searcher()
        return {
            fields["id"]: fields.get("fingerprint", "") for fields in searcher.reader().all_stored_fields()
        }

    def is_writable(self) -> bool:
        """True when new files can be created in the index folder (and so saves can reach the index)."""
        target = self.builds_dir if self.builds_dir.is_dir() else self.root
        probe = target / f".write-probe-{os.getpid()}-{threading.get_ident()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            return False
        return True
