"""Argument types that refuse, at parse time, numbers no command can use.

``argparse``'s own ``float`` accepts ``nan`` and ``inf``, and ``int`` accepts
integers of any size; either would otherwise travel into a record (a NaN
temperature stored as a decoding setting) or into SQLite (which cannot hold
an integer of 2^63 or more) and fail later with a traceback. These types
fail first, with argparse's usual "argument --x: ..." message and exit 2,
before anything is opened or recorded.
"""

from __future__ import annotations

import argparse
import math

INT64_MAX = 2 ** 63 - 1


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number (got {text}); NaN and infinity are refused")
    return value


def bounded_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if abs(value) > INT64_MAX:
        raise argparse.ArgumentTypeError(f"{text} is too large (at most {INT64_MAX:,})")
    return value
