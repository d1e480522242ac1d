"""What a document loader hands to the case: the contract between loaders and storage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoadedDocument:
    """A source file read and turned into text, not yet stored.

    ``raw`` is kept so the case holds the exact bytes that were hashed: the
    other side can re-extract and compare.
    """

    path: str
    filename: str
    media_type: str
    raw: bytes
    raw_sha256: str
    text: str
    text_sha256: str
    extractor: str
    extractor_version: str
    encoding: str = ""
    title: str = ""
    author: str = ""
    # What the loader wants the user told (e.g. "pages without text: 3"); not stored.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Extraction:
    """What one format loader returns: the text and how it was obtained.

    Loaders only turn bytes into text; the path checks, size limit, hashing
    and newline normalisation happen once, in :func:`memoview.core.documents.load.load_document`.
    """

    text: str
    media_type: str
    extractor: str
    extractor_version: str
    encoding: str = ""
    title: str = ""
    author: str = ""
    warnings: tuple[str, ...] = ()
