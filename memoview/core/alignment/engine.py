"""The alignment engine: seed, extend, merge, measure.

Why this shape (DESIGN section 5): whole documents are never compared
character by character. Both texts are normalized and tokenized once
(vectorised); k-token seeds from a hash index give candidate diagonals;
runs of seeds on one diagonal are exact matches, extended and then tiled
greedily longest-first so that spans never overlap on either side.
Neighbouring runs are merged into a ``near`` span when the text between
them keeps the whole span within the normalized edit-distance threshold;
rapidfuzz measures only those small windows. Metrics that need a global
view (longest common subsequence, edit similarity) run on word ids with
rapidfuzz's bit-parallel algorithms, never on characters of whole documents.

The prepared (normalized, tokenized, cached) texts are
:mod:`memoview.core.alignment.prepared`; the metrics are
:mod:`memoview.core.alignment.measure`.
"""

from __future__ import annotations

import difflib
import heapq
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from rapidfuzz.distance import Levenshtein

from memoview.core.alignment.types import (
    NEAR,
    OUTPUT,
    SOURCE,
    VERBATIM,
    Alignment,
    AlignOptions,
    Gap,
    Span,
)
from memoview.core.alignment.measure import measure
from memoview.core.alignment.prepared import Prepared as Prepared
from memoview.core.alignment.prepared import count_tokens, free_stretches
from memoview.core.alignment.prepared import prepare as prepare
from memoview.core.documents.normalize import kgram_hashes
from memoview.core.errors import ValidationError

# k-grams occurring more often than this in the source are not used as
# seeds (they would flood the candidate list in repetitive texts); runs
# through them are still found from neighbouring seeds and by extension.
MAX_SEED_OCCURRENCES = 64


def _excluded_mask(p: Prepared, rng: Optional[tuple[int, int]]) -> np.ndarray:
    n = len(p.tokens)
    if rng is None or n == 0:
        return np.zeros(n, dtype=bool)
    a, b = rng
    if a < 0 or b < a or b > len(p.raw):
        raise ValidationError(
            f"exclusion range ({a}, {b}) is outside the text (0..{len(p.raw)} characters)",
            "give a prompt range as start <= end within the text",
        )
    return (p.tokens.raw_ends > a) & (p.tokens.raw_starts < b)


def _valid_windows(excluded: np.ndarray, k: int) -> np.ndarray:
    n = len(excluded) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=bool)
    c = np.concatenate(([0], np.cumsum(excluded, dtype=np.int64)))
    valid: np.ndarray = (c[k : k + n] - c[:n]) == 0
    return valid


