"""Tampering with a case as an opposing expert would, caught by both verifiers.

Each manipulation is made on a copy of a case with the ``sqlite3`` module
(what the ``sqlite3`` shell does), then checked by ``memoview case verify``
(in process) and by ``memoview/verify_standalone.py`` run with ``python -I``
in a subprocess (isolated mode: it cannot import memoview). Both must fail
with exit status 3 and name the same entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from memoview.cli import main as cli_main
from memoview.core.case import Case
from memoview.core.documents.base import LoadedDocument
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo, SweepWindow
from memoview.core.storage import audit, binding
from memoview.core.storage.schema import TRIGGERS

STANDALONE = Path(__file__).resolve().parents[2] / "memoview" / "verify_standalone.py"


def _loaded(text: str, name: str) -> LoadedDocument:
    raw = text.encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    return LoadedDocument(path=f"/tmp/{name}", filename=name, media_type="text/plain", raw=raw, raw_sha256=digest,
                          text=text, text_sha256=digest, extractor="test", extractor_version="1", encoding="utf-8")


def build_case(path: Path) -> None:
    """A case holding a row of every bound table."""
    with Case.create(path) as case:
        doc = case.add_document(_loaded("We the People of the United States, in Order to form", "a.txt"), title="A")
        case.add_document(_loaded("A control text the model cannot have seen", "c.txt"), title="C", is_control=True)
        model = case.add_model(ModelInfo(path="/models/tiny", format="hf", architecture="LlamaForCausalLM",
                                         parameter_count=1234, fingerprint="ab" * 32,
                                         files=(ModelFile("model.safetensors", 10, "cd" * 32, "weights"),)))
        protocol = case.add_protocol("p", "name = 'p'\n", "toml")
        spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=model.id or 0,
                           model_fingerprint="ab" * 32, document_id=doc.id, params={"top_k": 40})
        attempt = case.record_attempt(
            Attempt(id=0, spec=spec, status="done", output_text="the output", output_token_ids=(1, 2, 3),
                    protocol_id=protocol.id, campaign_key="k"),
            [SweepWindow(0, i, i * 5, i * 20, i * 20 + 18, max(0, i * 20 - 20), 5, 1.0, -0.1, -0.25) for i in range(3)])
        case.save_alignment(attempt.id, doc.id, {"k": 8}, {"spans": [[0, 3]]})
        case.annotate("attempt", attempt.id, "note", "looks verbatim")


@pytest.fixture(scope="module")
def good_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.memoview"
    build_case(path)
    return path


def standalone(path: Path, *extra: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-I", str(STANDALONE), str(path), "--json", *extra],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else {})


def memoview_verify(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = cli_main(["case", "verify", str(path), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _sql(*statements: str) -> Callable[[sqlite3.Connection], None]:
    def run(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)
    return run


def _recreate(name: str) -> str:
    return TRIGGERS[name]


def _rebuild_from(conn: sqlite3.Connection, first_seq: int) -> None:
    """Recompute every hash from ``first_seq`` on with the public algorithm (a forger's rebuild)."""
    rows = conn.execute("SELECT seq, at, actor, event, subject, payload_json FROM audit_log WHERE seq >= ? ORDER BY seq",
                        (first_seq,)).fetchall()
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (first_seq - 1,)).fetchone()[0]
    for seq, at, actor, event, subject, payload in rows:
        digest = audit.entry_hash(seq, at, actor, event, subject, payload, prev)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest


def _forge_title_and_rebinding(conn: sqlite3.Connection) -> None:
    """Edit a title, then rewrite the binding in the import entry and rebuild the chain from there."""
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE documents SET title = 'Forged' WHERE id = 1")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(documents)")]
    row = dict(zip(cols, conn.execute("SELECT * FROM documents WHERE id = 1").fetchone()))
    seq, payload = conn.execute("SELECT seq, payload_json FROM audit_log WHERE subject = 'document:1' "
                                "AND event = 'document.import'").fetchone()
    data = json.loads(payload)
    data["rows"]["documents"]["[1]"] = binding.row_sha256("documents", row)
    conn.execute("UPDATE audit_log SET payload_json = ? WHERE seq = ?", (audit.canonical_json(data), seq))
    _rebuild_from(conn, seq)
    conn.execute(TRIGGERS["audit_no_update"])


