"""The ``documents`` and ``document_blobs`` tables: importing a document, and finding one by a reference.

Used by the case facade (:meth:`memoview.core.case.Case.add_document`,
:meth:`~memoview.core.case.Case.resolve_document`).
"""

from __future__ import annotations

from typing import Any

from memoview.core import errors
from memoview.core.documents.base import LoadedDocument
from memoview.core.records import Document
from memoview.core.storage.connection import SQLITE_MAX_INT, Store, Transaction
from memoview.core.storage.rows import Row, document_from_row


def check_title(title: str) -> str:
    """A document title is one line of printable text (it names the document everywhere)."""
    if any(ord(ch) < 32 or ord(ch) == 0x7F or ch in "\u2028\u2029\x85" for ch in title):
        raise errors.ValidationError(
            f"The title {title!r} contains a line break or control character; a title is one line.",
            "Give the title on one line (put longer descriptions in --notes).")
    if len(title) > 500:
        raise errors.ValidationError(f"The title is {len(title):,} characters; at most 500 are allowed.",
                                     "Shorten it; put longer descriptions in --notes.")
    return title


def insert(tx: Transaction, loaded: LoadedDocument, row: Row) -> int:
    """Store a document, its original bytes and its ``document.import`` entry; refuse a duplicate."""
    # Checked inside the write transaction, so two processes importing the same file
    # at once are serialised: the second sees the first's document.
    existing = tx.execute("SELECT id, title FROM documents WHERE raw_sha256 = ?", (loaded.raw_sha256,)).fetchall()
    if existing:
        raise errors.DuplicateDocumentError(
            f"{loaded.filename} is already in the case as document {existing[0][0]} "
            f"('{existing[0][1]}'), same SHA-256 {loaded.raw_sha256[:12]}.",
            "Nothing was imported twice.",
            existing_id=int(existing[0][0]),
        )
    cur = tx.execute(f"INSERT INTO documents({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     tuple(row.values()))
    doc_id = int(cur.lastrowid or 0)
    tx.execute("INSERT INTO document_blobs(document_id, raw) VALUES (?, ?)", (doc_id, loaded.raw))
    tx.audit("document.import", f"document:{doc_id}", {
        "title": row["title"],
        "filename": loaded.filename,
        "raw_sha256": loaded.raw_sha256,
        "text_sha256": loaded.text_sha256,
        "extractor": f"{loaded.extractor} {loaded.extractor_version}",
        "is_control": bool(row["is_control"]),
    })
    return doc_id


def get(store: Store, doc_id: int) -> Document:
    rows = store.query("SELECT * FROM documents WHERE id = ?", (doc_id,)) if 0 <= doc_id <= SQLITE_MAX_INT else []
    if not rows:
        raise errors.NotFoundError(f"The case has no document {doc_id}.", "List them with 'memoview case info'.")
    return document_from_row(rows[0])


def resolve(store: Store, ref: str | int) -> Document:
    """Find a document by id, exact title, or SHA-256 prefix (raw or text); refuse ambiguity.

    ``id:N``, ``title:T`` and ``sha256:HEX`` ask for one reading only. Without
    a prefix every reading is tried, and a reference that names different
    documents in different readings (a document titled "2" next to
    document 2) is refused, never resolved silently to one of them.
    """
    text = str(ref).strip()
    if not text:
        raise errors.ValidationError("No document given.")
    kind, _, rest = text.partition(":")
    if kind in ("id", "title", "sha256") and rest:
        found = _candidates(store, rest.strip(), (kind,))
    else:
        found = _candidates(store, text, ("id", "title", "sha256"))
    ids = sorted({d.id for _how, d in found})
    if len(ids) == 1:
        return next(d for _how, d in found if d.id == ids[0])
    if len(ids) > 1:
        readings = "; ".join(f"{how} -> document {d.id} ('{d.title}')" for how, d in found)
        raise errors.ValidationError(
            f"'{text}' names {len(ids)} different documents ({readings}).",
            "Say which one: id:N, title:TEXT or sha256:HEX (or more hex digits).")
    raise errors.NotFoundError(
        f"No document matches '{text}' (by id, title or SHA-256 prefix).",
        "List the documents with 'memoview case info CASE'.",
    )


def _candidates(store: Store, text: str, kinds: tuple[str, ...]) -> list[tuple[str, Document]]:
    found: list[tuple[str, Document]] = []
    if "id" in kinds and text.isdigit():
        if int(text) > SQLITE_MAX_INT:
            if kinds == ("id",):
                raise errors.ValidationError(f"Document id {text} is too large (ids are below 2^63).")
        else:
            found += [("id", document_from_row(r))
                      for r in store.query("SELECT * FROM documents WHERE id = ?", (int(text),))]
    if "title" in kinds:
        found += [("title", document_from_row(r))
                  for r in store.query("SELECT * FROM documents WHERE title = ?", (text,))]
    lowered = text.lower()
    if "sha256" in kinds and len(lowered) >= 4 and all(c in "0123456789abcdef" for c in lowered):
        rows: list[dict[str, Any]] = store.query(
            "SELECT * FROM documents WHERE raw_sha256 LIKE ? OR text_sha256 LIKE ?",
            (lowered + "%", lowered + "%"),
        )
        if len(rows) > 1:
            raise errors.ValidationError(
                f"The SHA-256 prefix '{text}' matches {len(rows)} documents.", "Give more hex digits."
            )
        found += [("SHA-256 prefix", document_from_row(r)) for r in rows]
    return found
