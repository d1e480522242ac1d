"""Benchmark: first open of a GGUF model (dequantize + build the cache) vs the second open (verified cache).

Each open runs in a fresh Python process, with an empty memoview cache folder
for this run (the user's own cache is left alone), so the first open really
dequantizes and the second really reads the cache. Prints both times and
their ratio; the goal is >= 5x. Uses the demo model (Gemma 3 270M Q4_K_M);
without the demo package it falls back to a tiny generated GGUF and says so.

    python bench/model_open.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL = 5.0

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import torch, transformers  # imported up front so the timing below is the open itself
t1 = time.perf_counter()
from memoview.core.jobs import run_job
from memoview.core.models.load import open_model
lm = run_job(open_model(sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "source": lm.report.source,
                  "fingerprint": lm.info.fingerprint}))
"""


def _model_path() -> tuple[Path, str]:
    try:
        from memoview.core.models.demo import demo_model_path

        return demo_model_path(), "demo model (Gemma 3 270M, Q4_K_M GGUF)"
    except Exception as exc:  # the demo package is optional
        sys.path.insert(0, str(REPO))
        from tests.core.models_support import build_gguf_model

        target = Path(tempfile.mkdtemp(prefix="memoview-bench-")) / "tiny.gguf"
        build_gguf_model(target)
        print(f"NOTE: demo model unavailable ({exc}); using a tiny generated GGUF instead. "
              "Its ratio says little about real models.")
        return target, "tiny generated GGUF (fallback)"


def _open(path: Path, cache: Path) -> dict[str, object]:
    env = dict(os.environ, MEMOVIEW_CACHE_DIR=str(cache))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, capture_output=True, text=True,
                         cwd=str(REPO), check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"open failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def main() -> int:
    path, label = _model_path()
    print(f"model: {label}\n  {path}")
    with tempfile.TemporaryDirectory(prefix="memoview-bench-cache-") as tmp:
        cache = Path(tmp)
        first = _open(path, cache)
        second = _open(path, cache)
    assert first["source"] == "gguf", first
    assert second["source"] == "gguf-cache", second
    assert first["fingerprint"] == second["fingerprint"]
    ratio = float(first["open_s"]) / float(second["open_s"])  # type: ignore[arg-type]
    wall_ratio = float(first["wall_s"]) / float(second["wall_s"])  # type: ignore[arg-type]
    print(f"first open  (dequantize + build cache): {first['open_s']:.2f} s   "
          f"(process wall {first['wall_s']:.2f} s, of which torch/transformers import {first['import_s']:.2f} s)")
    print(f"second open (verified cache):           {second['open_s']:.2f} s   "
          f"(process wall {second['wall_s']:.2f} s, of which torch/transformers import {second['import_s']:.2f} s)")
    print(f"ratio open_model: {ratio:.1f}x   ratio whole process: {wall_ratio:.1f}x   (goal >= {GOAL:g}x: "
          f"{'met' if ratio >= GOAL else 'NOT met'})")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