# name -> (manipulation, a subject both verifiers must name)
TAMPERS: dict[str, tuple[Callable[[sqlite3.Connection], None], str]] = {
    "delete attempt, trigger dropped and re-created": (
        _sql("DROP TRIGGER attempts_no_delete", "DELETE FROM attempts WHERE id = 1", _recreate("attempts_no_delete")),
        "attempts row 1"),
    "delete sweep windows (triggers dropped)": (
        _sql("DROP TRIGGER sweep_windows_no_delete", "DELETE FROM sweep_windows WHERE attempt_id = 1 AND idx = 2"),
        "sweep_windows row 1, 2"),
    "delete document (trigger dropped and re-created)": (
        _sql("DROP TRIGGER documents_no_delete", "DROP TRIGGER document_blobs_no_delete",
             "DELETE FROM document_blobs WHERE document_id = 2", "DELETE FROM documents WHERE id = 2",
             _recreate("documents_no_delete"), _recreate("document_blobs_no_delete")),
        "documents row 2"),
    "edit model fingerprint": (
        _sql("DROP TRIGGER models_no_update", "UPDATE models SET fingerprint = '" + "ef" * 32 + "'",
             _recreate("models_no_update")),
        "models row 1"),
    "edit model path": (
        _sql("DROP TRIGGER models_no_update", "UPDATE models SET path = '/models/other'"), "models row 1"),
    "edit model info": (
        _sql("DROP TRIGGER models_no_update", "UPDATE models SET info_json = replace(info_json, '1234', '9999')"),
        "models row 1"),
    "edit document title": (_sql("UPDATE documents SET title = 'Forged' WHERE id = 1"), "documents row 1"),
    "edit document provenance": (_sql("UPDATE documents SET source = 'somewhere else' WHERE id = 1"), "documents row 1"),
    "clear control flag": (_sql("UPDATE documents SET is_control = 0 WHERE id = 2"), "documents row 2"),
    "edit document text and its hash": (
        _sql("UPDATE documents SET text = 'We the Kings', text_sha256 = '"
             + hashlib.sha256(b"We the Kings").hexdigest() + "' WHERE id = 1"), "documents row 1"),
    "edit original bytes": (
        _sql("DROP TRIGGER document_blobs_no_update", "UPDATE document_blobs SET raw = X'00' WHERE document_id = 1"),
        "document_blobs row 1"),
    "insert annotation without audit entry": (
        _sql("INSERT INTO annotations(target_kind, target_id, kind, body, author, created_at) "
             "VALUES ('attempt', 1, 'hide', 'ignore this attempt', 'x', '2025-01-01')"), "annotations row 2"),
    "edit annotation": (
        _sql("DROP TRIGGER annotations_no_update", "UPDATE annotations SET body = 'not verbatim'"),
        "annotations row 1"),
    "edit alignment": (
        _sql("DROP TRIGGER alignments_no_update", "UPDATE alignments SET result_json = '{\"spans\":[]}'"),
        "alignments row 1"),
    "edit protocol": (
        _sql("DROP TRIGGER protocols_no_update", "UPDATE protocols SET content = 'name = \"q\"'"), "protocols row 1"),
    "edit sweep window score": (
        _sql("DROP TRIGGER sweep_windows_no_update", "UPDATE sweep_windows SET log10_pz = -0.01 WHERE idx = 0"),
        "sweep_windows row 1, 0"),
    "edit attempt status": (
        _sql("DROP TRIGGER attempts_no_update", "UPDATE attempts SET status = 'failed'"), "attempts row 1"),
    "replace a trigger with a harmless one of the same name": (
        _sql("DROP TRIGGER attempts_no_delete",
             "CREATE TRIGGER attempts_no_delete BEFORE DELETE ON attempts WHEN 0 BEGIN SELECT 1; END"),
        "trigger attempts_no_delete"),
    "add a trigger that rewrites evidence": (
        _sql("CREATE TRIGGER helper AFTER INSERT ON attempts BEGIN SELECT 1; END"), "trigger helper"),
    "edit an audit entry": (
        _sql("DROP TRIGGER audit_no_update", "UPDATE audit_log SET actor = 'someone else' WHERE seq = 3"),
        "audit entry 3"),
    "truncate the audit log": (
        _sql("DROP TRIGGER audit_no_delete", "DELETE FROM audit_log WHERE seq >= 8"), "annotations row 1"),
    "change the case UUID": (
        _sql("UPDATE meta SET value = '00000000-0000-0000-0000-000000000000' WHERE key = 'case_uuid'"),
        "audit entry 1"),
    "set the format back to 1": (_sql("PRAGMA user_version = 1", "UPDATE meta SET value = '1' WHERE key = 'schema_version'"),
                                 "case format"),
}


def tampered_copy(good: Path, tmp_path: Path, manipulate: Callable[[sqlite3.Connection], None]) -> Path:
    path = tmp_path / "tampered.memoview"
    shutil.copy(good, path)
    conn = sqlite3.connect(path)
    manipulate(conn)
    conn.commit()
    conn.close()
    return path


