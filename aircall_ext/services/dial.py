"""Dial dry-runs: one dialed sequence, or a CSV batch of them with expectations.

The account is read once (users and numbers); the pure simulator decides every row. A
batch file is checked whole before the account is read, so a typo costs no request, and
every bad cell is named as ``FILE:LINE:COLUMN`` (LINE is the physical line, header = 1).

A run *passes* when its outcome is the expected one, or, with no expectation, when the
call reaches a user: the same rule as the exit code of a single ``dial``. A batch row whose
NUMBER names no number of the account (or several) cannot be dry-run: it is a
:class:`RowError` that fails, and the other rows still run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aircall_ext.core.account import Account
from aircall_ext.core.csvtable import STDIN_SOURCE, location
from aircall_ext.core.dialbatch import Batch, DialRequest, read_dial_batch
from aircall_ext.core.dialing import DialResult, dial_document, simulate
from aircall_ext.core.numbers import find_number
from aircall_ext.errors import HintPart, UsageError
from aircall_ext.services.users import load_account, with_details

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient
    from aircall_ext.api.models import Number


@dataclass(frozen=True)
class DialRun:
    request: DialRequest
    result: DialResult

    @property
    def passed(self) -> bool:
        expect = self.request.expect
        return self.result.outcome == expect if expect else self.result.reaches_user

    def to_json(self) -> dict[str, Any]:
        return _run_json(self.request, self.result.to_json(), self.passed, None)

    @property
    def reaches_user(self) -> bool:
        return self.result.reaches_user


@dataclass(frozen=True)
class RowError:
    """A batch row that could not be dry-run; ``error`` names its cell and says why."""

    request: DialRequest
    error: str
    hint: tuple[HintPart, ...] = ()  # what to do, its commands for the CLI to write
    passed = False
    reaches_user = False

    def to_json(self) -> dict[str, Any]:
        """The keys of a dry-run's document, null or empty where nothing was dialed."""
        request = self.request
        doc = dial_document(
            stage=request.stage, digits=request.digits, api_transfer=request.api_transfer
        )
        return _run_json(request, doc, False, self.error)


BatchRun = DialRun | RowError


def _run_json(
    request: DialRequest, doc: dict[str, Any], passed: bool, error: str | None
) -> dict[str, Any]:
    """A dry-run's document as a run of a request shows it: its line in a batch first, then
    what was expected, whether it passed, and why it could not run."""
    line = {"line": request.line} if request.line is not None else {}
    return {**line, **doc, "expect": request.expect, "passed": passed, "error": error}


def dial(client: ApiClient, request: DialRequest) -> DialRun:
    """Dry-run one sequence against the account as it is now."""
    account = _load(client)
    number = with_details(client, find_number(account, request.number))
    return _run(account, request, number)


def dial_batch(client: ApiClient, batch: Batch) -> list[BatchRun]:
    """Dry-run every row; a row whose NUMBER names no single number is a :class:`RowError`.

    Each distinct number's own record is read at most once, after every row resolved.
    """
    account = _load(client)
    numbers = [_number_of(account, batch.source, request) for request in batch.requests]
    detailed = {n.id: n for n in numbers if not isinstance(n, RowError)}
    for number_id, number in detailed.items():
        detailed[number_id] = with_details(client, number)
    return [
        num if isinstance(num, RowError) else _run(account, req, detailed[num.id])
        for req, num in zip(batch.requests, numbers, strict=True)
    ]


def summarize(runs: Sequence[BatchRun]) -> dict[str, int]:
    passed = sum(run.passed for run in runs)
    return {
        "rows": len(runs),
        "passed": passed,
        "failed": len(runs) - passed,
        "errors": sum(isinstance(run, RowError) for run in runs),
        "reaching_user": sum(run.reaches_user for run in runs),
    }


def _load(client: ApiClient) -> Account:
    return load_account(client, numbers=True)


def _run(account: Account, request: DialRequest, number: Number) -> DialRun:
    result = simulate(
        account, number, request.digits, request.stage, api_transfer=request.api_transfer
    )
    return DialRun(request, result)


def _number_of(account: Account, source: str, request: DialRequest) -> Number | RowError:
    try:
        return find_number(account, request.number)
    except UsageError as err:
        where = location(source, request.line or 0, request.columns.get("number"))
        return RowError(request, f"{where}: {err.message}", err.hint_parts)


# -- reading a batch file -----------------------------------------------------------------


def read_batch(path: str) -> Batch:
    """Read and check a batch CSV (``-`` is stdin); any bad cell is a :class:`UsageError`."""
    source = STDIN_SOURCE if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {source}: {err.strerror or err}") from None
    return read_dial_batch(data, source=source)
