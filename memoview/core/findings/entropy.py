"""Low-entropy / boilerplate flags from the zlib compression ratio.

A repetitive or formulaic passage ("the the the", a list of numbers, a
licence clause repeated) compresses well; reproducing it is weaker evidence
of memorization than reproducing a distinctive passage, because a model can
predict it without having memorized it. The ratio is
``len(zlib.compress(utf8, 9)) / len(utf8)``: ordinary English prose of a few
hundred characters gives about 0.6–0.8, repetitive text well under 0.5.

The cut-off (0.5) is a convention, stated wherever a flag is shown, and a
span shorter than ``MIN_CHARS`` is not judged (zlib's header dominates).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Optional

LOW_ENTROPY_RATIO = 0.5
MIN_CHARS = 64
RULE = (f"zlib compression ratio below {LOW_ENTROPY_RATIO} (compressed/original UTF-8 bytes; spans of at least "
        f"{MIN_CHARS} characters; a convention): repetitive or formulaic text, weaker evidence")


def zlib_ratio(text: str) -> Optional[float]:
    """Compressed / original size of the UTF-8 text, or None for text too short to judge."""
    if len(text) < MIN_CHARS:
        return None
    data = text.encode("utf-8")
    return len(zlib.compress(data, 9)) / len(data)


@dataclass(frozen=True)
class EntropyFlag:
    ratio: Optional[float]

    @property
    def low(self) -> bool:
        return self.ratio is not None and self.ratio < LOW_ENTROPY_RATIO

    def describe(self) -> str:
        if self.ratio is None:
            return "too short to judge"
        return f"zlib ratio {self.ratio:.2f}" + (" \u2014 low-entropy (repetitive or formulaic)" if self.low else "")


def flag(text: str) -> EntropyFlag:
    return EntropyFlag(zlib_ratio(text))
