"""The per-user hash cache never vouches for the weights a re-run uses.

The cache is keyed by path, size, mtime, ctime and inode. Someone able to set
the clock back (root) can rewrite a weights file so that key still matches;
this test produces that state directly by writing the old hash into the
cache under the new file's key, then checks that ``case verify --rerun``
(without ``--models``) and ``attempt reproduce`` re-read the bytes and refuse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memoview.cli import main
from memoview.core.case import Case
from memoview.core.documents.load import load_document
from memoview.core.extraction.attempts import PrefixRequest, run_prefix
from memoview.core.jobs import run_job
from memoview.core.models.fingerprint import HashCache, _stat_key
from memoview.core.models.load import open_model
from tests.support.tiny_model import CORPUS_DIR, corpus_manifest

pytestmark = pytest.mark.slow


def test_stale_cache_never_vouches_for_swapped_weights(tmp_path: Path, fixture_model_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(fixture_model_dir, model_dir)
    case_path = tmp_path / "c.memoview"
    entry = next(e for e in corpus_manifest()["documents"] if e["role"] == "memorized")
    with Case.create(case_path) as case:
        doc = case.add_document(load_document(CORPUS_DIR / entry["file"]), title=entry["title"])
        lm = run_job(open_model(model_dir))
        attempt = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=40, prefix=30, suffix=20)))[0]
        recorded = next(f for f in case.model(attempt.spec.model_id).files if f.relpath == "model.safetensors")
    weights = model_dir / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8:] = bytes(8)  # the last weights of the last tensor: still a loadable file
    weights.write_bytes(bytes(data))
    HashCache().put(weights, recorded.sha256, _stat_key(weights))  # the cache now lies about the new bytes
    capsys.readouterr()
    code = main(["case", "verify", str(case_path), "--rerun", "--json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    assert any("no longer match" in p["reason"] and "model.safetensors" in p["reason"] for p in report["problems"])
    HashCache().put(weights, recorded.sha256, _stat_key(weights))  # the re-hash above corrected it; lie again
    code = main(["attempt", "reproduce", str(case_path), str(attempt.id), "-q"])
    err = capsys.readouterr().err
    assert code != 0 and "do not match the fingerprint" in err
