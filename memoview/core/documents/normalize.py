"""Text normalization with an offset map back to the raw text, and word
tokenization with raw offsets. The one place where this happens.

Why an offset map: comparisons run on normalized text (case folded, quotes
and dashes folded, whitespace collapsed, line-end hyphenation removed), but
every highlight shown to a court must land on the original characters.

The map is piecewise: a list of segments, each either *linear* (normalized
char i <-> raw char i, the common case) or *collapsed* (several normalized
characters come from one raw range, e.g. a ligature, or one space from a
run of whitespace). Raw characters removed by normalization (the "-\\n" of
a hyphenated line end) belong to no segment. Building it is one regex pass;
only non-ASCII runs that NFKC or case folding change are walked character
by character, so a 2 MB English text normalizes in tens of milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from typing import Any, Optional

import numpy as np

__all__ = ["NormalizeOptions", "NormalizedText", "Tokens", "normalize", "tokenize", "normalize_words"]

_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2039\u203a\u2032\u0060\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"
_QUOTE_MAP = {**{c: "'" for c in _SINGLE_QUOTES}, **{c: '"' for c in _DOUBLE_QUOTES}}
_QUOTE_RE = re.compile(f"[{_SINGLE_QUOTES}{_DOUBLE_QUOTES}]")
_DASH_RE = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d]")

@dataclass(frozen=True)
class NormalizeOptions:
    """Which folds are applied before words are compared.

    Each fold is kept as a switch so a report can state exactly what was
    treated as equal (e.g. "case differences ignored").
    """

    nfkc: bool = True  # Unicode compatibility normalization (ligatures, full-width forms)
    quotes: bool = True  # curly/angle quotes -> ' and "
    dashes: bool = True  # en/em/minus/... dashes -> -
    whitespace: bool = True  # any run of whitespace -> one space
    case: bool = True  # Unicode case folding (str.casefold)
    hyphenation: bool = True  # "memo-\nrization" -> "memorization"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "NormalizeOptions":
        known = {f.name for f in fields(cls)}
        return cls(**{k: bool(v) for k, v in data.items() if k in known})

    def describe(self) -> str:
        """Plain words for the method page of an exhibit."""
        names = {
            "nfkc": "Unicode NFKC",
            "quotes": "quotes folded",
            "dashes": "dashes folded",
            "whitespace": "whitespace collapsed",
            "case": "case ignored",
            "hyphenation": "line-end hyphenation removed",
        }
        on = [names[k] for k, v in asdict(self).items() if v]
        return ", ".join(on) if on else "none (exact characters)"


# Combining marks kept inside words (Latin diacritics, Hebrew points, Arabic
# harakat, Devanagari/Bengali/Thai vowel signs, zero-width (non-)joiners).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963\u0981-\u0983\u09bc-\u09d7"
    "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u200c\u200d"
)
# Scripts written without spaces between words: each character is one word.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"


_HYPHENS = (ord("-"), 0x00AD, 0x2010)
_HYPH_AT = re.compile(r"[-\u00ad\u2010][ \t]*\r?\n[ \t]*(?=\w)")

# Character classes for the vectorised scanner (BMP table built once, lazily).
_C_SPACE, _C_WORD, _C_CJK, _C_MARK, _C_OTHER, _C_APOS = 0, 1, 2, 3, 4, 5
_TABLE: Optional[np.ndarray] = None
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
_MARK_RE = re.compile(f"[{_MARKS}]")


def _classify(c: int) -> int:
    ch = chr(c)
    if ch.isspace():
        return _C_SPACE
    if any(a <= c <= b for a, b in _CJK_RANGES):
        return _C_CJK
    if _MARK_RE.match(ch):
        return _C_MARK
    if ch == "'":
        return _C_APOS
    if ch != "_" and ch.isalnum():
        return _C_WORD
    return _C_OTHER


def _table() -> np.ndarray:
    global _TABLE
    if _TABLE is None:
        _TABLE = np.fromiter((_classify(c) for c in range(0x10000)), dtype=np.uint8, count=0x10000)
    return _TABLE


def _classes(cp: np.ndarray) -> np.ndarray:
    table = _table()
    big = cp >= 0x10000
    cls = table[np.where(big, 0, cp)]
    if big.any():
        for c in np.unique(cp[big]).tolist():
            cls[cp == c] = _classify(int(c))
    return cls


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of True in ``mask``."""
    if len(mask) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _special_events(text: str, cp: np.ndarray, options: NormalizeOptions) -> list[tuple[int, int, str]]:
    """Sorted ``(start, end, kind)`` of the places normalization changes:
    kind "h" (hyphenated line end, removed), "w" (whitespace run -> one
    space), "n" (non-ASCII run: NFKC / case folding)."""
    events: list[tuple[int, int, str]] = []
    if len(cp) == 0:
        return events
    cls = _classes(cp)
    space = cls == _C_SPACE
    if options.hyphenation:
        head = cp[:-1]
        cand = np.flatnonzero(((head == _HYPHENS[0]) | (head == _HYPHENS[1]) | (head == _HYPHENS[2])) & space[1:])
        for i in cand.tolist():
            if i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_"):
                m = _HYPH_AT.match(text, i)
                if m:
                    events.append((i, m.end(), "h"))
    if options.whitespace:
        starts, ends = _runs(space)
        single = (ends - starts == 1) & (cp[np.minimum(starts, len(cp) - 1)] == 32)
        events.extend((a, b, "w") for a, b in zip(starts[~single].tolist(), ends[~single].tolist()))
    if options.nfkc or options.case:
        na = cp > 127
        if options.whitespace:
            na &= ~space
        starts, ends = _runs(na)
        for a, b in zip(starts.tolist(), ends.tolist()):
            # A combining mark after an ASCII letter composes with it under NFKC.
            if a > 0 and unicodedata.combining(text[a]) and cp[a - 1] < 128 and not space[a - 1]:
                a -= 1
            events.append((a, b, "n"))
    events.sort()
    return events


