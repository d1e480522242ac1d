"""EPUB: the chapters in spine (reading) order, XHTML turned into text (ebooklib + lxml)."""

from __future__ import annotations

import io
from importlib.metadata import version

from memoview.core.documents.base import Extraction
from memoview.core.documents.html import walk_text
from memoview.core.errors import DocumentError

MEDIA_TYPE = "application/epub+zip"


def extract(raw: bytes, name: str) -> Extraction:
    import warnings as _warnings

    import ebooklib
    from ebooklib import epub

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(raw), options={"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises EpubException, KeyError, zipfile and lxml errors
        raise DocumentError(
            f"{name} is not a readable EPUB ({type(exc).__name__}: {exc}).",
            "Check that the file is complete; re-export it from the program that made it.",
        ) from None
    chapters: list[str] = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        content = item.get_content()
        text = walk_text(content.decode("utf-8", errors="strict")) if content else ""
        if text.strip():
            chapters.append(text)
    if not chapters:
        raise DocumentError(f"{name} is an EPUB whose reading order holds no text.",
                            "Check that the right file was chosen.")

    def first(field: str) -> str:
        values = book.get_metadata("DC", field)
        return str(values[0][0]).strip() if values else ""

    return Extraction(text="\n\n".join(chapters), media_type=MEDIA_TYPE, extractor="ebooklib",
                      extractor_version=version("ebooklib"), encoding="utf-8",
                      title=first("title"), author=first("creator"))
