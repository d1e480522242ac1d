"""Character ranges of tokens known only by their bytes (llama.cpp's vocabulary gives no offsets).

Shared by the in-process llama.cpp engine and the server engine's llama.cpp tokenizer: both must map
a token back to the characters of the document it came from, exactly, or refuse.
"""

from __future__ import annotations

from typing import Optional, Sequence


def char_offsets(text: str, pieces: Sequence[bytes]) -> Optional[list[tuple[int, int]]]:
    """Each piece's (start, end) character range in ``text``; None when the pieces do not spell it.

    The pieces must join to the text's UTF-8 bytes exactly, allowing the one leading space a
    SentencePiece vocabulary adds. A piece that ends inside a multi-byte character covers that
    character, so no character is left without a token.
    """
    data = text.encode("utf-8")
    joined = b"".join(pieces)
    if joined == data:
        shift = 0
    elif joined == b" " + data:
        shift = 1
    else:
        return None
    char_at: list[int] = []  # byte index -> index of the character it belongs to
    for ci, ch in enumerate(text):
        char_at.extend([ci] * len(ch.encode("utf-8")))
    char_at.append(len(text))
    offsets: list[tuple[int, int]] = []
    pos = -shift
    for piece in pieces:
        a, b = min(max(0, pos), len(data)), min(max(0, pos + len(piece)), len(data))
        pos += len(piece)
        start = char_at[a]
        if b >= len(data):
            end = len(text)
        elif b > a and (data[b] & 0xC0) == 0x80:
            end = char_at[b] + 1  # the token ends inside a character: it covers that character
        else:
            end = char_at[b]
        offsets.append((start, max(start, end)))
    return offsets
