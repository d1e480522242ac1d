"""Colours chosen per palette (light, dark), each text/background pair readable (WCAG contrast ≥ 4.5:1).

The exhibit's colours (:mod:`memoview.core.exhibits.styles`) are made for
white paper; on a dark screen the same pink behind light text is unreadable.
So the screen picks its highlight, label and marker colours here, per
palette, keeping the exhibit's meaning (red-ish = verbatim, yellow-ish =
near, grey box = prompt, grey text = not reproduced). Every pair a view
draws is listed in :func:`text_pairs`, and a test computes each contrast.
No Qt here: plain hex strings, so the test is a plain computation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Colors:
    window: str  # the palette's window background (labels sit on it)
    base: str  # the palette's text-area background
    text: str  # ordinary text
    secondary: str  # explanatory / grey labels (was "gray", 3.4:1 on the light window)
    verbatim_bg: str
    verbatim_fg: str
    verbatim_current_bg: str  # the match selected with F7 / a click
    near_bg: str
    near_fg: str
    near_current_bg: str
    prompt_bg: str
    prompt_fg: str
    unreproduced_fg: str  # source text the output did not reproduce (on ``base``)
    find_bg: str  # Find (Ctrl+F) hits
    find_fg: str
    map_low_bg: str  # memorization-map shading behind text: lowest and highest score
    map_high_bg: str
    map_fg: str
    notice_bg: str  # the disclosure notice
    notice_fg: str
    badge_bg: str  # "prompt class" badge in headers
    badge_fg: str
    # Outcome markers of attempts (case tree, tables, legend): drawn as shapes too, never colour alone.
    found: str
    partial: str
    nothing: str
    failed: str


LIGHT = Colors(
    window="#EFEFEF", base="#FFFFFF", text="#000000", secondary="#555555",
    verbatim_bg="#F2A7A7", verbatim_fg="#000000", verbatim_current_bg="#DE7F7F",
    near_bg="#FFEB99", near_fg="#000000", near_current_bg="#F5D34F",
    prompt_bg="#E6E6E6", prompt_fg="#333333", unreproduced_fg="#666666",
    find_bg="#7DB8FF", find_fg="#000000",
    map_low_bg="#FDECEC", map_high_bg="#F2A7A7", map_fg="#000000",
    notice_bg="#FFF4D6", notice_fg="#5D4200", badge_bg="#455A64", badge_fg="#FFFFFF",
    found="#B71C1C", partial="#9A4F00", nothing="#616161", failed="#37474F",
)

DARK = Colors(
    window="#25272B", base="#1B1D20", text="#E6E6E6", secondary="#AEB3BA",
    verbatim_bg="#7A2E2E", verbatim_fg="#FFFFFF", verbatim_current_bg="#A13C3C",
    near_bg="#6B5A12", near_fg="#FFFFFF", near_current_bg="#7D6914",
    prompt_bg="#3A3D42", prompt_fg="#D8D8D8", unreproduced_fg="#9E9E9E",
    find_bg="#1F5FAF", find_fg="#FFFFFF",
    map_low_bg="#3A2629", map_high_bg="#7A2E2E", map_fg="#F2F2F2",
    notice_bg="#4A3C12", notice_fg="#FFE9A8", badge_bg="#546E7A", badge_fg="#FFFFFF",
    found="#FF8A80", partial="#FFB74D", nothing="#B0BEC5", failed="#CFD8DC",
)


def colors(dark: bool | None = None) -> Colors:
    """The colours of the current palette (``dark`` None: ask the running application)."""
    if dark is None:
        try:
            from memoview.gui.theme import is_dark

            dark = is_dark()
        except Exception:  # noqa: BLE001 - no application: light
            dark = False
    return DARK if dark else LIGHT


def _channel(c: float) -> float:
    c = c / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio between two colours (1 to 21)."""
    a, b = relative_luminance(fg), relative_luminance(bg)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def text_pairs(c: Colors) -> dict[str, tuple[str, str]]:
    """Every (text, background) pair the views draw with these colours."""
    return {
        "text on base": (c.text, c.base),
        "text on window": (c.text, c.window),
        "secondary on window": (c.secondary, c.window),
        "secondary on base": (c.secondary, c.base),
        "verbatim": (c.verbatim_fg, c.verbatim_bg),
        "verbatim (current match)": (c.verbatim_fg, c.verbatim_current_bg),
        "near": (c.near_fg, c.near_bg),
        "near (current match)": (c.near_fg, c.near_current_bg),
        "prompt": (c.prompt_fg, c.prompt_bg),
        "not reproduced": (c.unreproduced_fg, c.base),
        "find hit": (c.find_fg, c.find_bg),
        "map (lowest)": (c.map_fg, c.map_low_bg),
        "map (highest)": (c.map_fg, c.map_high_bg),
        "disclosure notice": (c.notice_fg, c.notice_bg),
        "badge": (c.badge_fg, c.badge_bg),
        "found marker on base": (c.found, c.base),
        "partial marker on base": (c.partial, c.base),
        "nothing marker on base": (c.nothing, c.base),
        "failed marker on base": (c.failed, c.base),
        "found marker on window": (c.found, c.window),
        "partial marker on window": (c.partial, c.window),
        "nothing marker on window": (c.nothing, c.window),
        "failed marker on window": (c.failed, c.window),
    }


def blend(low: str, high: str, t: float) -> str:
    """A colour between ``low`` and ``high`` (t from 0 to 1), as hex."""
    t = max(0.0, min(1.0, t))
    lo = [int(low.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    hi = [int(high.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(a + (b - a) * t):02X}" for a, b in zip(lo, hi))


COLOR_FIELDS = tuple(f.name for f in fields(Colors))
