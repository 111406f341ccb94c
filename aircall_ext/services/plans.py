"""Saved plans on disk: write one after a dry run, read one back.

Applying one is an import job (``importjob.sources.FromPlan``): the check is the import's
planning read (⌈U/50⌉ GETs), then exactly the saved steps (C + K PUTs), then the
verification read.
"""

from __future__ import annotations

import json
from pathlib import Path

from aircall_ext.core import savedplan
from aircall_ext.core.account import Account
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.planner import Plan
from aircall_ext.core.savedplan import SavedPlan, save_plan_remedy
from aircall_ext.errors import UsageError
from aircall_ext.files import Destination
from aircall_ext.names import APP_NAME, TOOL
from aircall_ext.services.csvcheck import Source
from aircall_ext.services.journal import Clock, utc_now


def save_plan(
    destination: Destination,
    plan: Plan,
    account: Account,
    source: Source,
    identity: AccountIdentity,
    *,
    clock: Clock = utc_now,
) -> SavedPlan:
    """Write the plan of a clean dry run (private: it names users and holds the CSV)."""
    assert not plan.blocked
    saved = savedplan.save(
        plan,
        account,
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
        raise UsageError(f"{path} is not an {APP_NAME} plan: not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(
            f"{path}:{err.lineno}:{err.colno}: not a JSON plan: {err.msg}",
            hint=("a plan is written by ", save_plan_remedy("FILE", "PLAN")),
        ) from None
    return savedplan.parse(doc, str(path))
