"""The ``attempts`` and ``sweep_windows`` tables: recording a finished attempt, and reading attempts back.

An attempt, its sweep windows, a served model's HTTP exchanges and the
``attempt.record`` audit entry binding them are written in one transaction
(:func:`insert`), so a killed process loses at most the attempt in flight.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from memoview.core import errors
from memoview.core.records import Attempt, SweepWindow
from memoview.core.remote import evidence as remote_evidence
from memoview.core.storage import exchanges as exchange_store
from memoview.core.storage.connection import SQLITE_MAX_INT, Store, Transaction
from memoview.core.storage.rows import Row, attempt_from_row, attempt_record_hash, insert_windows, windows_hash


def insert(tx: Transaction, row: Row, windows: Iterable[SweepWindow], exchanges: Sequence[Any]) -> int:
    """Write one attempt row, its windows and exchanges, and the audit entry that binds them; its id."""
    cur = tx.execute(f"INSERT INTO attempts({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     tuple(row.values()))
    attempt_id = int(cur.lastrowid or 0)
    insert_windows(tx.conn, attempt_id, windows)
    if exchanges:  # before the audit entry, which binds every row written in this transaction
        exchange_store.insert(tx.conn, attempt_id, row["model_id"], exchanges)
    tx.audit("attempt.record", f"attempt:{attempt_id}", {
        "method": row["method"],
        "status": row["status"],
        "document_id": row["document_id"],
        "model_id": row["model_id"],
        "output_sha256": row["output_sha256"],
        "record_sha256": attempt_record_hash(row),
        "windows_sha256": windows_hash(tx.conn, attempt_id),
        **({"exchanges_sha256": remote_evidence.summary(list(exchanges))["combined_sha256"]} if exchanges else {}),
    })
    return attempt_id


def get(store: Store, attempt_id: int) -> Attempt:
    rows = (store.query("SELECT * FROM attempts WHERE id = ?", (attempt_id,))
            if 0 <= attempt_id <= SQLITE_MAX_INT else [])
    if not rows:
        raise errors.NotFoundError(f"The case has no attempt {attempt_id}.")
    return attempt_from_row(rows[0])


def select(store: Store, filters: Sequence[tuple[str, Optional[Any]]]) -> list[Attempt]:
    """Attempts whose ``column = value`` for every filter whose value is not None, in id order."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return [attempt_from_row(r) for r in store.query(f"SELECT * FROM attempts{where} ORDER BY id", params)]
