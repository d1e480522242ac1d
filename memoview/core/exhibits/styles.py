"""Highlight colours and marks shared by the PDF exhibits and the GUI.

One place defines how a verbatim span, a near span, a differing word and
unreproduced source text look, so the screen and the court exhibit agree.
Colours are plain hex strings (no Qt, no reportlab here). Each kind is
also distinguished without colour (underline style, grey level, text
weight, match ids) because exhibits are often printed in black and white:
the grey levels below are chosen to stay far apart after conversion to
greyscale (luma = 0.299 R + 0.587 G + 0.114 B).
"""

from __future__ import annotations

from dataclasses import dataclass


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luma(value: str) -> float:
    r, g, b = hex_to_rgb(value)
    return 0.299 * r + 0.587 * g + 0.114 * b


@dataclass(frozen=True)
class HighlightStyle:
    name: str
    background: str  # fill behind the characters ("" = none)
    text: str  # text colour
    underline: str  # "solid" | "dashed" | "dotted-box" | ""
    description: str  # what the legend says, in plain words


VERBATIM = HighlightStyle(
    "verbatim", background="#F2A7A7", text="#000000", underline="solid",
    description="verbatim: identical to the source (after the stated normalization); "
    "medium-grey background when printed, solid underline, match id [Mn] at its start on both sides",
)
NEAR = HighlightStyle(
    "near", background="#FFEB99", text="#000000", underline="dashed",
    description="near-verbatim: within the near-exact threshold; light background, dashed underline, "
    "match id [Mn] on both sides",
)
NEAR_DIFF = HighlightStyle(
    "near_diff", background="#FFEB99", text="#000000", underline="dotted-box",
    description="differing words inside a near-verbatim span: bold, boxed",
)
UNREPRODUCED = HighlightStyle(
    "unreproduced", background="", text="#808080", underline="",
    description="source text the output did not reproduce: grey text, no background",
)
UNMATCHED_OUTPUT = HighlightStyle(
    "unmatched_output", background="", text="#000000", underline="",
    description="model output not found in the source: black text, no background",
)
PROMPT = HighlightStyle(
    "prompt", background="#E6E6E6", text="#000000", underline="",
    description="prompt text supplied to the model: boxed, never counted as reproduced",
)
GAP = HighlightStyle(
    "gap", background="", text="#404040", underline="",
    description="[... N words not reproduced ...] marks source text left out of the page",
)

CONTEXT = HighlightStyle(
    "context", background="", text="#595959", underline="",
    description="\u2026 and italic grey text at the edge of a column: the passage compared starts or ends inside "
    "a word or the text goes on; the italic letters only complete the word and are not compared or counted",
)

STYLES: dict[str, HighlightStyle] = {
    s.name: s for s in (VERBATIM, NEAR, NEAR_DIFF, UNREPRODUCED, UNMATCHED_OUTPUT, PROMPT, GAP, CONTEXT)
}

# Colours of the memorization map (sweep chart): bar fill by outcome.
MAP_EXACT = "#B03A3A"  # the whole suffix reproduced exactly
MAP_PARTIAL = "#E8A0A0"  # some leading tokens reproduced
MAP_NONE = "#D0D0D0"  # no leading token reproduced
