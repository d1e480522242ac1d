"""The production log (`memoview exports`): every export read back from the audit chain, real PDFs, no mocks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from memoview.cli import main as cli_main
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.exhibits.exports_log import exports_log, to_text
from memoview.core.jobs import run_job
from tests.core.test_exhibits_case import build_case


def test_every_export_is_listed_with_hash_bates_and_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_path = tmp_path / "c.memoview"
    case = build_case(case_path, work_words=600)
    first = tmp_path / "ex12.pdf"
    second = tmp_path / "ex13.pdf"
    preview = tmp_path / "PREVIEW-Exhibit.pdf"
    run_job(export_exhibit(case, ExportOptions(include_all=True, number="12", bates_prefix="MV-", bates_start=7,
                                               creation_date="2025-02-03"), first))
    run_job(export_exhibit(case, ExportOptions(attempt_ids=(1,), number="13", creation_date="2025-02-04"), second))
    run_job(export_exhibit(case, ExportOptions(attempt_ids=(1,), creation_date="2025-02-05"), preview))
    records = exports_log(case)
    assert [r.file_name for r in records] == ["ex12.pdf", "ex13.pdf", "PREVIEW-Exhibit.pdf"]
    r12, r13, rp = records
    assert r12.pdf_sha256 == hashlib.sha256(first.read_bytes()).hexdigest()
    assert r13.pdf_sha256 == hashlib.sha256(second.read_bytes()).hexdigest()
    assert r12.bates_first == "MV-000007" and r12.bates_last == f"MV-{6 + r12.pages:06d}"
    assert r12.bates_range == f"MV-000007\u2013MV-{6 + r12.pages:06d}"
    assert r12.exhibit_date == "2025-02-03" and r12.exhibit_label == "Exhibit 12"
    assert r13.exhibit_date == "2025-02-04" and not r13.is_preview and rp.is_preview
    assert r12.seq < r13.seq < rp.seq  # in chain order
    assert [r.file_name for r in exports_log(case, include_previews=False)] == ["ex12.pdf", "ex13.pdf"]
    assert case.verify().ok  # reading the log changed nothing
    case.close()

    assert cli_main(["exports", str(case_path)]) == 0
    text = capsys.readouterr().out
    assert r12.pdf_sha256 in text and "MV-000007" in text and "2025-02-03" in text and "preview" in text
    assert cli_main(["exports", str(case_path), "--json", "--no-previews"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file_name"] for r in rows] == ["ex12.pdf", "ex13.pdf"]
    assert rows[0]["bates_range"] == r12.bates_range and rows[0]["pdf_sha256"] == r12.pdf_sha256


def test_empty_log_and_bad_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert to_text([], "c.memoview") == "No exhibit has been exported from c.memoview yet."
    not_a_case = tmp_path / "notes.memoview"
    not_a_case.write_text("hello")
    assert cli_main(["exports", str(not_a_case)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
