"""The append-only audit log with a hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so
editing, inserting or deleting any entry breaks every later link. The
canonical form is JSON with sorted keys and no whitespace; it is stated in
the exhibits' method page so that a third party can re-check the chain.

The chain is anchored at both ends. Its start (the *genesis* value, the
``prev_hash`` of entry 1) is derived from the case's UUID, and entry 1 is the
``case.create`` entry naming that UUID and the creation time, so a chain
cannot be moved onto another case. Its end (the *head*: the last entry's hash
and the number of entries) is printed by ``case info``, ``case verify`` and in
every exhibit; ``case verify --expect-head`` checks that a case still reaches
a head printed earlier. Cases written before anchoring (format 1) start from
:data:`LEGACY_GENESIS_HASH` and are reported as such.

The recorded time and actor of an entry are what the writing machine said:
they are *self-asserted* and are labelled so wherever they are shown.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from memoview.core.records import AuditEntry

LEGACY_GENESIS_HASH = "0" * 64
GENESIS_HASH = LEGACY_GENESIS_HASH  # kept for callers written before anchoring
CHAIN_FORMAT = "memoview-audit-chain/2"


def genesis_hash(case_uuid: str) -> str:
    """The ``prev_hash`` of entry 1 of an anchored chain: SHA-256 of ``memoview-audit-chain/2 <uuid>``."""
    return hashlib.sha256(f"{CHAIN_FORMAT} {case_uuid}".encode("utf-8")).hexdigest()


class NonFiniteNumberError(ValueError):
    """A NaN or infinity where canonical JSON must hold a number (it has no JSON form)."""


def _non_finite_path(value: Any, path: str = "") -> Optional[str]:
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(top level)"
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _non_finite_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


def legacy_hash_json(value: Any) -> str:
    """The JSON form of two hash formats fixed before NaN was refused (an attempt's record hash
    and its sweep windows' hash): kept byte for byte so that existing cases still verify."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8; NaN and infinities are refused (they are not JSON,
    and a record holding one cannot be re-checked by another program)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        where = _non_finite_path(value)
        if where is None:
            raise
        raise NonFiniteNumberError(f"'{where}' is not a finite number; a record cannot hold NaN or infinity") from exc


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
    if row is None:
        uuid_row = conn.execute("SELECT value FROM meta WHERE key = 'case_uuid'").fetchone()
        prev_hash = genesis_hash(str(uuid_row[0])) if uuid_row else LEGACY_GENESIS_HASH
    else:
        prev_hash = str(row[1])
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


@dataclass(frozen=True)
class Head:
    """The chain's end: the last entry's hash and the number of entries."""

    hash: str
    entries: int

    def __str__(self) -> str:
        return f"{self.hash} ({self.entries} entries)"


def head(conn: sqlite3.Connection) -> Head:
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    count = int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    return Head(str(row[1]) if row else "", count)


def check_chain(conn: sqlite3.Connection, genesis: Optional[str] = None) -> Optional[ChainBreak]:
    """Return the first broken entry, or None when the chain is intact.

    ``genesis``: the expected ``prev_hash`` of entry 1 (:func:`genesis_hash` of
    the case UUID); ``None`` accepts the anchored or the legacy genesis (the
    caller then says which it found).
    """
    expected_prev = genesis
    expected_seq = 1
    for seq, at, actor, event, subject, payload_json, prev_hash, digest in conn.execute(
        "SELECT seq, at, actor, event, subject, payload_json, prev_hash, hash FROM audit_log ORDER BY seq"
    ):
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing (next entry is {seq})")
        if expected_prev is None:
            expected_prev = prev_hash  # the caller checks the genesis itself
        if prev_hash != expected_prev:
            if seq == 1:
                return ChainBreak(1, "it does not start from this case's genesis value (the chain belongs to "
                                     "another case or was rebuilt)")
            return ChainBreak(seq, "its link to the previous entry does not match (an earlier entry was changed or removed)")
        recomputed = entry_hash(seq, at, actor, event, subject, payload_json, prev_hash)
        if recomputed != digest:
            return ChainBreak(seq, "its content no longer matches its hash (the entry was edited)")
        expected_prev = digest
        expected_seq += 1
    return None
