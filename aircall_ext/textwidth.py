"""How wide text is on a terminal, and cutting it to a width: one rule for tables, progress
lines and the extension map. Wide East Asian characters take two columns, combining marks
none (wcwidth, imported when first measured: start-up never needs it)."""

from __future__ import annotations


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text)  # control characters: count them as one each


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns, marked with an ellipsis when cut."""
    if display_width(text) <= width:
        return text
    kept = ""
    for char in text:
        if display_width(kept + char) > width - 1:
            break
        kept += char
    return kept + "…" if width > 0 else ""
