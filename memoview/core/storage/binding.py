"""Binding every evidence row into the audit hash chain.

The audit chain proves the order and content of its own entries. To make it
vouch for the evidence too, every audit entry that writes evidence rows
carries, in its payload under ``"rows"``, the SHA-256 of each row it wrote:

    "rows": {"documents": {"[5]": "<sha256 of the row>"}, "document_blobs": {"[5]": "..."}}

(the key is the canonical JSON of the row's key columns; ``null`` would record
a row removed by that action). ``case verify`` then checks both directions:
every row of a bound table has an entry whose latest hash matches it, and
every row an entry bound still exists. A row edited with ``sqlite3``, a row
deleted after dropping a protective trigger, or a row inserted without an
audit entry is named with the entry it contradicts.

**The one declarative list is :data:`BOUND_TABLES`.** To bind a new table, add
one line::

    RowBinding("http_exchanges", key=("id",), actions=("attempt.record",)),

- ``table``: the table's name; ``key``: the columns that identify a row
  (its primary key);
- ``actions``: the audit events allowed to write its rows (``()`` for any);
  writing a row under another event raises, so a mistake shows in the first
  test that writes one;
- ``exclude``: columns left out of the row hash (derived caches only; say why).

Nothing else is needed: rows are collected automatically. Each connection of
a writable case has TEMP triggers (not stored in the file) that note every
inserted, updated or deleted row of a bound table; the next audit entry in
the same transaction binds them (:func:`take_pending`), and a transaction
that wrote evidence rows without an audit entry is refused at commit. A case
that opens with a list different from the one recorded in its chain gets a
``case.binding-spec`` entry that records the new list and binds the rows
already there. The list (with the protective triggers' SQL) is itself
recorded in the chain, so the standalone verifier
(``memoview/verify_standalone.py``) reads it from the case instead of
trusting its own copy.

How a row is hashed (``row-sha256/1``): the SHA-256 of the canonical JSON of
``{"table": name, "row": {column: value}}`` with every non-NULL column not in
``exclude``; integers and text as themselves, floats as ``{"float":
float.hex(x)}`` (exact, and defined for every double), blobs as
``{"blob_sha256": ..., "blob_len": n}``. NULL columns are left out so that a
column added by a later migration does not change the hash of older rows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from memoview.core.storage.audit import canonical_json

ROW_HASH_RULE = "row-sha256/1"
SPEC_FORMAT = "memoview-row-binding/1"
# Events that may bind rows of any table: the upgrade of a case written before
# binding, and the recording of a changed BOUND_TABLES list.
MIGRATION_EVENTS = ("case.migrate", "case.binding-spec")


@dataclass(frozen=True)
class RowBinding:
    """One bound table: how its rows are identified and hashed, and which audit events write them."""

    table: str
    key: tuple[str, ...] = ("id",)
    actions: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"key": list(self.key), "actions": list(self.actions), "exclude": list(self.exclude),
                "hash": ROW_HASH_RULE}


# THE list of evidence tables bound into the audit chain (see the module docstring).
# Exhibits have no table: each export is itself an audit entry (with the PDF's SHA-256).
# Not bound: ``meta`` (its case_uuid and created_at are bound by the case.create entry and
# checked separately) and ``kgram_index`` (a search index derived from the documents' text).
BOUND_TABLES: tuple[RowBinding, ...] = (
    RowBinding("documents", ("id",), ("document.import", "document.control", "document.provenance")),
    RowBinding("document_blobs", ("document_id",), ("document.import",)),
    RowBinding("models", ("id",), ("model.add",)),
    RowBinding("protocols", ("id",), ("protocol.add",)),
    RowBinding("attempts", ("id",), ("attempt.record",)),
    RowBinding("sweep_windows", ("attempt_id", "idx"), ("attempt.record",)),
    RowBinding("alignments", ("id",), ("alignment.save",)),
    RowBinding("annotations", ("id",), ("annotation.add",)),
    RowBinding("server_exchanges", ("id",), ("attempt.record", "server.exchanges")),
)


def spec_json(bindings: Iterable[RowBinding], triggers: Mapping[str, str]) -> dict[str, Any]:
    """The binding list and the protective triggers, as recorded in the chain."""
    return {"format": SPEC_FORMAT, "tables": {b.table: b.to_json() for b in bindings},
            "triggers": dict(sorted(triggers.items()))}


def _encode(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return {"blob_sha256": hashlib.sha256(data).hexdigest(), "blob_len": len(data)}
    return value


def row_sha256(table: str, row: Mapping[str, Any], exclude: Iterable[str] = ()) -> str:
    skip = set(exclude)
    body = {"table": table,
            "row": {col: _encode(val) for col, val in row.items() if val is not None and col not in skip}}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def key_text(values: Iterable[Any]) -> str:
    """Canonical JSON of the key values (integer keys, the common case, without the JSON encoder)."""
    items = list(values)
    if all(type(v) is int for v in items):
        return "[" + ",".join(str(v) for v in items) + "]"
    return canonical_json(items)


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.execute(f'PRAGMA main.table_info("{table}")')]


def table_exists(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def iter_rows(conn: sqlite3.Connection, binding: RowBinding) -> Iterable[tuple[str, str]]:
    """``(key text, row hash)`` of every row of a bound table, in key order."""
    cols = _columns(conn, binding.table)
    order = ", ".join(f'"{k}"' for k in binding.key)
    for values in conn.execute(f'SELECT * FROM main."{binding.table}" ORDER BY {order}'):
        row = dict(zip(cols, values))
        yield key_text(row[k] for k in binding.key), row_sha256(binding.table, row, binding.exclude)


def hash_row(conn: sqlite3.Connection, binding: RowBinding, key: str,
             cols: Optional[list[str]] = None) -> Optional[str]:
    cols = cols or _columns(conn, binding.table)
    values = json.loads(key)
    where = " AND ".join(f'"{k}" = ?' for k in binding.key)
    found = conn.execute(f'SELECT * FROM main."{binding.table}" WHERE {where}', values).fetchone()
    return None if found is None else row_sha256(binding.table, dict(zip(cols, found)), binding.exclude)


# ---------------------------------------------------------------------- writing
PENDING = "mv_pending_rows"


def install_capture(conn: sqlite3.Connection, bindings: Iterable[RowBinding] = BOUND_TABLES) -> None:
    """TEMP triggers (this connection only, never stored in the case) noting every written evidence row."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {PENDING} (tbl TEXT NOT NULL, k TEXT NOT NULL, r INTEGER, "
                 "PRIMARY KEY (tbl, k))")
    for b in bindings:
        if not table_exists(conn, b.table):
            continue
        new = "json_array(" + ", ".join(f'NEW."{k}"' for k in b.key) + ")"
        old = "json_array(" + ", ".join(f'OLD."{k}"' for k in b.key) + ")"
        note = f"INSERT OR IGNORE INTO {PENDING}(tbl, k, r) VALUES ('{b.table}', %s, %s.rowid);"
        for when, body in (("INSERT", note % (new, "NEW")), ("UPDATE", note % (old, "OLD") + " " + note % (new, "NEW")),
                           ("DELETE", note % (old, "OLD"))):
            conn.execute(f'CREATE TEMP TRIGGER IF NOT EXISTS "mv_capture_{b.table}_{when.lower()}" AFTER {when} '
                         f'ON main."{b.table}" BEGIN {body} END')


