"""Email addresses as people paste them: one normaliser for USER arguments and CSV cells.

Mail clients and web pages hand out addresses wrapped in ``mailto:``, ``<...>``, padding
and invisible characters (zero-width spaces, joiners, direction marks, a BOM). None of
those can be part of an address the account holds, so they are dropped before matching.
"""

from __future__ import annotations

import unicodedata

_MAILTO = "mailto:"


def normalize_email(text: str) -> str:
    """``text`` without invisible format characters, padding, ``<>`` or a ``mailto:`` prefix.

    Case is kept (matching is case-insensitive elsewhere); nothing else is rewritten.
    """
    value = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    if value[: len(_MAILTO)].lower() == _MAILTO:
        value = value[len(_MAILTO) :].strip()
    if value.startswith("<") and value.endswith(">"):  # mailto:<ann@x> and <mailto:ann@x>
        value = value[1:-1].strip()
    return value