def _source_index(src: Prepared, exS: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Source k-gram hashes sorted, with their token positions (cached per k
    on the prepared source when nothing is excluded)."""
    cacheable = not exS.any()
    if cacheable and k in src.seed_index:
        return src.seed_index[k]
    hS = kgram_hashes(src.tokens.hashes, k)
    src_pos = np.flatnonzero(_valid_windows(exS, k))
    h = hS[src_pos]
    order = np.argsort(h)
    result = (h[order], src_pos[order])
    if cacheable:
        src.seed_index[k] = result
    return result


def _seed_runs(src: Prepared, O: np.ndarray, exS: np.ndarray, exO: np.ndarray, k: int) -> list[tuple[int, int, int]]:
    """Exact matching runs ``(source_tok, output_tok, length_tok)`` found
    from k-token seeds, merged along diagonals and extended exactly."""
    S = src.tokens.hashes
    hO = kgram_hashes(O, k)
    if len(S) < k or len(hO) == 0:
        return []
    sorted_h, sorted_pos = _source_index(src, exS, k)
    vO = _valid_windows(exO, k)
    out_pos = np.flatnonzero(vO)
    qh = hO[out_pos]
    lo = np.searchsorted(sorted_h, qh, side="left")
    hi = np.searchsorted(sorted_h, qh, side="right")
    cnt = hi - lo
    keep = (cnt > 0) & (cnt <= MAX_SEED_OCCURRENCES)
    if not keep.any():
        return []
    out_pos, lo, cnt = out_pos[keep], lo[keep], cnt[keep]
    total = int(cnt.sum())
    j = np.repeat(out_pos, cnt)
    offs = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    i = sorted_pos[np.repeat(lo, cnt) + offs]
    d = i - j
    order = np.lexsort((j, d))
    d, j, i = d[order], j[order], i[order]
    brk = np.ones(len(d), dtype=bool)
    brk[1:] = (d[1:] != d[:-1]) | (j[1:] != j[:-1] + 1)
    starts = np.flatnonzero(brk)
    ends = np.concatenate((starts[1:], [len(d)]))
    n, m = len(S), len(O)
    runs: list[tuple[int, int, int]] = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        si, oj = int(i[a]), int(j[a])
        length = (b - a) + k - 1
        # Exact extension (seeds may have been skipped as too frequent).
        while si > 0 and oj > 0 and S[si - 1] == O[oj - 1] and not exS[si - 1] and not exO[oj - 1]:
            si, oj, length = si - 1, oj - 1, length + 1
        while (si + length < n and oj + length < m and S[si + length] == O[oj + length]
               and not exS[si + length] and not exO[oj + length]):
            length += 1
        runs.append((si, oj, length))
    # Extension can make runs on one diagonal identical; keep each once.
    return sorted(set(runs))


def _same_strings(src: Prepared, out: Prepared, si: int, oj: int, ln: int) -> bool:
    """Token strings really equal (guards against a 64-bit hash collision)."""
    S, O = src.tokens, out.tokens
    a = [src.norm[x:y] for x, y in zip(S.norm_starts[si : si + ln].tolist(), S.norm_ends[si : si + ln].tolist())]
    b = [out.norm[x:y] for x, y in zip(O.norm_starts[oj : oj + ln].tolist(), O.norm_ends[oj : oj + ln].tolist())]
    return a == b


def _tile(runs: list[tuple[int, int, int]], src: Prepared, out: Prepared, n: int, m: int,
          min_words: int) -> list[tuple[int, int, int]]:
    """Greedy tiling, longest first (in words): accepted runs never share a
    token on either side; a run partly covered is cut to its free stretches."""
    wc = src.word_cum

    def words(si: int, length: int) -> int:
        return int(wc[si + length] - wc[si])

    heap = [(-words(si, ln), oj, si, ln) for si, oj, ln in runs if words(si, ln) >= min_words]
    heapq.heapify(heap)
    usedS = np.zeros(n, dtype=bool)
    usedO = np.zeros(m, dtype=bool)
    accepted: list[tuple[int, int, int]] = []
    while heap:
        negw, oj, si, ln = heapq.heappop(heap)
        free = ~usedS[si : si + ln] & ~usedO[oj : oj + ln]
        if free.all():
            if not _same_strings(src, out, si, oj, ln):
                continue
            usedS[si : si + ln] = True
            usedO[oj : oj + ln] = True
            accepted.append((si, oj, ln))
            continue
        for a, b in free_stretches(free):
            w = words(si + a, b - a)
            if w >= min_words:
                heapq.heappush(heap, (-w, oj + a, si + a, b - a))
    accepted.sort(key=lambda r: r[1])
    return accepted


def _norm_gap(p: Prepared, end_tok: int, start_tok: int) -> str:
    """Normalized text between the end of token ``end_tok - 1`` and the start of ``start_tok``."""
    t = p.tokens
    a = int(t.norm_ends[end_tok - 1]) if end_tok > 0 else 0
    b = int(t.norm_starts[start_tok]) if start_tok < len(t) else len(p.norm)
    return p.norm[a:b].strip()


def _norm_len(p: Prepared, a_tok: int, b_tok: int) -> int:
    t = p.tokens
    return int(t.norm_ends[b_tok - 1] - t.norm_starts[a_tok]) if b_tok > a_tok else 0


@dataclass
class _Chain:
    runs: list[tuple[int, int, int]]
    dist: int

    @property
    def s0(self) -> int:
        return self.runs[0][0]

    @property
    def o0(self) -> int:
        return self.runs[0][1]

    @property
    def s1(self) -> int:
        si, _, ln = self.runs[-1]
        return si + ln

    @property
    def o1(self) -> int:
        _, oj, ln = self.runs[-1]
        return oj + ln


def _merge(accepted: list[tuple[int, int, int]], src: Prepared, out: Prepared, exS: np.ndarray,
           exO: np.ndarray, options: AlignOptions) -> list[_Chain]:
    """Merge neighbouring runs (in output order) into near spans while the
    edit distance of the whole span stays within the threshold. The
    distance is the sum of the gap distances (the runs themselves are
    identical), an upper bound of the true distance: never too lenient."""
    usedS = np.zeros(len(src.tokens), dtype=bool)
    for si, _, ln in accepted:
        usedS[si : si + ln] = True
    chains: list[_Chain] = []
    max_tok_gap = 3 * options.max_gap_words + 4
    for run in accepted:
        si, oj, ln = run
        if chains:
            c = chains[-1]
            gs, go = si - c.s1, oj - c.o1
            ok = (
                gs >= 0 and go >= 0 and gs <= max_tok_gap and go <= max_tok_gap
                and int(src.word_cum[si] - src.word_cum[c.s1]) <= options.max_gap_words
                and int(out.word_cum[oj] - out.word_cum[c.o1]) <= options.max_gap_words
                and not exS[c.s1 : si].any() and not exO[c.o1 : oj].any()
                and not usedS[c.s1 : si].any()
            )
            if ok:
                gap_dist = Levenshtein.distance(_norm_gap(src, c.s1, si), _norm_gap(out, c.o1, oj))
                dist = c.dist + gap_dist
                longest = max(_norm_len(src, c.s0, si + ln), _norm_len(out, c.o0, oj + ln), 1)
                if dist / longest <= options.near_threshold:
                    c.runs.append(run)
                    c.dist = dist
                    continue
        chains.append(_Chain([run], 0))
    return _merge_chains(chains, src, out, exS, exO, usedS, options)


def _merge_chains(chains: list[_Chain], src: Prepared, out: Prepared, exS: np.ndarray, exO: np.ndarray,
                  usedS: np.ndarray, options: AlignOptions) -> list[_Chain]:
    """Second pass: join two neighbouring near spans across their gap when the joined span still meets the
    near-exact rule. The left-to-right pass above judges each gap against the span built so far, so dense
    early differences (a 50-word copy with words 7, 13 and 19 changed) split a copy that, as a whole, is well
    within the rule; joining whole spans fixes that. Repeated until nothing joins (each join shortens the list)."""
    max_tok_gap = 3 * options.max_gap_words + 4
    changed = True
    while changed and len(chains) > 1:
        changed = False
        for i in range(len(chains) - 1):
            a, b = chains[i], chains[i + 1]
            gs, go = b.s0 - a.s1, b.o0 - a.o1
            if not (0 <= gs <= max_tok_gap and 0 <= go <= max_tok_gap
                    and int(src.word_cum[b.s0] - src.word_cum[a.s1]) <= options.max_gap_words
                    and int(out.word_cum[b.o0] - out.word_cum[a.o1]) <= options.max_gap_words
                    and not exS[a.s1 : b.s0].any() and not exO[a.o1 : b.o0].any()
                    and not usedS[a.s1 : b.s0].any()):
                continue
            dist = a.dist + b.dist + Levenshtein.distance(_norm_gap(src, a.s1, b.s0), _norm_gap(out, a.o1, b.o0))
            longest = max(_norm_len(src, a.s0, b.s1), _norm_len(out, a.o0, b.o1), 1)
            if dist / longest <= options.near_threshold:
                chains[i : i + 2] = [_Chain(a.runs + b.runs, dist)]
                changed = True
                break
    return chains


def _diff_ranges(src: Prepared, out: Prepared, chain: _Chain) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Raw ranges of the differing tokens in each gap of a near span, found
    by a word-level diff of the (short) gap token lists."""
    sd: list[tuple[int, int]] = []
    od: list[tuple[int, int]] = []
    S, O = src.tokens, out.tokens
    for (a_si, a_oj, a_ln), (b_si, b_oj, _) in zip(chain.runs, chain.runs[1:]):
        s0, s1 = a_si + a_ln, b_si
        o0, o1 = a_oj + a_ln, b_oj
        sm = difflib.SequenceMatcher(None, S.hashes[s0:s1].tolist(), O.hashes[o0:o1].tolist(), autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag == "equal":
                continue
            if i2 > i1:
                sd.append((int(S.raw_starts[s0 + i1]), int(S.raw_ends[s0 + i2 - 1])))
            if j2 > j1:
                od.append((int(O.raw_starts[o0 + j1]), int(O.raw_ends[o0 + j2 - 1])))
    return tuple(sd), tuple(od)


def _gaps(p: Prepared, covered: np.ndarray, excluded: np.ndarray, side: str) -> tuple[Gap, ...]:
    free = ~covered & ~excluded
    t = p.tokens
    gaps = []
    for a, b in free_stretches(free):
        gaps.append(Gap(side, int(t.raw_starts[a]), int(t.raw_ends[b - 1]), int(p.word_cum[b] - p.word_cum[a])))
    return tuple(gaps)


def align(source: str, output: str, options: AlignOptions = AlignOptions(), tokenizer: Any = None) -> Alignment:
    """Align a model ``output`` against a ``source`` text.

    Returns span pairs in raw character offsets of the two strings, the
    unmatched stretches on each side, and metrics. ``options.exclude_source``
    / ``exclude_output`` remove a prompt range from both matching and
    counting. ``tokenizer`` (anything with ``encode``) adds model-token counts.
    """
    if options.min_verbatim_words < 1:
        raise ValidationError(
            f"min_verbatim_words must be at least 1 (got {options.min_verbatim_words})",
            "use the default of 5 words unless a protocol says otherwise",
        )
    if not 0.0 <= options.near_threshold < 1.0:
        raise ValidationError(
            f"near_threshold must be in [0, 1) (got {options.near_threshold})",
            "the default 0.10 means at most 10% normalized edit distance",
        )
    src = prepare(source, options.normalization)
    out = prepare(output, options.normalization)
    n, m = len(src.tokens), len(out.tokens)
    exS = _excluded_mask(src, options.exclude_source)
    exO = _excluded_mask(out, options.exclude_output)
    k = options.min_verbatim_words
    runs = _seed_runs(src, out.tokens.hashes, exS, exO, k)
    accepted = _tile(runs, src, out, n, m, options.min_verbatim_words)
    chains = _merge(accepted, src, out, exS, exO, options)

    ST, OT = src.tokens, out.tokens
    spans: list[Span] = []
    coveredS = np.zeros(n, dtype=bool)
    coveredO = np.zeros(m, dtype=bool)
    for mid, c in enumerate(chains, start=1):
        coveredS[c.s0 : c.s1] = True
        coveredO[c.o0 : c.o1] = True
        s_start, s_end = int(ST.raw_starts[c.s0]), int(ST.raw_ends[c.s1 - 1])
        o_start, o_end = int(OT.raw_starts[c.o0]), int(OT.raw_ends[c.o1 - 1])
        near = c.dist > 0
        sd, od = _diff_ranges(src, out, c) if near else ((), ())
        spans.append(
            Span(
                kind=NEAR if near else VERBATIM,
                match_id=mid,
                source_start=s_start,
                source_end=s_end,
                output_start=o_start,
                output_end=o_end,
                words=int(src.word_cum[c.s1] - src.word_cum[c.s0]),
                chars=s_end - s_start,
                tokens=count_tokens(tokenizer, output[o_start:o_end]) if tokenizer is not None else None,
                edit_distance=int(c.dist),
                source_diffs=sd,
                output_diffs=od,
            )
        )

    metrics = measure(src, out, exS, exO, accepted, sum(1 for c in chains if c.dist == 0),
                      sum(1 for c in chains if c.dist > 0), coveredS, coveredO, options, tokenizer, output)
    return Alignment(
        spans=tuple(spans),
        source_gaps=_gaps(src, coveredS, exS, SOURCE),
        output_gaps=_gaps(out, coveredO, exO, OUTPUT),
        metrics=metrics,
        options=options,
        source_length_chars=len(source),
        output_length_chars=len(output),
    )


