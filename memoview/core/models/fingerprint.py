"""SHA-256 of every model file, a combined fingerprint, and a per-user hash cache.

A model's identity in a case is the SHA-256 of each file the loader reads
(weights, config, tokenizer, generation config, chat template) and one
combined fingerprint: the SHA-256 of the sorted ``"relpath  sha256"`` lines.

Hashing a multi-GB model takes seconds to minutes, so per-file hashes are
cached in ``user_cache_dir()/file-hashes.sqlite3`` keyed by the file's
absolute path, size, mtime_ns, ctime_ns and inode. ctime cannot be set back
from user space, so a file rewritten in place with its mtime restored still
misses the cache. The cache is a convenience only: :func:`reverify` ignores
it and re-reads every byte, which is what exports and ``verify`` use.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from memoview.core import errors
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import ModelFile, ModelInfo
from memoview.paths import user_cache_dir

CHUNK = 4 * 1024 * 1024
CACHE_NAME = "file-hashes.sqlite3"


def combined_fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over the sorted ``relpath  sha256`` lines (one per file, newline-terminated)."""
    lines = sorted(f"{relpath}  {sha}\n" for relpath, sha in pairs)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    combined: str
    files: tuple[ModelFile, ...]
    files_read: int  # files actually hashed (cache misses)
    bytes_read: int


def _stat_key(path: Path) -> tuple[str, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), int(st.st_size), int(st.st_mtime_ns), int(st.st_ctime_ns), int(st.st_ino))


class HashCache:
    """Per-file SHA-256 keyed by (path, size, mtime_ns, ctime_ns, inode); SQLite so concurrent writers stay atomic.

    A damaged cache file is deleted and recreated: it only ever saves time.
    """

    _lock = threading.Lock()

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = path or (user_cache_dir() / CACHE_NAME)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), timeout=30)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS hashes (path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
            " ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (path))"
        )
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], object]) -> object:
        with self._lock:
            for attempt in range(2):
                try:
                    conn = self._connect()
                    try:
                        with conn:
                            return fn(conn)
                    finally:
                        conn.close()
                except sqlite3.DatabaseError:
                    if attempt:
                        return None
                    try:
                        self.path.unlink()
                    except OSError:
                        return None
        return None

    def get(self, path: Path) -> Optional[str]:
        key = _stat_key(path)
        row = self._run(lambda c: c.execute(
            "SELECT sha256 FROM hashes WHERE path=? AND size=? AND mtime_ns=? AND ctime_ns=? AND inode=?", key
        ).fetchone())
        return str(row[0]) if row else None  # type: ignore[index]

    def put(self, path: Path, sha256: str, key: tuple[str, int, int, int, int]) -> None:
        """Store a hash for the stat ``key`` taken *before* reading (a file changed while hashing won't match)."""
        self._run(lambda c: c.execute(
            "INSERT OR REPLACE INTO hashes(path, size, mtime_ns, ctime_ns, inode, sha256) VALUES (?,?,?,?,?,?)",
            (*key, sha256),
        ))


def hash_file(path: Path, *, use_cache: bool = True, cancel: Optional[CancelToken] = None,
              progress_base: int = 0, progress_total: Optional[int] = None,
              label: str = "") -> Job[Optional[tuple[str, bool]]]:
    """SHA-256 of one file, streamed; returns ``(sha256, was_read)`` or None if cancelled."""
    cache = HashCache()
    key = _stat_key(path)
    if use_cache:
        cached = cache.get(path)
        if cached is not None:
            return cached, False
    digest = hashlib.sha256()
    done = 0
    total = progress_total if progress_total is not None else key[1]
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise errors.ModelError(f"Cannot read {path}: {exc.strerror or exc}.",
                                "Check the file's permissions.") from exc
    with handle:
        while True:
            if cancel is not None and cancel.cancelled:
                return None
            block = handle.read(CHUNK)
            if not block:
                break
            digest.update(block)
            done += len(block)
            yield Progress(progress_base + done, total, f"Hashing {label or path.name}")
    sha = digest.hexdigest()
    # Only remember the hash if the file did not change while it was read.
    if _stat_key(path) == key:
        cache.put(path, sha, key)
    return sha, True


def fingerprint_files(root: Path, entries: Sequence[tuple[str, str]], *, use_cache: bool = True,
                      cancel: Optional[CancelToken] = None) -> Job[Optional[Fingerprint]]:
    """Hash ``entries`` (relpath, role) under ``root``; None if cancelled."""
    sizes = [(root / rel).stat().st_size for rel, _ in entries]
    total = sum(sizes)
    base = 0
    files: list[ModelFile] = []
    read = 0
    read_bytes = 0
    yield Progress(0, total or None, "Fingerprinting model files")
    for (rel, role), size in zip(entries, sizes):
        result = yield from hash_file(root / rel, use_cache=use_cache, cancel=cancel, progress_base=base,
                                      progress_total=total, label=rel)
        if result is None:
            return None
        sha, was_read = result
        if was_read:
            read += 1
            read_bytes += size
        files.append(ModelFile(relpath=rel, size=size, sha256=sha, role=role))
        base += size
        yield Progress(base, total or None, f"Hashed {rel}")
    files.sort(key=lambda f: f.relpath)
    return Fingerprint(combined_fingerprint((f.relpath, f.sha256) for f in files), tuple(files), read, read_bytes)


@dataclass(frozen=True)
class ReverifyResult:
    ok: bool
    problems: tuple[str, ...]
    fingerprint: str


def reverify(info: ModelInfo, *, cancel: Optional[CancelToken] = None) -> Job[Optional[ReverifyResult]]:
    """Re-read every byte of a registered model's files (ignoring the cache) and compare with the record.

    Used at export and ``verify`` time, where a stale cache must never vouch for a file.
    """
    if info.format == "openai":  # a deployed system: no weight files to re-hash (its record says so)
        return ReverifyResult(True, (), info.fingerprint)
    path = Path(info.path)
    root = path.parent if path.is_file() else path
    problems: list[str] = []
    present: list[tuple[str, str]] = []
    for f in info.files:
        target = root / f.relpath
        if not target.is_file():
            problems.append(f"{f.relpath}: missing (expected {f.size:,} bytes)")
        else:
            present.append((f.relpath, f.role))
    fp = yield from fingerprint_files(root, present, use_cache=False, cancel=cancel)
    if fp is None:
        return None
    recorded = {f.relpath: f for f in info.files}
    for f in fp.files:
        want = recorded[f.relpath]
        if f.size != want.size:
            problems.append(f"{f.relpath}: size {f.size:,} bytes, recorded {want.size:,}")
        elif f.sha256 != want.sha256:
            problems.append(f"{f.relpath}: SHA-256 {f.sha256[:16]}…, recorded {want.sha256[:16]}…")
    combined = combined_fingerprint((f.relpath, f.sha256) for f in fp.files) if not problems else fp.combined
    if not problems and combined != info.fingerprint:
        problems.append(f"combined fingerprint {combined[:16]}… differs from the recorded {info.fingerprint[:16]}…")
    return ReverifyResult(not problems, tuple(problems), combined)


def environment_hash_cache_path() -> Path:
    """Where the hash cache lives (shown by ``model info`` so users can clear it)."""
    return user_cache_dir() / CACHE_NAME


__all__ = [
    "Fingerprint",
    "HashCache",
    "ReverifyResult",
    "combined_fingerprint",
    "environment_hash_cache_path",
    "fingerprint_files",
    "hash_file",
    "reverify",
]
