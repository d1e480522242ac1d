"""A recorded cross-engine check reaches the exhibit: Appendix G, a cover line, and the manifest.

Real parts throughout: the tiny fixture model run by the transformers engine in float32 records a sweep, the
same model in bfloat16 (a second precision; llama.cpp cannot open a Hugging Face folder) re-scores it through
``run_crosscheck``, and the exported PDF is read back with poppler's pdftotext and pypdf.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from memoview.core.engines.base import EngineSettings
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.jobs import run_job
from tests.support.fixture_case import make_fixture_case


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, fixture_model_dir: Path) -> Iterator[dict[str, Any]]:
    """A case with one sweep (float32) cross-checked in bfloat16, and an unchecked prefix attempt on another work."""
    import torch

    from memoview.core.crosscheck import run_crosscheck
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix
    from memoview.core.extraction.sweep import SweepRequest, run_sweep
    from memoview.core.session import open_engine

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("xcheck")
    case = make_fixture_case(root / "x.memoview")
    doc, other = [d for d in case.documents() if not d.is_control][:2]
    engine = run_job(open_engine(str(fixture_model_dir), EngineSettings("transformers", "cpu", "float32")))
    sweep, windows = run_job(run_sweep(case, engine, doc, SweepRequest(prefix=20, suffix=20, stride=40,
                                                                       generate_best=0)))
    prefix = run_job(run_prefix(case, engine, other, PrefixRequest(prefix=16, suffix=16, token_start=16)))[0]
    check = run_job(run_crosscheck(case, sweep.id, EngineSettings("transformers", "cpu", "bfloat16")))
    assert check is not None
    yield {"case": case, "root": root, "sweep": sweep, "windows": windows, "check": check, "prefix": prefix}
    case.close()


def test_the_check_appears_in_appendix_g_and_on_the_cover(checked: dict[str, Any]) -> None:
    from memoview.core.crosscheck import plain_summary

    case, check, sweep = checked["case"], checked["check"], checked["sweep"]
    assert check.compared >= len(checked["windows"]) - 1 >= 2
    out = checked["root"] / "ex.pdf"
    result = run_job(export_exhibit(case, ExportOptions(include_all=True, creation_date="2026-11-30"), out))
    text = " ".join(_text(out).split())  # pdftotext breaks lines where the page does
    assert "Appendix G. Cross-engine checks" in text
    assert f"Attempt {sweep.id} (W1, sweep): check recorded" in text
    assert ("Cross-engine checks 1 attempt re-scored with a second engine (transformers) in 1 recorded check: the "
            f"greedy exact length agreed in {check.greedy_agree} of {check.compared} compared windows") in text
    sentence = plain_summary(check.to_json())
    assert sentence.startswith("transformers (bfloat16, cpu) agrees with transformers (float32, cpu) on the "
                               f"greedy exact length in {check.greedy_agree} of {check.compared} windows")
    assert " ".join(sentence.split()[:18]) in text
    assert f"memoview crosscheck x.memoview --attempt {sweep.id} --engine transformers --dtype bfloat16" in text
    # the manifest binds the check by its audit entry
    manifest = json.loads(Path(str(result.manifest_path)).read_text(encoding="utf-8"))
    entry = next(e for e in case.audit_entries() if e.event == "crosscheck.record")
    assert manifest["crosschecks"] == [{"attempt_id": sweep.id, "audit_seq": entry.seq, "entry_sha256": entry.hash}]
    assert entry.hash in text
    assert "the audit entry of each cross-engine check in Appendix G" in text
    assert "p_z computed for sampling at temperature 1, top-k" in text  # Appendix B says what it binds
    if check.greedy_agree == check.compared and check.pz_agree == check.compared:
        assert "Every compared window agrees on both figures." in text
    else:
        assert "where the engines differ" in text


def test_a_disagreeing_window_is_listed_with_rounded_figures(checked: dict[str, Any], tmp_path: Path) -> None:
    """A check whose second engine disagrees on a window (recorded as the core records it) lists that
    window, rounded, at 8 pt or more; exporting twice gives the same bytes."""
    from memoview.core.crosscheck import CrossCheck, record
    from tests.core.test_exhibit_typography import _sizes

    case, sweep = checked["case"], checked["sweep"]
    w = checked["windows"][1]
    made = CrossCheck(sweep.id, "sweep", {"engine": "transformers", "dtype": "float32", "device": "cpu"},
                      {"engine": "llama.cpp", "library": "llama-cpp-python", "library_version": "0.3.36",
                       "device": "cpu", "dtype": "Q4_K_M", "threads": 2}, compared=1, greedy_agree=0, pz_agree=0,
                      max_abs_diff_log10_pz=0.4321)
    made.rows.append({"index": w.index, "start_char": w.start_char, "end_char": w.end_char, "greedy_then": 20,
                      "greedy_now": 7, "log10_pz_then": -0.123456, "log10_pz_now": -0.555556,
                      "greedy_agree": False, "pz_agree": False})
    record(case, made)
    (tmp_path / "1").mkdir(), (tmp_path / "2").mkdir()
    out, again = tmp_path / "1" / "ex.pdf", tmp_path / "2" / "ex.pdf"  # the name is printed in the exhibit
    for path in (out, again):
        run_job(export_exhibit(case, ExportOptions(attempt_ids=(sweep.id,), creation_date="2026-11-30"), path))
    assert out.read_bytes() == again.read_bytes()
    text = " ".join(_text(out).split())
    assert "llama.cpp (Q4_K_M) agrees with transformers (float32, cpu) on the greedy exact length in 0 of 1 window;" in text
    assert "llama.cpp · llama-cpp-python 0.3.36 · cpu · Q4_K_M · 2 threads" in text
    assert "1 attempt re-scored with a second engine (llama.cpp, transformers) in 2 recorded checks" in text
    assert "The window where the engines differ" in text
    assert f"{w.start_char:,}\u2013{w.end_char:,}" in text
    assert "20 of 20 / 7 of 20" in text and "\u22120.12 / \u22120.56" in text and "0.432" in text
    assert "greedy length and p_z" in text
    pages = _sizes(out)
    first = next(i for i, chunks in enumerate(pages) if any("Appendix G" in t for t, _ in chunks))
    small = [(t, s) for chunks in pages[first:] for t, s in chunks if s < 8.0]
    assert not small, small[:5]
    body = [s for chunks in pages[first:] for t, s in chunks if "Would another implementation" in t]
    assert body and min(body) >= 10


def test_no_check_no_appendix_and_the_manifest_is_unchanged(checked: dict[str, Any]) -> None:
    """An exhibit of a work none of whose attempts was cross-checked has no appendix G and no manifest key."""
    case, prefix = checked["case"], checked["prefix"]
    out = checked["root"] / "prefix.pdf"
    result = run_job(export_exhibit(case, ExportOptions(attempt_ids=(prefix.id,), creation_date="2026-11-30"), out))
    text = _text(out)
    assert "Cross-engine checks" not in text and "Appendix G" not in text and "cross-engine" not in text
    manifest = json.loads(Path(str(result.manifest_path)).read_text(encoding="utf-8"))
    assert "crosschecks" not in manifest


def test_a_prefix_attempt_check_reads_as_one_target(checked: dict[str, Any]) -> None:
    """A prefix attempt re-scored in bfloat16 (the recorded token ids, scored again): one target compared."""
    from memoview.core.crosscheck import run_crosscheck

    case, prefix = checked["case"], checked["prefix"]
    check = run_job(run_crosscheck(case, prefix.id, EngineSettings("transformers", "cpu", "bfloat16")))
    assert check is not None and check.compared == 1
    out = checked["root"] / "prefix-checked.pdf"
    run_job(export_exhibit(case, ExportOptions(attempt_ids=(prefix.id,), creation_date="2026-11-30"), out))
    text = " ".join(_text(out).split())
    assert f"Attempt {prefix.id} (W1, prefix): check recorded" in text
    assert (f"on the greedy exact length in {check.greedy_agree} of 1 target; log10 p_z within 0.1 in "
            f"{check.pz_agree} of 1") in text


def test_the_cli_prints_the_recorded_checks(checked: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """`memoview crosscheck CASE --attempt ID --recorded` runs nothing and prints what the GUI's result tab shows
    (every check of the sweep so far: the bfloat16 one, and the hand-made llama.cpp one when that test ran)."""
    from memoview.cli import main
    from memoview.core.crosscheck import crosschecks, disagreements, plain_summary

    case, sweep = checked["case"], checked["sweep"]
    recorded = crosschecks(case, sweep.id)
    assert recorded
    capsys.readouterr()
    assert main(["crosscheck", str(case.path), "--attempt", str(sweep.id), "--recorded"]) == 0
    out = capsys.readouterr().out
    for check in recorded:
        assert f"audit entry {check['audit_seq']} " in out and plain_summary(check) in out
        for r in disagreements(check):
            assert f"window {r['index']} (chars {r['start_char']}\u2013{r['end_char']}): greedy {r['greedy_then']} -> " \
                   f"{r['greedy_now']}" in out
    assert main(["crosscheck", str(case.path), "--attempt", str(sweep.id), "--recorded", "--json"]) == 0
    assert [c["audit_seq"] for c in json.loads(capsys.readouterr().out)] == [c["audit_seq"] for c in recorded]
    assert crosschecks(case, sweep.id) == recorded  # nothing new recorded
