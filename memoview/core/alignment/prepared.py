"""A text normalized and tokenized once for alignment, and the small cache that keeps a document's.

Split from :mod:`memoview.core.alignment.engine` (which seeds, tiles and merges)
and :mod:`memoview.core.alignment.measure` (which measures): both work on
:class:`Prepared` texts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memoview.core.documents.normalize import NormalizeOptions, Tokens, normalize, tokenize


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


def word_ids(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """The text's distinct token hashes (sorted) and each token's index among them (cached)."""
    if not p.word_ids:
        vocab, inverse = np.unique(p.tokens.hashes, return_inverse=True)
        p.word_ids.append((vocab, inverse.astype(np.int64, copy=False)))
    return p.word_ids[0]


def free_stretches(free: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate(([0], free.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def count_tokens(tokenizer: Any, text: str) -> int:
    try:
        ids = tokenizer.encode(text, add_special_tokens=False)
    except TypeError:
        ids = tokenizer.encode(text)
    return len(ids)
