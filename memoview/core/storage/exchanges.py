"""The ``server_exchanges`` table: every HTTP request and response to a served model, verbatim.

One row per HTTP try (retries included). ``request_body`` and
``response_body`` are the exact bytes sent and received (the API key only
ever travelled in a header, which is not stored); their SHA-256 are stored
next to them and in the attempt record and audit entry of the attempt they
belong to. Exchanges that belong to no recorded attempt (an attempt that
failed before it could be recorded, a capability probe) are stored with
``attempt_id`` NULL and a ``note`` saying why. Rows are never updated or
deleted (triggers).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Iterable, Optional, Sequence

from sqlite_utils import Database

from memoview.core.remote.evidence import Exchange

TABLE = "server_exchanges"

COLUMNS = ("attempt_id", "model_id", "seq", "endpoint", "served_model", "method", "path", "purpose", "status",
           "error", "try_index", "started_at", "finished_at", "response_headers_json", "request_body",
           "response_body", "request_sha256", "response_sha256", "note")


def create_table(db: Database) -> None:
    """Schema migration: the exchange table, its indexes and its protecting triggers."""
    db.table(TABLE).create(
        {
            "id": int, "attempt_id": int, "model_id": int, "seq": int, "endpoint": str, "served_model": str,
            "method": str, "path": str, "purpose": str, "status": int, "error": str, "try_index": int,
            "started_at": str, "finished_at": str, "response_headers_json": str, "request_body": bytes,
            "response_body": bytes, "request_sha256": str, "response_sha256": str, "note": str,
        },
        pk="id",
        not_null={"request_sha256", "response_sha256"},
        foreign_keys=[("attempt_id", "attempts", "id"), ("model_id", "models", "id")],
    )
    db.table(TABLE).create_index(["attempt_id"])
    from memoview.core.storage.schema import TRIGGERS, V3_TRIGGERS

    for name in V3_TRIGGERS:  # the SQL that ``case verify`` compares lives in schema.TRIGGERS
        db.execute(TRIGGERS[name])


def insert(conn: sqlite3.Connection, attempt_id: Optional[int], model_id: Optional[int],
           exchanges: Iterable[Exchange], note: str = "") -> list[int]:
    """Insert inside the caller's transaction; returns the new row ids."""
    ids = []
    for e in exchanges:
        cur = conn.execute(
            f"INSERT INTO {TABLE}({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            (attempt_id, model_id, e.seq, e.endpoint, e.model_id, e.method, e.path, e.purpose, e.status, e.error,
             e.try_index, e.started_at, e.finished_at, json.dumps([list(h) for h in e.response_headers]),
             e.request_body, e.response_body, e.request_sha256, e.response_sha256, note),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


def rows_hash(exchanges: Sequence[Exchange]) -> str:
    """One SHA-256 over the exchanges' body hashes in order (what the audit entry carries)."""
    from memoview.core.remote.evidence import summary

    return str(summary(list(exchanges))["combined_sha256"])


def for_attempt(conn: sqlite3.Connection, attempt_id: int) -> list[dict[str, Any]]:
    """The stored exchanges of one attempt, in order, bodies included."""
    cur = conn.execute(f"SELECT id, {', '.join(COLUMNS)} FROM {TABLE} WHERE attempt_id = ? ORDER BY seq, id",
                       (attempt_id,))
    names = ["id", *COLUMNS]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def unattached(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    cur = conn.execute(f"SELECT id, {', '.join(COLUMNS)} FROM {TABLE} WHERE attempt_id IS NULL ORDER BY id")
    names = ["id", *COLUMNS]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def check_attempt(conn: sqlite3.Connection, attempt_id: int, logged_sha256: Optional[str]) -> Optional[str]:
    """Why an attempt's stored exchanges no longer match their hashes or its audit entry; None when they do."""
    import hashlib

    rows = for_attempt(conn, attempt_id)
    if not rows and logged_sha256 is None:
        return None
    for r in rows:
        if hashlib.sha256(bytes(r["request_body"] or b"")).hexdigest() != r["request_sha256"] \
                or hashlib.sha256(bytes(r["response_body"] or b"")).hexdigest() != r["response_sha256"]:
            return f"the stored body of exchange {r['id']} no longer matches its SHA-256"
    joined = "\n".join(f"{r['seq']} {r['request_sha256']} {r['response_sha256']}" for r in rows)
    if hashlib.sha256(joined.encode("ascii")).hexdigest() != logged_sha256:
        return "its server exchanges differ from those logged when it was recorded"
    return None


def table_exists(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone() is not None


__all__ = ["COLUMNS", "TABLE", "create_table", "for_attempt", "check_attempt", "insert", "rows_hash", "table_exists",
           "unattached"]
