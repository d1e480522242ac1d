"""One compared-region and alignment API (core/alignment/attempts.py), used by the app, the CLI and the exhibit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from memoview.core.alignment.attempts import (
    COMPUTED,
    STORED,
    alignment_for,
    compared_region,
    prompt_region,
    shown_region,
)
from memoview.core.case import Case
from memoview.core.errors import MemoviewError, ValidationError
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.jobs import run_job
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo, TargetRange
from tests.support.documents import document_from_text

TEXT = ("Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, "
        "and nothing particular to interest me on shore, I thought I would sail about a little and see the "
        "watery part of the world. It is a way I have of driving off the spleen and regulating the circulation.")


def _spec(target: dict, document_id: int = 1, method: str = "prefix") -> AttemptSpec:
    return AttemptSpec(method=method, prompt_class="prefix", model_id=1, model_fingerprint="ab" * 32,
                       document_id=document_id, target=target)


def _record(case: Case, target: dict, output: str) -> Attempt:
    model = case.models()[0] if case.models() else case.add_model(ModelInfo(
        path="/models/tiny", format="hf", architecture="LlamaForCausalLM", parameter_count=1,
        fingerprint="ab" * 32, files=(ModelFile("model.safetensors", 1, "cd" * 32, "weights"),)))
    doc = case.documents()[0]
    spec = replace(_spec(target, doc.id), model_id=model.id or 1)
    return case.record_attempt(Attempt(id=0, spec=spec, status="done", output_text=output,
                                       started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:01Z"))


def test_the_target_is_parsed_in_one_place() -> None:
    assert _spec({}).target_range() is None
    assert _spec({"align_against": "whole document"}).target_range() is None
    assert _spec({"prefix_start_char": 3, "start_char": 10, "end_char": 20}).target_range() == TargetRange(3, 10, 20)
    assert _spec({"start_char": 10, "end_char": 20}).target_range() == TargetRange(10, 10, 20)
    for bad in ({"start_char": 10}, {"start_char": "ten", "end_char": 20}, {"start_char": 30, "end_char": 20},
                {"prefix_start_char": 15, "start_char": 10, "end_char": 20}, {"start_char": -1, "end_char": 5}):
        with pytest.raises(ValidationError):
            _spec(bad).target_range()


def test_regions_and_a_range_outside_the_document(case: Case) -> None:
    doc = case.add_document(document_from_text(TEXT, "moby.txt"))
    start = TEXT.index("Some years")
    ok = Attempt(id=7, spec=_spec({"prefix_start_char": 0, "start_char": start, "end_char": start + 40}, doc.id),
                 status="done")
    assert compared_region(ok, doc) == (start, start + 40)
    assert prompt_region(ok, doc) == (0, start)
    assert shown_region(ok, doc) == (0, start + 40)
    free = Attempt(id=8, spec=_spec({}, doc.id, method="prompt"), status="done")
    assert compared_region(free, doc) == shown_region(free, doc) == (0, len(TEXT)) and prompt_region(free, doc) is None
    beyond = Attempt(id=9, spec=_spec({"start_char": 10, "end_char": len(TEXT) + 5}, doc.id), status="done")
    for region in (compared_region, prompt_region, shown_region):
        with pytest.raises(ValidationError, match="lies outside the document"):
            region(beyond, doc)


def test_stored_alignment_else_computed_and_stored_once(case: Case) -> None:
    case.add_document(document_from_text(TEXT, "moby.txt"))
    start = TEXT.index("Some years")
    attempt = _record(case, {"prefix_start_char": 0, "start_char": start, "end_char": len(TEXT)},
                      TEXT[start:start + 120] + " and then something else entirely.")
    read_only, origin = alignment_for(case, attempt, store=False)
    assert origin == COMPUTED and case.latest_alignment(attempt.id) is None  # a preview changes nothing
    computed, origin = alignment_for(case, attempt, store=True)
    assert origin == COMPUTED and case.latest_alignment(attempt.id) is not None
    assert computed.to_json() == read_only.to_json()
    assert computed.source_offset == start and computed.metrics.longest_verbatim_words >= 20
    again, origin = alignment_for(case, attempt, store=True)
    assert origin == STORED and again.to_json() == computed.to_json()


def test_an_exhibit_of_an_attempt_with_a_bad_range_is_refused(case_path: Path, tmp_path: Path) -> None:
    with Case.create(case_path) as case:
        case.add_document(document_from_text(TEXT, "moby.txt"))
        attempt = _record(case, {"prefix_start_char": 0, "start_char": 10, "end_char": len(TEXT) + 100}, "output")
        out = tmp_path / "ex.pdf"
        with pytest.raises(MemoviewError, match="lies outside the document"):
            run_job(export_exhibit(case, ExportOptions(attempt_ids=(attempt.id,), creation_date="2025-01-01"), out,
                                   verify_models=False))
        assert not out.exists()
