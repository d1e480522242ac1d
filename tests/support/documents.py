"""One way to make a document from text in tests: a LoadedDocument as a loader would return it."""

from __future__ import annotations

import hashlib

from memoview.core.documents.base import LoadedDocument


def document_from_text(text: str, filename: str = "doc.txt", title: str = "", author: str = "",
                       raw: bytes | None = None) -> LoadedDocument:
    """A plain-text document (UTF-8 bytes unless ``raw`` is given) for ``Case.add_document``."""
    data = text.encode("utf-8") if raw is None else raw
    return LoadedDocument(
        path=f"/evidence/{filename}", filename=filename, media_type="text/plain", raw=data,
        raw_sha256=hashlib.sha256(data).hexdigest(), text=text,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        extractor="test-plain", extractor_version="1", encoding="utf-8", title=title, author=author,
    )
