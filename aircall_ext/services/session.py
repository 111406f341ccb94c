"""Builds the run's one API client: the real API, or the embedded sandbox in-process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aircall_ext.api.client import ApiClient, Log
from aircall_ext.config import Settings, require_credentials
from aircall_ext.services.ratelimits import AccountRateLimit

if TYPE_CHECKING:
    import httpx


def open_client(
    settings: Settings,
    *,
    warn: Log,
    log: Log | None = None,
    log_headers: bool = False,
) -> ApiClient:
    """A client for ``settings``; ``--sandbox`` goes through the same client code in-process.
    ``warn`` hears what the user must know; ``log``, when given, every request (with its
    headers, redacted, when ``log_headers``). The client paces to the settings' budget,
    sharing the account's rate-limit state with the other runs of this machine."""
    transport: httpx.BaseTransport | None = None
    memory: AccountRateLimit | None = None
    if settings.sandbox:
        transport = _sandbox_transport()
        api_id, token = "sandbox", "sandbox"
    else:
        api_id, token = require_credentials(settings)
        memory = AccountRateLimit.of(settings.base_url, api_id, warn)
    return ApiClient(
        settings.base_url,
        api_id,
        token,
        transport=transport,
        allow_http=settings.sandbox,
        log=log,
        log_headers=log_headers,
        warn=warn,
        budget=settings.rate_limit,
        memory=memory,
    )


def _sandbox_transport() -> httpx.BaseTransport:
    """The one place outside the sandbox package that knows about it: the sandbox is a
    product of its own, reached only through this transport and the sandbox commands."""
    import httpx

    from aircall_ext.sandbox import build_inprocess_app

    return httpx.WSGITransport(app=build_inprocess_app())
