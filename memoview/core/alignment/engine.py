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
"""

from __future__ import annotations

import difflib
import heapq
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from rapidfuzz.distance import Levenshtein, LCSseq

from memoview.core.alignment.types import (
    NEAR,
    OUTPUT,
    SOURCE,
    VERBATIM,
    Alignment,
    AlignOptions,
    Gap,
    Metrics,
    NormalizeOptions,
    Span,
)
from memoview.core.documents.normalize import Tokens, kgram_hashes, normalize, tokenize
from memoview.core.errors import ValidationError

# k-grams occurring more often than this in the source are not used as
# seeds (they would flood the candidate list in repetitive texts); runs
# through them are still found from neighbouring seeds and by extension.
MAX_SEED_OCCURRENCES = 64
# Exact longest-common-substring search runs when the normalized source is
# at most this many characters; above it the value is a lower bound.
EXACT_SUBSTRING_MAX_CHARS = 200_000


@dataclass(frozen=True)
class Prepared:
    """A text normalized and tokenized once, reusable across alignments."""

    tokens: Tokens
    word_cum: np.ndarray  # word_cum[i] = number of words among tokens[:i]
    # Sorted k-gram seed index per k (no exclusions), kept with the cached text.
    seed_index: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # (sorted distinct word hashes, per token its index in them), kept with the cached text.
    word_ids: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def raw(self) -> str:
        return self.tokens.normalized.raw

    @property
    def norm(self) -> str:
        return self.tokens.normalized.text


_CACHE: "OrderedDict[tuple[int, int, NormalizeOptions], tuple[str, Prepared]]" = OrderedDict()
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def prepare(text: str, options: NormalizeOptions = NormalizeOptions()) -> Prepared:
    """Normalize and tokenize ``text``; the last few results are cached, so
    aligning many outputs against one document tokenizes it once."""
    key = (id(text), len(text), options)
    with _CACHE_LOCK:  # the GUI worker and the UI thread may align at the same time
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is text:
            _CACHE.move_to_end(key)
            return hit[1]
    tokens = tokenize(normalize(text, options))
    word_cum = np.concatenate(([0], np.cumsum(tokens.is_word, dtype=np.int64)))
    prepared = Prepared(tokens, word_cum)
    if len(text) >= 10_000:  # small texts are cheap to redo; keep the cache for documents
        with _CACHE_LOCK:
            _CACHE[key] = (text, prepared)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return prepared


def _word_ids(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """The text's distinct token hashes (sorted) and each token's index among them (cached)."""
    if not p.word_ids:
        vocab, inverse = np.unique(p.tokens.hashes, return_inverse=True)
        p.word_ids.append((vocab, inverse.astype(np.int64, copy=False)))
    return p.word_ids[0]


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


def _free_stretches(free: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate(([0], free.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


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
        for a, b in _free_stretches(free):
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


def _count_tokens(tokenizer: Any, text: str) -> int:
    try:
        ids = tokenizer.encode(text, add_special_tokens=False)
    except TypeError:
        ids = tokenizer.encode(text)
    return len(ids)


def _gaps(p: Prepared, covered: np.ndarray, excluded: np.ndarray, side: str) -> tuple[Gap, ...]:
    free = ~covered & ~excluded
    t = p.tokens
    gaps = []
    for a, b in _free_stretches(free):
        gaps.append(Gap(side, int(t.raw_starts[a]), int(t.raw_ends[b - 1]), int(p.word_cum[b] - p.word_cum[a])))
    return tuple(gaps)


def _lcsubstring(a: str, b: str, lower: int) -> int:
    """Exact longest common substring length (characters) of ``a`` and ``b``,
    known to be at least ``lower``: binary search on the length with
    vectorised rolling hashes; the final answer is confirmed with ``str.find``."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    P = np.uint64(0x100000001B3)
    Pinv = np.uint64(pow(int(P), -1, 1 << 64))

    def prefix(text: str) -> tuple[np.ndarray, np.ndarray]:
        # H[i] = sum_{j<i} (c_j + 1) P^j; window (i, L) = (H[i+L] - H[i]) * P^-i,
        # the same scale for both texts (arithmetic mod 2^64, P odd).
        c = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)
        ones = np.ones(1, dtype=np.uint64)
        pw = np.cumprod(np.concatenate((ones, np.full(len(c) - 1, P, dtype=np.uint64))))
        ipw = np.cumprod(np.concatenate((ones, np.full(len(c) - 1, Pinv, dtype=np.uint64))))
        H = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(c * pw, dtype=np.uint64)))
        return H, ipw

    Ha, ia = prefix(a)
    Hb, ib = prefix(b)
    na, nb = len(a), len(b)

    def windows(H: np.ndarray, ipw: np.ndarray, n: int, L: int) -> np.ndarray:
        i = np.arange(n - L + 1)
        hashes: np.ndarray = (H[i + L] - H[i]) * ipw[i]
        return hashes

    def found(L: int) -> bool:
        # Sort the shorter text's windows; look the longer text's windows up in them.
        wb = np.sort(windows(Hb, ib, nb, L))
        wa = windows(Ha, ia, na, L)
        hit = np.flatnonzero(wb[np.minimum(np.searchsorted(wb, wa), len(wb) - 1)] == wa)
        return any(b.find(a[k : k + L]) >= 0 for k in hit[:8].tolist())

    lo, hi = max(lower, 0), nb
    if lo >= hi:
        return hi if a.find(b) >= 0 else lo
    if not found(lo + 1):
        return lo
    lo += 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if found(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _extend_chars(src: Prepared, out: Prepared, si: int, oj: int, ln: int) -> int:
    """Normalized character length of a token run extended character by
    character at both ends (bounded), for the longest common substring."""
    a0, a1 = int(src.tokens.norm_starts[si]), int(src.tokens.norm_ends[si + ln - 1])
    b0, b1 = int(out.tokens.norm_starts[oj]), int(out.tokens.norm_ends[oj + ln - 1])
    sa, sb = src.norm, out.norm
    if sa[a0:a1] != sb[b0:b1]:
        return 0  # whitespace inside differs; the run is word-equal only
    left = 0
    while left < 200 and a0 - left > 0 and b0 - left > 0 and sa[a0 - left - 1] == sb[b0 - left - 1]:
        left += 1
    right = 0
    while right < 200 and a1 + right < len(sa) and b1 + right < len(sb) and sa[a1 + right] == sb[b1 + right]:
        right += 1
    return (a1 - a0) + left + right


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
                tokens=_count_tokens(tokenizer, output[o_start:o_end]) if tokenizer is not None else None,
                edit_distance=int(c.dist),
                source_diffs=sd,
                output_diffs=od,
            )
        )

    metrics = _metrics(src, out, exS, exO, accepted, chains, coveredS, coveredO, options, tokenizer, output)
    return Alignment(
        spans=tuple(spans),
        source_gaps=_gaps(src, coveredS, exS, SOURCE),
        output_gaps=_gaps(out, coveredO, exO, OUTPUT),
        metrics=metrics,
        options=options,
        source_length_chars=len(source),
        output_length_chars=len(output),
    )


