"""Saved plans on disk: write one after a dry run, read one back, and re-check it against
the account before it is applied through the import's own apply loop.

Applying costs what an import costs: the check is the import's planning read (⌈U/50⌉ GETs),
then exactly the saved steps (C + K PUTs), then the verification read.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aircall_ext.api.client import ApiClient
from aircall_ext.core import savedplan
from aircall_ext.core.findings import listed
from aircall_ext.core.savedplan import SavedPlan
from aircall_ext.errors import Refused, UsageError
from aircall_ext.files import Destination, check_distinct, rereadable
from aircall_ext.names import TOOL, command_line
from aircall_ext.services.csvcheck import Source, check
from aircall_ext.services.identity import account_label, known_api_ids
from aircall_ext.services.importer import Prepared, planned
from aircall_ext.services.journal import Clock, input_copy_path, sha256_hex, utc_now
from aircall_ext.services.users import load_account


def save_plan(
    destination: Destination,
    prepared: Prepared,
    identity: Mapping[str, Any],
    *,
    clock: Clock = utc_now,
) -> SavedPlan:
    """Write the plan of a clean dry run (private: it names users and holds the CSV)."""
    assert prepared.plan is not None and not prepared.plan.blocked
    source = prepared.source
    saved = savedplan.save(
        prepared.plan,
        prepared.account,
        tool=TOOL,
        created=clock().isoformat(),
        identity=identity,
        file_path=source.path,
        data=source.data,
        file_source="stdin" if source.path == "-" else "pipe" if source.stream else "file",
    )
    text = json.dumps(saved.to_json(), ensure_ascii=False, indent=2) + "\n"
    try:
        destination.write(text.encode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot write plan {destination.name}: {err.strerror or err}") from None
    return saved


def load_plan(path: Path) -> SavedPlan:
    """Read PLAN; not a plan, another version or damaged: a usage error naming the field."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise UsageError(f"cannot read plan {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not an aircall-ext plan: not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(
            f"{path}:{err.lineno}:{err.colno}: not a JSON plan: {err.msg}",
            hint="a plan is written by `aircall-ext import FILE --dry-run --save-plan PLAN`",
        ) from None
    return savedplan.parse(doc, str(path))


def open_plan(
    path: Path, identity: Mapping[str, Any], journal: str | None, report: str | None
) -> SavedPlan:
    """Read PLAN and check that it may be applied here: by this account, and without an
    output of the run overwriting the plan or the file it was made from."""
    saved = load_plan(path)
    copy = str(input_copy_path(Path(journal).absolute())) if journal else None
    check_distinct(
        [
            ("--plan", str(path)),
            (f"the plan's input file {saved.file_path}", _still_there(saved)),
            ("--journal", journal),
            ("the plan's CSV kept beside --journal", copy),
            ("--report", report),
        ]
    )
    check_account(saved, identity, path)
    return saved


def _still_there(saved: SavedPlan) -> str | None:
    """The plan's CSV path when it still names the regular file it was read from; a pipe
    (``/dev/fd/63`` in another shell is another pipe) is never looked at again."""
    if saved.file_source == "file" and rereadable(saved.file_path):
        return saved.file_path
    return None


def check_account(saved: SavedPlan, identity: Mapping[str, Any], path: Path) -> None:
    """A plan is only ever applied to the account it was made for."""
    if not savedplan.same_account(saved.account, identity):
        names = known_api_ids()
        raise Refused(
            f"plan {path} was made for another account, {account_label(saved.account, names)}; "
            f"this run is configured for {account_label(identity, names)}",
            hint="apply it with the --profile/--base-url/credentials it was made with",
        )


def prepare_plan(client: ApiClient, saved: SavedPlan, path: Path) -> tuple[Prepared, list[str]]:
    """Read the account (⌈U/50⌉ GETs) and check that the plan still holds on it; refused
    (nothing written) with everything that moved listed. Returns what the apply loop
    needs, planned EXACTLY as saved, and notes for the user."""
    notes: list[str] = []
    reasons: list[str] = []
    source = _source(saved, path, notes, reasons)
    account = load_account(client)
    if savedplan.applied_already(saved, account):  # a CI job applying it again
        notes.append(f"plan {path} is applied already: the account holds what it plans")
        return planned(check(source, account)), notes  # nothing to write
    reasons += savedplan.stale_reasons(saved, account)
    checked = check(source, account)
    desired = checked.desired
    reasons += savedplan.moved_rows(saved, {row.line: row.user.id for row in desired.rows})
    if not reasons:  # the file's own errors, when nothing above explains them
        reasons += [f.message for f in desired.findings if f.severity == "error"]
    if reasons:
        raise Refused(
            f"plan is stale: {listed(reasons, limit=savedplan.STALE_LIMIT, sep='; ')}; "
            "nothing was written",
            hint=f"review a new plan: `{_replan_command(saved, path)}`",
        )
    return Prepared(source, checked.csv_file, account, desired, saved.plan()), notes


def _source(saved: SavedPlan, path: Path, notes: list[str], reasons: list[str]) -> Source:
    """The CSV the plan was made from: always the bytes the plan carries (kept beside the
    journal for ``--resume``, which never depends on the CSV's path). A regular file still
    at its path must still be those bytes; standard input or a pipe is never reopened."""
    carried = Source(
        saved.file_path,
        saved.file_path,
        saved.data,
        stream=True,
        plan=str(path.expanduser().absolute()),
    )
    if saved.file_source != "file":
        return carried
    try:
        info = os.stat(saved.file_path)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file any more")
        data = Path(saved.file_path).read_bytes()
    except OSError as err:
        notes.append(
            f"{saved.file_path} cannot be read ({err.strerror or err}): "
            f"applying the copy of it kept in {path}"
        )
        return carried
    if sha256_hex(data) != saved.file_sha256:
        reasons.append(f"{saved.file_path} changed since the plan was made (sha256 differs)")
    return carried


def _replan_command(saved: SavedPlan, path: Path) -> str:
    return command_line(
        "import",
        "FILE" if saved.file_source == "pipe" else saved.file_path,
        "--dry-run",
        "--save-plan",
        str(path),
        sandbox=bool(saved.account.get("sandbox")),
    )
