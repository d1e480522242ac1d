"""PDF: the text layer, page by page (pypdf).

memoview does not OCR: text recognised from images is a guess, and a
guess is not what a court should compare model output against. A PDF
without a text layer is refused with that reason.
"""

from __future__ import annotations

import io
from importlib.metadata import version

from memoview.core.documents.base import Extraction
from memoview.core.errors import DocumentError

MEDIA_TYPE = "application/pdf"
PAGE_SEPARATOR = "\n\n"


def extract(raw: bytes, name: str) -> Extraction:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every small quirk
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))
            except Exception:  # pypdf raises several types for unsupported crypto
                opened = False
            if not opened:
                raise DocumentError(
                    f"{name} is an encrypted PDF that needs a password.",
                    "Save an unencrypted copy (e.g. print to PDF) and import that.",
                )
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(
            f"{name} is not a readable PDF ({type(exc).__name__}: {exc}).",
            "The file may be truncated or damaged; try re-saving it from the program that made it.",
        ) from None
    if not pages:
        raise DocumentError(f"{name} is a PDF with no pages.", "Check that the right file was chosen.")
    if not any(p.strip() for p in pages):
        raise DocumentError(
            f"{name} has no text layer: none of its {len(pages)} page(s) yields any text "
            "(it is probably scanned images).",
            "Run OCR outside memoview (e.g. ocrmypdf) and import the result; note in the document's "
            "provenance that its text comes from OCR.",
        )
    title = str(meta.title or "").strip() if meta else ""
    author = str(meta.author or "").strip() if meta else ""
    empty = [str(i + 1) for i, p in enumerate(pages) if not p.strip()]
    warnings = (f"pages without text: {', '.join(empty)}",) if empty else ()
    return Extraction(text=PAGE_SEPARATOR.join(p.strip("\n") for p in pages), media_type=MEDIA_TYPE,
                      extractor="pypdf", extractor_version=version("pypdf"),
                      title=title, author=author, warnings=warnings)