def _metrics(src: Prepared, out: Prepared, exS: np.ndarray, exO: np.ndarray, accepted: list[tuple[int, int, int]],
             chains: list[_Chain], coveredS: np.ndarray, coveredO: np.ndarray, options: AlignOptions,
             tokenizer: Any, output: str) -> Metrics:
    ST, OT = src.tokens, out.tokens
    wS = ST.is_word & ~exS
    wO = OT.is_word & ~exO
    nS, nO = int(wS.sum()), int(wO.sum())
    idsS = ST.hashes[wS]
    idsO = OT.hashes[wO]

    # Longest verbatim run (pre-merge exact runs).
    best = (0, 0, 0, 0)  # words, si, oj, ln
    vS = np.zeros(len(ST), dtype=bool)
    vO = np.zeros(len(OT), dtype=bool)
    for si, oj, ln in accepted:
        w = int(src.word_cum[si + ln] - src.word_cum[si])
        vS[si : si + ln] = True
        vO[oj : oj + ln] = True
        if w > best[0]:
            best = (w, si, oj, ln)
    lv_words, lv_chars, lv_tokens = best[0], 0, None
    if best[0]:
        _, si, oj, ln = best
        lv_chars = int(ST.raw_ends[si + ln - 1] - ST.raw_starts[si])
        if tokenizer is not None:
            lv_tokens = _count_tokens(tokenizer, output[int(OT.raw_starts[oj]) : int(OT.raw_ends[oj + ln - 1])])
    elif tokenizer is not None:
        lv_tokens = 0

    # Longest common substring (normalized characters).
    lower = max((_extend_chars(src, out, si, oj, ln) for si, oj, ln in accepted), default=0)
    exact = True
    if options.exclude_source or options.exclude_output:
        # Characters of excluded regions must not count: compare the texts with
        # the excluded regions cut out (prompt regions are at the edges in practice).
        sa = _strip_excluded(src, exS, "\x00")
        sb = _strip_excluded(out, exO, "\x01")
    else:
        sa, sb = src.norm, out.norm
    if min(len(sa), len(sb)) == 0:
        lcs_sub = 0
    elif max(len(sa), len(sb)) <= EXACT_SUBSTRING_MAX_CHARS:
        lcs_sub = _lcsubstring(sa, sb, min(lower, len(sa), len(sb)))
    else:
        lcs_sub, exact = lower, False

    if nS and nO:
        # Dense small ids (rapidfuzz is ~8x faster on them than on 64-bit
        # hashes). Source words absent from the output all get one sentinel id:
        # exact for LCS and Levenshtein, which only ever test source == output.
        # The source's own dense ids are kept with the prepared text, so a
        # long source is mapped by one gather instead of a search per word.
        vocab = np.unique(idsO)
        dO = np.searchsorted(vocab, idsO)
        src_vocab, src_ids = _word_ids(src)
        at = np.minimum(np.searchsorted(src_vocab, vocab), len(src_vocab) - 1)
        remap = np.full(len(src_vocab), len(vocab), dtype=np.int64)
        found = src_vocab[at] == vocab
        remap[at[found]] = np.nonzero(found)[0]
        dS = remap[src_ids[wS]]
        dS_list, dO_list = dS.tolist(), dO.tolist()
        lcs_words = int(LCSseq.similarity(dO_list, dS[dS != len(vocab)].tolist()))
        edit_sim = 1.0 - Levenshtein.distance(dO_list, dS_list) / max(nS, nO)
        prec, rec = lcs_words / nO, lcs_words / nS
        rouge = 0.0 if lcs_words == 0 else 2 * prec * rec / (prec + rec)
    else:
        lcs_words = 0
        edit_sim = 1.0 if nS == nO else 0.0
        rouge = 0.0
    tS = ST.hashes[~exS]
    tO = OT.hashes[~exO]
    exact_suffix = bool(len(tS) > 0 and len(tO) >= len(tS) and np.array_equal(tO[: len(tS)], tS))
    if nS:
        k = min(nS, nO)
        mem = float(np.count_nonzero(idsS[:k] == idsO[:k])) / nS
    else:
        mem = 0.0
    s_matched = int((coveredS & wS).sum())
    o_matched = int((coveredO & wO).sum())
    return Metrics(
        longest_verbatim_words=lv_words,
        longest_verbatim_chars=lv_chars,
        longest_verbatim_tokens=lv_tokens,
        longest_common_substring_chars=int(lcs_sub),
        longest_common_substring_exact=exact,
        longest_common_subsequence_words=lcs_words,
        source_coverage_fraction=s_matched / nS if nS else 0.0,
        output_coverage_fraction=o_matched / nO if nO else 0.0,
        source_verbatim_coverage_fraction=int((vS & wS).sum()) / nS if nS else 0.0,
        output_verbatim_coverage_fraction=int((vO & wO).sum()) / nO if nO else 0.0,
        edit_similarity_words_fraction=float(max(0.0, min(1.0, edit_sim))),
        rouge_l_f_fraction=float(rouge),
        rouge_l_flag=bool(rouge >= options.rouge_flag),
        exact_suffix_match=exact_suffix,
        memorization_score_fraction=mem,
        verbatim_span_count=sum(1 for c in chains if c.dist == 0),
        near_span_count=sum(1 for c in chains if c.dist > 0),
        source_words=nS,
        output_words=nO,
        source_words_matched=s_matched,
        output_words_matched=o_matched,
        excluded_source_words=int((ST.is_word & exS).sum()),
        excluded_output_words=int((OT.is_word & exO).sum()),
    )


def _strip_excluded(p: Prepared, ex: np.ndarray, sep: str) -> str:
    """Normalized text with the characters of excluded tokens replaced by a
    separator that matches nothing, so no substring crosses or uses them."""
    if not ex.any():
        return p.norm
    parts = []
    pos = 0
    t = p.tokens
    for a, b in _free_stretches(ex):
        s, e = int(t.norm_starts[a]), int(t.norm_ends[b - 1])
        parts.append(p.norm[pos:s])
        parts.append(sep)
        pos = e
    parts.append(p.norm[pos:])
    return "".join(parts)
