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
