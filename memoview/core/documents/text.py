"""Plain text and Markdown: the file's text is the document's text.

Markdown is kept as written (markup included): the markup is part of what
was published, and stripping it would move every character offset.
"""

from __future__ import annotations

import re

from memoview.core.documents.base import Extraction
from memoview.core.documents.encoding import decode_text, guess_warning

_ATX_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def extract_plain(raw: bytes, name: str) -> Extraction:
    text, encoding = decode_text(raw, name)
    return Extraction(text=text, media_type="text/plain", extractor="memoview-text",
                      extractor_version="1", encoding=encoding, warnings=guess_warning(text, encoding))


def extract_markdown(raw: bytes, name: str) -> Extraction:
    text, encoding = decode_text(raw, name)
    heading = _ATX_HEADING.search(text[:4000])
    return Extraction(text=text, media_type="text/markdown", extractor="memoview-text",
                      extractor_version="1", encoding=encoding,
                      title=heading.group(1).strip() if heading else "", warnings=guess_warning(text, encoding))
