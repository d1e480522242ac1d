"""The case file facade: one SQLite file per matter.

All reads and writes of a case go through :class:`Case`. Every change that
matters for evidence (import, model registration, attempt, annotation,
export) is written together with an audit-log entry in one transaction, so
a killed process loses at most the attempt in flight.

This module is the facade only: opening and transactions are
:mod:`memoview.core.storage.connection`, the columns of each record
:mod:`memoview.core.storage.rows`, the tables' own logic
``storage/documents.py``, ``storage/attempts.py``, ``storage/kgram_index.py``,
``storage/exchanges.py``; verification is :mod:`memoview.core.integrity`
(its report types in :mod:`memoview.core.verification`). Other modules that
need more than a facade method use :meth:`Case.transaction`,
:meth:`Case.query` and :meth:`Case.reading`, never the connection itself.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

from memoview import __version__
from memoview.core import errors
from memoview.core.documents.base import LoadedDocument
from memoview.core.records import (
    Annotation,
    Attempt,
    AuditEntry,
    Document,
    ModelInfo,
    Protocol,
    SweepWindow,
)
from memoview.core.remote import evidence as remote_evidence
from memoview.core.storage import attempts as attempt_store
from memoview.core.storage import audit, binding, connection, kgram_index, rows
from memoview.core.storage import documents as document_store
from memoview.core.storage import exchanges as exchange_store
from memoview.core.storage.audit import Head
from memoview.core.storage.connection import SQLITE_MAX_INT, Store, Transaction
from memoview.core.storage.documents import check_title
from memoview.core.storage.schema import CASE_FORMAT, SCHEMA_VERSION, expected_triggers, migrate, user_version
from memoview.core.timeutil import utc_now

if TYPE_CHECKING:
    from memoview.core.verification import VerifyReport

CASE_SUFFIX = ".memoview"
ANNOTATION_TARGETS = ("attempt", "document", "window", "case")


class Case:
    """An open case file. Use :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.path = path
        self.store = Store(path, conn, read_only=read_only)
        self.actor = self.store.actor
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
        conn = connection.connect(target)
        case = cls(target, conn)
        connection.configure(conn)
        migrate(case.store.db, __version__)
        binding.install_capture(conn)
        now = utc_now()
        case_uuid = str(uuid.uuid4())
        with case.transaction() as tx:
            for key, value in {
                "format": CASE_FORMAT,
                "case_uuid": case_uuid,
                "created_at": now,
                "created_by_version": __version__,
            }.items():
                tx.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
            # Entry 1 starts from the genesis value of this UUID and names it (audit module docstring).
            audit.append(tx.conn, now, case.actor, "case.create", str(target.name),
                         {"schema_version": SCHEMA_VERSION, "app_version": __version__, "case_uuid": case_uuid,
                          "created_at": now, "binding_spec": case.binding_spec()})
        return case

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: Optional[bool] = None) -> "Case":
        """Open an existing case; refuse, untouched, anything that is not a healthy case we can read.

        ``read_only``: None opens read-only exactly when the file or its folder
        cannot be written (read-only medium or permissions); such a case is
        neither migrated nor written.
        """
        target = Path(path)
        connection.precheck(target)
        if read_only is None:
            read_only = not connection.writable(target)
        if read_only:
            case = cls(target, connection.connect_read_only(target), read_only=True)
            wal = target.with_name(target.name + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                case.read_only_note = (f"{wal.name} beside the case holds changes not yet merged into it; on a "
                                       "read-only medium they may not be readable. Copy the case and that file "
                                       "to a writable folder to see them.")
            case.store.conn.execute("PRAGMA query_only = ON")
            case.format_version = user_version(case.store.conn)
            return case
        conn = connection.connect(target)
        case = cls(target, conn)
        connection.configure(conn)
        before = user_version(conn)
        applied = migrate(case.store.db, __version__)
        binding.install_capture(conn)
        from memoview.core import integrity

        if applied:
            integrity.record_migration(case, before, applied)
        integrity.reconcile_binding_spec(case)
        return case

    def binding_spec(self) -> dict[str, Any]:
        """The row-binding specification this version writes (bound tables and protective triggers)."""
        return binding.spec_json(binding.BOUND_TABLES, expected_triggers(SCHEMA_VERSION))

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str]) -> "Case":
        return cls.open(path) if Path(path).exists() else cls.create(path)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Case":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions and reads
    def transaction(self) -> AbstractContextManager[Transaction]:
        """One atomic write: ``with case.transaction() as tx: tx.execute(...); tx.audit(...)``.

        Every evidence row written must be bound by a ``tx.audit`` entry in the
        same transaction, or it is rolled back. Re-entrant use is not supported.
        """
        return self.store.transaction()

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """The connection under the case's lock, for reads that take more than one statement."""
        return self.store.reading()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts."""
        return self.store.query(sql, params)

    def audit(self, event: str, subject: str, payload: dict[str, Any]) -> AuditEntry:
        """Write a standalone audit entry (exports, verifications, GUI actions)."""
        with self.transaction() as tx:
            return tx.audit(event, subject, payload)

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.query("SELECT key, value FROM meta")}

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
        """Import a document (refusing a duplicate), then index it for attribution in a second transaction."""
        if title:
            check_title(title)
        row = rows.document_row(loaded, title=title, author=author, source=source, date_obtained=date_obtained,
                                notes=notes, is_control=is_control, now=utc_now())
        with self.transaction() as tx:
            doc_id = document_store.insert(tx, loaded, row)
        kgram_index.index_document(self.store, doc_id, loaded.text)
        return self.document(doc_id)

    def set_control(self, doc_id: int, is_control: bool) -> None:
        with self.transaction() as tx:
            tx.execute("UPDATE documents SET is_control = ? WHERE id = ?", (int(is_control), doc_id))
            tx.audit("document.control", f"document:{doc_id}", {"is_control": is_control})

    def update_provenance(self, doc_id: int, **fields: str) -> None:
        allowed = {"title", "author", "source", "date_obtained", "notes"}
        bad = set(fields) - allowed
        if bad:
            raise errors.ValidationError(f"Unknown provenance field(s): {', '.join(sorted(bad))}.")
        if not fields:
            return
        if "title" in fields:
            check_title(fields["title"])
        with self.transaction() as tx:
            tx.execute(
                f"UPDATE documents SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                (*fields.values(), doc_id),
            )
            tx.audit("document.provenance", f"document:{doc_id}", dict(fields))

    def documents(self) -> list[Document]:
        return [rows.document_from_row(r) for r in self.query("SELECT * FROM documents ORDER BY id")]

    def document(self, doc_id: int) -> Document:
        return document_store.get(self.store, doc_id)

    def document_raw(self, doc_id: int) -> bytes:
        found = self.query("SELECT raw FROM document_blobs WHERE document_id = ?", (doc_id,))
        if not found:
            raise errors.NotFoundError(f"The case holds no raw bytes for document {doc_id}.")
        return bytes(found[0]["raw"])

    def document_by_raw_sha256(self, digest: str) -> Optional[Document]:
        """The document imported from these original bytes, if any (e.g. committed before a disk filled)."""
        found = self.query("SELECT id FROM documents WHERE raw_sha256 = ?", (digest,))
        return self.document(int(found[0]["id"])) if found else None

    def resolve_document(self, ref: str | int) -> Document:
        """Find a document by id, exact title, or SHA-256 prefix; refuse ambiguity (storage.documents.resolve)."""
        return document_store.resolve(self.store, ref)

    # ------------------------------------------------------------------ models
    def add_model(self, info: ModelInfo) -> ModelInfo:
        """Register a model; a model already registered (same fingerprint) is returned as it is."""
        existing = self.query("SELECT id FROM models WHERE fingerprint = ?", (info.fingerprint,))
        if existing:
            return self.model(int(existing[0]["id"]))
        now = utc_now()
        name = info.name or Path(info.path).name
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO models(name, path, format, architecture, fingerprint, info_json, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, info.path, info.format, info.architecture, info.fingerprint, rows.model_info_json(info), now),
            )
            model_id = int(cur.lastrowid or 0)
            tx.audit("model.add", f"model:{model_id}", {
                "path": info.path,
                "format": info.format,
                "architecture": info.architecture,
                "fingerprint": info.fingerprint,
                "files": [[f.relpath, f.size, f.sha256] for f in info.files],
            })
        return self.model(model_id)

    def models(self) -> list[ModelInfo]:
        return [rows.model_from_row(r) for r in self.query("SELECT * FROM models ORDER BY id")]

    def model(self, model_id: int) -> ModelInfo:
        found = (self.query("SELECT * FROM models WHERE id = ?", (model_id,))
                 if 0 <= model_id <= SQLITE_MAX_INT else [])
        if not found:
            raise errors.NotFoundError(f"The case has no model {model_id}.")
        return rows.model_from_row(found[0])

    def resolve_model(self, ref: str | int) -> Optional[ModelInfo]:
        """A registered model by id, name, path or fingerprint prefix; None if nothing matches."""
        text = str(ref).strip()
        if text.isdigit():
            found = self.query("SELECT * FROM models WHERE id = ?", (int(text),))
            if found:
                return rows.model_from_row(found[0])
        resolved = str(Path(text).expanduser().resolve()) if text else text
        found = self.query(
            "SELECT * FROM models WHERE name = ? OR path = ? OR path = ? OR fingerprint LIKE ?",
            (text, text, resolved, (text.lower() + "%") if len(text) >= 8 else "\x00"),
        )
        if len(found) > 1:
            raise errors.ValidationError(f"'{text}' matches {len(found)} models.", "Use the model id.")
        return rows.model_from_row(found[0]) if found else None

    # ------------------------------------------------------------------ protocols
    def add_protocol(self, name: str, content: str, fmt: str) -> Protocol:
        """Store a campaign protocol (hashed) before its first run; the same content is stored once."""
        digest = rows.sha256_hex(content.encode("utf-8"))
        found = self.query("SELECT * FROM protocols WHERE sha256 = ?", (digest,))
        if found:
            return rows.protocol_from_row(found[0])
        now = utc_now()
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO protocols(name, sha256, format, content, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, digest, fmt, content, now),
            )
            pid = int(cur.lastrowid or 0)
            tx.audit("protocol.add", f"protocol:{pid}", {"name": name, "sha256": digest, "format": fmt})
        return Protocol(pid, name, digest, fmt, content, now)

    def protocols(self) -> list[Protocol]:
        return [rows.protocol_from_row(r) for r in self.query("SELECT * FROM protocols ORDER BY id")]

    # ------------------------------------------------------------------ attempts
    def record_attempt(self, attempt: Attempt, windows: Iterable[SweepWindow] = ()) -> Attempt:
        """Commit a finished attempt (any status) and its sweep windows, with its audit entry, atomically.

        ``attempt.id`` is ignored; the stored attempt with its new id is returned.
        """
        fields = rows.attempt_fields(attempt)
        if not fields.get("output_sha256") and fields.get("output_text"):
            fields["output_sha256"] = rows.sha256_hex(fields["output_text"].encode("utf-8"))
        # A served model's HTTP exchanges (verbatim, hashed) are stored with the attempt that made them.
        exchanges = remote_evidence.take_for_attempt(str(fields.get("started_at") or ""))
        if exchanges:
            fields["environment"] = {**fields["environment"], "server_exchanges": remote_evidence.summary(exchanges)}
        try:
            row = rows.attempt_row(fields)
        except audit.NonFiniteNumberError as exc:
            raise errors.ValidationError(f"The attempt was not recorded: {exc}.",
                                         "Check the parameters and the engine's output; nothing was stored.") from exc
        with self.transaction() as tx:
            attempt_id = attempt_store.insert(tx, row, windows, exchanges)
        return self.attempt(attempt_id)

    def attempt(self, attempt_id: int) -> Attempt:
        return attempt_store.get(self.store, attempt_id)

    def attempts(
        self,
        *,
        document_id: Optional[int] = None,
        model_id: Optional[int] = None,
        method: Optional[str] = None,
        status: Optional[str] = None,
        protocol_id: Optional[int] = None,
    ) -> list[Attempt]:
        return attempt_store.select(self.store, (
            ("document_id", document_id),
            ("model_id", model_id),
            ("method", method),
            ("status", status),
            ("protocol_id", protocol_id),
        ))

    def attempt_count(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM attempts")[0]["n"])

    def campaign_attempt(self, protocol_id: int, campaign_key: str, sample_index: int = 0) -> Optional[Attempt]:
        """The finished attempt of a campaign step, if any (for resuming without repeating)."""
        found = self.query(
            "SELECT * FROM attempts WHERE protocol_id = ? AND campaign_key = ? AND sample_index = ?",
            (protocol_id, campaign_key, sample_index),
        )
        return rows.attempt_from_row(found[0]) if found else None

    def server_exchanges(self, attempt_id: int) -> list[dict[str, Any]]:
        """The verbatim HTTP exchanges of an attempt on a served model (bodies as bytes), in order."""
        with self.reading() as conn:
            return exchange_store.for_attempt(conn, attempt_id)

    def record_server_exchanges(self, model_id: Optional[int], exchanges: Sequence[Any], note: str) -> None:
        """Store exchanges that belong to no recorded attempt (a probe; an attempt that failed mid-request)."""
        if not exchanges:
            return
        with self.transaction() as tx:
            exchange_store.insert(tx.conn, None, model_id, exchanges, note)
            tx.audit("server.exchanges", f"model:{model_id}" if model_id else "server",
                     {"note": note, "count": len(exchanges),
                      "exchanges_sha256": remote_evidence.summary(list(exchanges))["combined_sha256"]})

    def sweep_windows(self, attempt_id: int) -> list[SweepWindow]:
        return [rows.window_from_row(r)
                for r in self.query("SELECT * FROM sweep_windows WHERE attempt_id = ? ORDER BY idx", (attempt_id,))]

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
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO alignments(attempt_id, document_id, options_json, result_json, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (attempt_id, document_id, options_json, result_json, now),
            )
            aid = int(cur.lastrowid or 0)
            tx.audit("alignment.save", f"attempt:{attempt_id}",
                     {"alignment_id": aid, "result_sha256": rows.sha256_hex(result_json.encode("utf-8"))})
        return aid

    def latest_alignment(self, attempt_id: int) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
        found = self.query(
            "SELECT options_json, result_json FROM alignments WHERE attempt_id = ? ORDER BY id DESC LIMIT 1",
            (attempt_id,),
        )
        if not found:
            return None
        return json.loads(found[0]["options_json"]), json.loads(found[0]["result_json"])

    # ------------------------------------------------------------------ annotations
    def annotate(self, target_kind: str, target_id: int, kind: str, body: str) -> Annotation:
        """Annotations sit beside the evidence and never alter it."""
        if target_kind not in ANNOTATION_TARGETS:
            raise errors.ValidationError(f"Cannot annotate a '{target_kind}'.")
        now = utc_now()
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO annotations(target_kind, target_id, kind, body, author, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (target_kind, target_id, kind, body, self.actor, now),
            )
            ann_id = int(cur.lastrowid or 0)
            tx.audit("annotation.add", f"{target_kind}:{target_id}",
                     {"annotation_id": ann_id, "kind": kind, "body_sha256": rows.sha256_hex(body.encode("utf-8"))})
        return Annotation(ann_id, target_kind, target_id, kind, body, self.actor, now)

    def annotations(self, target_kind: Optional[str] = None, target_id: Optional[int] = None) -> list[Annotation]:
        clauses: list[str] = []
        params: list[Any] = []
        if target_kind is not None:
            clauses.append("target_kind = ?")
            params.append(target_kind)
        if target_id is not None:
            clauses.append("target_id = ?")
            params.append(target_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return [rows.annotation_from_row(r) for r in self.query(f"SELECT * FROM annotations{where} ORDER BY id", params)]

    # ------------------------------------------------------------------ audit / verify / info
    def audit_entries(self) -> list[AuditEntry]:
        with self.reading() as conn:
            return list(audit.iter_entries(conn))

    def verify(self, expect_head: Optional[str] = None) -> "VerifyReport":
        """Re-check everything the case file asserts (memoview.core.integrity): the anchored hash
        chain, every evidence row's binding in both directions, the protective triggers' SQL,
        document and attempt hashes; ``expect_head`` must be an entry hash of the chain."""
        from memoview.core import integrity

        return integrity.verify_case(self, expect_head=expect_head)

    def head(self) -> Head:
        """The audit chain's head: last entry hash and entry count."""
        with self.reading() as conn:
            return audit.head(conn)

    def info(self) -> dict[str, Any]:
        meta = self.meta()
        counts = {
            table: int(self.query(f"SELECT count(*) AS n FROM {table}")[0]["n"])
            for table in ("documents", "models", "protocols", "attempts", "annotations", "audit_log")
        }
        head = self.head()
        return {"path": str(self.path), "meta": meta, "counts": counts,
                "audit_head": {"hash": head.hash, "entries": head.entries}, "read_only": self.read_only}
