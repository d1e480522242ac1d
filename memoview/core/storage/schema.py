"""Case-file schema and versioned migrations.

Each migration is a function applied in one transaction; ``PRAGMA
user_version`` and the ``meta`` table both record the version so that a
case written by a newer memoview is recognised and refused untouched.
The audit log and the evidence tables are protected by triggers: the audit
log is append-only, no evidence row can be deleted (every attempt is
disclosable), and immutable records cannot be updated (format 2).
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from sqlite_utils import Database

CASE_FORMAT = "memoview-case"
SCHEMA_VERSION = 3


def _v1(db: Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("documents").create(
        {
            "id": int,
            "title": str,
            "author": str,
            "source": str,
            "date_obtained": str,
            "notes": str,
            "filename": str,
            "media_type": str,
            "byte_size": int,
            "raw_sha256": str,
            "text_sha256": str,
            "text": str,
            "extractor": str,
            "extractor_version": str,
            "encoding": str,
            "is_control": int,
            "imported_at": str,
        },
        pk="id",
        not_null={"title", "raw_sha256", "text_sha256", "text"},
    )
    db.table("documents").create_index(["raw_sha256"], unique=True)
    db.table("document_blobs").create(
        {"document_id": int, "raw": bytes},
        pk="document_id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db.table("models").create(
        {
            "id": int,
            "name": str,
            "path": str,
            "format": str,
            "architecture": str,
            "fingerprint": str,
            "info_json": str,
            "added_at": str,
        },
        pk="id",
        not_null={"fingerprint"},
    )
    db.table("models").create_index(["fingerprint"], unique=True)
    db.table("protocols").create(
        {"id": int, "name": str, "sha256": str, "format": str, "content": str, "created_at": str},
        pk="id",
    )
    db.table("protocols").create_index(["sha256"], unique=True)
    db.table("attempts").create(
        {
            "id": int,
            "method": str,
            "prompt_class": str,
            "model_id": int,
            "document_id": int,
            "protocol_id": int,
            "campaign_key": str,
            "sample_index": int,
            "status": str,
            "spec_json": str,
            "prompt_text": str,
            "prompt_token_ids_json": str,
            "output_text": str,
            "output_token_ids_json": str,
            "token_logprobs_json": str,
            "token_ranks_json": str,
            "target_text": str,
            "target_token_ids_json": str,
            "target_logprobs_json": str,
            "target_ranks_json": str,
            "metrics_json": str,
            "environment_json": str,
            "error": str,
            "started_at": str,
            "finished_at": str,
            "output_sha256": str,
        },
        pk="id",
        foreign_keys=[
            ("model_id", "models", "id"),
            ("document_id", "documents", "id"),
            ("protocol_id", "protocols", "id"),
        ],
    )
    db.table("attempts").create_index(["document_id"])
    db.table("attempts").create_index(["model_id"])
    db.execute(
        "CREATE UNIQUE INDEX idx_attempts_campaign ON attempts(protocol_id, campaign_key, sample_index)"
        " WHERE campaign_key IS NOT NULL"
    )
    db.table("sweep_windows").create(
        {
            "attempt_id": int,
            "idx": int,
            "start_token": int,
            "start_char": int,
            "end_char": int,
            "prefix_start_char": int,
            "greedy_exact": int,
            "memorization_score": float,
            "log10_p": float,
            "log10_pz": float,
            "continuation": str,
        },
        pk=("attempt_id", "idx"),
        foreign_keys=[("attempt_id", "attempts", "id")],
    )
    db.table("alignments").create(
        {
            "id": int,
            "attempt_id": int,
            "document_id": int,
            "options_json": str,
            "result_json": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("attempt_id", "attempts", "id"), ("document_id", "documents", "id")],
    )
    db.table("alignments").create_index(["attempt_id"])
    db.table("annotations").create(
        {
            "id": int,
            "target_kind": str,
            "target_id": int,
            "kind": str,
            "body": str,
            "author": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("annotations").create_index(["target_kind", "target_id"])
    db.table("audit_log").create(
        {
            "seq": int,
            "at": str,
            "actor": str,
            "event": str,
            "subject": str,
            "payload_json": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="seq",
    )
    db.table("kgram_index").create(
        {"kgram": int, "document_id": int, "word_index": int},
        foreign_keys=[("document_id", "documents", "id")],
    )
    db.table("kgram_index").create_index(["kgram"])
    db.table("kgram_index").create_index(["document_id"])
    for name in V1_TRIGGERS:
        db.execute(TRIGGERS[name])


def _v2(db: Database) -> None:
    """Format 2: every evidence table refuses deletion, the immutable ones refuse updates too.

    Rows are also bound into the audit chain (:mod:`memoview.core.storage.binding`);
    the triggers are a first line only (anyone can drop a trigger), and
    ``case verify`` compares each trigger's SQL with :data:`TRIGGERS`.
    """
    present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    for name in V2_TRIGGERS:
        if name not in present:  # a file whose format number was set back still has them
            db.execute(TRIGGERS[name])


def _protect(table: str, action: str, why: str) -> tuple[str, str]:
    name = f"{table}_no_{action.lower()}"
    return name, f"CREATE TRIGGER {name} BEFORE {action} ON {table} BEGIN SELECT RAISE(ABORT, '{why}'); END"


# The protective triggers, by name, with the exact SQL that ``case verify`` (and the
# standalone verifier, which reads them from the audit chain) compares.
TRIGGERS: dict[str, str] = dict([
    ("audit_no_update", "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"),
    ("audit_no_delete", "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"),
    _protect("attempts", "DELETE", "attempts are never deleted; hide them with an annotation"),
    _protect("attempts", "UPDATE", "a recorded attempt is never changed; annotate it instead"),
    _protect("documents", "DELETE", "documents are never deleted; every attempt on them stays disclosable"),
    _protect("document_blobs", "DELETE", "the original bytes of a document are never deleted"),
    _protect("document_blobs", "UPDATE", "the original bytes of a document are never changed"),
    _protect("models", "DELETE", "registered models are never deleted"),
    _protect("models", "UPDATE", "a registered model is never changed; register the changed files as a new model"),
    _protect("protocols", "DELETE", "protocols are never deleted"),
    _protect("protocols", "UPDATE", "a stored protocol is never changed"),
    _protect("sweep_windows", "DELETE", "sweep windows are never deleted"),
    _protect("sweep_windows", "UPDATE", "sweep windows are never changed"),
    _protect("alignments", "DELETE", "alignments are never deleted"),
    _protect("alignments", "UPDATE", "a stored alignment is never changed; save a new one"),
    _protect("annotations", "DELETE", "annotations are never deleted; add another one"),
    _protect("annotations", "UPDATE", "annotations are never changed; add another one"),
    # format 3 (server engine): storage/exchanges.py creates these with the same SQL
    _protect("server_exchanges", "DELETE", "server exchanges are never deleted"),
    _protect("server_exchanges", "UPDATE", "server exchanges are never changed"),
])
V1_TRIGGERS = ("audit_no_update", "audit_no_delete", "attempts_no_delete")
V3_TRIGGERS = ("server_exchanges_no_delete", "server_exchanges_no_update")
V2_TRIGGERS = tuple(name for name in TRIGGERS if name not in V1_TRIGGERS + V3_TRIGGERS)


# Which format introduced each trigger. A migration that adds a protective trigger puts its SQL
# in TRIGGERS and its name here; verify then expects it in every case of that format or later.
TRIGGERS_BY_VERSION: dict[int, tuple[str, ...]] = {1: V1_TRIGGERS, 2: V2_TRIGGERS, 3: V3_TRIGGERS}


def expected_triggers(version: int) -> dict[str, str]:
    """The protective triggers a case of this format must hold, with their SQL."""
    names = [n for v, group in sorted(TRIGGERS_BY_VERSION.items()) if v <= version for n in group]
    return {name: TRIGGERS[name] for name in names}


def _v3_server_exchanges(db: Database) -> None:
    """Format 3 (server engine): verbatim HTTP exchanges with served models (storage/exchanges.py)."""
    from memoview.core.storage.exchanges import create_table

    if "server_exchanges" not in db.table_names():  # a file whose format number was set back still has it
        create_table(db)


MIGRATIONS: dict[int, Callable[[Database], None]] = {1: _v1, 2: _v2, 3: _v3_server_exchanges}
PROTECTING_TRIGGERS = tuple(TRIGGERS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, app_version: str) -> list[int]:
    """Bring the schema up to SCHEMA_VERSION; return the versions applied."""
    applied: list[int] = []
    current = user_version(db.conn)
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with db.conn:
            MIGRATIONS[version](db)
            db.conn.execute(f"PRAGMA user_version = {version}")
            db.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(version),)
            )
            db.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('app_version', ?)", (app_version,)
            )
        applied.append(version)
    return applied
