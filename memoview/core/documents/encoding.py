"""Turning the bytes of a text file into text, or refusing with a reason.

The order matters for evidence: a byte-order mark is a statement by the file
itself, strict UTF-8 almost never succeeds by accident, and only then do we
guess (charset-normalizer). The encoding used is recorded with the document
so that the other side can decode the same bytes the same way.
"""

from __future__ import annotations

import codecs

from memoview.core.errors import DocumentError

# Longest BOMs first: the UTF-32 LE BOM begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# C0 controls other than tab, newline, carriage return and form feed are
# not text. A few stray ones happen (old word processors); many mean binary.
_ALLOWED_CONTROLS = {"\t", "\n", "\r", "\f"}
MAX_CONTROL_SHARE = 0.01


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in _ALLOWED_CONTROLS) or ord(ch) == 0x7F)
    return bad / len(text)


def _refuse_binary(name: str, detail: str) -> DocumentError:
    return DocumentError(
        f"{name} looks like binary data, not text ({detail}).",
        "Import the document in a supported format (txt, md, html, pdf, docx, epub); "
        "if it is text in an unusual encoding, convert it to UTF-8 first.",
    )


def check_text(text: str, name: str) -> None:
    """Refuse decoded text that is really binary data (NUL bytes, many control characters)."""
    if "\x00" in text:
        raise _refuse_binary(name, "it contains NUL characters")
    share = _control_share(text)
    if share > MAX_CONTROL_SHARE:
        raise _refuse_binary(name, f"{share:.1%} of its characters are control characters")


# When charset-normalizer finds several code pages equally plausible (short
# Western text decodes cleanly as cp1250, cp1252 and cp1257 alike), prefer
# the one most files of that kind were written in.
_PREFERRED = ("cp1252", "latin_1", "iso8859_15", "mac_roman")


def _best_guess(raw: bytes) -> str | None:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw))
    if not matches:
        return None
    best = matches[0]
    tied = [m for m in matches
            if abs(m.chaos - best.chaos) < 1e-9 and abs(m.coherence - best.coherence) < 1e-9]
    for preferred in _PREFERRED:
        for match in tied:
            if match.encoding == preferred or preferred in match.could_be_from_charset:
                return preferred
    return str(best.encoding)


def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode ``raw``; return ``(text, encoding)`` or raise DocumentError naming ``name``.

    BOM first, then strict UTF-8, then charset-normalizer. Bytes without a
    BOM that contain NUL are refused as binary before any guessing, because
    a guesser will happily call them UTF-16 or some code page.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(encoding.replace("-sig", ""), errors="strict")
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    f"{name} starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (byte {exc.start + len(bom)}: {exc.reason}).",
                    "The file is damaged or mislabelled; re-save it as UTF-8.",
                ) from None
            check_text(text, name)
            return text, encoding
    if b"\x00" in raw:
        first_nul = raw.index(b"\x00")
        sample = raw[:4096]
        if len(sample) >= 16 and (sample[0::2].count(0) > 0.9 * len(sample[0::2])
                                  or sample[1::2].count(0) > 0.9 * len(sample[1::2])):
            raise DocumentError(
                f"{name} looks like UTF-16 text without a byte-order mark (every other byte is NUL); "
                "memoview will not guess its byte order.",
                "Re-save it as UTF-8 (or as UTF-16 with a byte-order mark).",
            )
        raise _refuse_binary(name, f"it contains NUL bytes, the first at byte {first_nul}")
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        utf8_error = f"byte {exc.start}: {exc.reason}"
    else:
        check_text(text, name)
        return text, "utf-8"
    # Valid multi-byte UTF-8 sequences next to an invalid byte mean damaged
    # UTF-8, not a legacy code page: guessing would turn the good characters
    # into mojibake without a word, so refuse instead.
    lenient = raw.decode("utf-8", errors="replace")
    if any(ord(ch) > 127 and ch != "\ufffd" for ch in lenient):
        raise DocumentError(
            f"{name} is mostly UTF-8 but not valid UTF-8 ({utf8_error}); "
            "memoview will not guess another encoding for it.",
            "The file looks damaged or was edited with mixed encodings; repair it and re-save it as UTF-8.",
        )
    best = _best_guess(raw)
    if best is None:
        raise DocumentError(
            f"{name} is not valid UTF-8 ({utf8_error}) and no other text encoding explains its bytes.",
            "If it is text, re-save it as UTF-8; if it is not, import it in a supported format.",
        )
    encoding = best
    try:
        text = raw.decode(encoding, errors="strict")
    except UnicodeDecodeError:  # the guesser's candidate does not hold for every byte
        raise DocumentError(
            f"{name} is not valid UTF-8 ({utf8_error}) and no other text encoding explains its bytes.",
            "If it is text, re-save it as UTF-8; if it is not, import it in a supported format.",
        ) from None
    check_text(text, name)
    return text, encoding


_CERTAIN = {"utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "ascii"}


def guess_warning(text: str, encoding: str) -> tuple[str, ...]:
    """A visible warning when the encoding was guessed (not UTF-8, no byte-order mark).

    A file that is mostly ASCII with a few bytes invalid in UTF-8 decodes in
    many code pages; the guess decides what those few characters are, so the
    user is shown exactly which characters came from it.
    """
    if encoding.lower().replace("_", "-") in _CERTAIN:
        return ()
    odd = [(i, ch) for i, ch in enumerate(text) if ord(ch) > 127]
    shown = ", ".join(f"{ch!r} at character {i:,}" for i, ch in odd[:5]) + (", ..." if len(odd) > 5 else "")
    return (f"not valid UTF-8: decoded as {encoding}, a guess (charset-normalizer); the {len(odd):,} non-ASCII "
            f"character(s) depend on that guess ({shown}); check them against the original",)
