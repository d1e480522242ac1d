"""The metrics of an alignment: longest runs, coverage, LCS, edit similarity, ROUGE-L.

Split from :mod:`memoview.core.alignment.engine`: the engine finds the spans,
this module measures them (on word ids with rapidfuzz's bit-parallel
algorithms, never on characters of whole documents; the exact longest common
substring by binary search with rolling hashes, up to
:data:`EXACT_SUBSTRING_MAX_CHARS`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein, LCSseq

from memoview.core.alignment.prepared import Prepared, count_tokens, free_stretches, word_ids
from memoview.core.alignment.types import AlignOptions, Metrics

# Exact longest-common-substring search runs when the normalized source is
# at most this many characters; above it the value is a lower bound.
EXACT_SUBSTRING_MAX_CHARS = 200_000


def measure(src: Prepared, out: Prepared, exS: np.ndarray, exO: np.ndarray, accepted: list[tuple[int, int, int]],
             verbatim_spans: int, near_spans: int, coveredS: np.ndarray, coveredO: np.ndarray, options: AlignOptions,
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
            lv_tokens = count_tokens(tokenizer, output[int(OT.raw_starts[oj]) : int(OT.raw_ends[oj + ln - 1])])
    elif tokenizer is not None:
        lv_tokens = 0

    # Longest common substring (normalized characters).
    lower = max((extend_chars(src, out, si, oj, ln) for si, oj, ln in accepted), default=0)
    exact = True
    if options.exclude_source or options.exclude_output:
        # Characters of excluded regions must not count: compare the texts with
        # the excluded regions cut out (prompt regions are at the edges in practice).
        sa = strip_excluded(src, exS, "\x00")
        sb = strip_excluded(out, exO, "\x01")
    else:
        sa, sb = src.norm, out.norm
    if min(len(sa), len(sb)) == 0:
        lcs_sub = 0
    elif max(len(sa), len(sb)) <= EXACT_SUBSTRING_MAX_CHARS:
        lcs_sub = lcsubstring(sa, sb, min(lower, len(sa), len(sb)))
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
        src_vocab, src_ids = word_ids(src)
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
        verbatim_span_count=verbatim_spans,
        near_span_count=near_spans,
        source_words=nS,
        output_words=nO,
        source_words_matched=s_matched,
        output_words_matched=o_matched,
        excluded_source_words=int((ST.is_word & exS).sum()),
        excluded_output_words=int((OT.is_word & exO).sum()),
    )


def strip_excluded(p: Prepared, ex: np.ndarray, sep: str) -> str:
    """Normalized text with the characters of excluded tokens replaced by a
    separator that matches nothing, so no substring crosses or uses them."""
    if not ex.any():
        return p.norm
    parts = []
    pos = 0
    t = p.tokens
    for a, b in free_stretches(ex):
        s, e = int(t.norm_starts[a]), int(t.norm_ends[b - 1])
        parts.append(p.norm[pos:s])
        parts.append(sep)
        pos = e
    parts.append(p.norm[pos:])
    return "".join(parts)


def lcsubstring(a: str, b: str, lower: int) -> int:
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


def extend_chars(src: Prepared, out: Prepared, si: int, oj: int, ln: int) -> int:
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
