"""Benchmark of the extraction engine (issue 3 point 9). One run; prints figures and ratios.

(a) whole-work sweep, 50/50 windows: the engine's batched teacher-forced pass
    vs a naive loop of one ``generate`` call per window (on a subset of
    windows, said so), at identical greedy exact lengths (asserted);
(b) p_z of one window by the forward pass vs a Monte-Carlo estimate by
    sampling (top-k 40, T = 1) to the same relative error;
(c) peak memory (RSS).

Uses the demo model when it is installed, else (or with --fixture) the tiny
fixture model. Usage: python bench/extraction.py [--fixture] [--naive N]
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _model(fixture: bool):  # type: ignore[no-untyped-def]
    from memoview.core.jobs import run_job
    from memoview.core.models.load import open_model

    if not fixture:
        try:
            from memoview.core.models.demo import demo_model_path

            path = demo_model_path()
            text = (ROOT / "memoview/resources/demo/declaration_of_independence.txt").read_text(encoding="utf-8")
            return run_job(open_model(path)), text, f"demo model {path.name}"
        except Exception as exc:  # noqa: BLE001 - a benchmark falls back and says why
            print(f"demo model unavailable ({type(exc).__name__}: {exc}); using the fixture model")
    from tests.support.tiny_model import build_fixture_model, corpus_texts

    path = build_fixture_model(Path(tempfile.gettempdir()) / "memoview-bench-fixture")
    text = "\n\n".join(corpus_texts("memorized").values())
    return run_job(open_model(path)), text, "fixture model (tiny Llama)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", action="store_true", help="use the fixture model even if the demo model exists")
    ap.add_argument("--naive", type=int, default=8, help="windows for the naive generate loop (default 8)")
    ap.add_argument("--stride", type=int, default=50)
    ap.add_argument("--rel-error", type=float, default=0.1, help="Monte-Carlo relative error target")
    ap.add_argument("--mc-cap", type=int, default=48,
                    help="samples actually drawn; the time for the samples needed is extrapolated (default 48)")
    args = ap.parse_args()

    import torch

    from memoview.core.extraction import common
    from memoview.core.extraction.passage import sweep_passages, tokenize_document
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows
    from memoview.core.jobs import run_job
    from memoview.core.records import Document

    torch.set_num_threads(2)
    lm, text, label = _model(args.fixture)
    print(f"model: {label}; torch threads {torch.get_num_threads()}")
    doc = Document(id=0, title="bench", author="", source="", date_obtained="", notes="", filename="",
                   media_type="text/plain", byte_size=len(text), raw_sha256="", text_sha256="", text=text,
                   extractor="", extractor_version="", encoding="utf-8", is_control=False, imported_at="")
    P = S = 50
    tdoc = tokenize_document(lm, doc)
    passages = sweep_passages(tdoc, P, S, args.stride)
    print(f"document: {len(tdoc.ids)} tokens, {len(passages)} windows of {P}+{S}, stride {args.stride}")

    # (a) engine sweep vs naive generate loop
    # Scoring only (generate_best=0): the same work as the naive loop's exact lengths.
    req = SweepRequest(prefix=P, suffix=S, stride=args.stride, pz_top_k=40, pz_temperature=1.0, generate_best=0)
    run_job(sweep_windows(lm, doc, SweepRequest(prefix=P, suffix=S, stride=len(tdoc.ids), generate_best=0)))  # warm-up
    t0 = time.perf_counter()
    windows = run_job(sweep_windows(lm, doc, req))
    engine_s = time.perf_counter() - t0
    engine_wps = len(windows) / engine_s
    # The default sweep also generates the continuations of its 3 best windows (for the exhibit).
    t0 = time.perf_counter()
    run_job(sweep_windows(lm, doc, SweepRequest(prefix=P, suffix=S, stride=args.stride, pz_top_k=40, pz_temperature=1.0)))
    default_s = time.perf_counter() - t0
    bos = common.bos_ids(lm, common.bos_policy(lm))
    subset = list(range(0, len(passages), max(1, len(passages) // args.naive)))[: args.naive]
    t0 = time.perf_counter()
    naive_exact = []
    for i in subset:
        p = passages[i]
        ctx = bos + list(tdoc.ids[p.prefix_start_token:p.start_token])
        out = common.generate(lm, [ctx], {"decoding": "greedy", "max_new_tokens": S})[0]
        tgt = list(tdoc.ids[p.start_token:p.end_token])
        n = 0
        while n < len(tgt) and n < len(out) and out[n] == tgt[n]:
            n += 1
        naive_exact.append(n)
    naive_s = time.perf_counter() - t0
    naive_wps = len(subset) / naive_s
    engine_exact = [windows[i].greedy_exact for i in subset]
    assert naive_exact == engine_exact, (naive_exact, engine_exact)
    print(f"(a) sweep: engine {engine_wps:.2f} windows/s ({len(windows)} windows, {engine_s:.2f} s); "
          f"naive generate loop {naive_wps:.2f} windows/s (subset of {len(subset)} windows, {naive_s:.2f} s); "
          f"greedy exact lengths identical on the subset {engine_exact}")
    print(f"    ratio engine/naive = {engine_wps / naive_wps:.1f}x (goal >= 10x)")
    default_wps = len(windows) / default_s
    print(f"    default sweep (scoring + the 3 best windows' continuations generated): {default_wps:.2f} windows/s, "
          f"ratio {default_wps / naive_wps:.1f}x")

    # (b) p_z by forward pass vs Monte-Carlo sampling to the same relative error
    best = max(range(len(windows)), key=lambda i: windows[i].log10_pz if windows[i].log10_pz is not None else -1e9)
    p = passages[best]
    ctx = bos + list(tdoc.ids[p.prefix_start_token:p.start_token])
    tgt = list(tdoc.ids[p.start_token:p.end_token])
    t0 = time.perf_counter()
    s = common.score_continuations(lm, [ctx], [tgt], 1.0, 40)[0]
    fwd_s = time.perf_counter() - t0
    if s.log_pz is None:
        print("(b) no window has p_z > 0 under top-k 40: Monte-Carlo would need infinitely many samples; skipped")
    else:
        pz = math.exp(s.log_pz)
        need = math.ceil((1 - pz) / (pz * args.rel_error ** 2))  # binomial: rel. s.e. = sqrt((1-p)/(n p))
        cap = args.mc_cap
        n_run = min(need, cap)
        params = {"decoding": "sample", "max_new_tokens": S, "temperature": 1.0, "top_k": 40, "top_p": 1.0}
        hits = 0
        t0 = time.perf_counter()
        done = 0
        seed = 0
        while done < n_run:
            b = min(8, n_run - done)
            outs = common.generate(lm, [ctx] * b, params, seed=seed)
            seed += 1
            hits += sum(1 for o in outs if o[:S] == tgt)
            done += b
        mc_s = time.perf_counter() - t0
        mc_total = mc_s * need / n_run
        est = hits / n_run
        print(f"(b) p_z (window {best}, T=1, top-k 40): forward pass {pz:.3g} in {fwd_s * 1000:.1f} ms; "
              f"Monte-Carlo needs {need} samples for {args.rel_error:.0%} relative error; ran {n_run} in "
              f"{mc_s:.2f} s (estimate {est:.3g}){'; time extrapolated to ' + str(need) if need > n_run else ''}")
        print(f"    ratio Monte-Carlo/forward = {mc_total / fwd_s:.0f}x")

    # (c) peak memory
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(c) peak RSS {peak_mb:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
