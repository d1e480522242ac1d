"""An exhibit anchors its case: it prints the audit head and entry count, ships the standalone
verifier beside the PDF with its SHA-256 printed, and that verifier accepts the case at that head."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from memoview.core.case import Case
from memoview.core.exhibits.anchor import verifier_name, verifier_sha256
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.jobs import run_job
from tests.core.test_exhibits_case import build_case


def _text(pdf: Path) -> str:
    return " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split())


def test_exhibit_prints_head_and_ships_the_verifier(tmp_path: Path) -> None:
    case_path = tmp_path / "case.memoview"
    case = build_case(case_path)
    out = tmp_path / "Ex1.pdf"
    try:
        head = case.head()
        result = run_job(export_exhibit(case, ExportOptions(include_all=True, creation_date="2025-01-01"), out,
                                        verify_models=False))
    finally:
        case.close()
    assert result.recorded
    text = _text(out)
    assert head.hash in text.replace(" ", "") or head.hash in text
    assert f"after {head.entries} entries" in text
    assert "self-asserted" in text
    verifier = out.with_name(verifier_name(out.name))
    digest = hashlib.sha256(verifier.read_bytes()).hexdigest()
    assert digest == verifier_sha256()
    assert digest in text.replace(" ", "")
    # The other side: the verifier beside the PDF, no memoview, isolated mode, the head from the PDF.
    printed = re.search(r"audit log head ([0-9a-f]{64}) after", text)
    assert printed and printed.group(1) == head.hash
    ok = subprocess.run([sys.executable, "-I", str(verifier), str(case_path), "--expect-head", printed.group(1)],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # A copy restored from before the last evidence entry does not reach the printed head.
    old = tmp_path / "old.memoview"
    shutil.copy(case_path, old)
    conn = sqlite3.connect(old)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute(f"DELETE FROM audit_log WHERE seq >= {head.entries}")
    conn.commit()
    conn.close()
    bad = subprocess.run([sys.executable, "-I", str(verifier), str(old), "--expect-head", head.hash],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 3 and "expected head" in bad.stdout


def test_read_only_case_exports_without_recording(tmp_path: Path) -> None:
    """A case opened read-only exports; the result says the export is not in its audit log."""
    case_path = tmp_path / "case.memoview"
    build_case(case_path).close()
    with Case.open(case_path, read_only=True) as case:
        before = case.head()
        result = run_job(export_exhibit(case, ExportOptions(include_all=True, creation_date="2025-01-01"),
                                        tmp_path / "ro.pdf", verify_models=False))
        assert not result.recorded
    with Case.open(case_path) as case:
        assert case.head() == before
