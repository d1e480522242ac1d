"""Python character offsets <-> Qt (UTF-16) text positions.

The core counts Unicode code points (Python ``str`` indices). Qt's text
classes count UTF-16 code units, so every character outside the Basic
Multilingual Plane (emoji, some CJK, mathematical letters) takes two
positions. This is the only place the GUI converts between the two.
"""

from __future__ import annotations

from bisect import bisect_right


class Utf16Map:
    """Converts offsets in one string; O(log n) per call, built once per text."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        # Python indices of astral characters, in order.
        self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if not text.isascii() else []

    def to_qt(self, index: int) -> int:
        """Python index -> Qt position (clamped to the text)."""
        index = max(0, min(index, self.length))
        return index + bisect_right(self._astral, index - 1) if self._astral else index

    def from_qt(self, pos: int) -> int:
        """Qt position -> Python index. A position inside a surrogate pair maps to its character."""
        if not self._astral:
            return max(0, min(pos, self.length))
        lo, hi = 0, self.length
        while lo < hi:  # smallest index whose Qt position is >= pos
            mid = (lo + hi) // 2
            if self.to_qt(mid) < pos:
                lo = mid + 1
            else:
                hi = mid
        if lo > 0 and self.to_qt(lo) > pos:
            return lo - 1
        return lo


def to_qt(text: str, index: int) -> int:
    return Utf16Map(text).to_qt(index)


def from_qt(text: str, pos: int) -> int:
    return Utf16Map(text).from_qt(pos)
