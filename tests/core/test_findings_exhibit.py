"""The exhibit's findings table, sweep k/m, map quantity and p_z rounding (issue 12.7), on real PDFs (poppler).

Sweeps are synthetic records in a real SQLite case (no model needed: the
exhibit draws stored windows); export is skipped for model checks because
the synthetic model has no files on disk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from memoview.core.case import Case
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.findings.quantity import MapQuantity
from tests.core.test_findings import _doc, _model, _sweep

TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity. ") * 3


def _run(job):  # type: ignore[no-untyped-def]
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("with_control", [False, True])
def test_index_has_findings_table(tmp_path: Path, with_control: bool) -> None:
    case = Case.create(tmp_path / "c.memoview")
    model = _model(case)
    work = _doc(case, tmp_path, "Tale", TEXT)
    _sweep(case, model, work, [(0, 100, -0.05, 10), (100, 200, -450.0, 1), (200, 300, None, 0)])
    if with_control:
        ctrl = _doc(case, tmp_path, "Control text", "Entirely different words appear here in this control. " * 6,
                    control=True)
        _sweep(case, model, ctrl, [(0, 100, -8.0, 0), (100, 200, -9.0, 0)])
    tiny = _doc(case, tmp_path, "Underflow", TEXT.upper())
    _sweep(case, model, tiny, [(0, 100, -450.04, 0)])
    out = tmp_path / "ex.pdf"
    _run(export_exhibit(case, ExportOptions(include_all=True, creation_date="2026-01-01"), out, verify_models=False))
    text = _pdf_text(out)
    flat = " ".join(text.split())
    assert "Work-level findings" in flat
    assert "p_z ≥ 0.5" in flat and "greedy exact" in flat
    assert "19.5% of text" in flat  # characters 0..100 of 513 at p_z >= 0.5
    if with_control:
        assert "0/2 = 0% [0%–84.2%]" in flat  # control windows at p_z >= 0.5, exact interval
    else:
        assert "no error rate: no controls" in flat
    assert "k = 50 tokens of the work" in flat and "m = 10 tokens" in flat and "k = ?" not in flat
    q = MapQuantity.for_sweep("pz", {"suffix_tokens": 10, "pz_temperature": 1.0, "pz_top_k": 40})
    assert f"Memorization map — {q.name}" in flat
    assert "best p_z < 1e-300 (log10 −450.0)" in flat
    assert " 0 (log10" not in flat  # an underflowing p_z is never printed as 0
    case.close()
