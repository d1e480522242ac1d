"""The case file facade: one SQLite file per matter.

All reads and writes of a case go through :class:`Case`. Every change that
matters for evidence (import, model registration, attempt, annotation,
export) is written together with an audit-log entry in one transaction, so
a killed process loses at most the attempt in flight. The connection is
shared between threads behind a lock (the GUI's single worker and the UI
thread), which serialises access as sqlite requires.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from sqlite_utils import Database

from memoview import __version__
from memoview.core import errors
from memoview.core.documents.base import LoadedDocument
from memoview.core.records import (
    Annotation,
    Attempt,
    AttemptSpec,
    AuditEntry,
    Document,
    ModelInfo,
    Protocol,
    SweepWindow,
)
from memoview.core.remote import evidence as remote_evidence
from memoview.core.storage import audit, binding
from memoview.core.storage.audit import Head
from memoview.core.storage import exchanges as exchange_store
from memoview.core.storage.schema import (
    CASE_FORMAT,
    SCHEMA_VERSION,
    expected_triggers,
    migrate,
    user_version,
)
from memoview.core.timeutil import utc_now

SQLITE_MAGIC = b"SQLite format 3\x00"
CASE_SUFFIX = ".memoview"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _actor() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user database in some containers
        return "unknown"


def _writable(path: Path) -> bool:
    """Whether the case file and its folder (for SQLite's journal files) can be written.

    ``os.access`` answers for the real user and reports a read-only mount as
    not writable even to root.
    """
    return os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)


def _connect_read_only(path: Path) -> sqlite3.Connection:
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


def _storage_error(path: Path, exc: sqlite3.OperationalError) -> errors.CaseError:
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


def check_title(title: str) -> str:
    """A document title is one line of printable text (it names the document everywhere)."""
    if any(ord(ch) < 32 or ord(ch) == 0x7F or ch in "\u2028\u2029\x85" for ch in title):
        raise errors.ValidationError(
            f"The title {title!r} contains a line break or control character; a title is one line.",
            "Give the title on one line (put longer descriptions in --notes).")
    if len(title) > 500:
        raise errors.ValidationError(f"The title is {len(title):,} characters; at most 500 are allowed.",
                                     "Shorten it; put longer descriptions in --notes.")
    return title


def _one_line(text: str) -> str:
    """A title taken from the file itself, collapsed onto one line."""
    return " ".join(text.split())[:500]


SQLITE_MAX_INT = 2 ** 63 - 1


def attempt_record_hash(row: dict[str, Any]) -> str:
    """Hash of everything an attempt recorded (spec and results), for the audit log."""
    keys = sorted(k for k in row if k not in ("id",))
    return _sha256(audit.legacy_hash_json({k: row[k] for k in keys}).encode("utf-8"))


@dataclass
class VerifyProblem:
    kind: str  # audit | document | attempt | schema | model
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class VerifyReport:
    audit_entries: int = 0
    documents_checked: int = 0
    attempts_checked: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    head_hash: str = ""  # the chain's last entry hash; audit_entries is its entry count
    rows_checked: int = 0  # evidence rows checked against their audit binding
    anchored: bool = True  # False: the chain starts from the format-1 genesis (not bound to the UUID)
    read_only: bool = False  # the case was opened read-only: this verification is not in its audit log
    expect_head: Optional[str] = None
    expect_head_seq: Optional[int] = None  # where the expected head is in the chain (None: not found)
    after_expected: list[str] = field(default_factory=list)  # entries appended after the expected head

    @property
    def ok(self) -> bool:
        return not self.problems


class Case:
    """An open case file. Use :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.path = path
        self._conn = conn
        self.db = Database(conn)
        self._lock = threading.RLock()
        self.actor = _actor()
        # A case on a read-only medium (or without write permission) opens for viewing,
        # info, verify and export; anything that would write raises ReadOnlyCaseError.
        self.read_only = read_only
        self.read_only_note = ""
        self.format_version = SCHEMA_VERSION

    # ------------------------------------------------------------------ open/create
    @classmethod
    def create(cls, path: str | os.PathLike[str], *, overwrite: bool = False) -> "Case":
        target = Path(path)
        if target.is_dir():
            raise errors.CaseError(f"{target} is a folder, not a case file.", "Give a file name ending in .memoview.")
        if target.exists():
            if not overwrite:
                raise errors.CaseError(
                    f"{target} already exists.", "Open it with 'memoview case info', or choose another name."
                )
            target.unlink()
        if not target.parent.exists():
            raise errors.CaseError(f"The folder {target.parent} does not exist.", "Create the folder first.")
        conn = cls._connect(target)
        case = cls(target, conn)
        case._configure()
        migrate(case.db, __version__)
        binding.install_capture(conn)
        now = utc_now()
        case_uuid = str(uuid.uuid4())
        with case._tx():
            for key, value in {
                "format": CASE_FORMAT,
                "case_uuid": case_uuid,
                "created_at": now,
                "created_by_version": __version__,
            }.items():
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
            # Entry 1 starts from the genesis value of this UUID and names it (audit module docstring).
            audit.append(conn, now, case.actor, "case.create", str(target.name),
                         {"schema_version": SCHEMA_VERSION, "app_version": __version__, "case_uuid": case_uuid,
                          "created_at": now, "binding_spec": case._binding_spec()})
        return case

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: Optional[bool] = None) -> "Case":
        """Open an existing case; refuse, untouched, anything that is not a healthy case we can read.

        ``read_only``: None opens read-only exactly when the file or its folder
        cannot be written (read-only medium or permissions); such a case is
        neither migrated nor written.
        """
        target = Path(path)
        cls._precheck(target)
        if read_only is None:
            read_only = not _writable(target)
        if read_only:
            case = cls(target, _connect_read_only(target), read_only=True)
            wal = target.with_name(target.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                case.read_only_note = (f"{wal.name} beside the case holds changes not yet merged into it; on a "
                                       "read-only medium they may not be readable. Copy the case and that file "
                                       "to a writable folder to see them.")
            case._conn.execute("PRAGMA query_only = ON")
            case.format_version = user_version(case._conn)
            return case
        conn = cls._connect(target)
        case = cls(target, conn)
        case._configure()
        before = user_version(conn)
        applied = migrate(case.db, __version__)
        binding.install_capture(conn)
        from memoview.core import integrity

        if applied:
            integrity.record_migration(case, before, applied)
        integrity.reconcile_binding_spec(case)
        return case

    def _binding_spec(self) -> dict[str, Any]:
        return binding.spec_json(binding.BOUND_TABLES, expected_triggers(SCHEMA_VERSION))

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str]) -> "Case":
        return cls.open(path) if Path(path).exists() else cls.create(path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        conn.row_factory = None
        return conn

    @staticmethod
    def _precheck(path: Path) -> None:  # noqa: C901 - one linear list of refusals
        """All checks run on a read-only connection, so a refused file is never modified."""
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
            ro = _connect_read_only(path)
        except sqlite3.DatabaseError as exc:
            if "malformed" in str(exc) or "not a database" in str(exc):
                raise errors.CorruptCaseError(
                    f"{path} is damaged: {exc}.", "Restore the case from a backup; the file was not changed."
                ) from exc
            raise errors.CaseError(f"{path} cannot be opened: {exc}.",
                                   "Check that the file and its folder are readable.") from exc
        try:
            try:
                check = ro.execute("PRAGMA quick_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise errors.CorruptCaseError(
                    f"{path} is damaged: {exc}.", "Restore the case from a backup; the file was not changed."
                ) from exc
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
                    f"{path} was written by a newer memoview (case format {version}; this version reads up to {SCHEMA_VERSION}).",
                    f"Upgrade memoview (this is {__version__}); the file was not changed.",
                )
        finally:
            ro.close()

    def _configure(self) -> None:
        if self.read_only:
            return
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        with self._lock:
            try:
                if not self.read_only:
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._conn.close()

    def __enter__(self) -> "Case":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ helpers
    class _Tx:
        def __init__(self, case: "Case") -> None:
            self.case = case

        def __enter__(self) -> sqlite3.Connection:
            if self.case.read_only:
                raise errors.ReadOnlyCaseError(
                    f"{self.case.path} is open read-only (read-only medium or no write permission); "
                    "nothing was recorded.",
                    "Copy the case to a writable folder to add to it; viewing, info, verify and export work as is.")
            self.case._lock.acquire()
            try:
                self.case._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                self.case._lock.release()
                raise _storage_error(self.case.path, exc) from exc
            return self.case._conn

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            conn = self.case._conn
            try:
                # (ROLLBACK also empties the TEMP table of pending rows: it is part of the transaction.)
                if exc_type is None and binding.has_pending(conn):
                    conn.execute("ROLLBACK")
                    raise RuntimeError("evidence rows were written without an audit entry binding them; "
                                       "the transaction was rolled back (see memoview.core.storage.binding)")
                if exc_type is None:
                    try:
                        conn.execute("COMMIT")
                    except sqlite3.OperationalError as commit_exc:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise _storage_error(self.case.path, commit_exc) from commit_exc
                else:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if isinstance(exc, sqlite3.OperationalError):
                        raise _storage_error(self.case.path, exc) from exc
            finally:
                self.case._lock.release()

    def _tx(self) -> "Case._Tx":
        """One atomic transaction (re-entrant use is not supported)."""
        return Case._Tx(self)

    def _audit(self, event: str, subject: str, payload: dict[str, Any]) -> AuditEntry:
        """Append an entry binding every evidence row written since the last one (storage.binding)."""
        rows = binding.take_pending(self._conn, event)
        if rows:
            payload = {**payload, "rows": rows}
        return audit.append(self._conn, utc_now(), self.actor, event, subject, payload)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.query(sql, params))

    def audit(self, event: str, subject: str, payload: dict[str, Any]) -> AuditEntry:
        """Write a standalone audit entry (exports, verifications, GUI actions)."""
        with self._tx():
            return self._audit(event, subject, payload)

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._rows("SELECT key, value FROM meta")}

    # ------------------------------------------------------------------ documents
    def add_document(
        self,
        loaded: LoadedDocument,
        *,
        title: str = "",
        author: str = "",
        source: str = "",
        date_obtained: str = "",
        notes: str = "",
        is_control: bool = False,
    ) -> Document:
        if title:
            check_title(title)
        now = utc_now()
        row = {
            "title": title or _one_line(loaded.title) or _one_line(Path(loaded.filename).stem),
            "author": author or loaded.author,
            "source": source or loaded.path,
            "date_obtained": date_obtained or now[:10],
            "notes": notes,
            "filename": loaded.filename,
            "media_type": loaded.media_type,
            "byte_size": len(loaded.raw),
            "raw_sha256": loaded.raw_sha256,
            "text_sha256": loaded.text_sha256,
            "text": loaded.text,
            "extractor": loaded.extractor,
            "extractor_version": loaded.extractor_version,
            "encoding": loaded.encoding,
            "is_control": int(is_control),
            "imported_at": now,
        }
        with self._tx() as conn:
            # Checked inside the write transaction, so two processes importing the same file
            # at once are serialised: the second sees the first's document.
            existing = conn.execute("SELECT id, title FROM documents WHERE raw_sha256 = ?",
                                    (loaded.raw_sha256,)).fetchall()
            if existing:
                raise errors.DuplicateDocumentError(
                    f"{loaded.filename} is already in the case as document {existing[0][0]} "
                    f"('{existing[0][1]}'), same SHA-256 {loaded.raw_sha256[:12]}.",
                    "Nothing was imported twice.",
                    existing_id=int(existing[0][0]),
                )
            cur = conn.execute(
                f"INSERT INTO documents({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            doc_id = int(cur.lastrowid or 0)
            conn.execute("INSERT INTO document_blobs(document_id, raw) VALUES (?, ?)", (doc_id, loaded.raw))
            self._audit(
                "document.import",
                f"document:{doc_id}",
                {
                    "title": row["title"],
                    "filename": loaded.filename,
                    "raw_sha256": loaded.raw_sha256,
                    "text_sha256": loaded.text_sha256,
                    "extractor": f"{loaded.extractor} {loaded.extractor_version}",
                    "is_control": bool(is_control),
                },
            )
        from memoview.core.alignment.attribution import index_document  # the corpus-attribution k-gram index

        index_document(self, doc_id)
        return self.document(doc_id)

    def set_control(self, doc_id: int, is_control: bool) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE documents SET is_control = ? WHERE id = ?", (int(is_control), doc_id))
            self._audit("document.control", f"document:{doc_id}", {"is_control": is_control})

    def update_provenance(self, doc_id: int, **fields: str) -> None:
        allowed = {"title", "author", "source", "date_obtained", "notes"}
        bad = set(fields) - allowed
        if bad:
            raise errors.ValidationError(f"Unknown provenance field(s): {', '.join(sorted(bad))}.")
        if not fields:
            return
        if "title" in fields:
            check_title(fields["title"])
        with self._tx() as conn:
            conn.execute(
                f"UPDATE documents SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                (*fields.values(), doc_id),
            )
            self._audit("document.provenance", f"document:{doc_id}", dict(fields))

    @staticmethod
    def _document_from_row(row: dict[str, Any]) -> Document:
        return Document(
            id=int(row["id"]),
            title=row["title"] or "",
            author=row["author"] or "",
            source=row["source"] or "",
            date_obtained=row["date_obtained"] or "",
            notes=row["notes"] or "",
            filename=row["filename"] or "",
            media_type=row["media_type"] or "",
            byte_size=int(row["byte_size"] or 0),
            raw_sha256=row["raw_sha256"],
            text_sha256=row["text_sha256"],
            text=row["text"],
            extractor=row["extractor"] or "",
            extractor_version=row["extractor_version"] or "",
            encoding=row["encoding"] or "",
            is_control=bool(row["is_control"]),
            imported_at=row["imported_at"] or "",
        )

    def documents(self) -> list[Document]:
        return [self._document_from_row(r) for r in self._rows("SELECT * FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> Document:
        rows = self._rows("SELECT * FROM documents WHERE id = ?", (doc_id,)) if 0 <= doc_id <= SQLITE_MAX_INT else []
        if not rows:
            raise errors.NotFoundError(f"The case has no document {doc_id}.", "List them with 'memoview case info'.")
        return self._document_from_row(rows[0])

    def document_raw(self, doc_id: int) -> bytes:
        rows = self._rows("SELECT raw FROM document_blobs WHERE document_id = ?", (doc_id,))
        if not rows:
            raise errors.NotFoundError(f"The case holds no raw bytes for document {doc_id}.")
        return bytes(rows[0]["raw"])

    def resolve_document(self, ref: str | int) -> Document:
        """Find a document by id, exact title, or SHA-256 prefix (raw or text); refuse ambiguity.

        ``id:N``, ``title:T`` and ``sha256:HEX`` ask for one reading only. Without
        a prefix every reading is tried, and a reference that names different
        documents in different readings (a document titled "2" next to
        document 2) is refused, never resolved silently to one of them.
        """
        text = str(ref).strip()
        if not text:
            raise errors.ValidationError("No document given.")
        kind, _, rest = text.partition(":")
        if kind in ("id", "title", "sha256") and rest:
            found = self._document_candidates(rest.strip(), (kind,))
        else:
            found = self._document_candidates(text, ("id", "title", "sha256"))
        ids = sorted({d.id for _how, d in found})
        if len(ids) == 1:
            return next(d for _how, d in found if d.id == ids[0])
        if len(ids) > 1:
            readings = "; ".join(f"{how} -> document {d.id} ('{d.title}')" for how, d in found)
            raise errors.ValidationError(
                f"'{text}' names {len(ids)} different documents ({readings}).",
                "Say which one: id:N, title:TEXT or sha256:HEX (or more hex digits).")
        raise errors.NotFoundError(
            f"No document matches '{text}' (by id, title or SHA-256 prefix).",
            "List the documents with 'memoview case info CASE'.",
        )

    def _document_candidates(self, text: str, kinds: tuple[str, ...]) -> list[tuple[str, Document]]:
        found: list[tuple[str, Document]] = []
        if "id" in kinds and text.isdigit():
            if int(text) > SQLITE_MAX_INT:
                if kinds == ("id",):
                    raise errors.ValidationError(f"Document id {text} is too large (ids are below 2^63).")
            else:
                found += [("id", self._document_from_row(r))
                          for r in self._rows("SELECT * FROM documents WHERE id = ?", (int(text),))]
        if "title" in kinds:
            rows = self._rows("SELECT * FROM documents WHERE title = ?", (text,))
            found += [("title", self._document_from_row(r)) for r in rows]
        lowered = text.lower()
        if "sha256" in kinds and len(lowered) >= 4 and all(c in "0123456789abcdef" for c in lowered):
            rows = self._rows(
                "SELECT * FROM documents WHERE raw_sha256 LIKE ? OR text_sha256 LIKE ?",
                (lowered + "%", lowered + "%"),
            )
            if len(rows) > 1:
                raise errors.ValidationError(
                    f"The SHA-256 prefix '{text}' matches {len(rows)} documents.", "Give more hex digits."
                )
            found += [("SHA-256 prefix", self._document_from_row(r)) for r in rows]
        return found

    # ------------------------------------------------------------------ models
    def add_model(self, info: ModelInfo) -> ModelInfo:
        """Register a model; a model already registered (same fingerprint) is returned as it is."""
        existing = self._rows("SELECT id FROM models WHERE fingerprint = ?", (info.fingerprint,))
        if existing:
            return self.model(int(existing[0]["id"]))
        now = utc_now()
        name = info.name or Path(info.path).name
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO models(name, path, format, architecture, fingerprint, info_json, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, info.path, info.format, info.architecture, info.fingerprint,
                 json.dumps(info.to_json(), sort_keys=True), now),
            )
            model_id = int(cur.lastrowid or 0)
            self._audit(
                "model.add",
                f"model:{model_id}",
                {
                    "path": info.path,
                    "format": info.format,
                    "architecture": info.architecture,
                    "fingerprint": info.fingerprint,
                    "files": [[f.relpath, f.size, f.sha256] for f in info.files],
                },
            )
        return self.model(model_id)

    def _model_from_row(self, row: dict[str, Any]) -> ModelInfo:
        data = json.loads(row["info_json"])
        data["id"] = int(row["id"])
        data["name"] = row["name"]
        return ModelInfo.from_json(data)

    def models(self) -> list[ModelInfo]:
        return [self._model_from_row(r) for r in self._rows("SELECT * FROM models ORDER BY id")]

    def model(self, model_id: int) -> ModelInfo:
        rows = self._rows("SELECT * FROM models WHERE id = ?", (model_id,)) if 0 <= model_id <= SQLITE_MAX_INT else []
        if not rows:
            raise errors.NotFoundError(f"The case has no model {model_id}.")
        return self._model_from_row(rows[0])

    def resolve_model(self, ref: str | int) -> Optional[ModelInfo]:
        """A registered model by id, name, path or fingerprint prefix; None if nothing matches."""
        text = str(ref).strip()
        if text.isdigit():
            rows = self._rows("SELECT * FROM models WHERE id = ?", (int(text),))
            if rows:
                return self._model_from_row(rows[0])
        resolved = str(Path(text).expanduser().resolve()) if text else text
        rows = self._rows(
            "SELECT * FROM models WHERE name = ? OR path = ? OR path = ? OR fingerprint LIKE ?",
            (text, text, resolved, (text.lower() + "%") if len(text) >= 8 else "\x00"),
        )
        if len(rows) > 1:
            raise errors.ValidationError(f"'{text}' matches {len(rows)} models.", "Use the model id.")
        return self._model_from_row(rows[0]) if rows else None

    # ------------------------------------------------------------------ protocols
    def add_protocol(self, name: str, content: str, fmt: str) -> Protocol:
        """Store a campaign protocol (hashed) before its first run; the same content is stored once."""
        digest = _sha256(content.encode("utf-8"))
        rows = self._rows("SELECT * FROM protocols WHERE sha256 = ?", (digest,))
        if rows:
            return Protocol(**rows[0])
        now = utc_now()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO protocols(name, sha256, format, content, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, digest, fmt, content, now),
            )
            pid = int(cur.lastrowid or 0)
            self._audit("protocol.add", f"protocol:{pid}", {"name": name, "sha256": digest, "format": fmt})
        return Protocol(pid, name, digest, fmt, content, now)

    def protocols(self) -> list[Protocol]:
        return [Protocol(**r) for r in self._rows("SELECT * FROM protocols ORDER BY id")]

    # ------------------------------------------------------------------ attempts
    @staticmethod
    def _attempt_row(attempt_fields: dict[str, Any]) -> dict[str, Any]:
        """Map Attempt fields onto columns (JSON for sequences and dicts)."""
        spec: AttemptSpec = attempt_fields["spec"]
        return {
            "method": spec.method,
            "prompt_class": spec.prompt_class,
            "model_id": spec.model_id,
            "document_id": spec.document_id,
            "protocol_id": attempt_fields.get("protocol_id"),
            "campaign_key": attempt_fields.get("campaign_key"),
            "sample_index": int(attempt_fields.get("sample_index", 0)),
            "status": attempt_fields["status"],
            "spec_json": audit.canonical_json(asdict(spec)),
            "prompt_text": attempt_fields.get("prompt_text", ""),
            "prompt_token_ids_json": json.dumps(list(attempt_fields.get("prompt_token_ids", ()))),
            "output_text": attempt_fields.get("output_text", ""),
            "output_token_ids_json": json.dumps(list(attempt_fields.get("output_token_ids", ()))),
            "token_logprobs_json": json.dumps(list(attempt_fields.get("token_logprobs", ()))),
            "token_ranks_json": json.dumps(list(attempt_fields.get("token_ranks", ()))),
            "target_text": attempt_fields.get("target_text", ""),
            "target_token_ids_json": json.dumps(list(attempt_fields.get("target_token_ids", ()))),
            "target_logprobs_json": json.dumps(list(attempt_fields.get("target_logprobs", ()))),
            "target_ranks_json": json.dumps(list(attempt_fields.get("target_ranks", ()))),
            "metrics_json": audit.canonical_json(attempt_fields.get("metrics", {})),
            "environment_json": audit.canonical_json(attempt_fields.get("environment", {})),
            "error": attempt_fields.get("error", ""),
            "started_at": attempt_fields.get("started_at", ""),
            "finished_at": attempt_fields.get("finished_at", ""),
            "output_sha256": attempt_fields.get("output_sha256", ""),
        }

    def record_attempt(self, attempt: Attempt, windows: Iterable[SweepWindow] = ()) -> Attempt:
        """Commit a finished attempt (any status) and its sweep windows, with its audit entry, atomically.

        ``attempt.id`` is ignored; the stored attempt with its new id is returned.
        """
        fields = {f: getattr(attempt, f) for f in attempt.__dataclass_fields__}
        if not fields.get("output_sha256") and fields.get("output_text"):
            fields["output_sha256"] = _sha256(fields["output_text"].encode("utf-8"))
        # A served model's HTTP exchanges (verbatim, hashed) are stored with the attempt that made them.
        exchanges = remote_evidence.take_for_attempt(str(fields.get("started_at") or ""))
        if exchanges:
            fields["environment"] = {**fields["environment"], "server_exchanges": remote_evidence.summary(exchanges)}
        try:
            row = self._attempt_row(fields)
        except audit.NonFiniteNumberError as exc:
            raise errors.ValidationError(f"The attempt was not recorded: {exc}.",
                                         "Check the parameters and the engine's output; nothing was stored.") from exc
        with self._tx() as conn:
            cur = conn.execute(
                f"INSERT INTO attempts({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            attempt_id = int(cur.lastrowid or 0)
            window_list = list(windows)
            conn.executemany(
                "INSERT INTO sweep_windows(attempt_id, idx, start_token, start_char, end_char, prefix_start_char,"
                " greedy_exact, memorization_score, log10_p, log10_pz, continuation)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (attempt_id, w.index, w.start_token, w.start_char, w.end_char, w.prefix_start_char,
                     w.greedy_exact, w.memorization_score, w.log10_p, w.log10_pz, w.continuation)
                    for w in window_list
                ],
            )
            if exchanges:  # before the audit entry, which binds every row written in this transaction
                exchange_store.insert(conn, attempt_id, row["model_id"], exchanges)
            self._audit(
                "attempt.record",
                f"attempt:{attempt_id}",
                {
                    "method": row["method"],
                    "status": row["status"],
                    "document_id": row["document_id"],
                    "model_id": row["model_id"],
                    "output_sha256": row["output_sha256"],
                    "record_sha256": attempt_record_hash(row),
                    "windows_sha256": self._windows_hash_rows(conn, attempt_id),
                    **({"exchanges_sha256": remote_evidence.summary(exchanges)["combined_sha256"]} if exchanges else {}),
                },
            )
        return self.attempt(attempt_id)

    @staticmethod
    def _windows_hash_rows(conn: sqlite3.Connection, attempt_id: int) -> str:
        rows = conn.execute(
            "SELECT idx, start_token, start_char, end_char, prefix_start_char, greedy_exact,"
            " memorization_score, log10_p, log10_pz, continuation FROM sweep_windows"
            " WHERE attempt_id = ? ORDER BY idx",
            (attempt_id,),
        ).fetchall()
        return _sha256(audit.legacy_hash_json([list(r) for r in rows]).encode("utf-8"))

    @staticmethod
    def _attempt_from_row(row: dict[str, Any]) -> Attempt:
        spec_data = json.loads(row["spec_json"])
        return Attempt(
            id=int(row["id"]),
            spec=AttemptSpec(**spec_data),
            status=row["status"],
            prompt_text=row["prompt_text"] or "",
            prompt_token_ids=tuple(json.loads(row["prompt_token_ids_json"] or "[]")),
            output_text=row["output_text"] or "",
            output_token_ids=tuple(json.loads(row["output_token_ids_json"] or "[]")),
            token_logprobs=tuple(json.loads(row["token_logprobs_json"] or "[]")),
            token_ranks=tuple(json.loads(row["token_ranks_json"] or "[]")),
            target_text=row["target_text"] or "",
            target_token_ids=tuple(json.loads(row["target_token_ids_json"] or "[]")),
            target_logprobs=tuple(json.loads(row["target_logprobs_json"] or "[]")),
            target_ranks=tuple(json.loads(row["target_ranks_json"] or "[]")),
            metrics=json.loads(row["metrics_json"] or "{}"),
            environment=json.loads(row["environment_json"] or "{}"),
            error=row["error"] or "",
            started_at=row["started_at"] or "",
            finished_at=row["finished_at"] or "",
            output_sha256=row["output_sha256"] or "",
            protocol_id=row["protocol_id"],
            campaign_key=row["campaign_key"],
            sample_index=int(row["sample_index"] or 0),
        )

    def document_by_raw_sha256(self, digest: str) -> Optional[Document]:
        """The document imported from these original bytes, if any (e.g. committed before a disk filled)."""
        rows = self._rows("SELECT id FROM documents WHERE raw_sha256 = ?", (digest,))
        return self.document(int(rows[0]["id"])) if rows else None

    def attempt(self, attempt_id: int) -> Attempt:
        rows = self._rows("SELECT * FROM attempts WHERE id = ?", (attempt_id,)) if 0 <= attempt_id <= SQLITE_MAX_INT else []
        if not rows:
            raise errors.NotFoundError(f"The case has no attempt {attempt_id}.")
        return self._attempt_from_row(rows[0])

    def attempts(
        self,
        *,
        document_id: Optional[int] = None,
        model_id: Optional[int] = None,
        method: Optional[str] = None,
        status: Optional[str] = None,
        protocol_id: Optional[int] = None,
    ) -> list[Attempt]:
        clauses, params = [], []
        for column, value in (
            ("document_id", document_id),
            ("model_id", model_id),
            ("method", method),
            ("status", status),
            ("protocol_id", protocol_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return [self._attempt_from_row(r) for r in self._rows(f"SELECT * FROM attempts{where} ORDER BY id", params)]

    def attempt_count(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM attempts")[0]["n"])

    def campaign_attempt(self, protocol_id: int, campaign_key: str, sample_index: int = 0) -> Optional[Attempt]:
        """The finished attempt of a campaign step, if any (for resuming without repeating)."""
        rows = self._rows(
            "SELECT * FROM attempts WHERE protocol_id = ? AND campaign_key = ? AND sample_index = ?",
            (protocol_id, campaign_key, sample_index),
        )
        return self._attempt_from_row(rows[0]) if rows else None

    def server_exchanges(self, attempt_id: int) -> list[dict[str, Any]]:
        """The verbatim HTTP exchanges of an attempt on a served model (bodies as bytes), in order."""
        with self._lock:
            return exchange_store.for_attempt(self._conn, attempt_id)

    def record_server_exchanges(self, model_id: Optional[int], exchanges: Sequence[Any], note: str) -> None:
        """Store exchanges that belong to no recorded attempt (a probe; an attempt that failed mid-request)."""
        if not exchanges:
            return
        with self._tx() as conn:
            exchange_store.insert(conn, None, model_id, exchanges, note)
            self._audit("server.exchanges", f"model:{model_id}" if model_id else "server",
                        {"note": note, "count": len(exchanges),
                         "exchanges_sha256": remote_evidence.summary(list(exchanges))["combined_sha256"]})

    def sweep_windows(self, attempt_id: int) -> list[SweepWindow]:
        rows = self._rows("SELECT * FROM sweep_windows WHERE attempt_id = ? ORDER BY idx", (attempt_id,))
        return [
            SweepWindow(
                attempt_id=int(r["attempt_id"]),
                index=int(r["idx"]),
                start_token=int(r["start_token"]),
                start_char=int(r["start_char"]),
                end_char=int(r["end_char"]),
                prefix_start_char=int(r["prefix_start_char"]),
                greedy_exact=int(r["greedy_exact"]),
                memorization_score=float(r["memorization_score"]),
                log10_p=float(r["log10_p"]),
                log10_pz=None if r["log10_pz"] is None else float(r["log10_pz"]),
                continuation=r["continuation"],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ alignments
    def save_alignment(self, attempt_id: int, document_id: Optional[int], options: dict[str, Any],
                       result: dict[str, Any]) -> int:
        """Store an alignment result (derived data: recomputable, but kept as shown)."""
        now = utc_now()
        try:
            options_json = audit.canonical_json(options)
            result_json = audit.canonical_json(result)
        except audit.NonFiniteNumberError as exc:
            raise errors.ValidationError(f"The alignment was not stored: {exc}.") from exc
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO alignments(attempt_id, document_id, options_json, result_json, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (attempt_id, document_id, options_json, result_json, now),
            )
            aid = int(cur.lastrowid or 0)
            self._audit("alignment.save", f"attempt:{attempt_id}",
                        {"alignment_id": aid, "result_sha256": _sha256(result_json.encode("utf-8"))})
        return aid

    def latest_alignment(self, attempt_id: int) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
        rows = self._rows(
            "SELECT options_json, result_json FROM alignments WHERE attempt_id = ? ORDER BY id DESC LIMIT 1",
            (attempt_id,),
        )
        if not rows:
            return None
        return json.loads(rows[0]["options_json"]), json.loads(rows[0]["result_json"])

    # ------------------------------------------------------------------ annotations
    def annotate(self, target_kind: str, target_id: int, kind: str, body: str) -> Annotation:
        """Annotations sit beside the evidence and never alter it."""
        if target_kind not in ("attempt", "document", "window", "case"):
            raise errors.ValidationError(f"Cannot annotate a '{target_kind}'.")
        now = utc_now()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO annotations(target_kind, target_id, kind, body, author, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (target_kind, target_id, kind, body, self.actor, now),
            )
            ann_id = int(cur.lastrowid or 0)
            self._audit("annotation.add", f"{target_kind}:{target_id}",
                        {"annotation_id": ann_id, "kind": kind,
                         "body_sha256": _sha256(body.encode("utf-8"))})
        return Annotation(ann_id, target_kind, target_id, kind, body, self.actor, now)

    def annotations(self, target_kind: Optional[str] = None, target_id: Optional[int] = None) -> list[Annotation]:
        clauses, params = [], []
        if target_kind is not None:
            clauses.append("target_kind = ?")
            params.append(target_kind)
        if target_id is not None:
            clauses.append("target_id = ?")
            params.append(target_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return [Annotation(**r) for r in self._rows(f"SELECT * FROM annotations{where} ORDER BY id", params)]

    # ------------------------------------------------------------------ audit / verify / info
    def audit_entries(self) -> list[AuditEntry]:
        with self._lock:
            return list(audit.iter_entries(self._conn))

    def verify(self, expect_head: Optional[str] = None) -> VerifyReport:
        """Re-check everything the case file asserts (memoview.core.integrity): the anchored hash
        chain, every evidence row's binding in both directions, the protective triggers' SQL,
        document and attempt hashes; ``expect_head`` must be an entry hash of the chain."""
        from memoview.core import integrity

        return integrity.verify_case(self, expect_head=expect_head)

    def head(self) -> Head:
        """The audit chain's head: last entry hash and entry count."""
        with self._lock:
            return audit.head(self._conn)

    def info(self) -> dict[str, Any]:
        meta = self.meta()
        counts = {
            table: int(self._rows(f"SELECT count(*) AS n FROM {table}")[0]["n"])
            for table in ("documents", "models", "protocols", "attempts", "annotations", "audit_log")
        }
        head = self.head()
        return {"path": str(self.path), "meta": meta, "counts": counts,
                "audit_head": {"hash": head.hash, "entries": head.entries}, "read_only": self.read_only}
