"""The case's word k-gram index (table ``kgram_index``), for corpus attribution.

``kgram`` = signed 64-bit hash of K normalized words
(:func:`memoview.core.documents.normalize.word_kgrams`, the same rolling hash
the aligner seeds with), ``word_index`` = position of the k-gram's first
word. K = 8 words: long enough that unrelated texts rarely share one by
chance (most stock phrases are shorter), short enough that a near copy with
a changed word every ten or so still leaves whole k-grams to find.
Punctuation is left out of the index, so it finds candidates robustly and
alignment then decides, with punctuation, what is verbatim.

:meth:`memoview.core.case.Case.add_document` indexes every import in a
transaction of its own (a full disk there leaves the document committed and
the index to be rebuilt by :func:`build_index`). Attribution itself
(ranking, aligning) is :mod:`memoview.core.alignment.attribution`.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Optional

import numpy as np

from memoview.core.documents.normalize import NormalizeOptions, normalize, tokenize, word_kgrams
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.storage.connection import Store

K = 8
META_K = "kgram_k"
META_NORMALIZATION = "kgram_normalization"
# The index always uses the default normalization: attribution is a search
# for candidates; the alignment that follows states its own options.
INDEX_NORMALIZATION = NormalizeOptions()
_SQL_PARAMS = 900  # below SQLite's bound-parameter limit



def text_kgrams(text: str, k: int = K) -> np.ndarray:
    """The word k-gram hashes of ``text`` under the index's normalization, one per starting word."""
    return word_kgrams(tokenize(normalize(text, INDEX_NORMALIZATION)), k)


def _set_meta(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (META_K, str(K)))
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                 (META_NORMALIZATION, INDEX_NORMALIZATION.describe()))


def _insert(conn: sqlite3.Connection, doc_id: int, text: str) -> int:
    h = text_kgrams(text)
    conn.execute("DELETE FROM kgram_index WHERE document_id = ?", (doc_id,))
    conn.executemany(
        "INSERT INTO kgram_index(kgram, document_id, word_index) VALUES (?, ?, ?)",
        zip(h.tolist(), [doc_id] * len(h), range(len(h))),
    )
    return len(h)


def index_document(store: Store, doc_id: int, text: str) -> int:
    """(Re)index one document in a transaction of its own; returns the number of k-grams stored."""
    with store.transaction() as tx:
        n = _insert(tx.conn, doc_id, text)
        _set_meta(tx.conn)
    return n


def is_current(store: Store) -> bool:
    """Whether the stored index was built with this K (else it is rebuilt from scratch)."""
    rows = store.query("SELECT value FROM meta WHERE key = ?", (META_K,))
    return bool(rows) and rows[0]["value"] == str(K)


def build_index(store: Store, cancel: Optional[CancelToken] = None, *, rebuild: bool = False) -> Job[int]:
    """Job: index every document not yet indexed (all of them when the
    stored K differs or ``rebuild``). Returns the number of documents indexed."""
    if rebuild or not is_current(store):
        with store.transaction() as tx:
            tx.execute("DELETE FROM kgram_index")
            _set_meta(tx.conn)
    # Documents without a single k-gram row (one indexed lookup each; documents
    # shorter than K words have none and are simply looked at again: cheap).
    todo = [int(r["id"]) for r in store.query(
        "SELECT id FROM documents d WHERE NOT EXISTS "
        "(SELECT 1 FROM kgram_index k WHERE k.document_id = d.id) ORDER BY id")]
    done = 0
    batch = 200  # documents per transaction: one commit per batch, not per document
    for start in range(0, len(todo), batch):
        if cancel is not None and cancel.cancelled:
            return done
        yield Progress(done, len(todo), f"Indexing documents ({done:,} of {len(todo):,})")
        ids_chunk = todo[start : start + batch]
        rows = store.query(f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(ids_chunk))})",
                           ids_chunk)
        with store.transaction() as tx:
            for r in rows:
                _insert(tx.conn, int(r["id"]), r["text"])
            _set_meta(tx.conn)
        done += len(ids_chunk)
    yield Progress(done, len(todo), "Index up to date")
    return done


def documents_sharing(store: Store, kgrams: Iterable[int]) -> list[tuple[int, int]]:
    """``(kgram, document_id)`` for every stored k-gram among ``kgrams``."""
    keys = list(kgrams)
    hits: list[tuple[int, int]] = []
    with store.reading() as conn:
        for start in range(0, len(keys), _SQL_PARAMS):
            chunk = keys[start : start + _SQL_PARAMS]
            sql = f"SELECT kgram, document_id FROM kgram_index WHERE kgram IN ({','.join('?' * len(chunk))})"
            hits.extend((int(kg), int(doc)) for kg, doc in conn.execute(sql, chunk))
    return hits


def row_count(store: Store) -> int:
    """Stored k-gram rows (all documents)."""
    return int(store.query("SELECT count(*) AS n FROM kgram_index")[0]["n"])
