"""Benchmark of the engines (issue 10 point 8). One run; every ratio is against transformers float32 measured here.

For each engine — transformers float32 (the baseline), transformers bfloat16,
llama.cpp (the GGUF's own Q4_K_M) — in its own process (so peak RSS is its
own): open time (first open, then cached/second open), sweep windows per
second on the same 50/50 windows of a demo text, peak RSS, and agreement
with float32 on greedy exact length and log10 p_z (within 0.1) per window.
Also, for float32: the sweep against the naive one-``generate``-per-window
loop on a subset of windows (same greedy exact lengths asserted).

bfloat16 on a CPU is slow with stock torch (its matmuls are several times
slower than float32's); it is run on the first ``--bf16-windows`` windows
only, and its agreement is over those, said so in the output.

Usage: python bench/engines.py [--windows N] [--bf16-windows N] [--naive N] [--skip-first-open]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TEXT = ROOT / "memoview/resources/demo/declaration_of_independence.txt"


def _doc(text: str) -> Any:
    from memoview.core.records import Document

    return Document(id=0, title="bench", author="", source="", date_obtained="", notes="", filename="",
                    media_type="text/plain", byte_size=len(text), raw_sha256="", text_sha256="", text=text,
                    extractor="", extractor_version="", encoding="utf-8", is_control=False, imported_at="")


def worker(engine: str, dtype: str, windows: int, naive: int, first_open: bool, threads: int) -> dict[str, Any]:
    """Runs in its own process: open twice, sweep, (float32) naive loop; returns figures as JSON."""
    from memoview.core.engines.base import EngineSettings
    from memoview.core.extraction.passage import sweep_passages, tokenize_document
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows
    from memoview.core.jobs import run_job
    from memoview.core.models.demo import demo_model_path
    from memoview.core.session import open_engine

    path = demo_model_path()
    settings = EngineSettings(engine=engine, dtype=dtype, threads=threads)
    out: dict[str, Any] = {"engine": engine, "dtype": dtype}
    if first_open and engine == "transformers":
        # A fresh cache: the first open dequantizes the GGUF and writes the verified cache.
        os.environ["MEMOVIEW_CACHE_DIR"] = tempfile.mkdtemp(prefix="memoview-bench-cache-")
    t0 = time.perf_counter()
    eng = run_job(open_engine(str(path), settings))
    out["open_first_s"] = time.perf_counter() - t0
    if engine == "llama.cpp" or first_open:
        eng.close()
        del eng
        t0 = time.perf_counter()
        eng = run_job(open_engine(str(path), settings))
        out["open_cached_s"] = time.perf_counter() - t0
    else:
        out["open_cached_s"] = out["open_first_s"]
    out["identity"] = eng.identity.label()
    if engine == "transformers":
        import torch

        torch.set_num_threads(threads)
    text = TEXT.read_text(encoding="utf-8")
    tdoc = tokenize_document(eng, _doc(text))
    passages = sweep_passages(tdoc, 50, 50, 50)
    n = min(windows, len(passages))
    # A document cut to exactly n windows, so every engine scores the same characters.
    last = passages[n - 1]
    cut = _doc(text[: tdoc.char_end(last.end_token)])
    req = SweepRequest(prefix=50, suffix=50, stride=50, pz_top_k=40, pz_temperature=1.0, generate_best=0)
    run_job(sweep_windows(eng, _doc(text[: tdoc.char_end(passages[0].end_token)]), req))  # warm-up
    t0 = time.perf_counter()
    wins = run_job(sweep_windows(eng, cut, req))
    sweep_s = time.perf_counter() - t0
    out.update(windows=len(wins), sweep_s=sweep_s, windows_per_s=len(wins) / sweep_s,
               rows=[(w.start_char, w.end_char, w.greedy_exact, w.log10_pz) for w in wins])
    if naive and engine == "transformers" and dtype == "float32":
        from memoview.core.extraction import common

        bos = common.bos_ids(eng, common.bos_policy(eng))
        subset = list(range(0, len(wins), max(1, len(wins) // naive)))[:naive]
        t0 = time.perf_counter()
        exact = []
        for i in subset:
            p = passages[i]
            ctx = bos + list(tdoc.ids[p.prefix_start_token:p.start_token])
            gen = common.generate(eng, [ctx], {"decoding": "greedy", "max_new_tokens": 50})[0]
            tgt = list(tdoc.ids[p.start_token:p.end_token])
            k = 0
            while k < len(tgt) and k < len(gen) and gen[k] == tgt[k]:
                k += 1
            exact.append(k)
        naive_s = time.perf_counter() - t0
        assert exact == [wins[i].greedy_exact for i in subset], (exact, [wins[i].greedy_exact for i in subset])
        out.update(naive_windows=len(subset), naive_s=naive_s, naive_windows_per_s=len(subset) / naive_s)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run(engine: str, dtype: str, args: argparse.Namespace, windows: int, naive: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", engine, "--dtype", dtype, "--windows", str(windows),
           "--naive", str(naive), "--threads", str(args.threads)] + (["--skip-first-open"] if args.skip_first_open else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)})
    if proc.returncode != 0:
        return {"engine": engine, "dtype": dtype, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _agreement(base: dict[str, Any], other: dict[str, Any]) -> tuple[int, int, int]:
    ref = {(a, b): (g, pz) for a, b, g, pz in base["rows"]}
    n = greedy = pz = 0
    for a, b, g, p in other["rows"]:
        if (a, b) not in ref:
            continue
        n += 1
        g0, p0 = ref[(a, b)]
        greedy += g == g0
        pz += (p is None and p0 is None) or (p is not None and p0 is not None and abs(p - p0) <= 0.1)
    return n, greedy, pz


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--windows", type=int, default=24, help="sweep windows per engine (default 24)")
    ap.add_argument("--bf16-windows", type=int, default=6, help="windows for bfloat16 on a CPU (default 6)")
    ap.add_argument("--naive", type=int, default=4, help="windows for the naive generate loop (default 4)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-first-open", action="store_true",
                    help="do not measure transformers' first open (dequantizing into a fresh cache)")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.dtype, args.windows, args.naive, not args.skip_first_open,
                                args.threads)))
        return 0

    from memoview.core.engines import available_engines

    print(f"bench/engines.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  cpus {os.cpu_count()}  "
          f"threads {args.threads}  load {os.getloadavg()[0]:.1f}")
    base = _run("transformers", "float32", args, args.windows, args.naive)
    if "error" in base:
        print(f"transformers float32 failed: {base['error']}")
        return 1
    results = [base, _run("transformers", "bfloat16", args, args.bf16_windows, 0)]
    if available_engines()["llama.cpp"] is None:
        results.append(_run("llama.cpp", "auto", args, args.windows, 0))
    else:
        print(f"llama.cpp: not available here ({available_engines()['llama.cpp']})")
    print(f"{'engine':<24} {'open first':>10} {'open 2nd':>9} {'win/s':>7} {'x fp32':>7} {'open x':>7} "
          f"{'RSS MiB':>8} {'greedy agree':>13} {'pz agree':>10}")
    for r in results:
        name = f"{r['engine']} {r['dtype'] if r['engine'] == 'transformers' else 'Q4_K_M'}"
        if "error" in r:
            print(f"{name:<24} failed: {r['error']}")
            continue
        n, g, p = _agreement(base, r)
        print(f"{name:<24} {r['open_first_s']:>9.2f}s {r['open_cached_s']:>8.2f}s {r['windows_per_s']:>7.3f} "
              f"{r['windows_per_s'] / base['windows_per_s']:>6.2f}x "
              f"{base['open_cached_s'] / r['open_cached_s']:>6.1f}x {r['peak_rss_mib']:>8.0f} "
              f"{g:>4}/{n:<3} {100 * g / max(1, n):>4.0f}% {100 * p / max(1, n):>8.0f}%")
    print(f"windows: {base['windows']} (50/50, stride 50) of {TEXT.name}; bfloat16 on its first "
          f"{args.bf16_windows} only (slow on a CPU). 'open x' = cached transformers float32 open time / this "
          "engine's second open. Agreement: greedy exact length equal; log10 p_z within 0.1.")
    print(f"transformers float32 sweep vs naive one-generate-per-window loop ({base['naive_windows']} windows): "
          f"{base['windows_per_s']:.3f} vs {base['naive_windows_per_s']:.3f} windows/s = "
          f"{base['windows_per_s'] / base['naive_windows_per_s']:.1f}x (goal >= 20x)")
    llama = next((r for r in results if r["engine"] == "llama.cpp" and "error" not in r), None)
    if llama:
        print(f"llama.cpp open vs cached transformers open: {base['open_cached_s'] / llama['open_cached_s']:.1f}x "
              "(goal >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
