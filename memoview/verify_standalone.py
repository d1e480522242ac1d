#!/usr/bin/env python3
"""Check a memoview case file without memoview: one file, Python standard library only.

    python3 verify_standalone.py CASE.memoview [--expect-head HASH] [--json]

Written for the other side of a matter: it does not import memoview, so it
checks the case file without trusting memoview's code. Read it; it is short.
It opens the case read-only (it never writes to it) and checks:

1. the audit hash chain: every entry's SHA-256 over its fields and the
   previous entry's hash, from the genesis value derived from the case's UUID
   (``SHA-256("memoview-audit-chain/2 " + uuid)``; cases written before
   anchoring start from 64 zeros and are reported so), entry 1 being the
   creation entry that names the UUID and creation time;
2. every evidence row of every bound table, against the SHA-256 recorded for
   it by the latest audit entry that wrote it, in both directions. The list
   of bound tables and the protective triggers' SQL are read from the chain
   itself (the ``binding_spec`` of the creation or upgrade entry), so this
   file needs no update when memoview binds a new table;
3. the protective triggers, by name and SQL, and that no other trigger exists;
4. documents' text and original bytes against their SHA-256 and against the
   hashes logged at import; each attempt's record, output and sweep windows
   against the hashes logged when it was recorded;
5. with ``--expect-head``, that the chain passes through that head (for
   example the head printed in an exhibit).

It prints the chain's head (last entry hash) and entry count. Exit status: 0
when everything checks out, 3 when something does not (each problem named),
2 when the file cannot be read as a memoview case.

What this cannot prove: someone with write access to the file can rebuild a
whole consistent chain. The anchors are outside the file: a head printed in a
filed exhibit, checked here with ``--expect-head``. Recorded times and users
are self-asserted by the machine that wrote them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys

LEGACY_GENESIS = "0" * 64
CHAIN_FORMAT = "memoview-audit-chain/2"
MIGRATION_EVENTS = ("case.migrate", "case.binding-spec")
# The tables a format-2 case must bind (a spec without them was not written by memoview).
REQUIRED_TABLES = ("documents", "document_blobs", "models", "protocols", "attempts", "sweep_windows",
                   "alignments", "annotations")
# Format-1 cases (before the spec was recorded in the chain) had exactly these triggers.
LEGACY_TRIGGERS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "attempts_no_delete": "CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts "
                          "BEGIN SELECT RAISE(ABORT, 'attempts are never deleted; hide them with an annotation'); END",
}


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def canonical_json(value):
    """Sorted keys, no whitespace, UTF-8 characters as they are; NaN and infinity refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def legacy_hash_json(value):
    """The JSON form of the attempt-record and sweep-window hashes (fixed before NaN was refused)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def entry_hash(seq, at, actor, event, subject, payload_json, prev_hash):
    body = canonical_json({"seq": seq, "at": at, "actor": actor, "event": event, "subject": subject,
                           "payload": payload_json, "prev_hash": prev_hash})
    return sha256_hex(body.encode("utf-8"))


def genesis_hash(case_uuid):
    return sha256_hex(f"{CHAIN_FORMAT} {case_uuid}".encode("utf-8"))


def encode_value(value):
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return {"blob_sha256": sha256_hex(data), "blob_len": len(data)}
    return value


def row_sha256(table, row, exclude=()):
    """row-sha256/1: SHA-256 of canonical JSON of {"table", "row": non-NULL columns}."""
    body = {"table": table, "row": {c: encode_value(v) for c, v in row.items() if v is not None and c not in exclude}}
    return sha256_hex(canonical_json(body).encode("utf-8"))


def describe_row(table, key):
    try:
        values = json.loads(key)
    except ValueError:
        values = [key]
    return f"{table} row {', '.join(str(v) for v in values)}"


def connect_read_only(path):
    uri = "file:" + os.path.abspath(path).replace("?", "%3f").replace("#", "%23")
    try:
        conn = sqlite3.connect(uri + "?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        conn = sqlite3.connect(uri + "?immutable=1", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn


class Report:
    def __init__(self):
        self.problems = []  # (subject, reason)
        self.notes = []
        self.head = ""
        self.entries = 0
        self.rows_checked = 0
        self.expect_head_entry = None
        self.after_expected = 0

    def problem(self, subject, reason):
        self.problems.append((subject, reason))


def columns(conn, table):
    return [r[1] for r in conn.execute(f'PRAGMA main.table_info("{table}")')]


def table_exists(conn, table):
    return conn.execute("SELECT 1 FROM main.sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def check_chain(conn, meta, rep):
    rows = conn.execute("SELECT seq, at, actor, event, subject, payload_json, prev_hash, hash FROM audit_log "
                        "ORDER BY seq").fetchall()
    rep.entries = len(rows)
    rep.head = rows[-1][7] if rows else ""
    entries = []
    if not rows:
        rep.problem("audit log", "it is empty (the case.create entry is missing)")
        return entries
    case_uuid = meta.get("case_uuid", "")
    anchored = rows[0][6] != LEGACY_GENESIS
    expected_prev = genesis_hash(case_uuid) if anchored else LEGACY_GENESIS
    broken = False
    for i, (seq, at, actor, event, subject, payload_json, prev_hash, digest) in enumerate(rows, 1):
        try:
            payload = json.loads(payload_json)
        except (TypeError, ValueError):
            payload = {}
        entries.append((seq, at, event, subject, payload, digest))
        if broken:
            continue
        if seq != i:
            rep.problem(f"audit entry {i}", f"entry {i} is missing (next entry is {seq})")
            broken = True
        elif prev_hash != expected_prev:
            if seq == 1:
                rep.problem("audit entry 1", "it does not start from this case's genesis value (the chain belongs "
                                             "to another case or was rebuilt)")
            else:
                rep.problem(f"audit entry {seq}", "its link to the previous entry does not match (an earlier entry "
                                                  "was changed or removed)")
            broken = True
        elif entry_hash(seq, at, actor, event, subject, payload_json, prev_hash) != digest:
            rep.problem(f"audit entry {seq}", "its content no longer matches its hash (the entry was edited)")
            broken = True
        expected_prev = digest
    first = entries[0]
    if first[2] != "case.create":
        rep.problem("audit entry 1", f"it is '{first[2]}', not the case.create entry")
    payload = first[4] if isinstance(first[4], dict) else {}
    if anchored:
        if payload.get("case_uuid") != case_uuid:
            rep.problem("case UUID", "the file's UUID differs from the one named by its creation entry")
        if payload.get("created_at") != meta.get("created_at"):
            rep.problem("creation time", "the case's recorded creation time differs from its creation entry")
    else:
        if "case_uuid" in payload or "binding_spec" in payload:
            rep.problem("audit entry 1", "it is a format-2 creation entry but the chain starts from the format-1 "
                                         "genesis value (the chain was rebuilt)")
        migrated = [e for e in entries if e[2] == "case.migrate" and isinstance(e[4], dict) and "case_uuid" in e[4]]
        if migrated and migrated[0][4].get("case_uuid") != case_uuid:
            rep.problem("case UUID", f"the file's UUID differs from the one named by upgrade entry {migrated[0][0]}")
        rep.notes.append("the chain starts from the format-1 genesis value (written before anchoring)"
                         + (f"; the UUID is bound from entry {migrated[0][0]}" if migrated else ""))
    return entries


def check_triggers(conn, expected, rep):
    found = {name: sql or "" for name, sql in conn.execute("SELECT name, sql FROM main.sqlite_master WHERE type='trigger'")}

    def norm(sql):
        return " ".join((sql or "").split())

    for name, sql in expected.items():
        if name not in found:
            rep.problem(f"trigger {name}", "a protection of the evidence tables was removed")
        elif norm(found[name]) != norm(sql):
            rep.problem(f"trigger {name}", "its SQL differs from the recorded one (it was replaced)")
    for name in sorted(set(found) - set(expected)):
        rep.problem(f"trigger {name}", "it is not one memoview creates")


def check_bindings(conn, entries, tables, rep):
    bound = {}
    for seq, _at, event, _subject, payload, _digest in entries:
        rows = payload.get("rows") if isinstance(payload, dict) else None
        if isinstance(rows, dict):
            for tbl, keyed in rows.items():
                if isinstance(keyed, dict):
                    for key, digest in keyed.items():
                        bound[(tbl, key)] = (seq, event, digest)
    legacy = 0
    for table, spec in sorted(tables.items()):
        key_cols = list(spec.get("key") or ["id"])
        actions = list(spec.get("actions") or [])
        exclude = set(spec.get("exclude") or [])
        if not table_exists(conn, table):
            if any(t == table and v[2] for (t, _k), v in bound.items()):
                rep.problem(f"table {table}", "the table holding bound evidence rows was removed")
            continue
        cols = columns(conn, table)
        order = ", ".join(f'"{k}"' for k in key_cols)
        seen = set()
        for values in conn.execute(f'SELECT * FROM main."{table}" ORDER BY {order}'):
            row = dict(zip(cols, values))
            key = canonical_json([row[k] for k in key_cols])
            seen.add(key)
            rep.rows_checked += 1
            subject = describe_row(table, key)
            entry = bound.get((table, key))
            if entry is None:
                rep.problem(subject, "it has no audit entry")
                continue
            try:
                digest = row_sha256(table, row, exclude)
            except ValueError:
                digest = None
            if entry[2] != digest:
                rep.problem(subject, f"it was changed after audit entry {entry[0]} ({entry[1]}) recorded it")
            elif actions and entry[1] not in actions and entry[1] not in MIGRATION_EVENTS:
                rep.problem(subject, f"it was recorded by audit entry {entry[0]} ({entry[1]}), an action that never "
                                     f"writes {table}")
            if entry[1] == "case.migrate":
                legacy += 1
        for (tbl, key), entry in bound.items():
            if tbl == table and key not in seen and entry[2] is not None:
                rep.problem(describe_row(tbl, key), f"audit entry {entry[0]} ({entry[1]}) recorded it, but the row is gone")
    if legacy:
        rep.notes.append(f"{legacy} row(s) predate row binding and were bound when the case was upgraded from format 1")


def check_documents_and_attempts(conn, entries, rep):
    imported, recorded = {}, {}
    for _seq, _at, event, subject, payload, _digest in entries:
        if event == "document.import":
            imported[subject] = payload
        elif event == "attempt.record":
            recorded[subject] = payload
    for doc_id, text, text_sha, raw_sha, raw in conn.execute(
            "SELECT d.id, d.text, d.text_sha256, d.raw_sha256, b.raw FROM documents d "
            "LEFT JOIN document_blobs b ON b.document_id = d.id ORDER BY d.id"):
        subject = f"document {doc_id}"
        if sha256_hex((text or "").encode("utf-8")) != text_sha:
            rep.problem(subject, "its text no longer matches its SHA-256")
        if raw is None or sha256_hex(bytes(raw)) != raw_sha:
            rep.problem(subject, "its raw bytes no longer match their SHA-256")
        logged = imported.get(f"document:{doc_id}")
        if logged is None:
            rep.problem(subject, "its import is not in the audit log")
        elif logged.get("raw_sha256") != raw_sha or logged.get("text_sha256") != text_sha:
            rep.problem(subject, "its hashes differ from those logged at import")
    cols = columns(conn, "attempts")
    for values in conn.execute("SELECT * FROM attempts ORDER BY id"):
        row = dict(zip(cols, values))
        subject = f"attempt {row['id']}"
        logged = recorded.get(f"attempt:{row['id']}")
        if logged is None:
            rep.problem(subject, "it is not in the audit log")
            continue
        try:
            record = sha256_hex(legacy_hash_json({k: row[k] for k in sorted(row) if k != "id"}).encode("utf-8"))
        except ValueError:
            record = None
        if logged.get("record_sha256") != record:
            rep.problem(subject, "its record was changed after it was logged")
        if row.get("output_text") and row.get("output_sha256") != sha256_hex(row["output_text"].encode("utf-8")):
            rep.problem(subject, "its output text no longer matches its output SHA-256")
        windows = conn.execute(
            "SELECT idx, start_token, start_char, end_char, prefix_start_char, greedy_exact, memorization_score,"
            " log10_p, log10_pz, continuation FROM sweep_windows WHERE attempt_id = ? ORDER BY idx",
            (row["id"],)).fetchall()
        try:
            windows_sha = sha256_hex(legacy_hash_json([list(w) for w in windows]).encode("utf-8"))
        except ValueError:
            windows_sha = None
        if logged.get("windows_sha256") != windows_sha:
            rep.problem(subject, "its sweep windows were changed")


def verify(path, expect_head=None):
    rep = Report()
    conn = connect_read_only(path)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != "memoview-case":
            raise ValueError(f"{path} is not a memoview case file")
        version = max(int(conn.execute("PRAGMA user_version").fetchone()[0]),
                      int(meta.get("schema_version", "0") or 0))
        entries = check_chain(conn, meta, rep)
        spec = None
        for entry in entries:
            if entry[2] == "case.migrate" and isinstance(entry[4], dict) and entry[4].get("format_reset_detected"):
                rep.problem("case format", f"the file's format number was set back to 1 before audit entry {entry[0]}")
            if isinstance(entry[4], dict) and isinstance(entry[4].get("binding_spec"), dict):
                spec = entry[4]["binding_spec"]
        if spec is None:
            if version >= 2:
                rep.problem("case format", "the case is format 2 but its audit log records no binding spec")
            check_triggers(conn, LEGACY_TRIGGERS, rep)
            rep.notes.append("format-1 case not yet upgraded: its evidence rows are unbound legacy rows; checked: the "
                             "hash chain, document hashes and attempt records")
        else:
            if version < 2:
                rep.problem("case format", "the file claims format 1, but its audit log records format 2")
            tables = spec.get("tables") or {}
            for name in REQUIRED_TABLES:
                if name not in tables:
                    rep.problem("binding spec", f"the recorded spec does not bind {name}")
            check_triggers(conn, spec.get("triggers") or {}, rep)
            check_bindings(conn, entries, tables, rep)
        check_documents_and_attempts(conn, entries, rep)
        if expect_head:
            want = expect_head.strip().lower()
            hashes = [e[5] for e in entries]
            if want in hashes:
                rep.expect_head_entry = hashes.index(want) + 1
                rep.after_expected = len(hashes) - rep.expect_head_entry
            else:
                rep.problem("expected head", f"the case does not reach head {want[:16]}… (truncated, rebuilt, "
                                             "restored from an earlier copy, or another case)")
    finally:
        conn.close()
    return rep


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check a memoview case file with the Python standard library only.")
    parser.add_argument("case")
    parser.add_argument("--expect-head", metavar="HASH", help="the chain must pass through this head hash")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.case):
        print(f"error: no case file at {args.case}", file=sys.stderr)
        return 2
    try:
        rep = verify(args.case, args.expect_head)
    except (sqlite3.Error, ValueError) as exc:
        print(f"error: {args.case} cannot be checked as a memoview case: {exc}", file=sys.stderr)
        return 2
    ok = not rep.problems
    if args.json:
        print(json.dumps({"ok": ok, "head": rep.head, "entries": rep.entries, "rows_checked": rep.rows_checked,
                          "expect_head_entry": rep.expect_head_entry, "entries_after_expected_head": rep.after_expected,
                          "problems": [{"subject": s, "reason": r} for s, r in rep.problems], "notes": rep.notes},
                         indent=2, ensure_ascii=False))
    else:
        print(f"audit log  {rep.entries} entries, head {rep.head}")
        print(f"rows       {rep.rows_checked} evidence rows checked against their audit entries")
        if rep.expect_head_entry is not None:
            print(f"anchor     the expected head is entry {rep.expect_head_entry} of {rep.entries}; "
                  f"{rep.after_expected} entries were appended after it")
        for note in rep.notes:
            print(f"note: {note}")
        print("recorded times and users are self-asserted by the machine that wrote them")
        if ok and rep.rows_checked == 0 and any("legacy" in n for n in rep.notes):
            print("intact: the hash chain, document hashes and attempt records check out (format 1: rows not bound)")
        elif ok:
            print("intact: the hash chain, every evidence row's binding, document hashes and attempt records check out")
        else:
            print(f"BROKEN: {len(rep.problems)} problem(s)")
            for subject, reason in rep.problems:
                print(f"  {subject}: {reason}")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
