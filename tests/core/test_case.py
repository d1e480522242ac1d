"""The case file: creation, refusal of foreign/newer/corrupt files, audit chain, verify."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from memoview.cli import main as cli_main
from memoview.core import errors
from memoview.core.case import Case
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo, SweepWindow
from memoview.core.storage.schema import SCHEMA_VERSION
from tests.support.documents import document_from_text as _loaded


def _model() -> ModelInfo:
    return ModelInfo(
        path="/models/tiny", format="hf", architecture="LlamaForCausalLM", parameter_count=1234,
        fingerprint="ab" * 32, files=(ModelFile("model.safetensors", 10, "cd" * 32, "weights"),),
    )


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_create_and_reopen(case_path: Path) -> None:
    with Case.create(case_path) as case:
        doc = case.add_document(_loaded("We the People of the United States"), title="Constitution")
        model = case.add_model(_model())
        assert doc.id == 1 and model.id == 1
    with Case.open(case_path) as case:
        assert [d.title for d in case.documents()] == ["Constitution"]
        assert case.models()[0].fingerprint == "ab" * 32
        assert case.meta()["schema_version"] == str(SCHEMA_VERSION)
        assert case.verify().ok
        assert case.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert case.store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_create_refuses_existing_file(case_path: Path) -> None:
    Case.create(case_path).close()
    with pytest.raises(errors.CaseError, match="already exists"):
        Case.create(case_path)


def test_not_a_case_is_refused_untouched(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.memoview"
    text_file.write_text("just some notes")
    before = _file_digest(text_file)
    with pytest.raises(errors.NotACaseError, match="not an SQLite database"):
        Case.open(text_file)
    assert _file_digest(text_file) == before

    other_db = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other_db)
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    before = _file_digest(other_db)
    with pytest.raises(errors.NotACaseError, match="not a memoview case"):
        Case.open(other_db)
    assert _file_digest(other_db) == before
    assert not Path(str(other_db) + "-wal").exists()


def test_newer_case_is_refused_untouched(case_path: Path) -> None:
    Case.create(case_path).close()
    conn = sqlite3.connect(case_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _file_digest(case_path)
    with pytest.raises(errors.CaseTooNewError, match="newer memoview"):
        Case.open(case_path)
    assert _file_digest(case_path) == before


def test_corrupt_case_is_refused_untouched(case_path: Path) -> None:
    with Case.create(case_path) as case:
        for i in range(30):
            case.add_document(_loaded(f"document number {i} " * 400, f"d{i}.txt"))
    data = bytearray(case_path.read_bytes())
    # Keep the header; scribble over the b-tree pages.
    for offset in range(4096 + 100, min(len(data), 4096 * 6), 7):
        data[offset] = 0xFF
    case_path.write_bytes(bytes(data))
    before = _file_digest(case_path)
    with pytest.raises(errors.CorruptCaseError):
        Case.open(case_path)
    assert _file_digest(case_path) == before


def test_missing_and_folder_paths(tmp_path: Path) -> None:
    with pytest.raises(errors.CaseError, match="No case file"):
        Case.open(tmp_path / "absent.memoview")
    with pytest.raises(errors.NotACaseError, match="folder"):
        Case.open(tmp_path)


def test_audit_log_is_append_only(case_path: Path) -> None:
    with Case.create(case_path) as case:
        case.add_document(_loaded("text"))
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            case.store.conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            case.store.conn.execute("DELETE FROM audit_log WHERE seq = 1")


def _record(case: Case, model_id: int, doc_id: int, output: str = "the output") -> Attempt:
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=model_id,
                       model_fingerprint="ab" * 32, document_id=doc_id, params={"top_k": 40})
    attempt = Attempt(id=0, spec=spec, status="done", output_text=output, output_token_ids=(1, 2, 3))
    windows = [SweepWindow(0, i, i * 50, i * 200, i * 200 + 180, i * 200 - 200, 50, 1.0, -0.1, -0.2)
               for i in range(3)]
    return case.record_attempt(attempt, windows)


def test_attempt_roundtrip_and_no_delete(case_path: Path) -> None:
    with Case.create(case_path) as case:
        doc = case.add_document(_loaded("text"))
        model = case.add_model(_model())
        stored = _record(case, model.id or 0, doc.id)
        again = case.attempt(stored.id)
        assert again.output_token_ids == (1, 2, 3)
        assert again.output_sha256 == hashlib.sha256(b"the output").hexdigest()
        assert len(case.sweep_windows(stored.id)) == 3
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            case.store.conn.execute("DELETE FROM attempts")
        assert case.verify().ok


def _tamper(case_path: Path, sql: str, drop_triggers: bool = True, drop: tuple[str, ...] = ()) -> None:
    """Edit the file behind memoview's back, as someone with the sqlite3 shell could."""
    conn = sqlite3.connect(case_path)
    if drop_triggers:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
    for name in drop:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_verify_catches_edited_audit_row(case_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Case.create(case_path) as case:
        case.add_document(_loaded("first"), title="First")
        case.add_document(_loaded("second", "b.txt"), title="Second")
    assert cli_main(["case", "verify", str(case_path)]) == 0
    _tamper(case_path, "UPDATE audit_log SET payload_json = replace(payload_json, 'First', 'Forged') WHERE seq = 2")
    code = cli_main(["case", "verify", str(case_path)])
    out = capsys.readouterr().out
    assert code != 0
    assert "audit entry 2" in out
    assert "edited" in out


def test_verify_catches_rehashed_audit_row(case_path: Path) -> None:
    """A forger who also recomputes the edited entry's own hash still breaks the next link."""
    from memoview.core.storage.audit import entry_hash

    with Case.create(case_path) as case:
        case.add_document(_loaded("first"))
        case.add_document(_loaded("second", "b.txt"))
    conn = sqlite3.connect(case_path)
    conn.execute("DROP TRIGGER audit_no_update")
    seq, at, actor, event, subject, payload, prev = conn.execute(
        "SELECT seq, at, actor, event, subject, payload_json, prev_hash FROM audit_log WHERE seq = 2").fetchone()
    forged = payload.replace("doc.txt", "forged.txt")
    assert forged != payload
    conn.execute("UPDATE audit_log SET payload_json = ?, hash = ? WHERE seq = 2",
                 (forged, entry_hash(seq, at, actor, event, subject, forged, prev)))
    conn.commit()
    conn.close()
    with Case.open(case_path) as case:
        report = case.verify()
    assert not report.ok
    kinds = {(p.kind, p.subject) for p in report.problems}
    assert ("audit", "audit entry 3") in kinds
    assert any(p.subject == "schema" or p.kind == "schema" for p in report.problems)


def test_verify_catches_document_and_attempt_edits(case_path: Path) -> None:
    with Case.create(case_path) as case:
        doc = case.add_document(_loaded("original text"))
        model = case.add_model(_model())
        attempt = _record(case, model.id or 0, doc.id)
    _tamper(case_path, "UPDATE documents SET text = 'altered text'", drop_triggers=False)
    # Format 2 refuses these updates by trigger; someone with the sqlite3 shell drops the triggers first.
    _tamper(case_path, f"UPDATE attempts SET output_text = 'better output' WHERE id = {attempt.id}",
            drop_triggers=False, drop=("attempts_no_update",))
    _tamper(case_path, f"UPDATE sweep_windows SET greedy_exact = 0 WHERE attempt_id = {attempt.id}",
            drop_triggers=False, drop=("sweep_windows_no_update",))
    with Case.open(case_path) as case:
        report = case.verify()
    reasons = [str(p) for p in report.problems]
    assert any("document 1" in r and "text" in r for r in reasons)
    assert any(f"attempt {attempt.id}" in r and "changed" in r for r in reasons)
    assert any("sweep windows" in r for r in reasons)


def test_resolve_document(case_path: Path) -> None:
    with Case.create(case_path) as case:
        doc = case.add_document(_loaded("alpha"), title="Alpha")
        case.add_document(_loaded("beta", "b.txt"), title="Beta")
        assert case.resolve_document(str(doc.id)).id == doc.id
        assert case.resolve_document("Alpha").id == doc.id
        assert case.resolve_document(doc.raw_sha256[:10]).id == doc.id
        with pytest.raises(errors.NotFoundError, match="No document matches 'Gamma'"):
            case.resolve_document("Gamma")


def test_duplicate_document_detected(case_path: Path) -> None:
    with Case.create(case_path) as case:
        case.add_document(_loaded("same bytes"))
        with pytest.raises(errors.DuplicateDocumentError, match="already in the case as document 1"):
            case.add_document(_loaded("same bytes", "copy.txt"))
        assert len(case.documents()) == 1