@dataclass(frozen=True)
class NormalizedText:
    """``text`` is the normalized string; ``raw`` the original. Segment
    arrays map normalized offsets to raw ones (see module docstring)."""

    raw: str
    text: str
    seg_norm: np.ndarray  # normalized start of each segment (sorted)
    seg_raw: np.ndarray  # raw start of each segment
    seg_nlen: np.ndarray  # normalized length
    seg_rlen: np.ndarray  # raw length
    options: NormalizeOptions

    def _seg(self, idx: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.seg_norm, idx, side="right") - 1

    def raw_starts(self, idx: np.ndarray) -> np.ndarray:
        """Raw start offset of each normalized character index (vectorised)."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(self.seg_norm) == 0:
            return np.full(idx.shape, len(self.raw), dtype=np.int64)
        s = np.clip(self._seg(idx), 0, None)
        linear = self.seg_nlen[s] == self.seg_rlen[s]
        out = np.where(linear, self.seg_raw[s] + (idx - self.seg_norm[s]), self.seg_raw[s])
        return np.where(idx >= len(self.text), len(self.raw), out)

    def raw_ends(self, idx: np.ndarray) -> np.ndarray:
        """Raw end offset (exclusive) of each normalized character index."""
        idx = np.asarray(idx, dtype=np.int64)
        if len(self.seg_norm) == 0:
            return np.full(idx.shape, len(self.raw), dtype=np.int64)
        s = np.clip(self._seg(idx), 0, None)
        linear = self.seg_nlen[s] == self.seg_rlen[s]
        ends: np.ndarray = np.where(linear, self.seg_raw[s] + (idx - self.seg_norm[s]) + 1,
                                    self.seg_raw[s] + self.seg_rlen[s])
        return ends

    def to_raw(self, i: int) -> int:
        """Raw offset where normalized character ``i`` starts (``len(text)`` -> ``len(raw)``)."""
        if i >= len(self.text):
            return len(self.raw)
        return int(self.raw_starts(np.array([i]))[0])

    def raw_range(self, start: int, end: int) -> tuple[int, int]:
        """Raw ``(start, end)`` covering normalized ``text[start:end]``."""
        if end <= start:
            r = self.to_raw(start)
            return (r, r)
        return (self.to_raw(start), int(self.raw_ends(np.array([end - 1]))[0]))


def _fold_chunk(chunk: str, options: NormalizeOptions) -> str:
    if options.nfkc:
        chunk = unicodedata.normalize("NFKC", chunk)
    if options.case:
        chunk = chunk.casefold()
    return chunk


def normalize(text: str, options: NormalizeOptions = NormalizeOptions()) -> NormalizedText:
    """Normalize ``text`` per ``options`` and keep the map back to raw offsets."""
    pieces: list[str] = []
    sn: list[int] = []
    sr: list[int] = []
    nl: list[int] = []
    rl: list[int] = []
    npos = 0

    def add(piece: str, raw_start: int, raw_len: int) -> None:
        nonlocal npos
        if not piece:
            return
        pieces.append(piece)
        sn.append(npos)
        sr.append(raw_start)
        nl.append(len(piece))
        rl.append(raw_len)
        npos += len(piece)

    def plain(a: int, b: int) -> None:
        if b > a:
            chunk = text[a:b]
            add(chunk.lower() if options.case else chunk, a, b - a)

    pos = 0
    for a, b, kind in _special_events(text, _codepoints(text), options):
        if b <= pos:
            continue
        a = max(a, pos)
        plain(pos, a)
        pos = b
        if kind == "h":
            continue  # removed: "memo-\nrization" -> "memorization"
        if kind == "w":
            add(" ", a, b - a)
            continue
        run = text[a:b]
        if not options.nfkc or unicodedata.is_normalized("NFKC", run):
            folded = run.casefold() if options.case else run
            if len(folded) == len(run):  # casefold maps char -> >=1 chars: equal length is 1:1
                add(folded, a, b - a)
                continue
        # Slow path: one base character plus its combining marks at a time.
        i = 0
        lin_start = -1
        lin: list[str] = []
        while i < len(run):
            j = i + 1
            while j < len(run) and unicodedata.combining(run[j]):
                j += 1
            out = _fold_chunk(run[i:j], options)
            if j - i == 1 and len(out) == 1:
                if lin_start < 0:
                    lin_start = a + i
                lin.append(out)
            else:
                if lin:
                    add("".join(lin), lin_start, len(lin))
                    lin, lin_start = [], -1
                add(out, a + i, j - i)
            i = j
        if lin:
            add("".join(lin), lin_start, len(lin))
    plain(pos, len(text))
    norm = "".join(pieces)
    # One-to-one character folds (lengths unchanged, so the map still holds).
    # re.sub finds the rare characters much faster than str.translate scans.
    if options.quotes:
        norm = _QUOTE_RE.sub(lambda m: _QUOTE_MAP[m.group()], norm)
    if options.dashes:
        norm = _DASH_RE.sub("-", norm)
    return NormalizedText(
        raw=text,
        text=norm,
        seg_norm=np.array(sn, dtype=np.int64),
        seg_raw=np.array(sr, dtype=np.int64),
        seg_nlen=np.array(nl, dtype=np.int64),
        seg_rlen=np.array(rl, dtype=np.int64),
        options=options,
    )


_P1 = np.uint64(0x9E3779B97F4A7C15 | 1)


@dataclass(frozen=True)
class Tokens:
    """Tokens of a normalized text: words and single punctuation/symbol marks.

    ``hashes`` identify token strings (64-bit polynomial hash of the
    normalized characters; callers that need certainty compare strings).
    ``norm_starts``/``norm_ends`` index ``normalized.text``;
    ``raw_starts``/``raw_ends`` index the raw text. ``is_word`` is False for
    punctuation and symbols (emoji), which take part in matching (so
    "verbatim" respects punctuation) but are not counted as words.
    """

    normalized: NormalizedText
    hashes: np.ndarray
    is_word: np.ndarray
    norm_starts: np.ndarray
    norm_ends: np.ndarray
    raw_starts: np.ndarray
    raw_ends: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    def string(self, i: int) -> str:
        return self.normalized.text[int(self.norm_starts[i]) : int(self.norm_ends[i])]

    @property
    def strings(self) -> list[str]:
        t = self.normalized.text
        return [t[a:b] for a, b in zip(self.norm_starts.tolist(), self.norm_ends.tolist())]


def tokenize(nt: NormalizedText) -> Tokens:
    """Split a normalized text into tokens with normalized and raw offsets.

    Vectorised: characters are classified through a lookup table, token
    boundaries come from run detection, token identities from prefix
    hashes. Words are runs of letters/digits/combining marks with
    apostrophes inside; each CJK character is one word; every other
    non-space character is a token of its own.
    """
    cp = _codepoints(nt.text)
    n = len(cp)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Tokens(nt, np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool), z, z, z, z)
    cls = _classes(cp)
    wordish = (cls == _C_WORD) | (cls == _C_MARK)
    apos = cls == _C_APOS
    if apos.any():
        inner = np.zeros(n, dtype=bool)
        inner[1:-1] = apos[1:-1] & wordish[:-2] & wordish[2:]
        wordish |= inner
    ws, we = _runs(wordish)
    single = np.flatnonzero((cls != _C_SPACE) & ~wordish)
    starts = np.concatenate((ws, single))
    ends = np.concatenate((we, single + 1))
    is_word = np.concatenate((np.ones(len(ws), dtype=bool), cls[single] == _C_CJK))
    order = np.argsort(starts, kind="stable")
    starts, ends, is_word = starts[order], ends[order], is_word[order]
    # Prefix hashes: H[i] = sum_{j<i} (c_j + 1) * P^j  (mod 2^64), token hash =
    # (H[b] - H[a]) * P^-a, mixed with the length.
    powers = np.cumprod(np.concatenate(([np.uint64(1)], np.full(n, _P1, dtype=np.uint64))))[:n]
    inv = np.uint64(pow(int(_P1), -1, 1 << 64))
    inv_powers = np.cumprod(np.concatenate(([np.uint64(1)], np.full(n, inv, dtype=np.uint64))))[:n]
    H = np.concatenate(([np.uint64(0)], np.cumsum((cp.astype(np.uint64) + np.uint64(1)) * powers, dtype=np.uint64)))
    hashes = (H[ends] - H[starts]) * inv_powers[starts] + (ends - starts).astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93)
    raw_starts = nt.raw_starts(starts)
    raw_ends = nt.raw_ends(ends - 1)
    return Tokens(nt, hashes, is_word, starts.astype(np.int64), ends.astype(np.int64), raw_starts, raw_ends)


def normalize_words(text: str, options: NormalizeOptions = NormalizeOptions()) -> list[str]:
    """The normalized words of ``text`` (no punctuation), for indexes and counts."""
    toks = tokenize(normalize(text, options))
    t = toks.normalized.text
    return [t[a:b] for a, b, w in zip(toks.norm_starts.tolist(), toks.norm_ends.tolist(), toks.is_word.tolist()) if w]


# The one rolling k-gram hash: alignment seeds (memoview.core.alignment.engine) and the
# case's attribution index (memoview.core.storage.kgram_index) both use it, so what the
# index stores is the same hash the aligner computes. Changing it invalidates the
# indexes stored in existing case files.
KGRAM_MULTIPLIER = np.uint64(0x9FB21C651E98DF25)


def kgram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """Unsigned 64-bit hashes of every run of ``k`` consecutive token hashes, one per start."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        h = h * KGRAM_MULTIPLIER + ids[j : j + n]
    return h


def word_kgrams(tokens: Tokens, k: int) -> np.ndarray:
    """Signed 64-bit hashes (SQLite integers) of the word k-grams of ``tokens``, punctuation skipped."""
    h: np.ndarray = kgram_hashes(tokens.hashes[tokens.is_word], k).view(np.int64)
    return h
