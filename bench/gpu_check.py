"""GPU check of the transformers engine (issue 10 point 8), to run once on a machine with an NVIDIA GPU.

On the demo model (Gemma 3 270M GGUF, dequantized through the verified
cache), over the same 50/50 windows of a demo text:

* CPU float32 (the reference) — measured in the same run, as the baseline;
* CUDA float32 and CUDA bfloat16 — windows per second, ratio to CPU float32,
  and agreement with CPU float32 on greedy exact length (equal) and log10
  p_z (within 0.1), window by window;
* peak GPU memory per run.

Exits 0 when every figure was measured and both CUDA runs agree with the CPU
on >= 95% of the windows' greedy exact lengths, 1 otherwise; 2 when no GPU is
visible (nothing measured, said so). Usage:
    python bench/gpu_check.py [--windows 48] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TEXT = ROOT / "memoview/resources/demo/declaration_of_independence.txt"


def _doc(text: str) -> Any:
    from memoview.core.records import Document

    return Document(id=0, title="gpu", author="", source="", date_obtained="", notes="", filename="",
                    media_type="text/plain", byte_size=len(text), raw_sha256="", text_sha256="", text=text,
                    extractor="", extractor_version="", encoding="utf-8", is_control=False, imported_at="")


def run(device: str, dtype: str, windows: int, batch: int) -> dict[str, Any]:
    import torch

    from memoview.core.engines.base import EngineSettings
    from memoview.core.extraction.passage import sweep_passages, tokenize_document
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows
    from memoview.core.jobs import run_job
    from memoview.core.models.demo import demo_model_path
    from memoview.core.session import open_engine

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    eng = run_job(open_engine(str(demo_model_path()), EngineSettings(engine="transformers", device=device,
                                                                      dtype=dtype)))
    open_s = time.perf_counter() - t0
    text = TEXT.read_text(encoding="utf-8")
    tdoc = tokenize_document(eng, _doc(text))
    passages = sweep_passages(tdoc, 50, 50, 50)
    n = min(windows, len(passages))
    cut = _doc(text[: tdoc.char_end(passages[n - 1].end_token)])
    req = SweepRequest(prefix=50, suffix=50, stride=50, pz_top_k=40, pz_temperature=1.0, generate_best=0,
                       batch_size=batch)
    run_job(sweep_windows(eng, _doc(text[: tdoc.char_end(passages[0].end_token)]), req))  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    wins = run_job(sweep_windows(eng, cut, req))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    sweep_s = time.perf_counter() - t0
    out = {"device": device, "dtype": dtype, "identity": eng.identity.label(), "open_s": open_s,
           "windows": len(wins), "windows_per_s": len(wins) / sweep_s,
           "rows": {f"{w.start_char}:{w.end_char}": (w.greedy_exact, w.log10_pz) for w in wins}}
    if device.startswith("cuda"):
        out["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2 ** 20
    eng.close()
    return out


def agreement(ref: dict[str, Any], other: dict[str, Any]) -> tuple[int, int, int]:
    n = g = p = 0
    for key, (greedy, pz) in other["rows"].items():
        if key not in ref["rows"]:
            continue
        g0, p0 = ref["rows"][key]
        n += 1
        g += greedy == g0
        p += (pz is None and p0 is None) or (pz is not None and p0 is not None and abs(pz - p0) <= 0.1)
    return n, g, p


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for the CPU baseline (default: all)")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU visible to this torch build: nothing measured")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"bench/gpu_check.py {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"GPU {torch.cuda.get_device_name(0)}  torch {torch.__version__} (CUDA {torch.version.cuda})  "
          f"CPU threads {torch.get_num_threads()} of {os.cpu_count()}")
    cpu = run("cpu", "float32", args.windows, args.batch_size)
    results = [cpu, run("cuda", "float32", args.windows, args.batch_size),
               run("cuda", "bfloat16", args.windows, args.batch_size)]
    ok = True
    print(f"{'run':<22} {'open s':>7} {'win/s':>9} {'x cpu fp32':>10} {'greedy agree':>13} {'pz agree':>9} "
          f"{'GPU MiB':>8}")
    for r in results:
        n, g, p = agreement(cpu, r)
        if r is not cpu and g < 0.95 * n:
            ok = False
        print(f"{r['device'] + ' ' + r['dtype']:<22} {r['open_s']:>7.2f} {r['windows_per_s']:>9.2f} "
              f"{r['windows_per_s'] / cpu['windows_per_s']:>9.1f}x {g:>5}/{n:<4} {100 * g / max(1, n):>3.0f}% "
              f"{100 * p / max(1, n):>8.0f}% {r.get('peak_gpu_mib', 0):>8.0f}")
    print(f"{cpu['windows']} windows of 50+50 tokens (stride 50) of {TEXT.name}; agreement against CPU float32: "
          "greedy exact length equal, log10 p_z within 0.1")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
