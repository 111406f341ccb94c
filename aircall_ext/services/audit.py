"""The account audit use-case: one listing, then the pure audit."""

from __future__ import annotations

from aircall_ext.api.client import ApiClient
from aircall_ext.core.audit import audit_account
from aircall_ext.core.findings import Finding
from aircall_ext.services.users import load_account


def audit(client: ApiClient) -> list[Finding]:
    """Findings about the live account; numbers are not read (⌈users/50⌉ requests)."""
    return audit_account(load_account(client))
