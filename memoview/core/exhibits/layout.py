"""Line layout for the two text columns of a per-work page.

The columns are laid out here, not by reportlab's Paragraph, because each
character needs its own highlight (verbatim, near, differing word,
unreproduced), lines must be numbered, a 10,000-character "word" must be
broken rather than overflow, and a column must split cleanly across pages.
Layout is pure arithmetic on font metrics, so it is deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from reportlab.pdfbase.pdfmetrics import stringWidth

from memoview.core.exhibits import fonts

# Kinds of text piece, matching memoview.core.exhibits.styles names where styled.
PLAIN = "plain"
TAG = "tag"  # a match id label such as [M3]
VERB = "verbatim"
NEAR = "near"
NEAR_DIFF = "near_diff"
UNREPRODUCED = "unreproduced"
UNMATCHED_OUTPUT = "unmatched_output"
GAP = "gap"
CONTEXT = "context"  # text shown only to complete a word or mark a cut (ellipsis): never compared, never counted


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str = PLAIN


@dataclass(frozen=True)
class Seg:
    x: float
    text: str
    font: str
    kind: str
    width: float


Line = tuple[Seg, ...]


@dataclass(frozen=True)
class Mark:
    """A highlighted range of a text (raw character offsets, end exclusive)."""

    start: int
    end: int
    kind: str  # VERB | NEAR
    match_id: int
    diffs: tuple[tuple[int, int], ...] = ()


_TOKEN = re.compile(r"\n| +|[^ \n]+")


def layout(pieces: Sequence[Piece], width: float, size: float, primary: str = fonts.SANS) -> list[Line]:
    """Wrap pieces into lines no wider than ``width`` points (hard-breaking over-long words)."""
    lines: list[Line] = []
    current: list[Seg] = []
    x = 0.0
    tag_font = fonts.SANS_BOLD
    tag_size = max(8.0, size * 0.8)  # the flowables draw tags at this size (never below 8 pt)

    def flush() -> None:
        nonlocal current, x
        lines.append(tuple(current))
        current = []
        x = 0.0

    def put(text: str, kind: str, font: str, w: float) -> None:
        nonlocal x
        if current and current[-1].kind == kind and current[-1].font == font and abs(current[-1].x + current[-1].width - x) < 1e-6:
            last = current[-1]
            current[-1] = Seg(last.x, last.text + text, font, kind, last.width + w)
        else:
            current.append(Seg(x, text, font, kind, w))
        x += w

    for piece in pieces:
        kind = piece.kind
        if kind == TAG:
            label = f"[{piece.text}]"
            w = sum(fonts.char_width(tag_font, c, tag_size) for c in label) + 1.0
            if x + w > width and current:
                flush()
            put(label, TAG, tag_font, w)
            continue
        primary_font = fonts.SANS_OBLIQUE if kind in (GAP, CONTEXT) else (fonts.SANS_BOLD if kind == NEAR_DIFF else primary)
        for token in _TOKEN.findall(piece.text):
            if token == "\n":
                flush()
                continue
            if token[0] == " ":
                if not current:
                    continue  # no leading spaces after a wrap
                w = fonts.char_width(primary_font, " ", size) * len(token)
                if x + w > width:
                    flush()
                    continue
                put(token, kind, primary_font, w)
                continue
            if token.isascii() and token.isprintable():
                # fast path: the primary faces all draw ASCII; break only if the word is too long
                w = stringWidth(token, primary_font, size)
                if w <= width:
                    if x + w > width and current:
                        flush()
                    put(token, kind, primary_font, w)
                    continue
            chars = [(f, c, fonts.char_width(f, c, size)) for f, t in fonts.runs(token, primary_font) for c in t]
            total = sum(c[2] for c in chars)
            if x + total > width and current and total <= width:
                flush()
            for font, ch, w in chars:
                if x + w > width and current:
                    flush()
                put(ch, kind, font, w)
    if current or not lines:
        flush()
    return lines


def _gap_label(words: int, chars: int) -> str:
    label = f"{words:,} word{'s' if words != 1 else ''}"
    if chars > 20 * max(words, 1):  # a "word" thousands of characters long: say so
        label += f" ({chars:,} characters)"
    return f"[\u2026 {label} not reproduced \u2026]"


def source_pieces(
    text: str,
    start: int,
    end: int,
    marks: Iterable[Mark],
    *,
    unmatched_kind: str = UNREPRODUCED,
    compress_words: Optional[int] = 80,
    context_words: int = 25,
    compress_chars: int = 4000,
    context_chars: int = 600,
) -> list[Piece]:
    """Pieces for one side: marked spans with their match ids, the rest in ``unmatched_kind``.

    With ``compress_words``, an unmatched stretch longer than that many words
    (or ``compress_chars`` characters) keeps ``context_words`` (at most
    ``context_chars`` characters) at each end and the middle becomes a gap
    marker stating how many words were left out.
    """
    pieces: list[Piece] = []
    pos = start
    ordered = sorted((m for m in marks if m.end > start and m.start < end), key=lambda m: (m.start, m.end))

    def unmatched(a: int, b: int) -> None:
        if b <= a:
            return
        chunk = fonts.clean_text(text[a:b])
        if compress_words is not None:
            words = list(re.finditer(r"\S+", chunk))
            if len(words) > compress_words or len(chunk) > compress_chars:
                head_end = words[context_words - 1].end() if len(words) >= context_words and context_words else 0
                tail_start = words[-context_words].start() if len(words) >= context_words and context_words else len(chunk)
                head_end = min(head_end, context_chars)
                tail_start = max(tail_start, len(chunk) - context_chars, head_end)
                left_words = len(chunk[head_end:tail_start].split())
                if left_words or tail_start > head_end:
                    if head_end:
                        pieces.append(Piece(chunk[:head_end], unmatched_kind))
                    pieces.append(Piece("\n" + _gap_label(left_words, tail_start - head_end) + "\n", GAP))
                    if tail_start < len(chunk):
                        pieces.append(Piece(chunk[tail_start:], unmatched_kind))
                    return
        pieces.append(Piece(chunk, unmatched_kind))

    for mark in ordered:
        a, b = max(mark.start, pos), min(mark.end, end)
        if b <= a:
            continue
        unmatched(pos, a)
        pieces.append(Piece(f"M{mark.match_id}", TAG))
        cursor = a
        if mark.kind == NEAR:
            for da, db in sorted(mark.diffs):
                da, db = max(da, cursor), min(db, b)
                if db <= da:
                    continue
                if da > cursor:
                    pieces.append(Piece(fonts.clean_text(text[cursor:da]), NEAR))
                pieces.append(Piece(fonts.clean_text(text[da:db]), NEAR_DIFF))
                cursor = db
        if b > cursor:
            pieces.append(Piece(fonts.clean_text(text[cursor:b]), mark.kind))
        pos = b
    unmatched(pos, end)
    return pieces


_WORDCHAR = re.compile(r"\w")


def _is_word(ch: str) -> bool:
    return bool(_WORDCHAR.match(ch))


def snap_out(text: str, start: int, end: int, reach: int = 40) -> tuple[int, int]:
    """Widen [start, end) to whole words (at most ``reach`` characters each way).

    Windows are cut in the model's tokens, so they can start or end inside a
    word ("PLIED"); the widened parts are shown as context, apart from the
    compared text, and never counted."""
    a = start
    if 0 < start < len(text) and _is_word(text[start - 1]) and _is_word(text[start]):
        while a > 0 and start - a < reach and _is_word(text[a - 1]):
            a -= 1
    b = end
    if 0 < end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]):
        while b < len(text) and b - end < reach and _is_word(text[b]):
            b += 1
    return a, b


ELLIPSIS = "\u2026"


def framed_source_pieces(text: str, start: int, end: int, marks: Iterable[Mark], **kwargs: object) -> list[Piece]:
    """:func:`source_pieces` for [start, end) framed on word boundaries: an ellipsis where the text goes
    on before or after, and any cut word completed in the context style (not compared, not counted)."""
    a, b = snap_out(text, start, end)
    pieces: list[Piece] = []
    if start > 0:
        lead = fonts.clean_text(text[a:start])
        pieces.append(Piece(ELLIPSIS + (lead if lead else " "), CONTEXT))
    pieces += source_pieces(text, start, end, marks, **kwargs)  # type: ignore[arg-type]
    if end < len(text):
        tail = fonts.clean_text(text[end:b])
        pieces.append(Piece((tail if tail else " ") + ELLIPSIS, CONTEXT))
    return pieces


def framed_output_pieces(output: str, marks: Iterable[Mark], lead_fragment: str = "") -> list[Piece]:
    """The model's output, preceded by the end of a word its prompt cut (context, not counted) and
    followed by an ellipsis when it stops inside a word (the token limit cut it)."""
    pieces: list[Piece] = []
    if lead_fragment:
        pieces.append(Piece(ELLIPSIS + fonts.clean_text(lead_fragment), CONTEXT))
    pieces += source_pieces(output, 0, len(output), marks, unmatched_kind=UNMATCHED_OUTPUT, compress_words=None)
    if output and _is_word(output[-1]):
        pieces.append(Piece(ELLIPSIS, CONTEXT))
    return pieces


def cut_word_before(text: str, start: int) -> str:
    """The part of a word that lies before ``start`` when ``start`` falls inside a word, else ''."""
    a, _ = snap_out(text, start, start)
    return text[a:start]
