"""Choosing passages and sweep windows in a document's own tokens, with character offsets kept.

The whole document is tokenized once (no special tokens); every window and
passage is a slice of that sequence, so token positions and character
offsets always refer to the same text the case stores.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Optional

from memoview.core import errors
from memoview.core.engines.base import Engine
from memoview.core.models.base import LoadedModel
from memoview.core.records import Document


@dataclass(frozen=True)
class TokenizedDocument:
    document: Document
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    def char_start(self, token: int) -> int:
        if token >= len(self.offsets):
            return len(self.document.text)
        return int(self.offsets[token][0])

    def char_end(self, token_end: int) -> int:
        """Character end of the token range ending (exclusive) at ``token_end``."""
        if token_end <= 0:
            return 0
        return int(self.offsets[token_end - 1][1])

    def token_at_char(self, char: int) -> int:
        """The first token whose start is at or after ``char``."""
        starts = [o[0] for o in self.offsets]
        return bisect.bisect_left(starts, char)


def tokenize_document(lm: Engine | LoadedModel, document: Document) -> TokenizedDocument:
    if not document.text.strip():
        raise errors.ValidationError(f"Document {document.id} ('{document.title}') has no text.")
    ids, offsets = lm.encode_with_offsets(document.text)
    return TokenizedDocument(document, tuple(ids), tuple((int(a), int(b)) for a, b in offsets))


@dataclass(frozen=True)
class Passage:
    """A prefix and its true continuation, by token index in the document."""

    prefix_start_token: int
    start_token: int
    end_token: int

    def target_dict(self, doc: TokenizedDocument) -> dict[str, Any]:
        return {
            "prefix_start_char": doc.char_start(self.prefix_start_token),
            "start_char": doc.char_start(self.start_token),
            "end_char": doc.char_end(self.end_token),
            "prefix_start_token": self.prefix_start_token,
            "start_token": self.start_token,
            "end_token": self.end_token,
            "prefix_tokens": self.start_token - self.prefix_start_token,
            "suffix_tokens": self.end_token - self.start_token,
        }


def check_lengths(doc: TokenizedDocument, prefix: int, suffix: int, min_prefix: int = 1) -> None:
    """``min_prefix`` is 0 when BOS is counted inside the prefix (a prompt of BOS alone is then allowed)."""
    n = len(doc.ids)
    if prefix < min_prefix:
        raise errors.ValidationError(f"The prefix must be at least 1 token (got {prefix}).", "Give --prefix 1 or more.")
    if suffix < 1:
        raise errors.ValidationError(f"The suffix must be at least 1 token (got {suffix}).", "Give --suffix 1 or more.")
    if prefix + suffix > n:
        raise errors.ValidationError(
            f"A prefix of {prefix} plus a suffix of {suffix} tokens is longer than document {doc.document.id} "
            f"('{doc.document.title}'), which has {n} tokens for this model.",
            f"Use a prefix and suffix that add up to at most {n}.",
        )


def locate_passage(doc: TokenizedDocument, prefix: int, suffix: int, *, token_start: Optional[int] = None,
                   char_start: Optional[int] = None, select: Optional[str] = None, min_prefix: int = 1) -> Passage:
    """The passage whose *target* starts at a token, a character, or the start of a selected text.

    ``prefix`` counts tokens of the work only (a BOS counted inside the prefix is not one of them)."""
    check_lengths(doc, prefix, suffix, min_prefix)
    given = [x is not None for x in (token_start, char_start, select)]
    if sum(given) != 1:
        raise errors.ValidationError("Give exactly one of a token start, a character start or a text selection.")
    text = doc.document.text
    if select is not None:
        if not select.strip():
            raise errors.ValidationError("The text selection is empty.")
        found = text.find(select)
        if found < 0:
            raise errors.ValidationError(
                f"The selected text does not occur in document {doc.document.id} ('{doc.document.title}').",
                "Copy the selection exactly from the document text.",
            )
        char_start = found
    if char_start is not None:
        if not 0 <= char_start < len(text):
            raise errors.ValidationError(
                f"Character {char_start} is outside document {doc.document.id} (0..{len(text) - 1}).")
        # The token that contains the character, so the target begins at or before the selection.
        token_start = max(0, bisect.bisect_right([o[0] for o in doc.offsets], char_start) - 1)
    assert token_start is not None
    if token_start < prefix:
        raise errors.ValidationError(
            f"The passage starts at token {token_start}, but a prefix of {prefix} tokens needs it to start at "
            f"token {prefix} or later.",
            "Choose a later passage or a shorter prefix.",
        )
    if token_start + suffix > len(doc.ids):
        raise errors.ValidationError(
            f"The passage at token {token_start} with a suffix of {suffix} tokens runs past the end of the "
            f"document ({len(doc.ids)} tokens).",
            "Choose an earlier passage or a shorter suffix.",
        )
    return Passage(token_start - prefix, token_start, token_start + suffix)


def sweep_passages(doc: TokenizedDocument, prefix: int, suffix: int, stride: int, unit: str = "tokens",
                   min_prefix: int = 1) -> list[Passage]:
    """Windows at multiples of the stride in the document's token sequence (or its characters).

    ``prefix`` counts tokens of the work only; a window starts at its first prefix token."""
    check_lengths(doc, prefix, suffix, min_prefix)
    if stride < 1:
        raise errors.ValidationError(f"The stride must be at least 1 (got {stride}).")
    n = len(doc.ids)
    starts: list[int] = []
    if unit == "tokens":
        starts = list(range(0, n - prefix - suffix + 1, stride))
    elif unit in ("chars", "characters"):
        seen: set[int] = set()
        for c in range(0, len(doc.document.text), stride):
            t = doc.token_at_char(c)
            if t + prefix + suffix <= n and t not in seen:
                seen.add(t)
                starts.append(t)
    else:
        raise errors.ValidationError(f"Unknown stride unit '{unit}'.", "Use tokens or chars.")
    return [Passage(s, s + prefix, s + prefix + suffix) for s in starts]
