"""Work-level findings (issue 12): per-character maxima, rates, intervals, controls, flags.

The per-character maximum and the rates are checked against a brute-force
computation on synthetic windows (Hypothesis). Case-level tests record
synthetic sweep attempts in a real SQLite case (no model is needed: the
numbers under test are computed from stored windows).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memoview.core.case import Case
from memoview.core.documents.load import load_document
from memoview.core.findings import controls, entropy
from memoview.core.findings.coverage import NEG_INF, max_profile, sweep_rates
from memoview.core.findings.quantity import MapKind, MapQuantity
from memoview.core.findings.report import NO_CONTROLS, case_findings
from memoview.core.findings.stats import Rate, betainc, clopper_pearson, fmt_log10, fmt_pz, predicted_hit_rate
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo, SweepWindow

# ---------------------------------------------------------------- Clopper-Pearson


@pytest.mark.parametrize("k,n,low,high", [
    # Values from R's binom.test(k, n)$conf.int (exact Clopper-Pearson, 95%).
    (0, 10, 0.0, 0.3084971),
    (1, 10, 0.002528579, 0.4450161),
    (5, 10, 0.1870860, 0.8129140),
    (10, 10, 0.6915029, 1.0),
    (3, 40, 0.01574, 0.20387),
    (0, 1000, 0.0, 0.003682084),
])
def test_clopper_pearson_known_values(k: int, n: int, low: float, high: float) -> None:
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(low, abs=2e-5)
    assert hi == pytest.approx(high, abs=2e-5)


def test_clopper_pearson_zero_of_n_is_rule_of_three_like() -> None:
    # For k = 0 the upper bound is exactly 1 - (alpha/2)^(1/n).
    for n in (1, 7, 100, 5000):
        assert clopper_pearson(0, n)[1] == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-9)


@given(st.floats(0.05, 50), st.floats(0.05, 50), st.floats(0.001, 0.999))
@settings(max_examples=60, deadline=None)
def test_betainc_symmetry(a: float, b: float, x: float) -> None:
    assert betainc(a, b, x) + betainc(b, a, 1 - x) == pytest.approx(1.0, abs=1e-9)


def test_bad_counts_refused() -> None:
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_predicted_hit_rate_is_stable_for_tiny_pz() -> None:
    assert predicted_hit_rate(-20.0, 10) == pytest.approx(1e-19, rel=1e-6)
    assert predicted_hit_rate(math.log10(0.5), 2) == pytest.approx(0.75)
    assert predicted_hit_rate(None, 10) == 0.0


def test_pz_never_shown_as_zero() -> None:
    assert fmt_pz(-450.3).startswith("< 1e-300")
    assert "0" != fmt_pz(-450.3).split()[0]
    assert fmt_pz(-2.0).startswith("0.01")
    assert fmt_log10(-12.345) == "\u221212.3"
    assert fmt_log10(-0.0432) == "\u22120.04"


# ---------------------------------------------------------------- per-character maximum

intervals_st = st.lists(
    st.tuples(st.integers(0, 60), st.integers(1, 25), st.one_of(st.just(NEG_INF), st.floats(-12, 0))),
    max_size=25,
).map(lambda xs: [(s, s + ln, v) for s, ln, v in xs])


@given(intervals_st)
@settings(max_examples=200, deadline=None)
def test_max_profile_matches_brute_force(intervals: list[tuple[int, int, float]]) -> None:
    per_char: dict[int, float] = {}
    for s, e, v in intervals:
        for c in range(s, e):
            per_char[c] = max(per_char.get(c, NEG_INF), v) if c in per_char else v
    got: dict[int, float] = {}
    profile = max_profile(intervals)
    for s, e, v in profile:
        assert e > s
        for c in range(s, e):
            assert c not in got, "segments must not overlap"
            got[c] = v
    assert got == per_char
    # maximal segments: neighbours that touch differ in value
    for (s1, e1, v1), (s2, e2, v2) in zip(profile, profile[1:]):
        assert s2 >= e1 and not (s2 == e1 and v1 == v2)


def _w(i: int, s: int, e: int, lp: float | None, ge: int) -> SweepWindow:
    return SweepWindow(attempt_id=1, index=i, start_token=i, start_char=s, end_char=e, prefix_start_char=max(0, s - 5),
                       greedy_exact=ge, memorization_score=ge / 10, log10_p=lp or -50.0, log10_pz=lp)


windows_st = st.lists(
    st.tuples(st.integers(0, 80), st.integers(1, 30), st.one_of(st.none(), st.floats(-6, 0)), st.integers(0, 10)),
    min_size=0, max_size=20,
)


@given(windows_st, st.lists(st.sampled_from([0.5, 0.1, 0.01, 0.001, 1.0, 0.3]), min_size=1, max_size=4, unique=True))
@settings(max_examples=200, deadline=None)
def test_rates_match_brute_force(raw: list[tuple[int, int, float | None, int]], taus: list[float]) -> None:
    doc_chars = 120
    windows = [_w(i, s, min(s + ln, doc_chars), lp, ge) for i, (s, ln, lp, ge) in enumerate(raw)]
    rates = sweep_rates(windows, doc_chars, suffix_tokens=10, taus=taus)
    best: list[float | None] = [None] * doc_chars  # per-character max log10 p_z (None: not covered)
    exact = [False] * doc_chars
    for w in windows:
        lp = NEG_INF if w.log10_pz is None else w.log10_pz
        for c in range(w.start_char, w.end_char):
            best[c] = lp if best[c] is None else max(best[c], lp)  # type: ignore[type-var]
            exact[c] = exact[c] or w.greedy_exact >= 10
    assert rates.chars_tested == sum(1 for b in best if b is not None)
    for tau in taus:
        t = rates.at(tau)
        assert t is not None
        brute = sum(1 for c in range(doc_chars) if best[c] is not None and best[c] >= math.log10(tau))  # type: ignore[operator]
        assert t.chars == brute
        assert t.windows.k == sum(1 for w in windows if w.log10_pz is not None and w.log10_pz >= math.log10(tau))
        assert t.windows.n == len(windows)
        assert t.char_fraction == pytest.approx(t.chars / doc_chars)
    assert rates.greedy.chars == sum(exact)
    assert rates.greedy.windows.k == sum(1 for w in windows if w.greedy_exact >= 10)
    # monotone: a stricter threshold never covers more
    ordered = sorted(rates.thresholds, key=lambda t: t.tau or 0)
    for lo, hi in zip(ordered, ordered[1:]):
        assert hi.chars <= lo.chars


def test_overlapping_windows_combine_by_max() -> None:
    windows = [_w(0, 0, 10, -5.0, 0), _w(1, 5, 15, -0.1, 10), _w(2, 20, 30, None, 0)]
    r = sweep_rates(windows, 40, 10, (0.5, 0.001))
    assert r.at(0.5).chars == 10  # characters 5..15 from window 1
    assert r.at(0.5).windows.k == 1
    assert r.at(0.001).chars == 10  # window 0's -5 is below 1e-3
    assert r.chars_tested == 25
    assert r.greedy.chars == 10 and r.greedy.char_fraction == 0.25
    assert r.max_log10_pz == -0.1


# ---------------------------------------------------------------- controls

def test_shuffled_controls_reproducible_from_seed() -> None:
    text = "One sentence here. Another one follows! A third? And the fourth sentence ends it."
    a = controls.shuffled_text(text, "sentence-shuffle", 7)
    assert a == controls.shuffled_text(text, "sentence-shuffle", 7)
    assert sorted(controls.split_sentences(a)) == sorted(controls.split_sentences(text))
    w = controls.shuffled_text(text, "word-shuffle", 7)
    assert w == controls.shuffled_text(text, "word-shuffle", 7)
    assert sorted(w.split()) == sorted(text.split())
    seeds = {controls.shuffled_text(text, "word-shuffle", s) for s in range(10)}
    assert len(seeds) > 5  # different seeds, different orders


def test_unknown_kind_and_too_short_refused() -> None:
    from memoview.core.errors import ValidationError

    with pytest.raises(ValidationError):
        controls.shuffled_text("a b c", "reverse", 1)
    with pytest.raises(ValidationError):
        controls.shuffled_text("Only one sentence", "sentence-shuffle", 1)


def test_entropy_flags() -> None:
    assert entropy.flag("the cat sat " * 30).low
    prose = ("Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
             "Liberty, and dedicated to the proposition that all men are created equal.")
    f = entropy.flag(prose)
    assert f.ratio is not None and not f.low
    assert entropy.flag("short").ratio is None


# ---------------------------------------------------------------- case level

def _doc(case: Case, tmp: Path, name: str, text: str, control: bool = False):
    p = tmp / f"{name}.txt"
    p.write_text(text, encoding="utf-8")
    return case.add_document(load_document(p), title=name, is_control=control)


def _model(case: Case) -> ModelInfo:
    return case.add_model(ModelInfo(path="/x", format="hf", architecture="test", parameter_count=1,
                                    fingerprint="f" * 64, files=(ModelFile("w.safetensors", 1, "a" * 64, "weights"),),
                                    name="synthetic"))


def _sweep(case: Case, model: ModelInfo, doc, windows: list[tuple[int, int, float | None, int]]) -> Attempt:
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=int(model.id or 0),
                       model_fingerprint=model.fingerprint, document_id=doc.id,
                       params={"prefix_tokens": 50, "suffix_tokens": 10, "stride": 50, "stride_unit": "tokens",
                               "pz_top_k": 40, "pz_temperature": 1.0})
    wins = [SweepWindow(0, i, i, s, e, max(0, s - 5), ge, ge / 10, -1.0, lp) for i, (s, e, lp, ge) in enumerate(windows)]
    return case.record_attempt(Attempt(id=0, spec=spec, status="done"), wins)


def test_case_findings_with_and_without_controls(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "c.memoview")
    model = _model(case)
    work = _doc(case, tmp_path, "work", "w" * 100)
    _sweep(case, model, work, [(0, 50, -0.1, 10), (50, 100, -4.0, 2)])
    f = case_findings(case)
    sf = f.work(work.id).latest_sweep
    assert sf.rates.at(0.5).char_fraction == 0.5
    assert sf.controls is None and sf.control_text(0.5) == NO_CONTROLS
    assert f.to_json()["works"][0]["sweeps"][0]["controls"] == NO_CONTROLS
    ctrl = _doc(case, tmp_path, "ctrl", "c" * 100, control=True)
    _sweep(case, model, ctrl, [(0, 50, -0.2, 10), (50, 100, -9.0, 0), (20, 70, None, 0)])
    f = case_findings(case)
    sf = f.work(work.id).latest_sweep
    fp = sf.controls.at(0.5)
    assert (fp.k, fp.n, fp.unit) == (1, 3, "control windows")
    assert (fp.low, fp.high) == pytest.approx(clopper_pearson(1, 3))
    assert sf.controls.at(None).k == 1  # greedy exact on the control
    assert f.works[-1].document.is_control  # controls listed last
    case.close()


def test_generated_control_imported_with_recipe(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "c.memoview")
    work = _doc(case, tmp_path, "work", "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu.")
    c1 = controls.generate_control(case, work, "sentence-shuffle", 3)
    assert c1.is_control and c1.notes.startswith(controls.GENERATED_MARK)
    recipe = controls.recipe_of(c1)
    assert recipe["seed"] == 3 and recipe["kind"] == "sentence-shuffle"
    assert recipe["source_text_sha256"] == work.text_sha256
    # regenerating from the recorded recipe gives the same text
    assert c1.text.strip() == controls.shuffled_text(work.text, recipe["kind"], recipe["seed"]).strip()
    assert any(e.event == "control.generate" for e in case.audit_entries())
    from memoview.core.errors import ValidationError

    with pytest.raises(ValidationError, match="already exists"):
        controls.generate_control(case, work, "sentence-shuffle", 3)
    assert case.verify().ok
    case.close()


def test_map_quantity_names_and_levels() -> None:
    w = _w(0, 0, 10, -5.0, 5)
    q = MapQuantity.for_sweep("pz", {"suffix_tokens": 10, "pz_temperature": 1.0, "pz_top_k": 40})
    assert "p_z" in q.name and "top-k = 40" in q.name and q.name in q.tooltip(w)
    assert q.level(w) == pytest.approx(0.5)
    assert q.level(_w(0, 0, 10, None, 5)) == 0.0
    g = MapQuantity.for_sweep(MapKind.GREEDY, {"suffix_tokens": 10})
    assert g.level(w) == 0.5 and "greedy exact length" in g.name
    from memoview.core.errors import ValidationError

    with pytest.raises(ValidationError):
        MapQuantity.for_sweep("nope", {})


def test_rate_text() -> None:
    r = Rate.of(3, 40)
    assert r.describe().startswith("3 of 40 windows = 7.5% (95% CI 1.6%")


def test_cli_findings_and_control_generate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from memoview.cli import main

    path = tmp_path / "c.memoview"
    case = Case.create(path)
    model = _model(case)
    work = _doc(case, tmp_path, "work", "First sentence of the work. Second one here. Third sentence. " * 3)
    _sweep(case, model, work, [(0, 40, -0.1, 10), (40, 80, None, 0)])
    case.close()
    assert main(["findings", str(path), "--json", "--tau", "0.5", "--tau", "0.01"]) == 0
    data = json.loads(capsys.readouterr().out)
    sweep = data["works"][0]["sweeps"][0]
    assert data["thresholds"] == [0.5, 0.01]
    assert sweep["controls"] == NO_CONTROLS
    assert sweep["rates"]["thresholds"][0]["windows"]["k"] == 1
    assert main(["findings", str(path)]) == 0
    text = capsys.readouterr().out
    assert "no error rate: no controls" in text and "p_z \u2265 0.5" in text
    assert main(["control", "generate", str(path), "work", "--kind", "word-shuffle", "--seed", "11", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["is_control"] and made["recipe"]["seed"] == 11
    assert main(["findings", str(path), "--tau", "2"]) != 0  # refused with a message, no traceback
    assert "threshold" in capsys.readouterr().err


def _sampled(case: Case, model: ModelInfo, doc, seed: int, hit: bool, top_k: int = 40) -> Attempt:
    spec = AttemptSpec(method="prefix", prompt_class="prefix", model_id=int(model.id or 0),
                       model_fingerprint=model.fingerprint, document_id=doc.id, seed=seed,
                       params={"decoding": "sample", "temperature": 1.0, "top_k": top_k, "top_p": None,
                               "n_samples": 10, "pz_temperature": 1.0, "pz_top_k": 40},
                       target={"prefix_start_char": 0, "start_char": 10, "end_char": 40, "prefix_tokens": 5,
                               "suffix_tokens": 8})
    return case.record_attempt(Attempt(id=0, spec=spec, status="done", output_text="x",
                                       metrics={"log10_pz": math.log10(0.3), "exact_suffix_match": hit,
                                                "greedy_exact": 8 if hit else 2}))


def test_sampled_attempts_observed_vs_predicted(tmp_path: Path) -> None:
    case = Case.create(tmp_path / "c.memoview")
    model = _model(case)
    work = _doc(case, tmp_path, "work", "w" * 100)
    for i in range(10):
        _sampled(case, model, work, i, hit=i < 3)
    _sampled(case, model, work, 99, hit=False, top_k=5)  # another scheme: its own group, no prediction
    f = case_findings(case).work(work.id)
    same = next(s for s in f.sampled if s.comparable)
    other = next(s for s in f.sampled if not s.comparable)
    assert (same.hits.k, same.hits.n, same.hits.unit) == (3, 10, "samples")
    assert same.predicted_any == pytest.approx(1 - 0.7 ** 10)
    assert "inside the interval" in same.describe()
    assert "no prediction" in other.describe() and other.predicted_any is None
    # prefix attempts also give an attempt-level rate: p_z = 0.3 reaches 0.1 but not 0.5
    pf = f.prefix[0]
    assert pf.at(0.1).k == pf.at(0.1).n and pf.at(0.5).k == 0
    case.close()
