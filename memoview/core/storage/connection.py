"""The one SQLite connection of an open case file: opening it, its lock, its transactions.

A case file is one SQLite database. This module knows how to open one
safely (refusing, untouched, anything that is not a healthy case we can
read), how to open one that cannot be written (``mode=ro`` / ``immutable``),
and how to run one atomic write: :meth:`Store.transaction` takes the lock,
``BEGIN IMMEDIATE``, and commits only if every evidence row written inside
it is bound by an audit entry (:mod:`memoview.core.storage.binding`).
SQLite's low-level write errors come back in the user's words.

The connection is shared between threads behind one re-entrant lock (the
GUI's single worker and the UI thread), which serialises access as sqlite
requires. :class:`memoview.core.case.Case` is the facade over a
:class:`Store`; no other module reaches into the connection except through
:meth:`Store.transaction`, :meth:`Store.query` and :meth:`Store.reading`.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from sqlite_utils import Database

from memoview import __version__
from memoview.core import errors
from memoview.core.records import AuditEntry
from memoview.core.storage import audit, binding
from memoview.core.storage.schema import CASE_FORMAT, SCHEMA_VERSION, user_version
from memoview.core.timeutil import utc_now

SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_MAX_INT = 2 ** 63 - 1


def current_actor() -> str:
    """The user name written into audit entries (self-asserted)."""
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def writable(path: Path) -> bool:
    """Whether the case file and its folder (for SQLite's journal files) can be written.

    ``os.access`` answers for the real user and reports a read-only mount as
    not writable even to root.
    """
    return os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)


def connect(path: Path) -> sqlite3.Connection:
    """A writable connection, shared between threads (the :class:`Store` lock serialises it)."""
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.row_factory = None
    return conn


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: ``mode=ro``, or ``immutable=1`` where even the
    shared-memory file of a WAL case cannot be created (a read-only medium)."""
    base = path.resolve().as_uri()
    try:
        conn = sqlite3.connect(base + "?mode=ro", uri=True, check_same_thread=False, timeout=30)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn = sqlite3.connect(base + "?immutable=1", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn


def configure(conn: sqlite3.Connection) -> None:
    """The pragmas of a writable case: foreign keys, WAL, synchronous=NORMAL."""
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")


def storage_error(path: Path, exc: sqlite3.OperationalError) -> errors.CaseError:
    """SQLite's low-level write errors in the user's words (the transaction was rolled back)."""
    text = str(exc)
    if "full" in text or "disk I/O" in text:
        return errors.DiskFullError(
            f"Writing to {path} failed: {text} (the disk or file-size limit is exhausted). "
            "The change in progress was rolled back; everything committed before it is kept.",
            "Free disk space (or move the case to a larger disk) and run the command again.")
    if "readonly" in text or "read-only" in text:
        return errors.ReadOnlyCaseError(f"{path} cannot be written ({text}); nothing was recorded.",
                                        "Copy the case to a writable folder.")
    if "locked" in text or "busy" in text:
        return errors.CaseError(f"{path} is busy: another memoview process is writing to it ({text}).",
                                "Wait for the other process to finish and run the command again.")
    return errors.CaseError(f"Writing to {path} failed: {text}; the change was rolled back.")


def _damaged(path: Path, what: object) -> errors.CorruptCaseError:
    return errors.CorruptCaseError(f"{path} is damaged: {what}.",
                                   "Restore the case from a backup; the file was not changed.")


def precheck(path: Path) -> None:  # noqa: C901 - one linear list of refusals
    """Refuse anything that is not a healthy case this version can read.

    All checks run on a read-only connection, so a refused file is never modified.
    """
    if not path.exists():
        raise errors.CaseError(f"No case file at {path}.", "Create one with 'memoview case new PATH'.")
    if path.is_dir():
        raise errors.NotACaseError(f"{path} is a folder, not a case file.")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise errors.CaseError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if head != SQLITE_MAGIC:
        raise errors.NotACaseError(
            f"{path} is not a memoview case file (it is not an SQLite database).",
            "Open a .memoview file created by memoview.",
        )
    try:
        ro = connect_read_only(path)
    except sqlite3.DatabaseError as exc:
        if "malformed" in str(exc) or "not a database" in str(exc):
            raise _damaged(path, exc) from exc
        raise errors.CaseError(f"{path} cannot be opened: {exc}.",
                               "Check that the file and its folder are readable.") from exc
    try:
        try:
            check = ro.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from exc
        if check != "ok":
            raise errors.CorruptCaseError(
                f"{path} is damaged (SQLite integrity check: {check}).",
                "Restore the case from a backup; the file was not changed.",
            )
        try:
            rows = dict(ro.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            rows = {}
        if rows.get("format") != CASE_FORMAT:
            raise errors.NotACaseError(
                f"{path} is an SQLite database but not a memoview case.",
                "Open a .memoview file created by memoview.",
            )
        version = max(user_version(ro), int(rows.get("schema_version", "0") or 0))
        if version > SCHEMA_VERSION:
            raise errors.CaseTooNewError(
                f"{path} was written by a newer memoview (case format {version}; this version reads up to "
                f"{SCHEMA_VERSION}).",
                f"Upgrade memoview (this is {__version__}); the file was not changed.",
            )
    finally:
        ro.close()


class Transaction:
    """One open write transaction: the connection to write with, and :meth:`audit` to bind what was written.

    Every evidence row written inside a transaction must be bound by an audit
    entry appended in the same transaction, or the transaction is rolled back.
    """

    def __init__(self, conn: sqlite3.Connection, actor: str) -> None:
        self.conn = conn
        self.actor = actor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def audit(self, event: str, subject: str, payload: dict[str, Any]) -> AuditEntry:
        """Append an entry binding every evidence row written since the last one (storage.binding)."""
        rows = binding.take_pending(self.conn, event)
        if rows:
            payload = {**payload, "rows": rows}
        return audit.append(self.conn, utc_now(), self.actor, event, subject, payload)


class Store:
    """An open case database: its connection, the lock that serialises it, and its transactions."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self.lock = threading.RLock()
        self.actor = current_actor()
        self.read_only = read_only

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One atomic write (re-entrant use is not supported); refused on a read-only case."""
        if self.read_only:
            raise errors.ReadOnlyCaseError(
                f"{self.path} is open read-only (read-only medium or no write permission); nothing was recorded.",
                "Copy the case to a writable folder to add to it; viewing, info, verify and export work as is.")
        conn = self.conn
        with self.lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise storage_error(self.path, exc) from exc
            try:
                yield Transaction(conn, self.actor)
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise storage_error(self.path, exc) from exc
                raise
            # (ROLLBACK also empties the TEMP table of pending rows: it is part of the transaction.)
            if binding.has_pending(conn):
                conn.execute("ROLLBACK")
                raise RuntimeError("evidence rows were written without an audit entry binding them; "
                                   "the transaction was rolled back (see memoview.core.storage.binding)")
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as commit_exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise storage_error(self.path, commit_exc) from commit_exc

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, for reads that take more than one statement."""
        with self.lock:
            yield self.conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts (column name -> value)."""
        with self.lock:
            return list(self.db.query(sql, params))

    def close(self) -> None:
        with self.lock:
            try:
                if not self.read_only:
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self.conn.close()
