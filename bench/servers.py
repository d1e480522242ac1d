"""Sweep windows per second through llama.cpp's OpenAI-compatible server (1, 2, 4 concurrent requests)
against the in-process llama.cpp engine, on the same windows, in one run.

    PYTHONPATH=. python bench/servers.py [--windows 2] [--prefix 8 --suffix 8] [--threads 2]

Starts ``python -m llama_cpp.server`` on 127.0.0.1 with the demo GGUF and
``--logits_all true``; scores the first N 50/50 windows of a demo text with
the server engine at each concurrency, then with the in-process llama.cpp
engine (the baseline), and prints windows/s and the ratio to the baseline,
plus greedy-exact agreement. Every figure comes from this one run.

What to expect, and why: llama-cpp-python's server runs one model and
serves one request at a time, and with ``echo`` + ``logprobs`` it sorts the
whole vocabulary in Python for every prompt token, so a server window costs
far more than an in-process one and concurrency does not add throughput on
one server. Scale-out comes from several replicas (vLLM or llama.cpp) on
several GPUs/nodes, each taking its share of the windows (docs/scale-out.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = "bench-" + os.urandom(8).hex()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Small defaults: llama-cpp-python's server sorts the whole vocabulary in Python for every echoed token.
    ap.add_argument("--windows", type=int, default=2)
    ap.add_argument("--prefix", type=int, default=8)
    ap.add_argument("--suffix", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--text", default="memoview/resources/demo/declaration_of_independence.txt")
    args = ap.parse_args()

    from memoview.core.engines.base import EngineSettings, ScoringScheme
    from memoview.core.engines.openai import connect
    from memoview.core.jobs import run_job
    from memoview.core.models.demo import demo_model_path
    from memoview.core.remote import evidence
    from memoview.core.remote.endpoint import Endpoint
    from memoview.core.session import open_engine
    from tests.support import llama_server

    reason = llama_server.why_unavailable()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    gguf = demo_model_path()
    text = Path(args.text).read_text(encoding="utf-8")
    scheme = ScoringScheme(temperature=1.0, top_k=args.top_k, with_ranks=False)

    local = run_job(open_engine(str(gguf), EngineSettings(engine="llama.cpp", threads=args.threads)))
    ids = local.encode(text)
    bos = [local.bos_token_id] if local.bos_token_id is not None else []
    span = args.prefix + args.suffix
    starts = [i * span for i in range(args.windows) if (i + 1) * span <= len(ids)]
    contexts = [bos + ids[s:s + args.prefix] for s in starts]
    targets = [ids[s + args.prefix:s + span] for s in starts]
    n = len(contexts)
    print(f"{n} windows of {args.prefix}+{args.suffix} tokens from {Path(args.text).name}; p_z top-k {args.top_k}")

    t0 = time.perf_counter()
    base_scores = local.score(contexts, targets, scheme)
    base_s = time.perf_counter() - t0
    local.close()
    base_rate = n / base_s
    print(f"in-process llama.cpp engine (baseline): {base_s:7.2f} s  {base_rate:6.3f} windows/s  1.00x")

    os.environ["MEMOVIEW_BENCH_KEY"] = KEY
    with tempfile.TemporaryDirectory() as tmp:
        srv = llama_server.start(gguf, Path(tmp), api_key=KEY, n_ctx=256, threads=args.threads)
        print(f"llama.cpp server started in {srv.startup_s:.1f} s (llama-cpp-python, --logits_all true)")
        try:
            for conc in (1, 2, 4):
                ep = Endpoint(base_url=srv.url, model_id=srv.model_id, api_key_env="MEMOVIEW_BENCH_KEY",
                              use_keyring=False, concurrency=conc, read_timeout_s=900)
                # the concurrency limit is one semaphore per base URL and process: reset it for each run
                from memoview.core.remote import client as client_mod

                client_mod._SEMAPHORES.pop(ep.base_url, None)
                eng = connect([ep], tokenizer=gguf)
                with evidence.capture() as col:
                    t0 = time.perf_counter()
                    scores = eng.score(contexts, targets, scheme)
                    secs = time.perf_counter() - t0
                eng.close()
                agree = sum(1 for a, b in zip(scores, base_scores) if a.greedy_exact == b.greedy_exact)
                diffs = [abs(a.log_pz - b.log_pz) for a, b in zip(scores, base_scores)
                         if a.log_pz is not None and b.log_pz is not None]
                rate = n / secs
                print(f"server, {conc} concurrent request(s):     {secs:7.2f} s  {rate:6.3f} windows/s  "
                      f"{rate / base_rate:.3f}x   greedy agreement {agree}/{n}, "
                      f"median |d ln p_z| {statistics.median(diffs) if diffs else float('nan'):.2e}, "
                      f"{len(col)} HTTP exchanges")
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
