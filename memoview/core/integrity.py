"""Verification of a case file: everything the case asserts, checked from the file alone.

What ``memoview case verify`` checks (and ``memoview/verify_standalone.py``
re-checks with the Python standard library only):

1. the audit hash chain, from its genesis value (bound to the case UUID) to
   its head; entry 1 must be the ``case.create`` entry naming the case's UUID
   and creation time (``meta`` must agree);
2. every evidence row of every table in ``storage.binding.BOUND_TABLES``
   against the latest audit entry that bound it, in both directions (a row
   without an entry, an entry whose row is gone, a row changed since);
3. the protective triggers, by name *and* SQL, and no unknown trigger;
4. documents: text and original bytes against their SHA-256 and against the
   hashes logged at import; attempts: record and sweep windows against the
   hashes logged when they were recorded (the format-1 checks, kept);
5. optionally, that the chain passes through a head printed earlier
   (``--expect-head``, e.g. from an exhibit): a truncated, rebuilt or
   restored-from-backup case does not.

Cases written by format 1 (before row binding) are upgraded when opened
writable: the ``case.migrate`` entry records the pre-upgrade check and binds
every row that exists at that moment; verify then reports those rows as
*bound at upgrade* (changes made before the upgrade are caught only by the
format-1 checks of item 4). A format-1 case opened read-only cannot be
upgraded: its rows are reported as *unbound legacy rows*, as a warning, and
the format-1 checks still apply.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Optional

from memoview import __version__
from memoview.core.storage import audit, binding
from memoview.core.storage import exchanges as exchange_store
from memoview.core.storage.rows import attempt_record_hash, windows_hash
from memoview.core.storage.schema import expected_triggers
from memoview.core.verification import VerifyProblem, VerifyReport

if TYPE_CHECKING:
    from memoview.core.case import Case

SELF_ASSERTED = "self-asserted"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entries(case: "Case") -> list[Any]:
    with case.reading() as conn:
        return list(audit.iter_entries(conn))


def latest_recorded_spec(entries: list[Any]) -> Optional[dict[str, Any]]:
    spec = None
    for entry in entries:
        if isinstance(entry.payload, dict) and isinstance(entry.payload.get("binding_spec"), dict):
            spec = entry.payload["binding_spec"]
    return spec


def _legacy_checks(case: "Case", entries: list[Any]) -> tuple[list[tuple[str, str, str]], int, int]:
    """Format-1 checks: documents' and attempts' hashes against the entries logged with them."""
    problems: list[tuple[str, str, str]] = []
    imported: dict[str, dict[str, Any]] = {}
    recorded: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry.event == "document.import":
            imported[entry.subject] = entry.payload
        elif entry.event == "attempt.record":
            recorded[entry.subject] = entry.payload
    docs = 0
    for row in case.query("SELECT d.id, d.text, d.text_sha256, d.raw_sha256, b.raw FROM documents d"
                          " LEFT JOIN document_blobs b ON b.document_id = d.id ORDER BY d.id"):
        docs += 1
        subject = f"document {row['id']}"
        if _sha256((row["text"] or "").encode("utf-8")) != row["text_sha256"]:
            problems.append(("document", subject, "its text no longer matches its SHA-256"))
        if row["raw"] is None or _sha256(bytes(row["raw"])) != row["raw_sha256"]:
            problems.append(("document", subject, "its raw bytes no longer match their SHA-256"))
        logged = imported.get(f"document:{row['id']}")
        if logged is None:
            problems.append(("document", subject, "its import is not in the audit log"))
        elif logged.get("raw_sha256") != row["raw_sha256"] or logged.get("text_sha256") != row["text_sha256"]:
            problems.append(("document", subject, "its hashes differ from those logged at import"))
    attempts = 0
    for row in case.query("SELECT * FROM attempts ORDER BY id"):
        attempts += 1
        subject = f"attempt {row['id']}"
        logged = recorded.get(f"attempt:{row['id']}")
        if logged is None:
            problems.append(("attempt", subject, "it is not in the audit log"))
            continue
        try:
            record: Optional[str] = attempt_record_hash(row)
        except ValueError:  # a NaN or infinity put into the record
            record = None
        if logged.get("record_sha256") != record:
            problems.append(("attempt", subject, "its record was changed after it was logged"))
        if row["output_text"] and row["output_sha256"] != _sha256(row["output_text"].encode("utf-8")):
            problems.append(("attempt", subject, "its output text no longer matches its output SHA-256"))
        try:
            with case.reading() as conn:
                windows: Optional[str] = windows_hash(conn, int(row["id"]))
        except ValueError:
            windows = None
        if logged.get("windows_sha256") != windows:
            problems.append(("attempt", subject, "its sweep windows were changed"))
    return problems, docs, attempts


def _check_anchor(case: "Case", entries: list[Any], report: VerifyReport) -> None:
    meta = case.meta()
    case_uuid = meta.get("case_uuid", "")
    if not entries:
        report.problems.append(VerifyProblem("audit", "audit log", "it is empty (the case.create entry is missing)"))
        return
    first = entries[0]
    report.anchored = first.prev_hash != audit.LEGACY_GENESIS_HASH
    genesis = audit.genesis_hash(case_uuid) if report.anchored else audit.LEGACY_GENESIS_HASH
    with case.reading() as conn:
        broken = audit.check_chain(conn, genesis)
    if broken is not None:
        report.problems.append(VerifyProblem("audit", f"audit entry {broken.seq}", broken.reason))
    if first.event != "case.create":
        report.problems.append(VerifyProblem("audit", "audit entry 1", f"it is '{first.event}', not the case.create entry"))
    payload = first.payload if isinstance(first.payload, dict) else {}
    if report.anchored:
        if payload.get("case_uuid") != case_uuid:
            report.problems.append(VerifyProblem(
                "anchor", "case UUID", f"the file says {case_uuid or '(none)'}, its creation entry says "
                                       f"{payload.get('case_uuid') or '(none)'}"))
        if payload.get("created_at") != meta.get("created_at"):
            report.problems.append(VerifyProblem(
                "anchor", "creation time", "the case's recorded creation time differs from its creation entry"))
    else:
        if "case_uuid" in payload or "binding_spec" in payload:
            report.problems.append(VerifyProblem(
                "anchor", "audit entry 1", "it is a format-2 creation entry but the chain starts from the format-1 "
                                           "genesis value (the chain was rebuilt)"))
        migrated = [e for e in entries if e.event == "case.migrate" and isinstance(e.payload, dict)
                    and "case_uuid" in e.payload]
        if migrated:
            if migrated[0].payload.get("case_uuid") != case_uuid:
                report.problems.append(VerifyProblem(
                    "anchor", "case UUID", f"the file says {case_uuid}, the upgrade entry {migrated[0].seq} says "
                                           f"{migrated[0].payload.get('case_uuid')}"))
            report.warnings.append(
                f"the chain starts from the format-1 genesis value (written before anchoring); the case UUID is bound "
                f"from entry {migrated[0].seq} (case.migrate), not from entry 1")
        else:
            report.warnings.append("the chain starts from the format-1 genesis value and is not bound to the case UUID "
                                   "(a format-1 case not yet upgraded)")


def _check_expected_head(entries: list[Any], report: VerifyReport, expected: str) -> None:
    want = expected.strip().lower()
    report.expect_head = want
    for i, entry in enumerate(entries):
        if entry.hash == want:
            report.expect_head_seq = entry.seq
            report.after_expected = [f"{e.seq} {e.event} {e.subject} (at {e.at}, {SELF_ASSERTED})"
                                     for e in entries[i + 1:]]
            return
    if len(want) != 64 or any(c not in "0123456789abcdef" for c in want):
        report.problems.append(VerifyProblem("anchor", "expected head", f"'{expected}' is not a SHA-256 (64 hex digits)"))
        return
    report.problems.append(VerifyProblem(
        "anchor", "expected head", f"the case does not reach head {want[:16]}… (its chain has {len(entries)} entries "
                                   "and none has that hash): the case was truncated, rebuilt or restored from an "
                                   "earlier copy, or the head belongs to another case"))


def _exchange_checks(case: "Case", entries: list[Any]) -> list[tuple[int, str]]:
    """A served model's stored HTTP bodies against their own SHA-256 and the attempt's audit entry."""
    logged = {e.subject: e.payload.get("exchanges_sha256") for e in entries
              if e.event == "attempt.record" and isinstance(e.payload, dict)}
    found: list[tuple[int, str]] = []
    with case.reading() as conn:
        if not exchange_store.table_exists(conn):
            return found
        ids = [int(r[0]) for r in conn.execute(
            "SELECT DISTINCT attempt_id FROM server_exchanges WHERE attempt_id IS NOT NULL ORDER BY attempt_id")]
        for attempt_id in ids:
            reason = exchange_store.check_attempt(conn, attempt_id, logged.get(f"attempt:{attempt_id}"))
            if reason:
                found.append((attempt_id, reason))
    return found


def verify_case(case: "Case", *, expect_head: Optional[str] = None) -> VerifyReport:
    report = VerifyReport(read_only=case.read_only)
    entries = _entries(case)
    head = case.head()
    report.audit_entries, report.head_hash = head.entries, head.hash
    _check_anchor(case, entries, report)
    if expect_head:
        _check_expected_head(entries, report, expect_head)
    version = case.format_version
    recorded = latest_recorded_spec(entries)
    for entry in entries:
        if entry.event == "case.migrate" and isinstance(entry.payload, dict) and entry.payload.get("format_reset_detected"):
            report.problems.append(VerifyProblem(
                "schema", "case format", f"the file's format number was set back to 1 before audit entry {entry.seq} "
                                         "although its audit log records format 2 (to escape the row checks)"))
    if version < 2 and recorded is not None:
        report.problems.append(VerifyProblem(
            "schema", "case format", "the file claims format 1, but its audit log records format 2 (the format was "
                                     "set back to escape the row checks)"))
        version = 2
    with case.reading() as conn:
        for subject, reason in binding.check_triggers(conn, expected_triggers(version)):
            report.problems.append(VerifyProblem("schema", subject, reason))
    if version >= 2:
        tables = list(binding.BOUND_TABLES)
        known = {b.table for b in tables}
        for name, spec in ((recorded or {}).get("tables") or {}).items():
            if name not in known:  # a table bound by a newer memoview: checked with its recorded spec
                tables.append(binding.RowBinding(name, tuple(spec.get("key") or ("id",)),
                                                 tuple(spec.get("actions") or ()), tuple(spec.get("exclude") or ())))
        if recorded is not None and set((recorded.get("tables") or {})) != known:
            report.warnings.append("the case records a different list of bound tables than this memoview "
                                   f"({', '.join(sorted(recorded.get('tables') or {}))}); each was checked")
        bound = binding.latest_bindings((e.seq, e.event, e.payload) for e in entries)
        with case.reading() as conn:
            problems, checked, legacy = binding.check_rows(conn, tables, bound)
        report.rows_checked = checked
        for subject, reason in problems:
            report.problems.append(VerifyProblem("binding", subject, reason))
        if legacy:
            upgrade = next((e for e in entries if e.event == "case.migrate" and "rows" in e.payload), None)
            where = f"audit entry {upgrade.seq} (case.migrate, at {upgrade.at}, {SELF_ASSERTED})" if upgrade else "the upgrade"
            report.warnings.append(
                f"{legacy} evidence row(s) predate row binding and were bound when the case was upgraded from format 1 "
                f"by {where}; changes made to them before the upgrade are caught only by the document and attempt "
                "hash checks")
    else:
        with case.reading() as conn:
            count = sum(1 for b in binding.BOUND_TABLES if binding.table_exists(conn, b.table)
                        for _ in binding.iter_rows(conn, b))
        report.warnings.append(
            f"format-1 case{' opened read-only' if case.read_only else ''}: its {count} evidence row(s) are unbound "
            "legacy rows (format 1 had no row binding); checked: the hash chain, document hashes and attempt records. "
            "Open it writable once to upgrade it and bind them.")
    legacy_problems, report.documents_checked, report.attempts_checked = _legacy_checks(case, entries)
    for kind, subject, reason in legacy_problems:
        report.problems.append(VerifyProblem(kind, subject, reason))
    for attempt_id, reason in _exchange_checks(case, entries):
        report.problems.append(VerifyProblem("attempt", f"attempt {attempt_id}", reason))
    if case.read_only:
        report.warnings.append("the case is read-only: this verification was not written to its audit log")
        if case.read_only_note:
            report.warnings.append(case.read_only_note)
    return report


# ---------------------------------------------------------------------- upgrades
def record_migration(case: "Case", before: int, applied: list[int]) -> None:
    """The ``case.migrate`` entry; from format 1 it also binds every existing row (module docstring)."""
    payload: dict[str, Any] = {"applied": applied, "from_format": before, "app_version": __version__}
    entries = _entries(case) if before < 2 else []
    if before < 2 and latest_recorded_spec(entries) is not None:
        # The file's format number was set back although its chain is format 2: binding
        # its rows now would launder any edit. Record the reset; verify reports it.
        payload["format_reset_detected"] = True
    elif before < 2:
        problems, _docs, _attempts = _legacy_checks(case, entries)
        with case.reading() as conn:
            broken = audit.check_chain(conn)
            rows = binding.bind_existing(conn, binding.BOUND_TABLES)
        pre = [f"{s}: {r}" for _k, s, r in problems] + ([f"audit entry {broken.seq}: {broken.reason}"] if broken else [])
        meta = case.meta()
        payload.update({
            "case_uuid": meta.get("case_uuid", ""), "created_at": meta.get("created_at", ""),
            "binding_spec": case.binding_spec(),
            "pre_upgrade_check": pre or "intact",
            "legacy_rows_bound": sum(len(v) for v in rows.values()),
            "rows": rows,
        })
    case.audit("case.migrate", case.path.name, payload)


def reconcile_binding_spec(case: "Case") -> None:
    """Record a changed BOUND_TABLES list, binding the rows already in newly bound tables."""
    with case.reading() as conn:
        row = conn.execute(
            "SELECT payload_json FROM audit_log WHERE payload_json LIKE '%\"binding_spec\"%' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return  # a format-1 chain: record_migration binds it
    try:
        recorded = json.loads(row[0]).get("binding_spec") or {}
    except ValueError:
        return  # verify reports the damaged entry
    current = case.binding_spec()
    if recorded == current:
        return
    new_tables = [b for b in binding.BOUND_TABLES if b.table not in (recorded.get("tables") or {})]
    with case.reading() as conn:
        rows = binding.bind_existing(conn, new_tables)
    case.audit("case.binding-spec", case.path.name, {
        "binding_spec": current, "new_tables": [b.table for b in new_tables], "rows": rows,
        "app_version": __version__})


def report_notes(report: VerifyReport) -> str:
    """The head, the anchor outcome and the warnings of a verification, as paragraphs (GUI message)."""
    text = (f"\n\nAudit chain head: {report.head_hash} ({report.audit_entries} entries; "
            f"{report.rows_checked} evidence rows checked against their entries). Recorded times and users are "
            "self-asserted by the machine that wrote them.")
    for warning in report.warnings:
        text += f"\n\nNote: {warning}."
    return text
