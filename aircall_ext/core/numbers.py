"""Resolving NUMBER: the one number of the account that an id, a name or digits name."""

from __future__ import annotations

import re

from aircall_ext.api.models import Number
from aircall_ext.core.account import Account
from aircall_ext.core.findings import listed
from aircall_ext.errors import Hint, Remedy, UsageError

_ID = re.compile(r"[0-9]+")
_PHONE = re.compile(r"\+?[0-9 ().\-/]+")
_LISTED = 8  # candidates named in an error before "and N more"


def find_number(account: Account, text: str) -> Number:
    """The one number ``text`` names: its id, its name (case-insensitive) or its digits.

    Digits match in any formatting (``+33 1 76 36 06 95`` == ``0033176360695``) and, when
    nothing matches exactly, in national form (``01 76 36 06 95``, ``415-555-0142``). An
    unknown or ambiguous NUMBER is a bad argument for this account: :class:`UsageError`
    (exit 2), so that exit 1 keeps meaning "the call does not reach a user".
    """
    matches = _matches(account.numbers, text)
    if len(matches) == 1:
        return next(iter(matches.values()))[0]
    if matches:
        which = "; ".join(f"{_candidate(n)} by {how}" for n, how in matches.values())
        raise UsageError(
            f"NUMBER {text!r} is ambiguous: it matches {which}",
            hint="name the number by its id",
        )
    raise UsageError(
        f"NUMBER {text!r} is not a number of this account (by id, name or digits)",
        hint=_candidates_hint(account.numbers),
    )


def _matches(numbers: tuple[Number, ...], text: str) -> dict[int, tuple[Number, str]]:
    query = text.strip()
    found: dict[int, tuple[Number, str]] = {}
    for number in numbers:
        how = _match_kind(number, query)
        if how:
            found[number.id] = (number, how)
    if found or not _national(query):
        return found
    return {n.id: (n, "national digits") for n in numbers if _matches_national(n, query)}


def _match_kind(number: Number, query: str) -> str | None:
    if _ID.fullmatch(query) and int(query) == number.id:
        return "id"
    if number.name and query and number.name.strip().casefold() == query.casefold():
        return "name"
    if _PHONE.fullmatch(query) and _digits_of(query) in _phone_digits(number):
        return "digits"
    return None


def _digits_of(text: str) -> str:
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    return digits[2:] if digits.startswith("00") and not text.lstrip().startswith("+") else digits


def _phone_digits(number: Number) -> set[str]:
    forms = {_digits_of(text) for text in (number.digits, number.e164_digits) if text}
    forms.discard("")
    return forms


def _national(query: str) -> bool:
    """A national form: no ``+`` or ``00`` prefix, and long enough to name one line."""
    digits = _digits_of(query)
    return (
        bool(_PHONE.fullmatch(query))
        and not query.lstrip().startswith("+")
        and not digits.startswith("00")
        and len(_significant(digits)) >= 6
    )


def _significant(digits: str) -> str:
    """The national significant number: a national form minus its one trunk ``0``, if any.

    France and the UK dial ``0`` + the number (``01 76 36 06 95``); the North American plan
    dials the number as it is (``415 555 0142``): both end the international form.
    """
    return digits[1:] if digits.startswith("0") else digits


def _matches_national(number: Number, query: str) -> bool:
    """The international form == a country code (1-3 digits) + the significant number."""
    significant = _significant(_digits_of(query))
    return any(
        form.endswith(significant) and 1 <= len(form) - len(significant) <= 3
        for form in _phone_digits(number)
    )


def _number_label(number: Number) -> str:
    name = repr(number.name) if number.name else f"number {number.id}"
    return f"{name} ({number.digits})" if number.digits else name


def _candidate(number: Number) -> str:
    return f"{number.id} {_number_label(number)}"


def _candidates_hint(numbers: tuple[Number, ...]) -> Hint:
    if not numbers:
        return "the account has no numbers"
    shown = listed((_candidate(n) for n in numbers), limit=_LISTED)
    return (f"numbers: {shown}; see ", Remedy("numbers"))
