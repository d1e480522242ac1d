"""The append-only audit log with a hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so
editing, inserting or deleting any entry breaks every later link. The
canonical form is JSON with sorted keys and no whitespace; it is stated in
the exhibits' method page so that a third party can re-check the chain.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from memoview.core.records import AuditEntry

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def entry_hash(seq: int, at: str, actor: str, event: str, subject: str, payload_json: str, prev_hash: str) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "event": event,
            "subject": subject,
            "payload": payload_json,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    conn: sqlite3.Connection, at: str, actor: str, event: str, subject: str, payload: dict[str, Any]
) -> AuditEntry:
    """Append one entry; the caller owns the transaction."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq = 1 if row is None else int(row[0]) + 1
    prev_hash = GENESIS_HASH if row is None else str(row[1])
    payload_json = canonical_json(payload)
    digest = entry_hash(seq, at, actor, event, subject, payload_json, prev_hash)
    conn.execute(
        "INSERT INTO audit_log(seq, at, actor, event, subject, payload_json, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, actor, event, subject, payload_json, prev_hash, digest),
    )
    return AuditEntry(seq, at, actor, event, subject, payload, prev_hash, digest)


def iter_entries(conn: sqlite3.Connection) -> Iterator[AuditEntry]:
    for seq, at, actor, event, subject, payload_json, prev_hash, digest in conn.execute(
        "SELECT seq, at, actor, event, subject, payload_json, prev_hash, hash FROM audit_log ORDER BY seq"
    ):
        try:
            payload = json.loads(payload_json)
        except (TypeError, ValueError):
            payload = {"_unparseable": payload_json}
        yield AuditEntry(int(seq), at, actor, event, subject, payload, prev_hash, digest)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def check_chain(conn: sqlite3.Connection) -> Optional[ChainBreak]:
    """Return the first broken entry, or None when the chain is intact."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for seq, at, actor, event, subject, payload_json, prev_hash, digest in conn.execute(
        "SELECT seq, at, actor, event, subject, payload_json, prev_hash, hash FROM audit_log ORDER BY seq"
    ):
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing (next entry is {seq})")
        if prev_hash != expected_prev:
            return ChainBreak(seq, "its link to the previous entry does not match (an earlier entry was changed or removed)")
        recomputed = entry_hash(seq, at, actor, event, subject, payload_json, prev_hash)
        if recomputed != digest:
            return ChainBreak(seq, "its content no longer matches its hash (the entry was edited)")
        expected_prev = digest
        expected_seq += 1
    return None
