"""Alignment and attribution speed, against baselines measured in the same run.

Run: /work/venv/bin/python bench/alignment.py [--docs 10000] [--difflib-timeout 120]

(a) A 2,000-word output (with injected copies of source passages, some with
    a word changed every 20) against a 100,000-word source: memoview's
    ``align`` (cold: source normalized and tokenized in the call; warm: the
    source prepared once, as when many outputs are aligned with one
    document) vs ``difflib.SequenceMatcher(autojunk=False)`` on words and on
    characters. Character-level difflib runs on a slice of the source and is
    extrapolated linearly (said so in the output; it is at least linear in
    the source length, so the extrapolation flatters difflib). Recall: the
    fraction of injected passages of which >= 90% of the output characters
    lie inside found spans (difflib: inside matching blocks of >= 5 words).
(b) Attribution of a 1,000-word output against N documents (synthetic plus
    the demo texts in memoview/resources/demo): index build time and size, query
    time from the index (ranking only, and with spans for the top 10), vs a
    naive loop aligning the output with every document (measured on a
    subset, extrapolated linearly; said so).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memoview.core.alignment import attribution  # noqa: E402
from memoview.core.alignment.engine import align  # noqa: E402
from memoview.core.alignment.prepared import _CACHE  # noqa: E402
from memoview.core.case import Case  # noqa: E402
from memoview.core.storage import kgram_index  # noqa: E402
from memoview.core.documents.base import LoadedDocument  # noqa: E402
from memoview.core.jobs import run_job  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "memoview" / "resources" / "demo"


def vocabulary(n: int, rng: random.Random) -> list[str]:
    syll = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "du", "ga", "ho", "be", "fi", "zu", "an", "or", "el"]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(syll) for _ in range(rng.randint(1, 4))))
    return sorted(words)


def prose(n_words: int, vocab: list[str], rng: random.Random) -> list[str]:
    # Zipf-like frequencies, as in real text (a few very common words).
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    words = rng.choices(vocab, weights=weights, k=n_words)
    return [w + ("." if i % 17 == 16 else "," if i % 9 == 8 else "") for i, w in enumerate(words)]


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _difflib_blocks(a: list[Any], b: list[Any], q: "mp.Queue[Any]") -> None:
    t0 = time.perf_counter()
    blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    q.put((time.perf_counter() - t0, [(x.a, x.b, x.size) for x in blocks]))


def run_difflib(a: list[Any], b: list[Any], timeout: float) -> tuple[Optional[float], list[tuple[int, int, int]]]:
    """difflib in a child process so that a run past ``timeout`` can be stopped."""
    ctx = mp.get_context("fork")
    q: "mp.Queue[Any]" = ctx.Queue()
    p = ctx.Process(target=_difflib_blocks, args=(a, b, q))
    p.start()
    try:
        secs, blocks = q.get(timeout=timeout)
    except Exception:
        p.kill()
        p.join()
        return None, []
    p.join()
    return secs, blocks


def bench_align(difflib_timeout: float) -> None:
    rng = random.Random(1)
    vocab = vocabulary(20_000, rng)
    src_words = prose(100_000, vocab, rng)
    source = " ".join(src_words)
    out_words = prose(2_000, vocab, random.Random(2))
    injected: list[tuple[int, int]] = []  # output word ranges of injected copies
    for k in range(8):
        pos = rng.randrange(0, len(src_words) - 120)
        length = rng.choice([40, 60, 100])
        copy = list(src_words[pos : pos + length])
        if k % 2:  # every other passage: one word changed every 20
            copy = [("QQQ" if i % 20 == 10 else w) for i, w in enumerate(copy)]
        at = 60 + k * 240
        out_words[at : at + length] = copy
        injected.append((at, at + length))
    output = " ".join(out_words)
    # Character offsets of each output word, for recall in characters.
    starts, pos = [], 0
    for w in out_words:
        starts.append(pos)
        pos += len(w) + 1
    inj_chars = [(starts[a], starts[b - 1] + len(out_words[b - 1])) for a, b in injected]

    def recall(ranges: list[tuple[int, int]]) -> float:
        hit = 0
        for a, b in inj_chars:
            covered = sum(max(0, min(b, y) - max(a, x)) for x, y in ranges)
            hit += covered >= 0.9 * (b - a)
        return hit / len(inj_chars)

    print(f"(a) output {len(out_words):,} words ({len(output):,} chars) vs source {len(src_words):,} words "
          f"({len(source):,} chars); {len(injected)} injected passages, half with a word changed every 20")
    _CACHE.clear()
    cold, al = timed(lambda: (_CACHE.clear(), align(source, output))[1])
    warm, al = timed(lambda: align(source, output), repeat=5)
    mv_recall = recall([(s.output_start, s.output_end) for s in al.spans])
    print(f"  memoview align, cold (normalize+tokenize source in the call): {cold * 1000:8.1f} ms")
    print(f"  memoview align, warm (source prepared once, best of 5):       {warm * 1000:8.1f} ms"
          f"   recall {mv_recall:.0%}  ({len(al.spans)} spans: "
          f"{al.metrics.verbatim_span_count} verbatim, {al.metrics.near_span_count} near)")

    # difflib, word level: output as `a`, source as `b` (b is the one indexed).
    secs, blocks = run_difflib(out_words, src_words, difflib_timeout)
    if secs is None:
        print(f"  difflib words (autojunk=False): did not finish within {difflib_timeout:.0f} s "
              f"(ratio > {difflib_timeout / warm:,.0f}x warm)")
    else:
        ranges = [(starts[x], starts[x + n - 1] + len(out_words[x + n - 1])) for x, _, n in blocks if n >= 5]
        print(f"  difflib words (autojunk=False):                              {secs * 1000:8.1f} ms"
              f"   recall {recall(ranges):.0%}")
        print(f"  ratio difflib-words / memoview: {secs / warm:,.1f}x (warm), {secs / cold:,.1f}x (cold)")

    # difflib, character level on a slice of the source, extrapolated.
    slice_words = 2_000
    src_slice = " ".join(src_words[:slice_words])
    secs_c, _ = run_difflib(list(output), list(src_slice), difflib_timeout)
    if secs_c is None:
        print(f"  difflib characters on a {slice_words:,}-word slice: did not finish within {difflib_timeout:.0f} s")
    else:
        est = secs_c * len(source) / len(src_slice)
        print(f"  difflib characters on a {slice_words:,}-word slice ({len(src_slice):,} chars): {secs_c:.2f} s; "
              f"linear extrapolation to the whole source: {est:,.0f} s "
              f"(ratio ~{est / warm:,.0f}x warm; a lower bound: difflib is not better than linear)")


def _loaded(text: str, name: str) -> LoadedDocument:
    raw = text.encode("utf-8")
    digest = hashlib.sha256(raw).hexdigest()
    return LoadedDocument(path=f"/bench/{name}", filename=name, media_type="text/plain", raw=raw,
                          raw_sha256=digest, text=text, text_sha256=digest, extractor="bench",
                          extractor_version="1", encoding="utf-8")


def bench_attribution(n_docs: int, doc_words: int) -> None:
    rng = random.Random(3)
    vocab = vocabulary(20_000, rng)
    demo = sorted(DEMO.glob("*.txt")) if DEMO.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.memoview"
        case = Case.create(path)
        index_document = kgram_index.index_document
        kgram_index.index_document = lambda *_args: 0  # import without indexing, to time the index build on its own
        t0 = time.perf_counter()
        texts: list[str] = []
        for p in demo:
            case.add_document(_loaded(p.read_text(encoding="utf-8"), p.name))
            texts.append(p.read_text(encoding="utf-8"))
        for i in range(n_docs - len(demo)):
            t = " ".join(prose(doc_words, vocab, rng))
            case.add_document(_loaded(t, f"doc{i:05d}.txt"))
            texts.append(t)
        kgram_index.index_document = index_document
        import_s = time.perf_counter() - t0
        size0 = os.path.getsize(path) + (os.path.getsize(str(path) + "-wal") if os.path.exists(str(path) + "-wal") else 0)
        build_s, n_indexed = timed(lambda: run_job(attribution.build_index(case, rebuild=True)))
        case.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size1 = os.path.getsize(path)
        rows = case.query("SELECT count(*) AS n FROM kgram_index")[0]["n"]
        print(f"(b) {n_docs:,} documents ({len(demo)} demo texts + synthetic of {doc_words} words); "
              f"imported in {import_s:.1f} s")
        print(f"  index build: {build_s:.1f} s for {n_indexed:,} documents, {rows:,} k-grams (k = {attribution.K} words); "
              f"case file {size0 / 1e6:.1f} MB -> {size1 / 1e6:.1f} MB (+{(size1 - size0) / 1e6:.1f} MB)")

        # A 1,000-word output: passages from three documents (one a demo text) plus new words.
        parts = [prose(300, vocab, random.Random(4))]
        for idx in (5 if len(demo) <= 5 else len(demo), n_docs // 2, n_docs - 1):
            w = texts[idx].split()
            a = len(w) // 4
            parts.append(w[a : a + 150])
        if demo:
            w = texts[0].split()
            parts.append(w[200:400])
        parts.append(prose(1000 - sum(len(p) for p in parts), vocab, random.Random(5)))
        output = " ".join(" ".join(p) for p in parts)
        n_out = len(output.split())
        rank_s, ranked = timed(lambda: attribution.rank_documents(case, output, top=10), repeat=5)
        attr_s, res = timed(lambda: attribution.attribute(case, output, top=10), repeat=3)
        print(f"  query, {n_out:,}-word output: ranking from the index {rank_s * 1000:.1f} ms (best of 5); "
              f"with spans for the top 10: {attr_s * 1000:.1f} ms")
        print("  top 5: " + ", ".join(f"doc {r.document_id} ({r.matched_words} words)" for r in res[:5]))

        sub = texts[: min(len(texts), 1000)]
        t0 = time.perf_counter()
        for t in sub:
            align(t, output)
        naive_sub = time.perf_counter() - t0
        naive = naive_sub * len(texts) / len(sub)
        how = "measured" if len(sub) == len(texts) else f"measured on {len(sub):,} documents, extrapolated"
        print(f"  naive loop (align with every document): {naive:.1f} s ({how}); "
              f"ratio naive / ranking {naive / rank_s:,.0f}x, naive / with spans {naive / attr_s:,.0f}x")
        case.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--doc-words", type=int, default=200)
    ap.add_argument("--difflib-timeout", type=float, default=120.0)
    ap.add_argument("--skip-a", action="store_true")
    ap.add_argument("--skip-b", action="store_true")
    args = ap.parse_args()
    if not args.skip_a:
        bench_align(args.difflib_timeout)
    if not args.skip_b:
        bench_attribution(args.docs, args.doc_words)


if __name__ == "__main__":
    main()
