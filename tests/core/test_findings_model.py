"""Work-level findings from real sweeps of the tiny fixture model (transformers, CPU): the memorized
text is extractable, the control is not, the rates are stored with the sweep and agree with the ones
recomputed from the stored windows, and `sweep --json` carries them with the controls' error rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from memoview.core.jobs import run_job
from tests.support.fixture_case import make_fixture_case
from tests.support.tiny_model import load_fixture_model


@pytest.fixture(scope="module")
def lm(fixture_model_dir: Path):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    return load_fixture_model(fixture_model_dir)


def test_sweep_rates_stored_and_control_error_rate(tmp_path: Path, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.sweep import SweepRequest, run_sweep, sweep_json
    from memoview.core.findings.coverage import SweepRates
    from memoview.core.findings.report import NO_CONTROLS, case_findings, rates_for_sweep

    case = make_fixture_case(tmp_path / "f.memoview")
    mem = next(d for d in case.documents() if not d.is_control)
    ctl = next(d for d in case.documents() if d.is_control)
    req = SweepRequest(prefix=30, suffix=30, stride=30, generate_best=0)
    att, wins = run_job(run_sweep(case, lm, mem, req))
    stored = SweepRates.from_json(att.metrics["findings"])
    assert stored == rates_for_sweep(att, wins, len(mem.text))  # stored = recomputed from the windows
    assert stored.at(0.5).windows.k == len(wins) and stored.greedy.windows.k == len(wins)
    assert stored.at(0.5).char_fraction > 0.5
    assert sweep_json(case, att, wins)["findings"]["controls"] == NO_CONTROLS
    run_job(run_sweep(case, lm, ctl, req))
    f = case_findings(case)
    sf = f.work(mem.id).latest_sweep
    fp = sf.controls.at(0.001)
    assert fp.n > 0 and fp.k == 0 and fp.high < 0.7  # the control never reaches p_z >= 0.001
    assert sweep_json(case, att, wins)["findings"]["controls"]["rates"][0]["k"] == 0
    assert f.work(ctl.id).latest_sweep.rates.at(0.001).chars == 0
    case.close()
