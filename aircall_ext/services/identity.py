"""The account a run is configured for, and naming recorded accounts for people.

Journals, saved plans and the rate-limit memory all record an account as an
:class:`~aircall_ext.core.identity.AccountIdentity` built here, from the run's settings. The
IDs this machine knows without a secret or a request (the environment's, the profiles')
turn a recorded fingerprint back into a readable ID.
"""

from __future__ import annotations

import os

from aircall_ext.config import Settings, load_config
from aircall_ext.core.identity import AccountIdentity, fingerprint
from aircall_ext.names import ENV_API_ID


def account_identity(base_url: str, api_id: str | None, *, sandbox: bool) -> AccountIdentity:
    """The identity of the account at ``base_url`` that ``api_id`` names."""
    import httpx

    url = httpx.URL(base_url)
    host = f"{url.host}:{url.port}" if url.port else url.host
    return AccountIdentity(host, fingerprint(api_id) if api_id else None, sandbox)


def settings_identity(settings: Settings) -> AccountIdentity:
    """The identity of the account the run's settings point at."""
    return account_identity(settings.base_url, settings.api_id, sandbox=settings.sandbox)


def known_api_ids() -> dict[str, str]:
    """Fingerprint → API ID, for the IDs of ``AIRCALL_API_ID`` and of every profile."""
    known = [os.environ.get(ENV_API_ID, "")]
    known += [p.api_id or "" for p in load_config(lenient=True).profiles.values()]
    return {fingerprint(api_id): api_id for api_id in known if api_id}