def has_pending(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute(f"SELECT 1 FROM temp.{PENDING} LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError:  # capture not installed (read-only case)
        return False


def clear_pending(conn: sqlite3.Connection) -> None:
    try:
        conn.execute(f"DELETE FROM temp.{PENDING}")
    except sqlite3.OperationalError:
        pass


class UndeclaredBindingError(RuntimeError):
    """A programming error: an audit event wrote rows of a table whose BOUND_TABLES line does not allow it."""


def take_pending(conn: sqlite3.Connection, event: str,
                 bindings: Iterable[RowBinding] = BOUND_TABLES) -> dict[str, dict[str, Optional[str]]]:
    """The rows written since the last audit entry, hashed as they are now; the notes are cleared."""
    if not has_pending(conn):
        return {}
    by_table = {b.table: b for b in bindings}
    rows: dict[str, dict[str, Optional[str]]] = {}
    pending: dict[str, list[tuple[str, int]]] = {}
    for tbl, key, rowid in conn.execute(f"SELECT tbl, k, r FROM temp.{PENDING} ORDER BY tbl, k").fetchall():
        binding = by_table[tbl]
        if binding.actions and event not in binding.actions and event not in MIGRATION_EVENTS:
            raise UndeclaredBindingError(
                f"audit event '{event}' wrote rows of '{tbl}', but BOUND_TABLES allows only {binding.actions}")
        pending.setdefault(tbl, []).append((key_text(json.loads(key)), rowid))
    for tbl, keyed in pending.items():
        binding = by_table[tbl]
        cols = _columns(conn, tbl)
        # One query per table by rowid (the rows just written), then each row checked against its key:
        # a row whose key an UPDATE changed no longer stands under its old key.
        found: dict[int, dict[str, Any]] = {}
        for values in conn.execute(f'SELECT rowid, * FROM main."{tbl}" WHERE rowid IN '
                                   f"(SELECT r FROM temp.{PENDING} WHERE tbl = ?)", (tbl,)):
            found[int(values[0])] = dict(zip(cols, values[1:]))
        out = rows.setdefault(tbl, {})
        for key, rowid in keyed:
            row = found.get(rowid) if rowid is not None else None
            if row is not None and key_text(row[k] for k in binding.key) == key:
                out[key] = row_sha256(tbl, row, binding.exclude)
            else:
                out[key] = hash_row(conn, binding, key, cols)  # a WITHOUT ROWID table, or a moved key
    clear_pending(conn)
    return rows


def bind_existing(conn: sqlite3.Connection, bindings: Iterable[RowBinding],
                  already: Optional[Mapping[tuple[str, str], Any]] = None) -> dict[str, dict[str, Optional[str]]]:
    """Hashes of the rows not yet bound (all rows when ``already`` is None), for a migration entry."""
    rows: dict[str, dict[str, Optional[str]]] = {}
    for b in bindings:
        if not table_exists(conn, b.table):
            continue
        for key, digest in iter_rows(conn, b):
            if already is None or (b.table, key) not in already:
                rows.setdefault(b.table, {})[key] = digest
    return rows


# ---------------------------------------------------------------------- checking
@dataclass(frozen=True)
class Bound:
    """The latest audit entry that bound one row."""

    seq: int
    event: str
    sha256: Optional[str]


def latest_bindings(entries: Iterable[tuple[int, str, Mapping[str, Any]]]) -> dict[tuple[str, str], Bound]:
    """``(table, key) -> Bound`` from ``(seq, event, payload)`` triples in chain order."""
    out: dict[tuple[str, str], Bound] = {}
    for seq, event, payload in entries:
        rows = payload.get("rows") if isinstance(payload, dict) else None
        if not isinstance(rows, dict):
            continue
        for tbl, keyed in rows.items():
            if not isinstance(keyed, dict):
                continue
            for key, digest in keyed.items():
                out[(str(tbl), str(key))] = Bound(seq, event, digest)
    return out


def describe_row(table: str, key: str) -> str:
    try:
        values = json.loads(key)
    except ValueError:
        values = [key]
    return f"{table} row {', '.join(str(v) for v in values)}"


def check_rows(conn: sqlite3.Connection, bindings: Iterable[RowBinding],
               bound: Mapping[tuple[str, str], Bound]) -> tuple[list[tuple[str, str]], int, int]:
    """Both directions; returns ``(problems as (subject, reason), rows checked, legacy-bound rows)``."""
    problems: list[tuple[str, str]] = []
    checked = 0
    legacy = 0
    tables = list(bindings)
    for b in tables:
        if not table_exists(conn, b.table):
            if any(t == b.table and v.sha256 for (t, _k), v in bound.items()):
                problems.append((f"table {b.table}", "the table holding bound evidence rows was removed"))
            continue
        seen: set[str] = set()
        for key, digest in iter_rows(conn, b):
            checked += 1
            seen.add(key)
            entry = bound.get((b.table, key))
            if entry is None:
                problems.append((describe_row(b.table, key),
                                 "it has no audit entry (inserted outside memoview, or its entry was removed)"))
                continue
            if entry.sha256 != digest:
                problems.append((describe_row(b.table, key),
                                 f"it was changed after audit entry {entry.seq} ({entry.event}) recorded it"))
            elif b.actions and entry.event not in b.actions and entry.event not in MIGRATION_EVENTS:
                problems.append((describe_row(b.table, key), f"it was recorded by audit entry {entry.seq} "
                                                             f"({entry.event}), an action that never writes {b.table}"))
            if entry.event in MIGRATION_EVENTS and entry.event == "case.migrate":
                legacy += 1
        for (tbl, key), entry in bound.items():
            if tbl == b.table and entry.sha256 is not None and key not in seen:
                problems.append((describe_row(tbl, key),
                                 f"audit entry {entry.seq} ({entry.event}) recorded it, but the row is gone"))
    return problems, checked, legacy


def normalize_sql(sql: Optional[str]) -> str:
    return " ".join((sql or "").split())


def check_triggers(conn: sqlite3.Connection, expected: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every expected trigger present with the same SQL; no other trigger in the case file."""
    problems: list[tuple[str, str]] = []
    found = {str(name): str(sql or "") for name, sql in
             conn.execute("SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger'")}
    for name, sql in expected.items():
        if name not in found:
            problems.append((f"trigger {name}", "a protection of the evidence tables was removed"))
        elif normalize_sql(found[name]) != normalize_sql(sql):
            problems.append((f"trigger {name}", "its SQL differs from memoview's (it was replaced by another trigger "
                                                "of the same name)"))
    for name in sorted(set(found) - set(expected)):
        problems.append((f"trigger {name}", "it is not one memoview creates (a trigger can rewrite evidence as it is "
                                            "written)"))
    return problems
