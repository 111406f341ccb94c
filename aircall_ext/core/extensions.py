"""Extension parsing: three ASCII digits, or a diagnosis that names the damage.

Extensions are text: ``007`` is not ``7``. Spreadsheets damage them in recognisable ways
(leading zeros dropped, ``101.0``, ``1.01E+02``); we name the damage and suggest the likely
value, but never "fix" it silently. The one accepted rewrite is Excel's explicit text form
``="007"``, which is how a careful admin protects the zeros.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from aircall_ext.core.findings import plural
from aircall_ext.errors import UsageError

ProblemCode = Literal[
    "empty",
    "leading-zeros-lost",
    "decimal",
    "scientific",
    "too-many-digits",
    "whitespace",
    "non-ascii-digits",
    "not-digits",
]

_THREE_DIGITS = re.compile(r"[0-9]{3}")
_DIGITS = re.compile(r"[0-9]+")
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_DECIMAL = re.compile(r"[0-9]+[.,][0-9]+")
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
_SPREADSHEET_ADVICE = "format the column as text"
_SHOWN_MAX = 40  # a pasted paragraph must not become a paragraph-long message


@dataclass(frozen=True)
class ExtensionProblem:
    """Why a text is not an extension, in words an admin can act on.

    ``reason`` fits any context (a CLI argument, the account's data); ``message`` adds the
    spreadsheet advice when a spreadsheet is the likely culprit, for CSV cells only.
    """

    code: ProblemCode
    text: str
    reason: str
    suggestion: str | None = None  # the extension the text most likely meant
    advice: str | None = None  # how to stop it happening again

    @property
    def message(self) -> str:
        return f"{self.reason} ({self.advice})" if self.advice else self.reason


def is_extension(text: str) -> bool:
    """Exactly three ASCII digits, nothing around them: the form the API stores."""
    return _THREE_DIGITS.fullmatch(text) is not None


def is_missing(value: str | None) -> bool:
    """No extension at all, or blank text: nothing a caller could dial, so the user has
    none (whitespace alone is not a damaged extension: there is nothing to repair)."""
    return value is None or not value.strip()


def stored_form(value: str) -> str:
    """A stored value as people read it: as it is when it is an extension, else quoted
    (``' 101'``, ``'7'``), so that damage never passes for a real extension."""
    return value if is_extension(value) else repr(value)


def parse_extension(text: str) -> str | ExtensionProblem:
    """Return the extension ``text`` denotes, or the problem with it.

    Surrounding whitespace is padding (``101; 102`` in a CSV) and is ignored; whitespace
    inside the value is damage. Never raises.
    """
    value = unwrap_excel_text(text)
    if is_extension(value):
        return value
    return _diagnose(text, value)


def extension_argument(text: str, name: str) -> str:
    """An extension typed on the command line (``name``: ``EXT``, ``--extension``...).

    A bad one is a usage error said without the spreadsheet advice: nobody formats a
    column to type an argument.
    """
    parsed = parse_extension(text)
    if isinstance(parsed, ExtensionProblem):
        raise UsageError(f"invalid {name} {text!r}: {parsed.reason}")
    return parsed


def unwrap_excel_text(cell: str) -> str:
    """A cell without padding, and without Excel's text form ``="007"`` around it.

    That form is how a careful admin keeps a spreadsheet from eating leading zeros, so it
    is read as the text it protects, wherever a cell holds an identifier.
    """
    value = cell.strip()
    excel = _EXCEL_TEXT.fullmatch(value)
    return excel.group(1).strip() if excel else value


def _diagnose(text: str, value: str) -> ExtensionProblem:
    if not value:
        return ExtensionProblem("empty", text, "extension is empty")
    if _DIGITS.fullmatch(value):
        return _digit_count(text, value)
    if _SCIENTIFIC.fullmatch(value):
        return _numeric_damage("scientific", text, value, "scientific notation")
    if _DECIMAL.fullmatch(value):
        return _numeric_damage("decimal", text, value, "a decimal number")
    squeezed = "".join(value.split())
    if squeezed != value and _DIGITS.fullmatch(squeezed):
        return ExtensionProblem(
            "whitespace",
            text,
            f"{_shown(text)} contains whitespace; an extension is 3 digits with nothing "
            f"between them{_did_you_mean(squeezed if is_extension(squeezed) else None)}",
            squeezed if is_extension(squeezed) else None,
        )
    ascii_digits = _ascii_digits(value)
    if ascii_digits is not None:
        return _non_ascii(text, ascii_digits)
    return ExtensionProblem(
        "not-digits",
        text,
        f"{_shown(text)} is not an extension: expected exactly 3 digits 0-9 (e.g. 101 or 007)",
    )


def _digit_count(text: str, value: str) -> ExtensionProblem:
    if len(value) > 3:
        return ExtensionProblem(
            "too-many-digits",
            text,
            f"{_shown(text)} has {len(value)} digits; an extension has exactly 3",
        )
    guess = value.zfill(3)
    digits = plural(len(value), "digit")
    return ExtensionProblem(
        "leading-zeros-lost",
        text,
        f"{_shown(text)} has {digits}: leading zeros lost? did you mean {guess}?",
        guess,
        _SPREADSHEET_ADVICE,
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
    return ExtensionProblem(
        code,
        text,
        f"{_shown(text)} is {form}, damaged by a spreadsheet{_did_you_mean(guess)}",
        guess,
        _SPREADSHEET_ADVICE,
    )


def _ascii_digits(value: str) -> str | None:
    """``value`` spelt with ASCII digits when it is all decimal digits of some script."""
    digits = [unicodedata.decimal(ch, None) for ch in value]
    if any(d is None for d in digits):
        return None
    return "".join(str(d) for d in digits)


def _non_ascii(text: str, ascii_digits: str) -> ExtensionProblem:
    """Full-width or Arabic-Indic digits look right on screen but are not what a keypad sends."""
    guess = ascii_digits if is_extension(ascii_digits) else None
    return ExtensionProblem(
        "non-ascii-digits",
        text,
        f"{_shown(text)} uses non-ASCII digits; an extension is 3 digits 0-9{_did_you_mean(guess)}",
        guess,
    )


def _did_you_mean(guess: str | None) -> str:
    return f": did you mean {guess}?" if guess else ""


def _shown(text: str) -> str:
    value = text.strip()
    if len(value) > _SHOWN_MAX:
        value = value[: _SHOWN_MAX - 1] + "…"
    return repr(value)
