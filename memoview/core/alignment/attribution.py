"""Corpus attribution: which documents of a case contain an output's spans.

An index of hashed word k-grams over every document, stored in the case's
``kgram_index`` table (``kgram`` = signed 64-bit hash of K normalized
words, ``word_index`` = position of the k-gram's first word). K = 8 words:
long enough that unrelated texts rarely share one by chance (most stock
phrases are shorter), short enough that a near copy with a changed word
every ten or so still leaves whole k-grams to find. Punctuation is left out
of the index (word k-grams), so the index finds candidates robustly and
``align`` then decides, with punctuation, what is verbatim.

:meth:`Case.add_document` calls :func:`index_document` for every import,
so the index is always current.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from memoview.core.alignment.engine import align, prepare
from memoview.core.alignment.types import Alignment, AlignOptions, NormalizeOptions, Span
from memoview.core.errors import ValidationError
from memoview.core.jobs import CancelToken, Job, Progress

if TYPE_CHECKING:
    from memoview.core.case import Case

K = 8
META_K = "kgram_k"
META_NORMALIZATION = "kgram_normalization"
_M = np.uint64(0x9FB21C651E98DF25)
# The index always uses the default normalization: attribution is a search
# for candidates; the alignment that follows states its own options.
INDEX_NORMALIZATION = NormalizeOptions()


def word_kgrams(text: str, k: int = K) -> np.ndarray:
    """Signed 64-bit hashes of the word k-grams of ``text`` (normalized words,
    punctuation skipped), one per starting word."""
    toks = prepare(text, INDEX_NORMALIZATION).tokens
    ids = toks.hashes[toks.is_word]
    n = len(ids) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(k):
        h = h * _M + ids[j : j + n]
    return h.view(np.int64)


def _set_meta(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (META_K, str(K)))
    conn.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
        (META_NORMALIZATION, INDEX_NORMALIZATION.describe()),
    )


def _insert(conn: sqlite3.Connection, doc_id: int, text: str) -> int:
    h = word_kgrams(text)
    conn.execute("DELETE FROM kgram_index WHERE document_id = ?", (doc_id,))
    conn.executemany(
        "INSERT INTO kgram_index(kgram, document_id, word_index) VALUES (?, ?, ?)",
        zip(h.tolist(), [doc_id] * len(h), range(len(h))),
    )
    return len(h)


def index_document(case: "Case", doc_id: int) -> int:
    """(Re)index one document; returns the number of k-grams stored."""
    text = case.document(doc_id).text
    with case._tx() as conn:
        n = _insert(conn, doc_id, text)
        _set_meta(conn)
    return n


def _index_is_current(case: "Case") -> bool:
    return case.meta().get(META_K) == str(K)


def build_index(case: "Case", cancel: Optional[CancelToken] = None, *, rebuild: bool = False) -> Job[int]:
    """Job: index every document not yet indexed (all of them when the
    stored k differs or ``rebuild``). Returns the number of documents indexed."""
    if rebuild or not _index_is_current(case):
        with case._tx() as conn:
            conn.execute("DELETE FROM kgram_index")
            _set_meta(conn)
    # Documents without a single k-gram row (one indexed lookup each; documents
    # shorter than K words have none and are simply looked at again: cheap).
    todo = [
        int(r["id"])
        for r in case._rows(
            "SELECT id FROM documents d WHERE NOT EXISTS "
            "(SELECT 1 FROM kgram_index k WHERE k.document_id = d.id) ORDER BY id"
        )
    ]
    done = 0
    batch = 200  # documents per transaction: one commit per batch, not per document
    for start in range(0, len(todo), batch):
        if cancel is not None and cancel.cancelled:
            return done
        yield Progress(done, len(todo), f"Indexing documents ({done:,} of {len(todo):,})")
        ids_chunk = todo[start : start + batch]
        rows = case._rows(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(ids_chunk))})", ids_chunk
        )
        with case._tx() as conn:
            for r in rows:
                _insert(conn, int(r["id"]), r["text"])
            _set_meta(conn)
        done += len(ids_chunk)
    yield Progress(done, len(todo), "Index up to date")
    return done


def ensure_index(case: "Case") -> int:
    """Bring the index up to date (cheap when it already is)."""
    from memoview.core.jobs import run_job

    return run_job(build_index(case))


@dataclass(frozen=True)
class Attribution:
    """One candidate document for an output.

    ``matched_words_index``: output words covered by k-grams shared with the
    document (the ranking key, from the index). ``alignment``: the full
    alignment of the output against the document (spans in raw offsets of
    the document text and the output); ``matched_words`` is its output
    words inside spans. ``None`` alignment when ``with_spans=False``.
    """

    document_id: int
    title: str
    is_control: bool
    matched_words_index: int
    shared_kgrams: int
    alignment: Optional[Alignment] = None

    @property
    def matched_words(self) -> int:
        return self.alignment.metrics.output_words_matched if self.alignment else self.matched_words_index

    @property
    def spans(self) -> tuple[Span, ...]:
        return self.alignment.spans if self.alignment else ()

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "title": self.title,
            "is_control": self.is_control,
            "matched_words_index": self.matched_words_index,
            "shared_kgrams": self.shared_kgrams,
            "matched_words": self.matched_words,
            "alignment": self.alignment.to_json() if self.alignment else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Attribution":
        al = data.get("alignment")
        return cls(
            document_id=int(data["document_id"]),
            title=str(data.get("title", "")),
            is_control=bool(data.get("is_control", False)),
            matched_words_index=int(data.get("matched_words_index", 0)),
            shared_kgrams=int(data.get("shared_kgrams", 0)),
            alignment=Alignment.from_json(al) if al else None,
        )


def rank_documents(case: "Case", text: str, top: int = 10) -> list[tuple[int, int, int]]:
    """``(document_id, matched_output_words, shared_kgrams)`` from the index
    alone, best first (ties by document id)."""
    if top < 1:
        raise ValidationError(f"--top must be at least 1 (got {top})", "ask for the 10 best documents with --top 10")
    q = word_kgrams(text)
    if len(q) == 0:
        return []
    uniq, inverse = np.unique(q, return_inverse=True)
    hits: list[tuple[int, int]] = []  # (unique kgram index, document id)
    keys = uniq.tolist()
    pos = {key: i for i, key in enumerate(keys)}
    with case._lock:
        conn = case._conn
        for start in range(0, len(keys), 900):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 900]
            sql = f"SELECT kgram, document_id FROM kgram_index WHERE kgram IN ({','.join('?' * len(chunk))})"
            hits.extend((pos[kg], doc) for kg, doc in conn.execute(sql, chunk))
    if not hits:
        return []
    # Output positions of each unique k-gram -> output words covered per document.
    n_words = len(q) + K - 1
    positions: dict[int, list[int]] = {}
    for j, u in enumerate(inverse.tolist()):
        positions.setdefault(u, []).append(j)
    per_doc: dict[int, set[int]] = {}
    for u, doc in set(hits):
        per_doc.setdefault(doc, set()).update(positions[u])
    ranked = []
    for doc, starts in per_doc.items():
        covered = np.zeros(n_words, dtype=bool)
        for s in starts:
            covered[s : s + K] = True
        ranked.append((doc, int(covered.sum()), len(starts)))
    ranked.sort(key=lambda r: (-r[1], r[0]))
    return ranked[:top]


def attribute(case: "Case", text: str, top: int = 10, *, options: AlignOptions = AlignOptions(),
              with_spans: bool = True) -> list[Attribution]:
    """Rank the case's documents by how many words of ``text`` they contain
    (from the k-gram index), then align ``text`` against each of the ``top``
    candidates to return the spans. Documents sharing no k-gram are absent."""
    ensure_index(case)
    out = []
    for doc_id, words, shared in rank_documents(case, text, top):
        doc = case.document(doc_id)
        al = align(doc.text, text, options) if with_spans else None
        out.append(Attribution(doc_id, doc.title, doc.is_control, words, shared, al))
    if with_spans:
        out.sort(key=lambda a: (-a.matched_words, -a.matched_words_index, a.document_id))
    return out