def test_good_case_passes_both(good_case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, ours = memoview_verify(good_case, capsys)
    assert code == 0, ours["problems"]
    theirs_code, theirs = standalone(good_case)
    assert theirs_code == 0, theirs
    # One row of each bound table: 2 documents, 2 blobs, model, protocol, attempt, 3 windows, alignment, annotation.
    assert ours["rows_checked"] == theirs["rows_checked"] == 12
    # memoview's verify appended its own entry after printing the head it checked.
    assert theirs["entries"] == ours["entries"] + 1


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_caught_by_both(name: str, good_case: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    manipulate, subject = TAMPERS[name]
    path = tampered_copy(good_case, tmp_path, manipulate)
    theirs_code, theirs = standalone(path)
    code, ours = memoview_verify(path, capsys)
    assert code == 3, ours
    assert theirs_code == 3, theirs
    ours_subjects = {p["subject"] for p in ours["problems"]}
    theirs_subjects = {p["subject"] for p in theirs["problems"]}
    assert subject in ours_subjects, ours["problems"]
    assert subject in theirs_subjects, theirs["problems"]


def test_rebuilt_chain_is_caught_only_by_the_anchor(good_case: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """What the chain cannot prove: a forger who rewrites a binding and rebuilds every later hash
    passes a plain verify; the head printed earlier (an exhibit's) catches it."""
    theirs_code, before = standalone(good_case)
    head = before["head"]
    path = tampered_copy(good_case, tmp_path, _forge_title_and_rebinding)
    assert standalone(path)[0] == 0
    code, ours = memoview_verify(path, capsys, "--expect-head", head)
    theirs_code, theirs = standalone(path, "--expect-head", head)
    assert code == 3 and theirs_code == 3
    assert "expected head" in {p["subject"] for p in ours["problems"]}
    assert "expected head" in {p["subject"] for p in theirs["problems"]}


def test_expect_head_passes_on_the_same_case_and_names_later_entries(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.memoview"
    build_case(path)
    with Case.open(path) as case:
        head = case.head()
        case.annotate("case", 0, "note", "added after the exhibit")
    code, ours = memoview_verify(path, capsys, "--expect-head", head.hash)
    assert code == 0
    assert ours["expect_head_entry"] == head.entries
    assert any("annotation.add" in line for line in ours["entries_after_expected_head"])
    theirs_code, theirs = standalone(path, "--expect-head", head.hash)
    assert theirs_code == 0 and theirs["expect_head_entry"] == head.entries


def test_truncated_case_fails_expect_head(good_case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = standalone(good_case)[1]["head"]
    path = tampered_copy(good_case, tmp_path, _sql("DROP TRIGGER audit_no_delete",
                                                   "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"))
    assert memoview_verify(path, capsys, "--expect-head", head)[0] == 3
    assert standalone(path, "--expect-head", head)[0] == 3


def test_genesis_is_bound_to_the_uuid(good_case: Path) -> None:
    conn = sqlite3.connect(good_case)
    uuid = conn.execute("SELECT value FROM meta WHERE key = 'case_uuid'").fetchone()[0]
    prev, payload = conn.execute("SELECT prev_hash, payload_json FROM audit_log WHERE seq = 1").fetchone()
    conn.close()
    assert prev == audit.genesis_hash(uuid) == hashlib.sha256(f"memoview-audit-chain/2 {uuid}".encode()).hexdigest()
    assert json.loads(payload)["case_uuid"] == uuid


def test_canonical_json_refuses_non_finite() -> None:
    for bad in (float("nan"), float("inf"), {"a": [1.0, float("-inf")]}):
        with pytest.raises(audit.NonFiniteNumberError):
            audit.canonical_json(bad)


def test_rows_written_without_audit_entry_are_refused(tmp_path: Path) -> None:
    with Case.create(tmp_path / "c.memoview") as case:
        with pytest.raises(RuntimeError, match="without an audit entry"):
            with case.transaction() as tx:
                tx.execute("INSERT INTO annotations(target_kind, target_id, kind, body, author, created_at)"
                             " VALUES ('case', 0, 'note', 'x', 'y', 'z')")
        assert case.annotations() == []
        assert case.verify().ok


def test_undeclared_action_is_refused(tmp_path: Path) -> None:
    with Case.create(tmp_path / "c.memoview") as case:
        with pytest.raises(binding.UndeclaredBindingError):
            with case.transaction() as tx:
                tx.execute("INSERT INTO annotations(target_kind, target_id, kind, body, author, created_at)"
                             " VALUES ('case', 0, 'note', 'x', 'y', 'z')")
                tx.audit("exhibit.export", "x.pdf", {})
        assert case.verify().ok


def _make_format1_case(path: Path) -> None:
    """A case as the previous version (format 1) wrote it: no row bindings, zero genesis, 3 triggers."""
    from memoview.core.storage import schema

    conn = sqlite3.connect(path)
    from sqlite_utils import Database

    db = Database(conn)
    schema._v1(db)
    conn.execute("PRAGMA user_version = 1")
    for k, v in {"format": "memoview-case", "case_uuid": "11111111-2222-3333-4444-555555555555",
                 "created_at": "2025-01-01T00:00:00Z", "schema_version": "1"}.items():
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (k, v))
    prev = "0" * 64
    raw = b"legacy text"
    digest = hashlib.sha256(raw).hexdigest()
    conn.execute("INSERT INTO documents(id, title, raw_sha256, text_sha256, text, is_control) VALUES (1, 'Old', ?, ?, ?, 0)",
                 (digest, digest, raw.decode()))
    conn.execute("INSERT INTO document_blobs(document_id, raw) VALUES (1, ?)", (raw,))
    for seq, (event, subject, payload) in enumerate([
            ("case.create", "old.memoview", {"schema_version": 1}),
            ("document.import", "document:1", {"raw_sha256": digest, "text_sha256": digest})], 1):
        pj = audit.canonical_json(payload)
        h = audit.entry_hash(seq, "2025-01-01T00:00:00Z", "old", event, subject, pj, prev)
        conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, "2025-01-01T00:00:00Z", "old", event, subject, pj, prev, h))
        prev = h
    conn.commit()
    conn.close()


def test_format1_case_is_upgraded_and_its_rows_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "old.memoview"
    _make_format1_case(path)
    # Before the upgrade: the standalone verifier reports unbound legacy rows, not a failure.
    code, theirs = standalone(path)
    assert code == 0 and any("legacy" in n for n in theirs["notes"])
    with Case.open(path) as case:
        entry = case.audit_entries()[-1]
        assert entry.event == "case.migrate"
        assert entry.payload["pre_upgrade_check"] == "intact"
        assert entry.payload["legacy_rows_bound"] == 2
        report = case.verify()
        assert report.ok, report.problems
        assert not report.anchored
        assert any("upgraded from format 1" in w for w in report.warnings)
    assert standalone(path)[0] == 0
    tampered = tampered_copy(path, tmp_path, _sql("UPDATE documents SET title = 'Changed'"))
    assert memoview_verify(tampered, capsys)[0] == 3
    assert standalone(tampered)[0] == 3


LEGACY = Path(__file__).resolve().parents[1] / "data" / "legacy" / "format1.memoview"


def test_case_written_by_the_previous_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """tests/data/legacy/format1.memoview was written by memoview before row binding (format 1):
    2 documents (and their 2 original files), a model, a sweep with 3 windows, an alignment and an
    annotation: 11 evidence rows."""
    path = tmp_path / "old.memoview"
    shutil.copy(LEGACY, path)
    code, theirs = standalone(path)
    assert code == 0 and any("unbound legacy rows" in n for n in theirs["notes"])
    with Case.open(path, read_only=True) as case:  # not upgraded: reported, not failed
        report = case.verify()
        assert report.ok and report.read_only and not report.anchored
        assert any("11 evidence row(s) are unbound legacy rows" in w for w in report.warnings)
    with Case.open(path) as case:  # upgraded once, every existing row bound by the case.migrate entry
        migrate = case.audit_entries()[-1]
        assert migrate.event == "case.migrate" and migrate.payload["legacy_rows_bound"] == 11
        assert migrate.payload["pre_upgrade_check"] == "intact"
        report = case.verify()
        assert report.ok and report.rows_checked == 11
        assert any("bound when the case was upgraded from format 1" in w for w in report.warnings)
        assert [d.title for d in case.documents()] == ["Constitution", "Control"]
    code, theirs = standalone(path)
    assert code == 0 and theirs["rows_checked"] == 11
    for manipulate, subject in (
            (_sql("UPDATE documents SET is_control = 0 WHERE id = 2"), "documents row 2"),
            (_sql("DROP TRIGGER annotations_no_delete", "DELETE FROM annotations"), "annotations row 1")):
        folder = tmp_path / subject.replace(" ", "_")
        folder.mkdir()
        tampered = tampered_copy(path, folder, manipulate)
        theirs_code, theirs = standalone(tampered)
        code, ours = memoview_verify(tampered, capsys)
        assert code == 3 and theirs_code == 3
        assert subject in {p["subject"] for p in ours["problems"]}
        assert subject in {p["subject"] for p in theirs["problems"]}
