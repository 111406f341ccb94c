"""Extension parsing: three ASCII digits, or a diagnosis that names the damage.

Extensions are text: ``007`` is not ``7``. Spreadsheets damage them in recognisable ways
(leading zeros dropped, ``101.0``, ``1.01E+02``); we name the damage and suggest the likely
value, but never "fix" it silently. The one accepted rewrite is Excel's explicit text form
``="007"``, which is how a careful admin protects the zeros.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ProblemCode = Literal[
    "empty",
    "leading-zeros-lost",
    "decimal",
    "scientific",
    "too-many-digits",
    "whitespace",
    "not-digits",
]

_THREE_DIGITS = re.compile(r"[0-9]{3}")
_DIGITS = re.compile(r"[0-9]+")
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_DECIMAL = re.compile(r"[0-9]+[.,][0-9]+")
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")


@dataclass(frozen=True)
class ExtensionProblem:
    """Why a text is not an extension, in words an admin can act on."""

    code: ProblemCode
    text: str
    message: str
    suggestion: str | None = None  # the extension the text most likely meant


def is_extension(text: str) -> bool:
    return _THREE_DIGITS.fullmatch(text) is not None


def parse_extension(text: str) -> str | ExtensionProblem:
    """Return the extension ``text`` denotes, or the problem with it.

    Surrounding whitespace is padding (``101; 102`` in a CSV) and is ignored; whitespace
    inside the value is damage. Never raises.
    """
    value = text.strip()
    excel = _EXCEL_TEXT.fullmatch(value)
    if excel:
        value = excel.group(1).strip()
    if is_extension(value):
        return value
    return _diagnose(text, value)


def _diagnose(text: str, value: str) -> ExtensionProblem:
    shown = repr(text)
    if not value:
        return ExtensionProblem("empty", text, "extension is empty")
    if _DIGITS.fullmatch(value):
        if len(value) < 3:
            guess = value.zfill(3)
            return ExtensionProblem(
                "leading-zeros-lost",
                text,
                f"{shown} has {len(value)} digit{'s' if len(value) > 1 else ''}: leading zeros "
                f"lost? did you mean {guess}? (format the column as text)",
                guess,
            )
        return ExtensionProblem(
            "too-many-digits",
            text,
            f"{shown} has {len(value)} digits; an extension has exactly 3",
        )
    if _SCIENTIFIC.fullmatch(value):
        return _numeric_damage("scientific", text, value, "scientific notation")
    if _DECIMAL.fullmatch(value):
        return _numeric_damage("decimal", text, value, "a decimal number")
    if any(ch.isspace() for ch in value) and _DIGITS.fullmatch("".join(value.split())):
        return ExtensionProblem(
            "whitespace",
            text,
            f"{shown} contains whitespace; an extension is 3 digits with nothing between them",
        )
    return ExtensionProblem(
        "not-digits",
        text,
        f"{shown} is not an extension: expected exactly 3 digits 0-9 (e.g. 101 or 007)",
    )


def _numeric_damage(code: ProblemCode, text: str, value: str, form: str) -> ExtensionProblem:
    """A spreadsheet turned the cell into a number; name it and guess the original."""
    guess: str | None = None
    try:
        number = Decimal(value.replace(",", "."))
        if number == number.to_integral_value() and 0 <= number <= 999:
            guess = str(int(number)).zfill(3)
    except (ArithmeticError, ValueError):
        pass  # a huge exponent: no sensible guess
    hint = f"did you mean {guess}? " if guess else ""
    return ExtensionProblem(
        code,
        text,
        f"{text.strip()!r} is {form}, damaged by a spreadsheet: {hint}(format the column as text)",
        guess,
    )
