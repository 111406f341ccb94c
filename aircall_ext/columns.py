"""The columns of a table, a CSV file or a step summary: which key of a row each shows, and
under which header. One :class:`Columns` value per table, so that a table's keys and its
headers can never drift apart; pure data, usable by every layer (a file format in core,
a table in the CLI)."""

from __future__ import annotations

from typing import NamedTuple


class Column(NamedTuple):
    key: str  # the row's key (a JSON key: scripts rely on it)
    header: str  # what people read above it


class Columns(tuple[Column, ...]):
    """The columns of one table, in order."""

    __slots__ = ()

    @classmethod
    def of(cls, *specs: str | tuple[str, str]) -> Columns:
        """From keys, ``(key, header)`` pairs and columns: ``Columns.of("line",
        ("user_id", "user"))``. A key alone is its own header."""
        return cls(Column(s, s) if isinstance(s, str) else Column(*s) for s in specs)

    @property
    def keys(self) -> list[str]:
        return [column.key for column in self]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self]

    def only(self, *keys: str) -> Columns:
        """The columns of ``keys``, in that order (a narrower table of the same headers)."""
        by_key = {column.key: column for column in self}
        return Columns(by_key[key] for key in keys)

    def without(self, *keys: str) -> Columns:
        return Columns(column for column in self if column.key not in keys)
