"""Embedded Unicode fonts and per-character fallback.

Exhibits embed their fonts (courts reject PDFs that depend on the reader's
fonts, and text must stay searchable). DejaVu Sans covers Latin, Greek,
Cyrillic, Hebrew, Arabic and many symbols; Droid Sans Fallback covers CJK.
A character neither font has is drawn as U+FFFD and the legend says so.
Right-to-left scripts are drawn in logical (stored) order, without bidi
reordering or Arabic shaping; the legend states this too.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from typing import Iterator

from memoview.core.errors import ExportError
from memoview.paths import resource

SANS = "MV-Sans"
SANS_BOLD = "MV-Sans-Bold"
SANS_OBLIQUE = "MV-Sans-Oblique"
MONO = "MV-Mono"
CJK = "MV-CJK"

FONT_FILES: dict[str, str] = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    SANS_OBLIQUE: "DejaVuSans-Oblique.ttf",
    MONO: "DejaVuSansMono.ttf",
    CJK: "DroidSansFallbackFull.ttf",
}
FONT_LICENCES = {
    "DejaVu Sans, DejaVu Sans Mono": "Bitstream Vera licence (DejaVu changes public domain); memoview/resources/fonts/LICENSE-DejaVu.txt",
    "Droid Sans Fallback": "Apache License 2.0; memoview/resources/fonts/LICENSE-Apache-2.0.txt",
}
REPLACEMENT = "\ufffd"

_lock = threading.Lock()
_registered = False
_cmaps: dict[str, frozenset[int]] = {}
_widths: dict[str, dict[str, float]] = {}


def register_fonts() -> None:
    """Register the shipped TTFs with reportlab once per process."""
    global _registered
    with _lock:
        if _registered:
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        for name, filename in FONT_FILES.items():
            path = resource("fonts", filename)
            if not path.exists():
                raise ExportError(
                    f"The font file {path} is missing, so the exhibit cannot embed its fonts.",
                    "Reinstall memoview; the fonts ship inside the package, in memoview/resources/fonts/.",
                )
            font = TTFont(name, str(path))
            pdfmetrics.registerFont(font)
            _cmaps[name] = frozenset(font.face.charToGlyph.keys())
        addMapping(SANS, 0, 0, SANS)
        addMapping(SANS, 1, 0, SANS_BOLD)
        addMapping(SANS, 0, 1, SANS_OBLIQUE)
        addMapping(SANS, 1, 1, SANS_BOLD)
        for name in (MONO, CJK):  # no bold/italic faces: map them onto themselves
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(name, bold, italic, name)
        _registered = True


@lru_cache(maxsize=65536)
def font_for(primary: str, ch: str) -> tuple[str, str]:
    """(font, character to draw) for one character: primary, then CJK, else U+FFFD."""
    register_fonts()
    code = ord(ch)
    if code in _cmaps[primary]:
        return primary, ch
    if code in _cmaps[CJK]:
        return CJK, ch
    if primary != SANS and code in _cmaps[SANS]:
        return SANS, ch
    return (primary if ord(REPLACEMENT) in _cmaps[primary] else SANS), REPLACEMENT


def char_width(font: str, ch: str, size: float) -> float:
    cache = _widths.setdefault(font, {})
    w = cache.get(ch)
    if w is None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        w = stringWidth(ch, font, 1000.0)
        cache[ch] = w
    return w * size / 1000.0


def runs(text: str, primary: str) -> Iterator[tuple[str, str]]:
    """Split text into (font, text) runs so each character is drawn by a font that has it."""
    current_font = ""
    buf: list[str] = []
    for ch in text:
        font, drawn = font_for(primary, ch)
        if font != current_font and buf:
            yield current_font, "".join(buf)
            buf = []
        current_font = font
        buf.append(drawn)
    if buf:
        yield current_font, "".join(buf)


def text_width(text: str, primary: str, size: float) -> float:
    return sum(char_width(f, c, size) for f, t in runs(text, primary) for c in t)


# --------------------------------------------------------------------- cleaning
_VISIBLE_FORMAT = {
    0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029, 0x2060, 0xFEFF,
    0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x00AD,
}


def clean_char(ch: str) -> str:
    """A printable stand-in for characters that would be invisible or break layout.

    C0/C1 controls, DEL, lone surrogates, bidi overrides and zero-width
    characters become a visible ``[U+XXXX]`` (plain ASCII, which every
    font draws) so that nothing the model emitted is hidden from the reader.
    """
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in _VISIBLE_FORMAT:
        return f"[U+{code:04X}]"
    if unicodedata.category(ch) in ("Cn", "Co") and code > 0xFFFF:
        return f"[U+{code:04X}]"
    return ch


def clean_text(text: str, keep_newlines: bool = True) -> str:
    """Normalise line ends, expand tabs and make control characters visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append("\n" if keep_newlines else " ")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append(clean_char(ch))
    return "".join(out)


def escape(text: str) -> str:
    """XML-escape for reportlab Paragraph markup (so '<b>' in a document renders literally)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: str, primary: str = SANS, *, max_chars: int | None = None) -> str:
    """Paragraph markup for untrusted text: cleaned, escaped, with per-character font fallback.

    ``max_chars`` shortens very long values (titles in table cells) with a
    visible ellipsis and the number of characters left out.
    """
    text = clean_text(text, keep_newlines=False)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + f"\u2026 [{len(text) - max_chars:,} more characters]"
    parts: list[str] = []
    for font, run in runs(text, primary):
        if font == primary:
            parts.append(escape(run))
        else:
            parts.append(f'<font name="{font}">{escape(run)}</font>')
    return "".join(parts)
