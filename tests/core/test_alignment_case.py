"""Corpus attribution, control baseline, attempt alignment and the CLI, on real case files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import memoview.core.alignment.attribution as attribution
from memoview.cli import main
from memoview.core.alignment.attempts import align_attempt
from memoview.core.alignment.baseline import ControlBaseline, control_baseline, model_control_baseline
from memoview.core.alignment.types import NEAR, VERBATIM, Alignment
from memoview.core.case import Case
from memoview.core.documents.normalize import normalize_words
from memoview.core.errors import ValidationError
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo
from tests.support.documents import document_from_text as _loaded
from memoview.paths import resource

DEMO = resource("demo")


def _model() -> ModelInfo:
    return ModelInfo(path="/models/tiny", format="hf", architecture="LlamaForCausalLM", parameter_count=1234,
                     fingerprint="ab" * 32, files=(ModelFile("model.safetensors", 10, "cd" * 32, "weights"),))


def _random_text(n: int, seed: int) -> str:
    rng = random.Random(seed)
    syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "du", "ga", "ho"]
    return " ".join("".join(rng.choice(syll) for _ in range(rng.randint(1, 3))) for _ in range(n))


def _demo(name: str) -> str:
    return (DEMO / name).read_text(encoding="utf-8")


def test_index_is_updated_on_import_and_attribution_ranks(case: Case) -> None:
    decl = case.add_document(_loaded(_demo("declaration_of_independence.txt"), "decl.txt"))
    getty = case.add_document(_loaded(_demo("gettysburg_address_bliss.txt"), "getty.txt"))
    noise = case.add_document(_loaded(_random_text(3000, 1), "noise.txt"), is_control=True)
    # The hook indexed every import; k is recorded in the meta table.
    assert case.meta()[attribution.META_K] == "8"
    rows = case.query("SELECT document_id, count(*) AS n FROM kgram_index GROUP BY document_id")
    counts = {r["document_id"]: r["n"] for r in rows}
    assert set(counts) == {decl.id, getty.id, noise.id}
    assert counts[noise.id] == 3000 - attribution.K + 1

    d_words = decl.text.split()
    g_words = getty.text.split()
    output = ("Here is some text. " + " ".join(d_words[300:420]) + " and then " + " ".join(g_words[20:50])
              + " the end.")
    results = attribution.attribute(case, output, top=5)
    assert [r.document_id for r in results] == [decl.id, getty.id]
    best = results[0]
    assert best.matched_words >= 115 and best.spans
    s = best.spans[0]
    assert s.kind == VERBATIM
    # Offsets land on the document's and the output's own characters.
    assert decl.text[s.source_start : s.source_end].split() == output[s.output_start : s.output_end].split()
    assert results[1].matched_words_index >= 25
    assert attribution.Attribution.from_json(json.loads(json.dumps(best.to_json()))) == best


def test_build_index_rebuilds_when_k_changes(case: Case) -> None:
    doc = case.add_document(_loaded(_demo("gettysburg_address_bliss.txt"), "g.txt"))
    with case.transaction() as tx:
        tx.execute("UPDATE meta SET value = '5' WHERE key = ?", (attribution.META_K,))
        tx.execute("DELETE FROM kgram_index")
    assert case.query("SELECT count(*) AS n FROM kgram_index")[0]["n"] == 0
    assert attribution.ensure_index(case) == 1
    assert case.meta()[attribution.META_K] == "8"
    assert attribution.rank_documents(case, doc.text[100:600])[0][0] == doc.id
    assert attribution.ensure_index(case) == 0  # up to date: nothing redone


def test_attribute_with_nothing_shared(case: Case) -> None:
    case.add_document(_loaded(_demo("gettysburg_address_bliss.txt"), "g.txt"))
    assert attribution.attribute(case, _random_text(200, 5)) == []
    assert attribution.attribute(case, "") == []
    with pytest.raises(ValidationError):
        attribution.attribute(case, "x", top=0)


def test_control_baseline(case: Case) -> None:
    decl = case.add_document(_loaded(_demo("declaration_of_independence.txt"), "decl.txt"))
    none = control_baseline(case, ["some output"])
    assert not none.available and "unavailable" in none.describe()
    ctl_text = _random_text(2000, 3)
    ctl = case.add_document(_loaded(ctl_text, "ctl.txt"), is_control=True)
    w = ctl_text.split()
    outputs = [" ".join(w[100:130]), _random_text(100, 99), decl.text[:500]]
    b = control_baseline(case, outputs)
    assert b.available and b.control_document_ids == (ctl.id,) and b.outputs == 3
    assert b.longest_verbatim_words.max == 30
    assert b.longest_verbatim_words.min == 0
    assert 0.0 <= b.output_coverage_fraction.median <= 1.0
    assert ControlBaseline.from_json(json.loads(json.dumps(b.to_json()))) == b
    assert "median" in b.describe()

    model = case.add_model(_model())
    spec = AttemptSpec(method="prompt", prompt_class="ordinary", model_id=model.id or 0,
                       model_fingerprint=model.fingerprint, document_id=decl.id)
    case.record_attempt(Attempt(id=0, spec=spec, status="done", output_text=" ".join(w[500:540])))
    # An attempt on the control itself is left out (its prompt came from the control).
    spec_ctl = AttemptSpec(method="prompt", prompt_class="ordinary", model_id=model.id or 0,
                           model_fingerprint=model.fingerprint, document_id=ctl.id)
    case.record_attempt(Attempt(id=0, spec=spec_ctl, status="done", output_text=" ".join(w[:100])))
    mb = model_control_baseline(case, model.id or 0)
    assert mb.outputs == 1 and mb.longest_verbatim_words.max == 40


def _prefix_attempt(case: Case, doc_id: int, text: str, output: str) -> Attempt:
    model = case.models()[0] if case.models() else case.add_model(_model())
    p0 = text.index("When in the Course")
    start = text.index("it becomes necessary")
    end = start + 400
    spec = AttemptSpec(method="prefix", prompt_class="prefix", model_id=model.id or 0,
                       model_fingerprint=model.fingerprint, document_id=doc_id,
                       params={"decoding": "greedy", "max_new_tokens": 50},
                       target={"prefix_start_char": p0, "start_char": start, "end_char": end,
                               "prefix_start_token": 0, "start_token": 10, "end_token": 60,
                               "prefix_tokens": 10, "suffix_tokens": 50},
                       bos_policy="none")
    return case.record_attempt(Attempt(id=0, spec=spec, status="done", prompt_text=text[p0:start],
                                       output_text=output, target_text=text[start:end]))


def test_align_attempt_uses_target_and_whole_document_offsets(case: Case) -> None:
    doc = case.add_document(_loaded(_demo("declaration_of_independence.txt"), "decl.txt"))
    text = doc.text
    start = text.index("it becomes necessary")
    target = text[start : start + 400]
    out_words = target.split()
    out_words[12] = "CHANGED"
    output = " ".join(out_words)
    att = _prefix_attempt(case, doc.id, text, output)
    al = align_attempt(case, att)
    assert al.source_offset == start
    assert len(al.spans) == 1 and al.spans[0].kind == NEAR
    s = al.spans[0]
    assert s.source_start >= start and s.source_end <= start + 400
    assert text[s.source_start : s.source_start + 20] == output[s.output_start : s.output_start + 20]
    # The prompt words (before start_char) are never compared nor counted.
    assert al.metrics.source_words == len(normalize_words(target))
    assert not any(s.source_start < start for s in al.spans)
    assert [output[a:b] for a, b in s.output_diffs] == ["CHANGED"]
    assert all(a >= start for a, _ in s.source_diffs)


def test_cli_align_and_attribute(case: Case, case_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = case.add_document(_loaded(_demo("declaration_of_independence.txt"), "decl.txt"))
    start = doc.text.index("it becomes necessary")
    output = doc.text[start : start + 300]
    att = _prefix_attempt(case, doc.id, doc.text, output)
    case.close()

    assert main(["align", str(case_path), "--attempt", str(att.id), "--json", "--save"]) == 0
    data = json.loads(capsys.readouterr().out)
    al = Alignment.from_json(data["alignment"])
    assert al.metrics.exact_suffix_match is False  # the output covers only 300 of the 400 target characters
    assert al.spans[0].source_start == start and al.spans[0].kind == VERBATIM
    assert data["saved_alignment_id"] >= 1

    assert main(["align", str(case_path), "--attempt", str(att.id)]) == 0
    text_out = capsys.readouterr().out
    assert "longest verbatim run" in text_out and "words" in text_out and "verbatim" in text_out
    assert "longest common subsequence" in text_out and "(not necessarily contiguous)" in text_out

    with Case.open(case_path) as c:
        stored = c.latest_alignment(att.id)
        assert stored is not None and Alignment.from_json(stored[1]) == al

    assert main(["align", str(case_path), "--attempt", "999"]) != 0
    err = capsys.readouterr().err
    assert "999" in err and "Traceback" not in err

    f = tmp_path / "out.txt"
    f.write_text("Some preamble. " + doc.text[1000:1600], encoding="utf-8")
    assert main(["attribute", str(case_path), "--text", str(f), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["results"]
    assert res[0]["document_id"] == doc.id and res[0]["matched_words"] > 90
    assert main(["attribute", str(case_path), "--text", str(f)]) == 0
    assert "decl" in capsys.readouterr().out

    assert main(["attribute", str(case_path), "--text", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err
    assert "missing.txt" in err and "hint:" in err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa not utf8")
    assert main(["attribute", str(case_path), "--text", str(bad)]) == 2
    assert "UTF-8" in capsys.readouterr().err
