"""Corpus attribution: which documents of a case contain an output's spans.

The candidates come from the case's word k-gram index
(:mod:`memoview.core.storage.kgram_index`, kept current by
:meth:`Case.add_document <memoview.core.case.Case.add_document>`); each
candidate is then aligned with the output (:func:`align`), which decides,
with punctuation, what is verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import Alignment, AlignOptions, Span
from memoview.core.errors import ValidationError
from memoview.core.jobs import CancelToken, Job, run_job
from memoview.core.storage import kgram_index
from memoview.core.storage.kgram_index import K as K
from memoview.core.storage.kgram_index import META_K as META_K

if TYPE_CHECKING:
    from memoview.core.case import Case


def build_index(case: "Case", cancel: Optional[CancelToken] = None, *, rebuild: bool = False) -> Job[int]:
    """Job: bring the case's k-gram index up to date (:func:`memoview.core.storage.kgram_index.build_index`)."""
    return kgram_index.build_index(case.store, cancel, rebuild=rebuild)


def ensure_index(case: "Case") -> int:
    """Bring the index up to date (cheap when it already is); returns the documents indexed."""
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
    q = kgram_index.text_kgrams(text)
    if len(q) == 0:
        return []
    uniq, inverse = np.unique(q, return_inverse=True)
    keys = uniq.tolist()
    pos = {key: i for i, key in enumerate(keys)}
    hits = [(pos[kg], doc) for kg, doc in kgram_index.documents_sharing(case.store, keys)]
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

